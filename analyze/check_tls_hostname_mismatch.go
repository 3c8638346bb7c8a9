package analyze

import (
	"fmt"
	"strings"
)

var checkTLSHostnameMismatch = &Check{ID: "tls-hostname-mismatch", Layer: "tls", Severity: Error,
	Title: "the certificate does not cover the requested name",
	Doc:   "The leaf certificate's DNS names (and IP addresses) do not include the name the client asked for in its SNI.",
	Role:  RoleCause,
	GoErrors: []string{
		"x509: certificate relies on legacy Common Name field, use SANs instead",
		"x509: certificate is valid for *.example.net, example.net, not proxy.golang.org",
	},
	run: runTLSHostnameMismatch}

func runTLSHostnameMismatch(ctx *Context) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	for _, s := range ctx.Events.TLS {
		chain := ctx.chainOf(s).certs
		name := sniOf(s)
		if len(chain) == 0 || name == "" {
			continue
		}
		leaf := chain[0].Info
		if coversName(leaf, name) {
			continue
		}
		key := name + "|" + certKey(chain[0])
		if seen[key] {
			continue
		}
		seen[key] = true
		covers := leaf.DNSNames
		if len(covers) == 0 && leaf.Subject.CommonName != "" {
			covers = []string{"(no SAN; CN " + leaf.Subject.CommonName + ")"}
		}
		out = append(out, Finding{
			Severity: Error, Host: strings.ToLower(name),
			Summary:  fmt.Sprintf("the certificate for %s is valid for %s", name, strings.Join(firstN(covers, 4), ", ")),
			Expected: fmt.Sprintf("a certificate whose names include %s", name),
			Observed: fmt.Sprintf("names %s (issued by %s)", strings.Join(firstN(covers, 8), ", "), displayName(&leaf.Issuer)),
			Evidence: []Evidence{
				evidence(s.ClientHelloAt, "ClientHello for %q", name),
				evidence(s.CertificatesAt, "certificate for %s", strings.Join(firstN(covers, 4), ", ")),
			},
			Hint: "The go command reports `x509: certificate is valid for …, not " + name + "`. The connection did " +
				"not reach " + name + ": a wrong DNS answer or /etc/hosts entry sent it elsewhere, a captive portal or " +
				"proxy answered instead, or the GOPROXY URL names a host the server's certificate does not cover.",
		})
	}
	return out
}
