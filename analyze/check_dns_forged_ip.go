package analyze

import (
	"fmt"
	"net/netip"

	"github.com/miekg/dns"
	"github.com/modsniff/modsniff/decode"
)

var checkDNSForgedIP = &Check{ID: "dns-forged-ip", Layer: "dns", Severity: Error,
	Title: "an answer from a known forged-address pool",
	Doc: "The answer is an address that published measurements (the ChinaDNS list, the GFW Report Wallbleed " +
		"study of the injector pools) record in forged responses, or a Teredo 2001::/32 address for an AAAA query.",
	Role: RoleCause,
	GoErrors: []string{
		"dial tcp 31.13.64.1:443: i/o timeout",
		"x509: certificate is valid for *.facebook.com, facebook.com, not proxy.golang.org",
	},
	run: runDNSForgedIP}

func runDNSForgedIP(ctx *Context) []Finding {
	groups := collectAnswers(ctx, func(x *decode.DNSExchange, addr netip.Addr) (string, bool) {
		if src, ok := forgedFor(x.Name, addr); ok {
			return "listed by " + src, true
		}
		if x.QType == dns.TypeAAAA && addr.Is6() && teredo.Contains(addr) && isPublicName(x.Name) {
			return "a Teredo (2001::/32) address, which injectors put in forged AAAA answers", true
		}
		return "", false
	})
	var out []Finding
	for _, g := range groups {
		out = append(out, Finding{
			Severity: Error, Host: g.key.name,
			Summary:  fmt.Sprintf("%s was answered with %s, a known forged address", g.key.name, g.key.addr),
			Expected: fmt.Sprintf("the real addresses of %s", g.key.name),
			Observed: fmt.Sprintf("%s from %s: %s", g.key.addr, g.srv, g.why),
			Evidence: capEvidence(g.ev, 12),
			Hint: "The answer was forged on the path (DNS injection by a national or corporate firewall). " +
				"Use a module proxy that is not poisoned on your network (GOPROXY=https://goproxy.cn,direct in mainland " +
				"China), or resolve over an encrypted transport (DNS over TLS/HTTPS, a VPN). " +
				"Flush cached answers afterwards: `resolvectl flush-caches`.",
		})
	}
	return out
}
