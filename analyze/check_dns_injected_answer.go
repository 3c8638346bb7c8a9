package analyze

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
	"github.com/modsniff/modsniff/decode"
)

var checkDNSInjectedAnswer = &Check{ID: "dns-injected-answer", Layer: "dns", Severity: Error,
	Title: "two or more differing responses to one query",
	Doc: "One query drew responses whose answers differ: an on-path injector raced the real resolver. The report " +
		"says which came first, by how much, and how their IP TTL and IP ID differ. Identical repeated responses " +
		"are retransmissions and are not reported.",
	Role: RoleCause,
	GoErrors: []string{
		"lookup proxy.golang.org on 10.0.0.1:53: read udp 10.0.0.2:41234->10.0.0.1:53: i/o timeout",
	},
	run: runDNSInjectedAnswer}

// answerSet is the comparable content of a response: its rcode and the
// sorted set of its A, AAAA and CNAME answers (TTLs ignored).
func answerSet(r *decode.DNSResponse) string {
	var parts []string
	for _, a := range r.Answers {
		switch a.Type {
		case dns.TypeA, dns.TypeAAAA, dns.TypeCNAME:
			parts = append(parts, decode.TypeName(a.Type)+" "+strings.ToLower(a.Data()))
		}
	}
	slices.Sort(parts)
	parts = slices.Compact(parts)
	return decode.RcodeName(r.RCode) + ": " + strings.Join(parts, ", ")
}

func runDNSInjectedAnswer(ctx *Context) []Finding {
	var out []Finding
	for _, x := range ctx.Events.DNS {
		if !isResolverQuery(x) || len(x.Responses) < 2 {
			continue
		}
		sets := make([]string, len(x.Responses))
		differ := false
		for i, r := range x.Responses {
			sets[i] = answerSet(r)
			if i > 0 && sets[i] != sets[0] {
				differ = true
			}
		}
		if !differ {
			continue // identical responses: retransmissions
		}
		out = append(out, injectedFinding(ctx, x, sets))
	}
	return out
}

// injectedFinding explains one query with differing responses.
func injectedFinding(ctx *Context, x *decode.DNSExchange, sets []string) Finding {
	first, second := x.Responses[0], x.Responses[1]
	for i := range x.Responses {
		if sets[i] != sets[0] {
			second = x.Responses[i]
			break
		}
	}
	ev := queryEvidence(x)
	ttl, n := ctx.usualTTL(x.Server)
	var lines []string
	for i, r := range x.Responses {
		delay := ""
		if !x.Query.IsZero() {
			delay = fmt.Sprintf(", %s after the query", duration(r.At.Time().Sub(x.Query.Time())))
		}
		ipid := ""
		if !r.IP.V6 {
			ipid = fmt.Sprintf(", IP ID 0x%04x", r.IP.ID)
		}
		ev = append(ev, evidence(r.At, "response %d: %s (IP TTL %d%s%s)", i+1, strings.TrimPrefix(sets[i], "NOERROR: "), r.IP.TTL, ipid, delay))
		lines = append(lines, fmt.Sprintf("response %d (#%d): %s, IP TTL %d%s%s", i+1, r.At.Packet, sets[i], r.IP.TTL, ipid, delay))
	}
	// Which one is forged: a later answer that drew an ICMP port
	// unreachable from the client proves the client had already accepted an
	// earlier one; an IP TTL unlike the resolver's usual one marks the
	// injector.
	var why []string
	for _, e := range x.ICMP() {
		if e.Src == x.Server && e.Kind == "port-unreachable" {
			ev = append(ev, evidence(e.At, "ICMP port-unreachable from the client for a later response: its socket had already closed"))
			why = append(why, fmt.Sprintf("the client answered a later response with ICMP port unreachable (#%d): it had already accepted the first one", e.At.Packet))
		}
	}
	if n >= 3 && first.IP.TTL != ttl && second.IP.TTL == ttl {
		why = append(why, fmt.Sprintf("the first response's IP TTL %d differs from the %d that %s's other %d responses carry", first.IP.TTL, ttl, x.Server.Addr(), n-1))
	} else if first.IP.TTL != second.IP.TTL {
		why = append(why, fmt.Sprintf("the responses' IP TTLs differ (%d vs %d): they left different hosts", first.IP.TTL, second.IP.TTL))
	}
	if !first.IP.V6 && first.IP.ID != second.IP.ID && (first.IP.ID == 0 || second.IP.ID == 0) {
		why = append(why, "one response has IP ID 0, typical of an injector building packets by hand")
	}
	gap := duration(second.At.Time().Sub(first.At.Time()))
	observed := strings.Join(lines, "\n")
	if len(why) > 0 {
		observed += "\n" + strings.Join(why, "; ")
	}
	return Finding{
		Severity: Error, Host: strings.ToLower(x.Name),
		Summary: fmt.Sprintf("%s %s got %d differing responses; the first, %s earlier, is the forged one",
			x.QuestionType(), x.Name, len(x.Responses), gap),
		Expected: "one response per query (or identical retransmissions)",
		Observed: observed,
		Evidence: capEvidence(ev, 16),
		Hint: "An on-path injector answered before the real resolver, and the client took the first answer. " +
			"Plain DNS cannot be protected from this: use a resolver reached over an encrypted transport (DNS over " +
			"TLS or HTTPS through systemd-resolved, dnscrypt-proxy, or a VPN), or a module proxy reachable without " +
			"the poisoned name (GOPROXY=https://goproxy.cn,direct inside mainland China).",
	}
}
