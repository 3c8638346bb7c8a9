package analyze

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
	"github.com/modsniff/modsniff/decode"
)

var checkDNSSearchSuffix = &Check{ID: "dns-search-suffix", Layer: "dns", Severity: Info,
	Title: "a module host was queried with a search domain appended",
	Doc: "The resolver was asked for e.g. proxy.golang.org.corp.example: a `search` line in resolv.conf with " +
		"ndots above 2 makes every lookup try the suffixes first, slowing each fetch — or, with a wildcard " +
		"record in the search domain, sending it to the wrong host.",
	Role: RoleCause,
	GoErrors: []string{
		"lookup proxy.golang.org: no such host",
	},
	run: runDNSSearchSuffix}

func runDNSSearchSuffix(ctx *Context) []Finding {
	type grp struct {
		host, name string
		ev         []Evidence
		answered   bool
	}
	index := make(map[string]*grp)
	var order []*grp
	for _, x := range ctx.Events.DNS {
		if !isResolverQuery(x) {
			continue
		}
		host, ok := ctx.searchSuffixOf(x.Name)
		if !ok {
			continue
		}
		name := strings.ToLower(x.Name)
		g := index[name]
		if g == nil {
			g = &grp{host: host, name: name}
			index[name] = g
			order = append(order, g)
		}
		g.ev = append(g.ev, queryEvidence(x)...)
		for _, r := range x.Responses {
			verdict := decode.RcodeName(r.RCode)
			if r.RCode == dns.RcodeSuccess && len(r.Answers) > 0 {
				g.answered = true
				verdict = "answered: " + r.Answers[len(r.Answers)-1].Data()
			}
			g.ev = append(g.ev, evidence(r.At, "response %s", verdict))
		}
	}
	var out []Finding
	for _, g := range order {
		suffix := strings.TrimPrefix(g.name, g.host+".")
		f := Finding{
			Severity: Info, Host: g.host,
			Summary:  fmt.Sprintf("%s was looked up as %s (search domain %s)", g.host, g.name, suffix),
			Expected: fmt.Sprintf("a query for %s itself", g.host),
			Observed: fmt.Sprintf("a query for %s", g.name),
			Evidence: capEvidence(g.ev, 12),
			Hint: "/etc/resolv.conf has `search " + suffix + "` and an `options ndots:` above 2, so names with fewer " +
				"dots are first tried with the suffix. Lower ndots (the default is 1), or write the host with a " +
				"trailing dot where you can.",
		}
		if g.answered {
			f.Observed += ", and the search domain answered it: the go command may connect to the wrong host"
			f.Hint = "A wildcard record in " + suffix + " answers every name: " + f.Hint
		}
		out = append(out, f)
	}
	return out
}
