package analyze

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/modsniff/modsniff/decode"
)

var checkDNSFakeIP = &Check{ID: "dns-fake-ip", Layer: "dns", Severity: Warning,
	Title: "an answer from a tunnelling proxy's fake-IP range",
	Doc: "Answers in 198.18.0.0/15 or fc00::/18 come from the fake-IP mode of Clash/mihomo, sing-box or Surge: " +
		"the address means something only to the proxy that handed it out.",
	Role: RoleCause,
	GoErrors: []string{
		"dial tcp 198.18.0.7:443: i/o timeout",
	},
	run: runDNSFakeIP}

func runDNSFakeIP(ctx *Context) []Finding {
	type grp struct {
		name  string
		addrs []string
		ev    []Evidence
		srv   netip.Addr
	}
	index := make(map[string]*grp)
	var order []*grp
	addressAnswers(ctx.Events, func(x *decode.DNSExchange, r *decode.DNSResponse, a decode.DNSRecord, addr netip.Addr) {
		if !isFakeIP(addr) || ctx.allowed(addr) {
			return
		}
		name := strings.ToLower(x.Name)
		g := index[name]
		if g == nil {
			g = &grp{name: name, srv: x.Server.Addr(), ev: queryEvidence(x)}
			index[name] = g
			order = append(order, g)
		}
		if !slices.Contains(g.addrs, a.Data()) {
			g.addrs = append(g.addrs, a.Data())
		}
		g.ev = append(g.ev, evidence(r.At, "response from %s: %s %s (TTL %d)", x.Server, decode.TypeName(a.Type), a.Data(), a.TTL))
	})
	var out []Finding
	for _, g := range order {
		out = append(out, Finding{
			Severity: Warning, Host: g.name,
			Summary:  fmt.Sprintf("%s resolved to the fake-IP address %s", g.name, strings.Join(g.addrs, ", ")),
			Expected: "the name's real addresses",
			Observed: fmt.Sprintf("%s from %s, inside 198.18.0.0/15 or fc00::/18: a tunnelling proxy's fake-IP range", strings.Join(g.addrs, ", "), g.srv),
			Evidence: capEvidence(g.ev, 12),
			Hint: "A proxy client (Clash/mihomo, sing-box, Surge, Stash) answers DNS with placeholder addresses and " +
				"routes connections to them through its tunnel. That works only on this machine, while the client runs " +
				"and its TUN/redirect is active: in a container, another network namespace, or with the tunnel down, " +
				"the go command dials an address that leads nowhere. Use the proxy explicitly instead " +
				"(HTTPS_PROXY=http://127.0.0.1:7890), switch the client to redir-host/real-IP mode, or exclude " +
				"module hosts with its fake-ip-filter.",
		})
	}
	return out
}
