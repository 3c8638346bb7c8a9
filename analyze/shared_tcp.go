package analyze

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/modsniff/modsniff/decode"
)

// connOutcome classifies how a connection attempt ended.
type connOutcome int

const (
	connOK connOutcome = iota
	connRefused
	connTimeout
	connUnknown // the capture ended too soon to tell
)

// outcome tells whether a connection attempt succeeded, was refused, or
// timed out, with the packet that says so.
func (ctx *Context) outcome(c *decode.TCPConn) (connOutcome, []Evidence) {
	if len(c.SYN()) == 0 || !c.SYNACK.IsZero() {
		return connOK, nil
	}
	var ev []Evidence
	for i, s := range c.SYN() {
		if i == 0 {
			ev = append(ev, evidence(s, "SYN from %s to %s (IP TTL %d)", c.Client, c.Server, c.SYNIP.TTL))
		} else {
			ev = append(ev, evidence(s, "SYN retransmitted, %s after the first", duration(s.Time().Sub(c.SYN()[0].Time()))))
		}
	}
	for _, r := range c.Resets() {
		if !r.FromClient {
			ev = append(ev, evidence(r.At, "RST from %s (IP TTL %d)", c.Server, r.IP.TTL))
			return connRefused, ev
		}
	}
	for _, e := range c.ICMP() {
		ev = append(ev, evidence(e.At, "ICMP %s from %s", e.Kind, e.From))
		switch e.Kind {
		case "port-unreachable", "admin-prohibited", "policy-rejected", "protocol-unreachable":
			return connRefused, ev
		case "host-unreachable", "net-unreachable", "no-route", "unreachable":
			return connTimeout, ev
		}
	}
	first := c.SYN()[0]
	if len(c.SYN()) > 1 || ctx.inputEnd(int(first.Input)).Sub(first.Time()) >= time.Second {
		return connTimeout, ev
	}
	return connUnknown, ev
}

// connHost names the host a connection was for.
func (ctx *Context) connHost(c *decode.TCPConn) string {
	if c.TLS != nil && c.TLS.ClientHello != nil && c.TLS.ClientHello.ServerName != "" {
		return strings.ToLower(c.TLS.ClientHello.ServerName)
	}
	return ctx.hostFor(c.Server.Addr())
}

// failedConnects groups failed connection attempts by (host, server) and
// builds one finding per group.
func (ctx *Context) failedConnects(want connOutcome, build func(host string, server netip.AddrPort, attempts string, ev []Evidence) Finding) []Finding {
	proxies := ctx.proxyEndpoints()
	type key struct {
		host   string
		server netip.AddrPort
	}
	index := make(map[key]int)
	var keys []key
	var evs [][]Evidence
	var counts, syns []int
	for _, c := range ctx.Events.TCP {
		if c.Server.Port() == 53 || c.RoleGuessed {
			continue // DNS over TCP is dns-unreachable's; a flow without SYN shows no attempt
		}
		if _, isProxy := proxies[c.Server]; isProxy {
			continue // proxy-connect-failed reports these
		}
		o, ev := ctx.outcome(c)
		if o != want || ctx.ipv6Covered(c) {
			continue // tcp-ipv6-broken reports the IPv6 ones, once per host
		}
		k := key{ctx.connHost(c), c.Server}
		i, ok := index[k]
		if !ok {
			i = len(keys)
			index[k] = i
			keys = append(keys, k)
			evs = append(evs, nil)
			counts = append(counts, 0)
			syns = append(syns, 0)
		}
		evs[i] = append(evs[i], ev...)
		counts[i]++
		syns[i] += len(c.SYN())
	}
	var out []Finding
	for i, k := range keys {
		attempts := plural(counts[i], "connection attempt")
		if syns[i] > counts[i] {
			attempts += fmt.Sprintf(" (%d SYNs with retransmissions)", syns[i])
		}
		out = append(out, build(k.host, k.server, attempts, capEvidence(evs[i], 12)))
	}
	return out
}
