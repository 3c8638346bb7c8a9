package analyze

import (
	"github.com/miekg/dns"

	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/modsniff/modsniff/decode"
)

// checkDNSNAT64Unreachable reports DNS64 answers (RFC 6147) whose NAT64
// (RFC 6146) does not answer: AAAA records inside the well-known prefix
// 64:ff9b::/96 (RFC 6052) or a prefix learned from ipv4only.arpa (RFC 7050)
// lead to connections that go unanswered.
var checkDNSNAT64Unreachable = &Check{ID: "dns-nat64-unreachable", Layer: "dns", Severity: Error,
	Title: "DNS64 answers lead to a NAT64 that does not answer",
	Doc: "The resolver synthesized AAAA records inside a NAT64 prefix (64:ff9b::/96, or the /96 prefix learned " +
		"from an ipv4only.arpa answer in the capture), and the connections to them go unanswered: DNS64 without " +
		"a working NAT64. These attempts are reported here, not as tcp-ipv6-broken or tcp-connect-timeout.",
	Role:           RoleCause,
	RestsOnSilence: true,
	GoErrors: []string{
		"dial tcp [64:ff9b::8efa:4a31]:443: connect: network is unreachable",
	},
	run: runDNSNAT64Unreachable}

// wellKnownNAT64 is the prefix of RFC 6052 §2.1.
var wellKnownNAT64 = netip.MustParsePrefix("64:ff9b::/96")

// nat64Prefixes returns the well-known prefix and every /96 prefix learned
// from AAAA answers for ipv4only.arpa, which embed 192.0.0.170 or
// 192.0.0.171 (RFC 7050 §3). Only /96 prefixes are learned.
func (ctx *Context) nat64Prefixes() []netip.Prefix {
	out := []netip.Prefix{wellKnownNAT64}
	for _, x := range ctx.Events.DNS {
		if !strings.EqualFold(x.Name, "ipv4only.arpa") {
			continue
		}
		for _, r := range x.Responses {
			for _, a := range r.Answers {
				addr := a.Addr
				if a.Type != dns.TypeAAAA || !addr.Is6() {
					continue
				}
				b := addr.As16()
				if b[12] == 192 && b[13] == 0 && b[14] == 0 && (b[15] == 170 || b[15] == 171) {
					if p, err := addr.Prefix(96); err == nil && !slices.Contains(out, p) {
						out = append(out, p)
					}
				}
			}
		}
	}
	return out
}

// inNAT64 reports whether a lies inside one of the prefixes.
func inNAT64(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func runDNSNAT64Unreachable(ctx *Context) []Finding {
	prefixes := ctx.nat64Prefixes()
	type hostState struct {
		conns []*decode.TCPConn
		ev    []Evidence
		ok    bool
	}
	hosts := make(map[string]*hostState)
	var order []string
	for _, c := range ctx.Events.TCP {
		a := c.Server.Addr()
		if c.RoleGuessed || len(c.SYN()) == 0 || !a.Is6() || !inNAT64(prefixes, a) || c.Server.Port() == 53 {
			continue
		}
		host := ctx.connHost(c)
		s := hosts[host]
		if s == nil {
			s = &hostState{}
			hosts[host] = s
			order = append(order, host)
		}
		o, ev := ctx.outcome(c)
		switch o {
		case connOK:
			s.ok = true
		case connTimeout, connRefused:
			s.conns = append(s.conns, c)
			s.ev = append(s.ev, ev...)
		}
	}
	var out []Finding
	for _, host := range order {
		s := hosts[host]
		if s.ok || len(s.conns) == 0 {
			continue // the NAT64 works for this host
		}
		addr := s.conns[0].Server.Addr()
		prefix := wellKnownNAT64
		for _, p := range prefixes {
			if p.Contains(addr) {
				prefix = p
			}
		}
		var ev []Evidence
		for _, aa := range ctx.answersFor(addr) {
			if aa.a.Type == dns.TypeAAAA && len(ev) < 2 {
				ev = append(ev, evidence(aa.r.At, "AAAA answer %s for %s, inside the NAT64 prefix %s", aa.a.Data(), aa.x.Name, prefix))
			}
		}
		b := addr.As16()
		v4 := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		out = append(out, Finding{
			Severity: Error, Host: host,
			Summary:  fmt.Sprintf("%s's DNS64 address %s (for %s) does not answer: DNS64 without a working NAT64", host, addr, v4),
			Expected: fmt.Sprintf("a NAT64 gateway for %s translating to %s", prefix, v4),
			Observed: fmt.Sprintf("%s to %s inside %s, none answered", plural(len(s.conns), "connection attempt"), addr, prefix),
			Evidence: capEvidence(append(ev, s.ev...), 12),
			Hint: fmt.Sprintf("The resolver synthesizes IPv6 addresses in %s for IPv4-only hosts (DNS64), but nothing "+
				"translates them back to IPv4: the NAT64 gateway (Jool, Tayga, the router's NAT64) is missing or down, "+
				"or this network is not meant to use DNS64. Fix or enable the NAT64, give the machine an IPv4 route, or "+
				"use a resolver without DNS64 in /etc/resolv.conf when IPv4 works.", prefix),
		})
	}
	return out
}
