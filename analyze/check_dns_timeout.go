package analyze

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/modsniff/modsniff/decode"
)

var checkDNSTimeout = &Check{ID: "dns-timeout", Layer: "dns", Severity: Error,
	Title: "a query never got a response",
	Doc: "A query got no response by the end of the capture, or only after the client's resolver timeout " +
		"(5 s unless resolv.conf says otherwise). Distinct from dns-unreachable: nothing said no, the packets vanished.",
	Role: RoleCause,
	GoErrors: []string{
		"lookup proxy.golang.org on 10.0.0.1:53: read udp 10.0.0.2:41234->10.0.0.1:53: i/o timeout",
		"lookup proxy.golang.org on 10.0.0.1:53: no answer from DNS server",
	},
	RestsOnSilence: true,
	run:            runDNSTimeout}

// queryTypes lists the distinct query types of a group, e.g. "A/AAAA".
func (g *dnsGroup) queryTypes() string {
	var types []string
	for _, x := range g.ex {
		if !slices.Contains(types, x.QuestionType()) {
			types = append(types, x.QuestionType())
		}
	}
	return strings.Join(types, "/")
}

// resolverTimeout is how long the client waits for a response: resolv.conf's
// "options timeout:n" when the capture's metadata has it, else Go's and
// glibc's default of 5 s.
func (ctx *Context) resolverTimeout() time.Duration {
	if t := ctx.metaResolverTimeout(); t > 0 {
		return t
	}
	return 5 * time.Second
}

func runDNSTimeout(ctx *Context) []Finding {
	timeout := ctx.resolverTimeout()
	// timedOut reports whether a transaction got no timely response, and
	// the late response if one came after the client gave up.
	timedOut := func(x *decode.DNSExchange) (bool, *decode.DNSResponse) {
		if x.Query.IsZero() || len(x.ICMP()) > 0 || x.Reset() != nil || len(x.Rejected()) > 0 {
			return false, nil // rejected responses are dns-answer-mismatch's
		}
		last := x.Query
		if n := len(x.Retries()); n > 0 {
			last = x.Retries()[n-1]
		}
		if len(x.Responses) == 0 {
			// Judge only when the capture went on long enough to show the
			// silence: a second, or a retry.
			return ctx.inputEnd(int(x.Query.Input)).Sub(x.Query.Time()) >= time.Second || len(x.Retries()) > 0, nil
		}
		first := x.Responses[0]
		if first.At.Time().Sub(last.Time()) > timeout {
			return true, first
		}
		return false, nil
	}
	groups := groupDNS(ctx.Events, func(x *decode.DNSExchange) bool {
		ok, _ := timedOut(x)
		return isResolverQuery(x) && ok
	})
	// Whether the resolver answered anything at all tells a dead resolver
	// from one that drops some queries (typically AAAA).
	answered := make(map[netip.Addr][]string)
	for _, x := range ctx.Events.DNS {
		if len(x.Responses) > 0 && !slices.Contains(answered[x.Server.Addr()], x.QuestionType()) {
			answered[x.Server.Addr()] = append(answered[x.Server.Addr()], x.QuestionType())
		}
	}
	groups, crowd := ctx.splitCrowd(groups)
	var out []Finding
	for _, c := range crowd {
		out = append(out, crowdTimeoutFinding(c, answered[c.server]))
	}
	for _, g := range groups {
		var ev []Evidence
		late := 0
		for _, x := range g.ex {
			ev = append(ev, queryEvidence(x)...)
			if _, r := timedOut(x); r != nil {
				late++
				ev = append(ev, evidence(r.At, "response %s, %s after the query: the client had given up",
					decode.RcodeName(r.RCode), duration(r.At.Time().Sub(x.Query.Time()))))
			}
		}
		what := describeResolver(g.server)
		observed := fmt.Sprintf("%s for %s %s sent to %s, no response", plural(len(ev)-late, "query"), g.queryTypes(), g.name, g.server)
		if late > 0 {
			observed = fmt.Sprintf("%s for %s %s; %d answered only after the %s resolver timeout", plural(len(ev)-late, "query"),
				g.queryTypes(), g.name, late, timeout)
		}
		types := answered[g.server]
		switch {
		case len(types) == 0:
			observed += fmt.Sprintf("; %s answered no query at all in this capture", g.server)
		default:
			observed += fmt.Sprintf("; the same resolver did answer %s queries", strings.Join(types, "/"))
		}
		hint := fmt.Sprintf("Queries to %s (%s) vanish. ", g.server, what)
		if len(types) > 0 && g.queryTypes() == "AAAA" {
			hint += "It answers A but drops AAAA queries, so every lookup waits for the timeout: fix or replace the " +
				"resolver (a router firmware update often does it); meanwhile `GODEBUG=netdns=cgo` makes the go " +
				"command use the system resolver, which may handle it."
		} else {
			hint += "A firewall may drop UDP port 53, the resolver may be down, or a VPN may route it away. " +
				"Test with `dig @" + g.server.String() + " " + g.name + "`; try another resolver in /etc/resolv.conf; " +
				"on systemd systems `resolvectl status` shows which servers are in use."
		}
		out = append(out, Finding{
			Severity: Error, Host: g.name,
			Summary:  fmt.Sprintf("%s did not answer %s %s", g.server, g.queryTypes(), g.name),
			Expected: fmt.Sprintf("a response from %s within the %s resolver timeout", g.server, timeout),
			Observed: observed,
			Evidence: capEvidence(ev, 12),
			Hint:     hint,
		})
	}
	return out
}

// crowd is many unrelated names failing at one resolver: reported once.
type crowd struct {
	server netip.Addr
	names  []string
	ev     []Evidence
}

// splitCrowd keeps module hosts and resolvers with few failing names as
// separate groups, and folds the rest into one crowd per resolver, so
// that a capture full of unrelated lookups yields one finding, not
// hundreds.
func (ctx *Context) splitCrowd(groups []*dnsGroup) ([]*dnsGroup, []*crowd) {
	other := make(map[netip.Addr]int)
	for _, g := range groups {
		if !ctx.isModuleHost(g.name) {
			other[g.server]++
		}
	}
	var keep []*dnsGroup
	var crowds []*crowd
	index := make(map[netip.Addr]*crowd)
	for _, g := range groups {
		if ctx.isModuleHost(g.name) || other[g.server] <= 3 {
			keep = append(keep, g)
			continue
		}
		c := index[g.server]
		if c == nil {
			c = &crowd{server: g.server}
			index[g.server] = c
			crowds = append(crowds, c)
		}
		c.names = append(c.names, g.name)
		for _, x := range g.ex {
			c.ev = append(c.ev, queryEvidence(x)...)
		}
	}
	return keep, crowds
}

// crowdTimeoutFinding reports many names one resolver did not answer.
func crowdTimeoutFinding(c *crowd, answeredTypes []string) Finding {
	observed := fmt.Sprintf("%d names got no answer from %s: %s", len(c.names), c.server, strings.Join(firstN(c.names, 5), ", "))
	if len(answeredTypes) > 0 {
		observed += fmt.Sprintf("; it did answer other %s queries", strings.Join(answeredTypes, "/"))
	}
	return Finding{
		Severity: Error,
		Summary:  fmt.Sprintf("%s left %d names unanswered", c.server, len(c.names)),
		Expected: fmt.Sprintf("responses from %s", c.server),
		Observed: observed,
		Evidence: capEvidence(c.ev, 12),
		Hint: "The resolver drops or loses many queries: check it (`dig @" + c.server.String() + " example.com`), " +
			"the path to it, and whether the capture holds both directions of its traffic.",
	}
}
