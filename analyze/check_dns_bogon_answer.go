package analyze

import (
	"fmt"
	"net/netip"

	"github.com/modsniff/modsniff/decode"
)

var checkDNSBogonAnswer = &Check{ID: "dns-bogon-answer", Layer: "dns", Severity: Error,
	Title: "a public name answered with a special-purpose address",
	Doc: "A name that exists in the public DNS was answered with a loopback, private, link-local, unspecified, " +
		"documentation or reserved address (IANA special-purpose registries). Names under .internal, .corp, .lan, " +
		".local, .home.arpa and single-label names are exempt, and so is every range given with --allow-addr.",
	Role: RoleCause,
	GoErrors: []string{
		"dial tcp 10.0.0.5:443: i/o timeout",
		"dial tcp 127.0.0.1:443: connect: connection refused",
		"x509: certificate is valid for router.lan, not proxy.golang.org",
	},
	run: runDNSBogonAnswer}

func runDNSBogonAnswer(ctx *Context) []Finding {
	groups := collectAnswers(ctx, func(x *decode.DNSExchange, addr netip.Addr) (string, bool) {
		if !isPublicName(x.Name) || ctx.allowed(addr) {
			return "", false
		}
		if _, forged := forgedFor(x.Name, addr); forged {
			return "", false // dns-forged-ip says more
		}
		return specialPurpose(addr)
	})
	var out []Finding
	for _, g := range groups {
		hint := "Something between you and the real DNS answers for " + g.key.name + ": "
		switch {
		case g.key.addr.IsUnspecified() || g.key.addr.IsLoopback():
			hint += "an ad or malware blocker (Pi-hole, AdGuard Home, a hosts-file blocklist) or a security product " +
				"sinkholing the name — a dial to " + g.key.addr.String() + " goes to this machine itself and shows up " +
				"on the loopback interface. Allow-list the name, or check /etc/hosts."
		case g.key.addr.IsPrivate():
			hint += "a corporate or split-horizon DNS, or a hijacking router. If this is a mirror you run on purpose, " +
				"say so with --allow-addr " + netip.PrefixFrom(g.key.addr, g.key.addr.BitLen()).String() +
				"; otherwise ask your network team, or use a resolver you trust."
		default:
			hint += "a misconfigured or hijacking resolver. Check /etc/hosts and the resolver in /etc/resolv.conf; " +
				"`dig @1.1.1.1 " + g.key.name + "` (from a network where that is allowed) shows the real answer."
		}
		hint += " After fixing it, flush cached answers: `resolvectl flush-caches`."
		out = append(out, Finding{
			Severity: Error, Host: g.key.name,
			Summary:  fmt.Sprintf("%s was answered with %s (%s)", g.key.name, g.key.addr, g.why),
			Expected: fmt.Sprintf("public addresses for %s, which is a public name", g.key.name),
			Observed: fmt.Sprintf("%s from %s: %s", g.key.addr, g.srv, g.why),
			Evidence: capEvidence(g.ev, 12),
			Hint:     hint,
		})
	}
	return out
}
