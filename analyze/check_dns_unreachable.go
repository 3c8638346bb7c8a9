package analyze

import (
	"fmt"
	"net/netip"

	"github.com/modsniff/modsniff/decode"
)

var checkDNSUnreachable = &Check{ID: "dns-unreachable", Layer: "dns", Severity: Error,
	Title: "the resolver is not there",
	Doc: "Queries drew an ICMP port or host unreachable (or a TCP reset on port 53): nothing listens at the " +
		"resolver's address. The go command then fails with `lookup …: read udp …: connection refused`.",
	Role: RoleCause,
	GoErrors: []string{
		"lookup proxy.golang.org on 127.0.0.53:53: read udp 127.0.0.1:45231->127.0.0.53:53: read: connection refused",
		"lookup proxy.golang.org on 10.0.0.1:53: no answer from DNS server",
	},
	run: runDNSUnreachable}

func runDNSUnreachable(ctx *Context) []Finding {
	var out []Finding
	unreachable := func(e *decode.ICMPError, x *decode.DNSExchange) bool {
		// The error must quote the query (client → server), not a response.
		return e.Src == x.Client && e.Kind != "time-exceeded" && e.Kind != "frag-needed" && e.Kind != "packet-too-big"
	}
	groups := groupDNS(ctx.Events, func(x *decode.DNSExchange) bool {
		if !isResolverQuery(x) {
			return false
		}
		for _, e := range x.ICMP() {
			if unreachable(e, x) {
				return true
			}
		}
		return false
	})
	for _, g := range groups {
		var ev []Evidence
		var kind string
		var from netip.Addr
		for _, x := range g.ex {
			ev = append(ev, queryEvidence(x)...)
			for _, e := range x.ICMP() {
				if unreachable(e, x) {
					kind, from = e.Kind, e.From
					ev = append(ev, evidence(e.At, "ICMP %s from %s for the query to %s", e.Kind, e.From, e.Dst))
				}
			}
		}
		out = append(out, unreachableFinding(ctx, g.name, g.server, kind, from, capEvidence(ev, 12)))
	}
	out = append(out, tcpDNSRefused(ctx)...)
	return out
}

// unreachableFinding builds a dns-unreachable finding for one resolver.
func unreachableFinding(ctx *Context, name string, server netip.Addr, kind string, from netip.Addr, ev []Evidence) Finding {
	what := describeResolver(server)
	probeName := name
	if probeName == "" {
		probeName = "proxy.golang.org"
	}
	observed := fmt.Sprintf("ICMP %s from %s: nothing listens on %s port 53", kind, from, server)
	if kind == "tcp-reset" {
		observed = fmt.Sprintf("TCP connections to %s port 53 were reset: nothing listens there", server)
	}
	hint := fmt.Sprintf("The resolver in /etc/resolv.conf (%s, %s) is not running. ", server, what)
	switch {
	case server.String() == "127.0.0.53":
		hint += "Start it with `sudo systemctl start systemd-resolved` (check `resolvectl status`), or point " +
			"/etc/resolv.conf at a resolver that exists. In a container, /etc/resolv.conf was copied from a host " +
			"that runs systemd-resolved: run the container with `--dns` set to a reachable resolver."
	case isLocalStub(server):
		hint += "Start the local resolver (dnsmasq, unbound, the VPN client or the proxy client — Clash/mihomo " +
			"serve DNS only while they run), or change the nameserver line in /etc/resolv.conf. " +
			"`dig @" + server.String() + " " + probeName + "` reproduces the failure without the go command."
	default:
		hint += "Check the nameserver lines in /etc/resolv.conf (`resolvectl status` on systemd systems) and that " +
			"the resolver host is up; `dig @" + server.String() + " " + probeName + "` reproduces it."
	}
	return Finding{
		Severity: Error, Host: name,
		Summary:  fmt.Sprintf("the resolver %s is not there — %s", server, what),
		Expected: fmt.Sprintf("DNS responses from %s:53", server),
		Observed: observed,
		Evidence: ev,
		Hint:     hint,
	}
}

// tcpDNSRefused finds DNS-over-TCP connections refused by a reset.
func tcpDNSRefused(ctx *Context) []Finding {
	var out []Finding
	seen := make(map[netip.Addr]bool)
	for _, c := range ctx.Events.TCP {
		if c.Server.Port() != 53 || !c.SYNACK.IsZero() || len(c.SYN()) == 0 || seen[c.Server.Addr()] {
			continue
		}
		for _, r := range c.Resets() {
			if r.FromClient {
				continue
			}
			seen[c.Server.Addr()] = true
			ev := []Evidence{evidence(c.SYN()[0], "SYN to %s", c.Server), evidence(r.At, "RST from %s", c.Server)}
			out = append(out, unreachableFinding(ctx, "", c.Server.Addr(), "tcp-reset", c.Server.Addr(), ev))
			break
		}
	}
	return out
}
