package analyze

import (
	"fmt"
	"strings"

	"github.com/modsniff/modsniff/decode"
)

// moduleRequestKind names what a request asks of the module protocol (the
// GOPROXY protocol of `go help goproxy`, the checksum database's of `go
// help module-auth`): "list", "info", "mod", "zip", "latest", "lookup",
// "tile", or "" for any other path.
func moduleRequestKind(path string) string {
	p, _, _ := strings.Cut(path, "?")
	switch {
	case strings.HasSuffix(p, "/@v/list"):
		return "list"
	case strings.HasSuffix(p, "/@latest"):
		return "latest"
	case strings.Contains(p, "/@v/") && strings.HasSuffix(p, ".info"):
		return "info"
	case strings.Contains(p, "/@v/") && strings.HasSuffix(p, ".mod"):
		return "mod"
	case strings.Contains(p, "/@v/") && strings.HasSuffix(p, ".zip"):
		return "zip"
	case strings.HasPrefix(p, "/lookup/") || strings.Contains(p, "/sumdb/") && strings.Contains(p, "/lookup/"):
		return "lookup"
	case strings.HasPrefix(p, "/tile/") || strings.Contains(p, "/sumdb/") && strings.Contains(p, "/tile/"):
		return "tile"
	}
	return ""
}

// isModuleExchange reports whether an exchange is module traffic: a
// module-protocol path, or any request to a GOPROXY or checksum database.
func (ctx *Context) isModuleExchange(h *decode.HTTPExchange) bool {
	if moduleRequestKind(h.Path) != "" {
		return true
	}
	r := ctx.roleOf(strings.ToLower(hostOnly(h.Host)))
	return r == RoleGoproxy || r == RoleSumdb
}

// httpHost is the lower-case host an exchange was addressed to.
func httpHost(ctx *Context, h *decode.HTTPExchange) string {
	host := strings.ToLower(hostOnly(h.Host))
	if host == "" && h.Conn != nil && h.Conn.TLS != nil {
		host = sessionHost(ctx, h.Conn.TLS)
	}
	return host
}

// bodyQuote quotes what an error or block page says of itself: its
// <title>, else its first line, with Retry-After when given. "" when the
// body said nothing readable.
func bodyQuote(h *decode.HTTPExchange) string {
	var parts []string
	switch {
	case h.Title != "":
		parts = append(parts, fmt.Sprintf("page title %q", h.Title))
	case h.FirstLine != "":
		parts = append(parts, fmt.Sprintf("body %q", h.FirstLine))
	}
	if h.RetryAfter != "" {
		parts = append(parts, "Retry-After: "+h.RetryAfter)
	}
	return strings.Join(parts, ", ")
}

// policyStatusHint explains 403, 429 and 451 for module traffic, quoting
// the body; ok is false for other statuses.
func policyStatusHint(h *decode.HTTPExchange, host string) (hint string, ok bool) {
	q := bodyQuote(h)
	if q != "" {
		q = " The response says: " + q + "."
	}
	switch h.Status {
	case 403:
		return "403 Forbidden: a policy refused the request — a corporate web filter or proxy block page, a cloud " +
			"perimeter (VPC Service Controls, an egress allow-list), or a server that wants credentials (~/.netrc, " +
			"GOAUTH)." + q + " Ask for " + host + " to be allowed, or list private modules in GOPRIVATE so they go " +
			"to your own server.", true
	case 429:
		after := ""
		if h.RetryAfter != "" {
			after = " (the server asks to wait " + h.RetryAfter + ")"
		}
		return "429 Too Many Requests: " + host + " rate-limits this client" + after + "." + q + " Many machines " +
			"behind one NAT or proxy address share the limit: use a caching GOPROXY (Athens, Artifactory) for CI, " +
			"fetch with less parallelism, or retry later.", true
	case 451:
		return "451 Unavailable For Legal Reasons: the module is blocked for legal or sanctions reasons where the " +
			"request came from." + q + " Use a mirror allowed in your jurisdiction, or vendor the module " +
			"(`go mod vendor`).", true
	}
	return "", false
}
