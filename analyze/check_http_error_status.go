package analyze

import (
	"fmt"
	"strings"
)

var checkHTTPErrorStatus = &Check{ID: "http-error-status", Layer: "http", Severity: Error,
	Title: "the module proxy or checksum database answered 4xx/5xx",
	Doc: "A GOPROXY or sumdb request got an error status. 404 and 410 mean \"not here\": the go command tries " +
		"the next GOPROXY entry only when entries are separated by `,`; with `|` it falls back on any error. " +
		"Plain HTTP is read directly; HTTPS needs key logs.",
	Role: RoleSymptom,
	GoErrors: []string{
		"invalid character '<' looking for beginning of value",
		"reading https://sum.golang.org/lookup/example.com/private@v1.0.0: 410 Gone",
		"fatal: could not read Username for 'https://github.com': terminal prompts disabled",
		"reading https://proxy.golang.org/example.com/private/@v/v1.0.0.info: 404 Not Found",
		"reading https://proxy.golang.org/example.com/m/@v/list: 403 Forbidden",
		"verifying example.com/m@v1.0.0: checksum mismatch",
	},
	run: runHTTPErrorStatus}

func runHTTPErrorStatus(ctx *Context) []Finding {
	var out []Finding
	for _, h := range ctx.Events.HTTP {
		if h.Status < 400 {
			continue
		}
		host := strings.ToLower(hostOnly(h.Host))
		role := ctx.roleOf(host)
		if role == RoleOther && !strings.Contains(h.Path, "/@v/") {
			continue
		}
		f := Finding{
			Severity: Error, Host: host,
			Summary:  fmt.Sprintf("%s answered %d to %s %s", host, h.Status, h.Method, h.Path),
			Expected: "200 OK",
			Observed: fmt.Sprintf("HTTP %d for %s %s (%s)", h.Status, h.Method, h.Path, h.Proto),
			Evidence: []Evidence{evidence(h.Request, "%s %s", h.Method, h.Path)},
		}
		if !h.Response.IsZero() {
			f.Evidence = append(f.Evidence, evidence(h.Response, "status %d", h.Status))
		}
		switch {
		case (h.Status == 404 || h.Status == 410) && role == RoleGoproxy:
			f.Hint = "404/410 from a module proxy means \"not found here\". With GOPROXY entries separated by `,` " +
				"the go command then tries the next entry (e.g. GOPROXY=https://proxy.golang.org,direct); with `|` " +
				"it tries the next one after any error. A private module must not go to a public proxy at all: " +
				"list it in GOPRIVATE (or GONOPROXY) so the go command fetches it directly."
		case (h.Status == 404 || h.Status == 410) && role == RoleSumdb:
			f.Hint = "The checksum database does not know this module version (private modules never are): list " +
				"the module in GONOSUMDB or GOPRIVATE."
		case h.Status == 401 || h.Status == 403:
			f.Hint = "The server wants credentials: put them in ~/.netrc (machine " + host + " login … password …) " +
				"or GOAUTH, or list the module in GOPRIVATE if it must not go through this proxy."
		case h.Status >= 500:
			f.Hint = "The server failed: retry later. With `|` between GOPROXY entries the go command would fall " +
				"back to the next one on such errors."
		default:
			f.Hint = "Check the GOPROXY URL and the module path."
		}
		if q := bodyQuote(h); q != "" {
			f.Observed += "; the response says: " + q
		}
		if hint, ok := policyStatusHint(h, host); ok {
			f.Hint = hint
		}
		out = append(out, f)
	}
	return out
}
