package analyze

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/modsniff/modsniff/decode"
)

// dnsGroup collects the transactions for one name at one resolver.
type dnsGroup struct {
	name   string
	server netip.Addr
	ex     []*decode.DNSExchange
}

// groupDNS groups transactions that keep accepts by (resolver address,
// name), in order of the first transaction of each group.
func groupDNS(ev *decode.Events, keep func(*decode.DNSExchange) bool) []*dnsGroup {
	type key struct {
		server netip.Addr
		name   string
	}
	index := make(map[key]*dnsGroup)
	var out []*dnsGroup
	for _, x := range ev.DNS {
		if !keep(x) {
			continue
		}
		k := key{x.Server.Addr(), strings.ToLower(x.Name)}
		g := index[k]
		if g == nil {
			g = &dnsGroup{name: k.name, server: k.server}
			index[k] = g
			out = append(out, g)
		}
		g.ex = append(g.ex, x)
	}
	return out
}

// isResolverQuery reports whether a transaction is an ordinary query to a
// unicast resolver (not mDNS or LLMNR, which are multicast chatter).
func isResolverQuery(x *decode.DNSExchange) bool {
	p := x.Server.Port()
	return p == 53 && !x.Server.Addr().IsMulticast()
}

// queryEvidence lists a transaction's query and retries.
func queryEvidence(x *decode.DNSExchange) []Evidence {
	var ev []Evidence
	if !x.Query.IsZero() {
		ev = append(ev, evidence(x.Query, "query %s %s from %s to %s (ID 0x%04x)", x.QuestionType(), x.Name, x.Client, x.Server, x.ID))
	}
	for _, r := range x.Retries() {
		ev = append(ev, evidence(r, "query %s %s sent again", x.QuestionType(), x.Name))
	}
	return ev
}

// capEvidence keeps at most n items, the earliest, so that a finding about
// hundreds of retries stays readable.
func capEvidence(ev []Evidence, n int) []Evidence {
	slices.SortStableFunc(ev, func(a, b Evidence) int {
		if c := cmp.Compare(a.At.Input, b.At.Input); c != 0 {
			return c
		}
		return cmp.Compare(a.At.Packet, b.At.Packet)
	})
	if len(ev) > n {
		ev = ev[:n]
	}
	return ev
}

// inputEnd returns when an input's capture stopped: the time its writer
// recorded, else its last packet.
func (ctx *Context) inputEnd(input int) time.Time {
	for _, s := range ctx.Events.Stats {
		if s.Input == input {
			if s.End.After(s.Last) {
				return s.End
			}
			return s.Last
		}
	}
	return time.Time{}
}

// isModuleHost reports whether a name serves the go command: a module
// proxy, checksum database or VCS host.
func (ctx *Context) isModuleHost(name string) bool {
	switch ctx.roleOf(strings.ToLower(name)) {
	case RoleGoproxy, RoleSumdb, RoleVCS:
		return true
	}
	return false
}

// addressAnswers calls fn for every A/AAAA answer of every response to a
// query for a name (CNAME chains included).
func addressAnswers(ev *decode.Events, fn func(x *decode.DNSExchange, r *decode.DNSResponse, a decode.DNSRecord, addr netip.Addr)) {
	for _, x := range ev.DNS {
		if !isResolverQuery(x) {
			continue
		}
		for _, r := range x.Responses {
			for _, a := range r.Answers {
				if (a.Type == dns.TypeA || a.Type == dns.TypeAAAA) && a.Addr.IsValid() {
					fn(x, r, a, a.Addr.Unmap())
				}
			}
		}
	}
}

// allowed reports whether the user declared addr legitimate.
func (ctx *Context) allowed(addr netip.Addr) bool {
	for _, p := range ctx.Opt.AllowAddrs {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// answerFinding groups answers of one kind per (name, address).
type answerKey struct {
	name string
	addr netip.Addr
}

type answerGroup struct {
	key answerKey
	ev  []Evidence
	why string
	srv netip.Addr
}

// collectAnswers groups the answers that match by (name, address).
func collectAnswers(ctx *Context, match func(x *decode.DNSExchange, addr netip.Addr) (string, bool)) []*answerGroup {
	index := make(map[answerKey]*answerGroup)
	var out []*answerGroup
	addressAnswers(ctx.Events, func(x *decode.DNSExchange, r *decode.DNSResponse, a decode.DNSRecord, addr netip.Addr) {
		why, ok := match(x, addr)
		if !ok {
			return
		}
		k := answerKey{strings.ToLower(x.Name), addr}
		g := index[k]
		if g == nil {
			g = &answerGroup{key: k, why: why, srv: x.Server.Addr(), ev: queryEvidence(x)}
			index[k] = g
			out = append(out, g)
		}
		g.ev = append(g.ev, evidence(r.At, "response from %s: %s %s (TTL %d, IP TTL %d)", x.Server, decode.TypeName(a.Type), a.Data(), a.TTL, r.IP.TTL))
	})
	return out
}

// searchSuffixOf reports whether name is a module host with a search domain
// appended, and returns the host.
func (ctx *Context) searchSuffixOf(name string) (string, bool) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for host := range knownRoles {
		if strings.HasPrefix(name, host+".") {
			return host, true
		}
	}
	for host, role := range ctx.roles() {
		if role != RoleOther && strings.HasPrefix(name, host+".") {
			return host, true
		}
	}
	return "", false
}
