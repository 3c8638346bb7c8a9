package analyze

import (
	"fmt"
	"strings"

	"github.com/modsniff/modsniff/decode"
)

var checkHTTPNotModuleContent = &Check{ID: "http-not-module-content", Layer: "http", Severity: Error,
	Title: "a module request was answered with something that is not module content",
	Doc: "A module-protocol request (`@v/list`, `.info`, `.mod`, `.zip`, `@latest`, the checksum database's " +
		"`lookup` and `tile`) got a successful answer in HTML (a block page, a login page, a web UI: its <title> is " +
		"quoted), a redirect to a portal or login host, or HTTP/2 frames on an HTTP/1.1 connection (a server that " +
		"speaks only HTTP/2 without ALPN, reached over http:// or with GODEBUG=http2client=0). Module content is plain text, JSON or a zip. The go " +
		"command then fails on parsing: `invalid character '<' looking for beginning of value` (.info, @latest), " +
		"`zip: not a valid zip file` (.zip), a go.mod or checksum syntax error. Plain HTTP is read directly; HTTPS " +
		"needs key logs.",
	Role: RoleCause,
	GoErrors: []string{
		"zip: not a valid zip file",
		"invalid character '<' looking for beginning of value",
		`malformed HTTP response "\x00\x00\x12\x04\x00\x00\x00\x00\x00"`,
	},
	run: runHTTPNotModuleContent}

// portalWords mark a redirect target that is a login or captive portal
// rather than a download host.
var portalWords = []string{"login", "signin", "sso", "auth", "portal", "captive", "hotspot", "blocked", "warn", "filter"}

// goSaysForKind is the go command's error when a module request of kind
// gets HTML.
func goSaysForKind(kind string) string {
	switch kind {
	case "zip":
		return "`zip: not a valid zip file`"
	case "info", "latest":
		return "`invalid character '<' looking for beginning of value`"
	case "mod":
		return "a go.mod syntax error (`unexpected input character`, `unknown directive`)"
	case "lookup", "tile":
		return "`malformed response` / `verifying module: … malformed` from the checksum database"
	}
	return "an unparseable version list (`invalid version`)"
}

// notModuleContent says what is wrong with a module response, or "".
func notModuleContent(h *decode.HTTPExchange) string {
	switch {
	case h.Malformed == "HTTP/2 frames":
		return "HTTP/2 frames on an HTTP/1.1 connection (go: `malformed HTTP response \"\\x00\\x00\\x12\\x04…\"`)"
	case h.Status >= 200 && h.Status < 300 && (h.ContentType == "text/html" || h.ContentType == "application/xhtml+xml" || h.Title != ""):
		what := "an HTML page"
		if h.Title != "" {
			what += fmt.Sprintf(" titled %q", h.Title)
		}
		return fmt.Sprintf("%d with %s (content-type %q)", h.Status, what, h.ContentType)
	case h.Status >= 300 && h.Status < 400 && h.Location != "":
		loc := strings.ToLower(h.Location)
		for _, w := range portalWords {
			if strings.Contains(loc, w) {
				return fmt.Sprintf("%d redirect to %s, a login or portal host", h.Status, h.Location)
			}
		}
	}
	return ""
}

func runHTTPNotModuleContent(ctx *Context) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	for _, h := range ctx.Events.HTTP {
		kind := moduleRequestKind(h.Path)
		if kind == "" {
			continue
		}
		what := notModuleContent(h)
		if what == "" {
			continue
		}
		host := httpHost(ctx, h)
		if seen[host+"|"+what] {
			continue
		}
		seen[host+"|"+what] = true
		hint := "Something other than a module proxy answered: a web filter's block page, a captive portal or SSO " +
			"login (log in, or ask for " + host + " to be exempted), or a GOPROXY URL that names a web UI instead of " +
			"the repository's API (Artifactory: https://HOST/artifactory/api/go/REPO; Nexus: " +
			"https://HOST/repository/REPO/). Check with `curl -sI https://" + host + h.Path + "`."
		if h.Malformed != "" {
			hint = "The server speaks only HTTP/2 (prior knowledge, h2c) and the go command spoke HTTP/1.1 to it: use " +
				"https:// in GOPROXY so that TLS negotiates h2 (ALPN), or make the server (or the proxy in front of it) " +
				"accept HTTP/1.1; GODEBUG=http2client=0 forces HTTP/1.1 and must not be set for such a server."
		}
		observed := fmt.Sprintf("%s (%s); the go command then says %s", what, h.Proto, goSaysForKind(kind))
		if h.Malformed != "" {
			observed = what
		}
		out = append(out, Finding{Severity: Error, Host: host,
			Summary:  fmt.Sprintf("%s answered the module request %s %s with %s", host, h.Method, h.Path, what),
			Expected: "module content: plain text (list, .mod, lookup), JSON (.info, @latest) or a zip",
			Observed: observed,
			Evidence: []Evidence{evidence(h.Request, "%s %s", h.Method, h.Path), evidence(h.Response, "%s", what)},
			Hint:     hint,
		})
	}
	return out
}
