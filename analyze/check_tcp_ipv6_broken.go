package analyze

import (
	"sync"

	"github.com/miekg/dns"

	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"time"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
)

// checkTCPIPv6Broken reports hosts whose IPv6 addresses (AAAA answers) are
// unusable: the go command dials them first (RFC 6724 order, RFC 8305
// fallback after 300 ms) and only IPv4 works, or nothing does.
var checkTCPIPv6Broken = &Check{ID: "tcp-ipv6-broken", Layer: "tcp", Severity: Error,
	SeverityNote: "warning when the go command fell back to IPv4 and that worked (the finding says what the fallback cost)",
	Title:        "IPv6 is offered (AAAA answered) but unusable",
	Doc: "The host's AAAA answers lead nowhere: IPv6 SYNs go unanswered or are refused, an IPv6 connection " +
		"stalls right after its handshake, or — when the recorded go error says `cannot assign requested address` " +
		"or `network is unreachable` for an IPv6 address — no IPv6 SYN leaves at all. One finding per host, in " +
		"place of tcp-connect-timeout / tcp-connect-refused for those IPv6 attempts. An IPv4-only machine that " +
		"simply never dials the AAAA addresses is normal and not reported.",
	Role:           RoleCause,
	RestsOnSilence: true,
	GoErrors: []string{
		"dial tcp [2a00:1450:4001:813::2011]:443: connect: cannot assign requested address",
		"dial tcp [2607:f8b0:4004:c07::8d]:443: connect: network is unreachable",
	},
	run: runTCPIPv6Broken}

// ipv6Covered reports whether a failed connection attempt belongs to
// tcp-ipv6-broken: an IPv6 address some name resolved to in the capture.
func (ctx *Context) ipv6Covered(c *decode.TCPConn) bool {
	a := c.Server.Addr()
	return a.Is6() && !a.Is4In6() && !a.IsLoopback() && !a.IsUnspecified() && len(ctx.namesFor(a)) > 0
}

// localV6Failure finds a go error naming an IPv6 address it could not even
// send to.
var localV6Failure = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`dial tcp (\[[0-9a-fA-F:.]+\]:\d+): (?:connect: )?(cannot assign requested address|network is unreachable)`)
})

// ipv6Attempt is what one IPv6 connection showed.
type ipv6Attempt struct {
	c     *decode.TCPConn
	how   string // "unanswered", "refused", "stalled"
	ev    []Evidence
	start time.Time
}

func runTCPIPv6Broken(ctx *Context) []Finding {
	type hostState struct {
		attempts []ipv6Attempt
		v4OK     *decode.TCPConn
	}
	hosts := make(map[string]*hostState)
	var order []string
	nat64 := ctx.nat64Prefixes()
	get := func(h string) *hostState {
		s := hosts[h]
		if s == nil {
			s = &hostState{}
			hosts[h] = s
			order = append(order, h)
		}
		return s
	}
	for _, c := range ctx.Events.TCP {
		if c.RoleGuessed || c.Server.Port() == 53 || len(c.SYN()) == 0 {
			continue
		}
		a := c.Server.Addr()
		if a.Is4() || a.Is4In6() || !ctx.ipv6Covered(c) || inNAT64(nat64, a) {
			continue // DNS64 addresses are dns-nat64-unreachable's
		}
		at, ok := ctx.ipv6Failure(c)
		if !ok {
			continue
		}
		s := get(ctx.connHost(c))
		s.attempts = append(s.attempts, at)
	}
	// IPv4 that worked, for the hosts that have IPv6 trouble (or a go error
	// naming a local IPv6 failure).
	var m *capture.Metadata
	if len(order) > 0 {
		m = ctx.Meta()
	} else if m = ctx.Meta(); m == nil || !localV6Failure().MatchString(m.StderrTail) {
		return nil
	}
	// Only the first working connection to an address can be a name's
	// first: later ones to the same address find every name set (a CDN
	// address with thousands of names and connections stays linear).
	v4Seen := make(map[netip.Addr]bool)
	for _, c := range ctx.Events.TCP {
		a := c.Server.Addr()
		if c.RoleGuessed || c.SYNACK.IsZero() || c.Payload[1] == 0 || !(a.Is4() || a.Is4In6()) || v4Seen[a] {
			continue
		}
		v4Seen[a] = true
		for _, n := range ctx.namesFor(a) {
			if s := get(n); s.v4OK == nil {
				s.v4OK = c
			}
		}
	}
	var out []Finding
	for _, h := range order {
		s := hosts[h]
		if len(s.attempts) == 0 {
			continue
		}
		out = append(out, ipv6Finding(ctx, h, s.attempts, s.v4OK))
	}
	// No IPv6 SYN at all, but the go command said why.
	if m != nil {
		for _, sub := range localV6Failure().FindAllStringSubmatch(m.StderrTail, -1) {
			ap, err := netip.ParseAddrPort(sub[1])
			if err != nil {
				continue
			}
			names := ctx.namesFor(ap.Addr())
			if len(names) == 0 || slices.ContainsFunc(out, func(f Finding) bool { return f.Host == names[0] }) {
				continue
			}
			out = append(out, localV6Finding(ctx, names[0], ap, sub[2], hosts[names[0]] != nil && hosts[names[0]].v4OK != nil))
		}
	}
	return out
}

