package analyze

import (
	"fmt"
	"slices"
	"strings"
)

var checkTLSALPNDowngrade = &Check{ID: "tls-alpn-downgrade", Layer: "tls", Severity: Warning,
	SeverityNote: "info when nothing else suggests interception (an internal server without HTTP/2)",
	Title:        "the client offered h2 and the server chose http/1.1 or nothing",
	Doc: "The go command offers h2 and http/1.1. Module proxies such as proxy.golang.org speak h2; a server " +
		"that picks http/1.1 there, or behind a proxy or a foreign issuer, is usually an interceptor.",
	Role:         RoleCause,
	Interception: true,
	run:          runTLSALPNDowngrade}

func runTLSALPNDowngrade(ctx *Context) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	for _, s := range ctx.Events.TLS {
		if s.ClientHello == nil || s.ServerHello == nil || !slices.Contains(s.ClientHello.ALPN, "h2") {
			continue
		}
		if s.TLS13() && s.EncryptedExtensions() == nil {
			continue // the server's choice is encrypted
		}
		alpn := s.ServerALPN()
		if alpn == "h2" {
			continue
		}
		host := sessionHost(ctx, s)
		if seen[host+"|"+alpn] {
			continue
		}
		seen[host+"|"+alpn] = true
		chose := alpn
		if chose == "" {
			chose = "no protocol"
		}
		f := Finding{
			Severity: Warning, Host: host,
			Summary:  fmt.Sprintf("%s chose %s although the client offered h2", host, chose),
			Expected: "h2, which the client offered first",
			Observed: fmt.Sprintf("offered %s; the server chose %s", strings.Join(s.ClientHello.ALPN, ", "), chose),
			Evidence: []Evidence{evidence(s.ClientHelloAt, "ClientHello offers ALPN %s", strings.Join(s.ClientHello.ALPN, ",")),
				evidence(s.ServerHelloAt, "server chose %s", chose)},
		}
		if why := ctx.suspicion(s, host); why != "" {
			f.Observed += "; suspicious because " + why
			f.Hint = "An interceptor that cannot speak HTTP/2 answered instead of " + host + ". See the issuer " +
				"findings; if a proxy or security product sits in the path, exempt the module hosts from it."
		} else {
			f.Severity = Info
			f.Summary += " (benign for a server without HTTP/2)"
			f.Hint = "Many internal servers (an Athens or Artifactory behind a plain reverse proxy) speak only " +
				"HTTP/1.1; the go command works with it. Nothing to do unless other findings point to interception."
		}
		out = append(out, f)
	}
	return out
}
