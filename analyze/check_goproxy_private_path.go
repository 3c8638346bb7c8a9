package analyze

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/modsniff/modsniff/decode"
)

var checkGoproxyPrivatePath = &Check{ID: "goproxy-private-path", Layer: "http", Severity: Error,
	Title: "the public proxy or checksum database was asked for a private module",
	Doc: "proxy.golang.org (or another public GOPROXY) or sum.golang.org answered 404/410 for a module path that is " +
		"not public: its host is an internal name, it resolves only to private addresses in the capture, the proxy's " +
		"answer says it could not clone it (`terminal prompts disabled`, `could not read Username`, `unrecognized import " +
		"path`, `repository not found`), or the go command's recorded error names it with `terminal prompts disabled`. " +
		"GOPRIVATE (which implies GONOPROXY and GONOSUMDB) is missing for it. An internal proxy's 404 is " +
		"http-error-status's.",
	Role: RoleCause,
	GoErrors: []string{
		"reading https://proxy.golang.org/example.com/private/@v/list: 404 Not Found",
		"fatal: could not read Username for 'https://github.com': terminal prompts disabled",
	},
	run: runGoproxyPrivatePath}

// publicModuleServices are the public module proxies and checksum
// databases: a private module must not be asked of them.
var publicModuleServices = []string{"proxy.golang.org", "sum.golang.org", "goproxy.cn", "goproxy.io", "proxy.golang.com.cn",
	"sum.golang.google.cn", "goproxy.baidu.com", "mirrors.aliyun.com"}

// privateMarks are what a public proxy's 404/410 body says when it could
// not fetch a repository: it needs credentials or does not exist publicly.
var privateMarks = []string{"terminal prompts disabled", "could not read username", "unrecognized import path",
	"repository not found", "permission denied (publickey)"}

// modulePath returns the (unescaped) module path a proxy or checksum
// database request names: "/github.com/!acme/w/@v/list" → github.com/Acme/w.
func modulePath(path string) string {
	p, _, _ := strings.Cut(path, "?")
	var mod string
	switch {
	case strings.Contains(p, "/lookup/"):
		_, rest, _ := strings.Cut(p, "/lookup/")
		mod, _, _ = strings.Cut(rest, "@")
	case strings.Contains(p, "/@v/"):
		mod, _, _ = strings.Cut(p, "/@v/")
	case strings.HasSuffix(p, "/@latest"):
		mod = strings.TrimSuffix(p, "/@latest")
	default:
		return ""
	}
	mod = strings.TrimPrefix(mod, "/")
	// Case-encoding of `go help goproxy`: "!x" stands for "X".
	var b strings.Builder
	for i := 0; i < len(mod); i++ {
		if mod[i] == '!' && i+1 < len(mod) && 'a' <= mod[i+1] && mod[i+1] <= 'z' {
			b.WriteByte(mod[i+1] - 'a' + 'A')
			i++
			continue
		}
		b.WriteByte(mod[i])
	}
	return b.String()
}

// goprivatePattern is the GOPRIVATE glob for a module path: the owner on
// the big hosting sites, else the host.
func goprivatePattern(mod string) string {
	parts := strings.Split(mod, "/")
	switch strings.ToLower(parts[0]) {
	case "github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "gitee.com":
		if len(parts) >= 2 {
			return parts[0] + "/" + parts[1]
		}
	}
	return parts[0] + "/*"
}

// whyPrivate says why a module path is not public, or "".
func (ctx *Context) whyPrivate(h *decode.HTTPExchange, mod string) string {
	host := strings.ToLower(strings.Split(mod, "/")[0])
	if !isPublicName(host) {
		return host + " is an internal name"
	}
	if addrs := ctx.addrsOf(host); len(addrs) > 0 {
		private := true
		for _, a := range addrs {
			if !isPrivateAddr(a) {
				private = false
			}
		}
		if private {
			return fmt.Sprintf("%s resolves only to private addresses in this capture (%s)", host, addrs[0])
		}
	}
	body := strings.ToLower(h.ErrorBody + " " + h.FirstLine)
	for _, m := range privateMarks {
		if strings.Contains(body, m) {
			return fmt.Sprintf("the proxy could not fetch it: its answer says %q", m)
		}
	}
	if m := ctx.Meta(); m != nil && strings.Contains(m.StderrTail, mod) && strings.Contains(m.StderrTail, "terminal prompts disabled") {
		return "the go command's recorded error names it with `terminal prompts disabled`"
	}
	return ""
}

// isPrivateAddr reports whether a is an address no public name resolves
// to: private, loopback, link-local, CGNAT or unique-local.
func isPrivateAddr(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() {
		return true
	}
	return a.Is4() && netip.MustParsePrefix("100.64.0.0/10").Contains(a)
}

func runGoproxyPrivatePath(ctx *Context) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	for _, h := range ctx.Events.HTTP {
		if h.Status != 404 && h.Status != 410 {
			continue
		}
		host := httpHost(ctx, h)
		mod := modulePath(h.Path)
		if mod == "" || !isPublicService(host, h.Path) || seen[mod] {
			continue
		}
		why := ctx.whyPrivate(h, mod)
		if why == "" {
			continue
		}
		seen[mod] = true
		pattern := goprivatePattern(mod)
		service := "the public module proxy"
		if ctx.roleOf(host) == RoleSumdb || strings.Contains(h.Path, "/lookup/") {
			service = "the public checksum database"
		}
		out = append(out, Finding{Severity: Error, Host: host,
			Summary:  fmt.Sprintf("%s was asked for the private module %s and answered %d", host, mod, h.Status),
			Expected: fmt.Sprintf("%s fetched directly from its repository (GOPRIVATE), never from %s", mod, service),
			Observed: fmt.Sprintf("%s %s → %d; %s", h.Method, h.Path, h.Status, why),
			Evidence: []Evidence{evidence(h.Request, "%s %s", h.Method, h.Path), evidence(h.Response, "status %d", h.Status)},
			Hint: fmt.Sprintf("Tell the go command the module is private: `go env -w GOPRIVATE=%s` (it implies GONOPROXY "+
				"and GONOSUMDB for those paths, so neither the proxy nor the checksum database is asked). The go command "+
				"then clones the repository itself: give git credentials for it (~/.netrc, a credential helper, or "+
				"`git config --global url.\"git@%s:\".insteadOf \"https://%s/\"` for SSH keys).", pattern,
				strings.Split(mod, "/")[0], strings.Split(mod, "/")[0]),
		})
	}
	return out
}

// isPublicService reports whether host is a public module proxy or
// checksum database (a checksum database reached through a proxy counts).
func isPublicService(host, path string) bool {
	for _, s := range publicModuleServices {
		if host == s {
			return true
		}
	}
	return strings.Contains(path, "/sumdb/sum.golang.org/")
}