// ipv6Failure classifies an IPv6 connection: unanswered, refused, or
// stalled after its handshake.
func (ctx *Context) ipv6Failure(c *decode.TCPConn) (ipv6Attempt, bool) {
	o, ev := ctx.outcome(c)
	switch o {
	case connTimeout:
		return ipv6Attempt{c: c, how: "unanswered", ev: ev, start: c.SYN()[0].Time()}, true
	case connRefused:
		return ipv6Attempt{c: c, how: "refused", ev: ev, start: c.SYN()[0].Time()}, true
	case connOK:
		// The handshake completed, the client spoke, the server never did.
		if c.SYNACK.IsZero() || c.Payload[0] == 0 || c.Payload[1] > 0 {
			return ipv6Attempt{}, false
		}
		first := c.ClientFirstPayload
		end := c.Last.Time()
		if ctx.inputEnd(int(first.Input)).After(end) {
			end = ctx.inputEnd(int(first.Input))
		}
		if end.Sub(first.Time()) < 3*time.Second && c.FIN[0].IsZero() {
			return ipv6Attempt{}, false // too soon to call it a stall
		}
		ev := []Evidence{
			evidence(c.SYNACK, "SYN-ACK from %s: the IPv6 handshake worked", c.Server),
			evidence(first, "the client's first data (%d bytes in all), never answered", c.Payload[0]),
		}
		return ipv6Attempt{c: c, how: "stalled", ev: ev, start: c.SYN()[0].Time()}, true
	}
	return ipv6Attempt{}, false
}

func ipv6Finding(ctx *Context, host string, attempts []ipv6Attempt, v4 *decode.TCPConn) Finding {
	var ev []Evidence
	var hows []string
	var addrs []string
	for _, a := range attempts {
		ev = append(ev, a.ev...)
		if !slices.Contains(hows, a.how) {
			hows = append(hows, a.how)
		}
		if s := a.c.Server.Addr().String(); !slices.Contains(addrs, s) {
			addrs = append(addrs, s)
		}
	}
	observed := fmt.Sprintf("%s to %s: %s", plural(len(attempts), "IPv6 connection"), joinAnd(addrs), joinAnd(hows))
	f := Finding{
		Severity: Error, Host: host,
		Summary:  fmt.Sprintf("%s has IPv6 addresses, but IPv6 connections to it fail (%s)", host, joinAnd(hows)),
		Expected: "IPv6 connections that work, or no AAAA answer",
		Evidence: capEvidence(ev, 10),
	}
	if v4 != nil {
		f.Severity = Warning
		cost := v4.SYN()[0].Time().Sub(attempts[0].start)
		f.Summary += "; IPv4 works"
		observed += fmt.Sprintf("; IPv4 to %s works, reached %s after the first IPv6 attempt", v4.Server, duration(cost))
		f.Evidence = append(f.Evidence, evidence(v4.SYNACK, "SYN-ACK from %s: IPv4 works", v4.Server))
	} else {
		observed += "; no IPv4 connection to it worked either"
	}
	f.Observed = observed
	f.Hint = "This machine has an IPv6 address and route, but IPv6 to " + host + " does not get through (a broken " +
		"ISP or VPN IPv6 path, a firewall that drops IPv6, a Docker network with IPv6 enabled but not routed). Fix " +
		"the IPv6 route, or stop using it: disable IPv6 on the interface (`sysctl -w net.ipv6.conf.<iface>.disable_ipv6=1`) " +
		"or give it no global address, so the go command dials IPv4 directly instead of waiting for the fallback."
	return f
}

func localV6Finding(ctx *Context, host string, ap netip.AddrPort, why string, v4Worked bool) Finding {
	f := Finding{
		Severity: Error, Host: host,
		Summary:  fmt.Sprintf("%s has IPv6 addresses, but this machine cannot send to IPv6 (%s)", host, why),
		Expected: "an IPv6 SYN to " + ap.String() + ", or no AAAA answer",
		Observed: fmt.Sprintf("no IPv6 SYN left for %s; the go command said `%s` for %s", host, why, ap),
		Hint: "This machine (or container) has no usable IPv6 source address or route, yet the go command tried the " +
			"AAAA address: enable IPv6 properly (address and default route), or disable it consistently so only " +
			"IPv4 is dialed; in Docker, a network created with --ipv6 needs a routed prefix.",
	}
	for _, x := range ctx.Events.DNS {
		for _, r := range x.Responses {
			for _, a := range r.Answers {
				if a.Type == dns.TypeAAAA && a.Addr == ap.Addr() {
					f.Evidence = append(f.Evidence, evidence(r.At, "AAAA answer %s for %s", a.Data(), x.Name))
				}
			}
		}
	}
	f.Evidence = capEvidence(f.Evidence, 4)
	if v4Worked {
		f.Severity = Warning
		f.Summary += "; IPv4 works"
		f.Observed += "; IPv4 to it works"
	}
	return f
}

// joinAnd joins words as "a, b and c".
func joinAnd(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	out := ""
	for i, w := range words[:len(words)-1] {
		if i > 0 {
			out += ", "
		}
		out += w
	}
	return out + " and " + words[len(words)-1]
}
