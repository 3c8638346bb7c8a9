package analyze

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/modsniff/modsniff/decode"
)

func init() {
	register(&Check{ID: "dns-unreachable", Layer: "dns", Severity: Error,
		Title: "the resolver is not there",
		Doc: "Queries drew an ICMP port or host unreachable (or a TCP reset on port 53): nothing listens at the " +
			"resolver's address. The go command then fails with `lookup …: read udp …: connection refused`.",
		run: checkDNSUnreachable})
	register(&Check{ID: "dns-timeout", Layer: "dns", Severity: Error,
		Title: "a query never got a response",
		Doc: "A query got no response by the end of the capture, or only after the client's resolver timeout " +
			"(5 s unless resolv.conf says otherwise). Distinct from dns-unreachable: nothing said no, the packets vanished.",
		run: checkDNSTimeout})
	register(&Check{ID: "dns-error-rcode", Layer: "dns", Severity: Error,
		Title: "the resolver answered SERVFAIL, REFUSED, or NXDOMAIN for a name that exists",
		Doc: "SERVFAIL and REFUSED always; NXDOMAIN for a module host or a name answered elsewhere in the capture. " +
			"An empty AAAA answer (NODATA) is normal and never reported.",
		run: checkDNSErrorRcode})
	register(&Check{ID: "dns-bogon-answer", Layer: "dns", Severity: Error,
		Title: "a public name answered with a special-purpose address",
		Doc: "A name that exists in the public DNS was answered with a loopback, private, link-local, unspecified, " +
			"documentation or reserved address (IANA special-purpose registries). Names under .internal, .corp, .lan, " +
			".local, .home.arpa and single-label names are exempt, and so is every range given with --allow-addr.",
		run: checkDNSBogon})
	register(&Check{ID: "dns-fake-ip", Layer: "dns", Severity: Warning,
		Title: "an answer from a tunnelling proxy's fake-IP range",
		Doc: "Answers in 198.18.0.0/15 or fc00::/18 come from the fake-IP mode of Clash/mihomo, sing-box or Surge: " +
			"the address means something only to the proxy that handed it out.",
		run: checkDNSFakeIP})
	register(&Check{ID: "dns-injected-answer", Layer: "dns", Severity: Error,
		Title: "two or more differing responses to one query",
		Doc: "One query drew responses whose answers differ: an on-path injector raced the real resolver. The report " +
			"says which came first, by how much, and how their IP TTL and IP ID differ. Identical repeated responses " +
			"are retransmissions and are not reported.",
		run: checkDNSInjected})
	register(&Check{ID: "dns-forged-ip", Layer: "dns", Severity: Error,
		Title: "an answer from a known forged-address pool",
		Doc: "The answer is an address that published measurements (the ChinaDNS list, the GFW Report Wallbleed " +
			"study of the injector pools) record in forged responses, or a Teredo 2001::/32 address for an AAAA query.",
		run: checkDNSForgedIP})
	register(&Check{ID: "dns-search-suffix", Layer: "dns", Severity: Info,
		Title: "a module host was queried with a search domain appended",
		Doc: "The resolver was asked for e.g. proxy.golang.org.corp.example: a `search` line in resolv.conf with " +
			"ndots above 2 makes every lookup try the suffixes first, slowing each fetch — or, with a wildcard " +
			"record in the search domain, sending it to the wrong host.",
		run: checkDNSSearchSuffix})
}

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

// queryTypes lists the distinct query types of a group, e.g. "A/AAAA".
func (g *dnsGroup) queryTypes() string {
	var types []string
	for _, x := range g.ex {
		if !slices.Contains(types, x.Type) {
			types = append(types, x.Type)
		}
	}
	return strings.Join(types, "/")
}

// queryEvidence lists a transaction's query and retries.
func queryEvidence(x *decode.DNSExchange) []Evidence {
	var ev []Evidence
	if !x.Query.IsZero() {
		ev = append(ev, evidence(x.Query, "query %s %s from %s to %s (ID 0x%04x)", x.Type, x.Name, x.Client, x.Server, x.ID))
	}
	for _, r := range x.Retries {
		ev = append(ev, evidence(r, "query %s %s sent again", x.Type, x.Name))
	}
	return ev
}

// capEvidence keeps at most n items, the earliest, so that a finding about
// hundreds of retries stays readable.
func capEvidence(ev []Evidence, n int) []Evidence {
	slices.SortStableFunc(ev, func(a, b Evidence) int {
		if c := cmp.Compare(a.Input, b.Input); c != 0 {
			return c
		}
		return cmp.Compare(a.Packet, b.Packet)
	})
	if len(ev) > n {
		ev = ev[:n]
	}
	return ev
}

func checkDNSUnreachable(ctx *Context) []Finding {
	var out []Finding
	unreachable := func(e *decode.ICMPError, x *decode.DNSExchange) bool {
		// The error must quote the query (client → server), not a response.
		return e.Src == x.Client && e.Kind != "time-exceeded" && e.Kind != "frag-needed" && e.Kind != "packet-too-big"
	}
	groups := groupDNS(ctx.Events, func(x *decode.DNSExchange) bool {
		if !isResolverQuery(x) {
			return false
		}
		for _, e := range x.ICMP {
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
			for _, e := range x.ICMP {
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
		if c.Server.Port() != 53 || !c.SYNACK.IsZero() || len(c.SYN) == 0 || seen[c.Server.Addr()] {
			continue
		}
		for _, r := range c.Resets {
			if r.FromClient {
				continue
			}
			seen[c.Server.Addr()] = true
			ev := []Evidence{evidence(c.SYN[0], "SYN to %s", c.Server), evidence(r.At, "RST from %s", c.Server)}
			out = append(out, unreachableFinding(ctx, "", c.Server.Addr(), "tcp-reset", c.Server.Addr(), ev))
			break
		}
	}
	return out
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

func checkDNSTimeout(ctx *Context) []Finding {
	timeout := ctx.resolverTimeout()
	// timedOut reports whether a transaction got no timely response, and
	// the late response if one came after the client gave up.
	timedOut := func(x *decode.DNSExchange) (bool, *decode.DNSResponse) {
		if x.Query.IsZero() || len(x.ICMP) > 0 || x.Reset != nil || len(x.Rejected) > 0 {
			return false, nil // rejected responses are dns-answer-mismatch's
		}
		last := x.Query
		if n := len(x.Retries); n > 0 {
			last = x.Retries[n-1]
		}
		if len(x.Responses) == 0 {
			// Judge only when the capture went on long enough to show the
			// silence: a second, or a retry.
			return ctx.inputEnd(x.Query.Input).Sub(x.Query.Time) >= time.Second || len(x.Retries) > 0, nil
		}
		first := x.Responses[0]
		if first.At.Time.Sub(last.Time) > timeout {
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
		if len(x.Responses) > 0 && !slices.Contains(answered[x.Server.Addr()], x.Type) {
			answered[x.Server.Addr()] = append(answered[x.Server.Addr()], x.Type)
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
					r.RCode, duration(r.At.Time.Sub(x.Query.Time))))
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

// isModuleHost reports whether a name serves the go command: a module
// proxy, checksum database or VCS host.
func (ctx *Context) isModuleHost(name string) bool {
	switch ctx.roleOf(strings.ToLower(name)) {
	case RoleGoproxy, RoleSumdb, RoleVCS:
		return true
	}
	return false
}

func checkDNSErrorRcode(ctx *Context) []Finding {
	// Names that some response answered with addresses exist publicly.
	exists := make(map[string]bool)
	for _, x := range ctx.Events.DNS {
		for _, r := range x.Responses {
			if r.RCode == "NOERROR" && len(r.Answers) > 0 {
				exists[strings.ToLower(x.Name)] = true
			}
		}
	}
	bad := func(x *decode.DNSExchange, r *decode.DNSResponse) bool {
		switch r.RCode {
		case "SERVFAIL", "REFUSED":
			return true
		case "NXDOMAIN":
			name := strings.ToLower(x.Name)
			if _, suffixed := ctx.searchSuffixOf(name); suffixed {
				return false // the search-suffix check reports these
			}
			return ctx.isModuleHost(name) || exists[name]
		}
		return false
	}
	type key struct {
		server netip.Addr
		name   string
		rcode  string
	}
	var order []key
	groups := make(map[key][]Evidence)
	for _, x := range ctx.Events.DNS {
		if !isResolverQuery(x) {
			continue
		}
		for _, r := range x.Responses {
			if !bad(x, r) {
				continue
			}
			k := key{x.Server.Addr(), strings.ToLower(x.Name), r.RCode}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
				groups[k] = queryEvidence(x)
			}
			groups[k] = append(groups[k], evidence(r.At, "response %s from %s", r.RCode, x.Server))
		}
	}
	var out []Finding
	for _, k := range order {
		f := Finding{
			Severity: Error, Host: k.name,
			Summary:  fmt.Sprintf("%s answered %s for %s", k.server, k.rcode, k.name),
			Evidence: capEvidence(groups[k], 12),
		}
		if (k.rcode == "SERVFAIL" || k.rcode == "REFUSED") && exists[k.name] {
			// Go's resolver returns the addresses of whichever query type
			// succeeded: a refused AAAA beside an answered A slows the
			// lookup but does not break it.
			f.Severity = Warning
			f.Summary += " (another query type for it was answered)"
		}
		switch k.rcode {
		case "SERVFAIL":
			f.Expected = "NOERROR with the name's addresses"
			f.Observed = fmt.Sprintf("SERVFAIL from %s: the resolver could not get an answer", k.server)
			f.Hint = "The resolver failed upstream: its own upstream is unreachable, or DNSSEC validation failed " +
				"(a wrong clock breaks it too). Compare `dig @" + k.server.String() + " " + k.name + "` with `dig +cd …`; " +
				"flush the cache (`resolvectl flush-caches`), or use another resolver."
		case "REFUSED":
			f.Expected = "NOERROR with the name's addresses"
			f.Observed = fmt.Sprintf("REFUSED from %s: it will not resolve names for this client", k.server)
			f.Hint = "This server does not offer recursion to this client (an authoritative-only server, an ACL, " +
				"or a resolver for another network such as a VPN's). Point /etc/resolv.conf at the resolver you are " +
				"meant to use."
		default:
			f.Expected = fmt.Sprintf("the addresses of %s, which exists in the public DNS", k.name)
			f.Observed = fmt.Sprintf("NXDOMAIN from %s", k.server)
			f.Hint = "The resolver claims the name does not exist: DNS filtering (a security product or a " +
				"corporate policy blocking the module proxy), or a split-horizon zone that hides it. Ask for " +
				k.name + " to be allowed, or set GOPROXY to a mirror you can resolve (GOPROXY=https://goproxy.io,direct). " +
				"Check /etc/hosts too."
		}
		out = append(out, f)
	}
	return out
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
				if a.Type != "A" && a.Type != "AAAA" {
					continue
				}
				if addr, err := netip.ParseAddr(a.Data); err == nil {
					fn(x, r, a, addr.Unmap())
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
		g.ev = append(g.ev, evidence(r.At, "response from %s: %s %s (TTL %d, IP TTL %d)", x.Server, a.Type, a.Data, a.TTL, r.IP.TTL))
	})
	return out
}

func checkDNSBogon(ctx *Context) []Finding {
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

func checkDNSFakeIP(ctx *Context) []Finding {
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
		if !slices.Contains(g.addrs, a.Data) {
			g.addrs = append(g.addrs, a.Data)
		}
		g.ev = append(g.ev, evidence(r.At, "response from %s: %s %s (TTL %d)", x.Server, a.Type, a.Data, a.TTL))
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

// answerSet is the comparable content of a response: its rcode and the
// sorted set of its A, AAAA and CNAME answers (TTLs ignored).
func answerSet(r *decode.DNSResponse) string {
	var parts []string
	for _, a := range r.Answers {
		switch a.Type {
		case "A", "AAAA", "CNAME":
			parts = append(parts, a.Type+" "+strings.ToLower(a.Data))
		}
	}
	slices.Sort(parts)
	parts = slices.Compact(parts)
	return r.RCode + ": " + strings.Join(parts, ", ")
}

// usualTTL returns the most common IP TTL of responses from a resolver
// across the capture, and how many responses had it.
func usualTTL(ev *decode.Events, server netip.AddrPort) (uint8, int) {
	counts := make(map[uint8]int)
	for _, x := range ev.DNS {
		if x.Server != server {
			continue
		}
		for _, r := range x.Responses {
			counts[r.IP.TTL]++
		}
	}
	var best uint8
	n := 0
	for ttl, c := range counts {
		if c > n || (c == n && ttl > best) {
			best, n = ttl, c
		}
	}
	return best, n
}

func checkDNSInjected(ctx *Context) []Finding {
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
	ttl, n := usualTTL(ctx.Events, x.Server)
	var lines []string
	for i, r := range x.Responses {
		delay := ""
		if !x.Query.IsZero() {
			delay = fmt.Sprintf(", %s after the query", duration(r.At.Time.Sub(x.Query.Time)))
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
	for _, e := range x.ICMP {
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
	gap := duration(second.At.Time.Sub(first.At.Time))
	observed := strings.Join(lines, "\n")
	if len(why) > 0 {
		observed += "\n" + strings.Join(why, "; ")
	}
	return Finding{
		Severity: Error, Host: strings.ToLower(x.Name),
		Summary: fmt.Sprintf("%s %s got %d differing responses; the first, %s earlier, is the forged one",
			x.Type, x.Name, len(x.Responses), gap),
		Expected: "one response per query (or identical retransmissions)",
		Observed: observed,
		Evidence: capEvidence(ev, 16),
		Hint: "An on-path injector answered before the real resolver, and the client took the first answer. " +
			"Plain DNS cannot be protected from this: use a resolver reached over an encrypted transport (DNS over " +
			"TLS or HTTPS through systemd-resolved, dnscrypt-proxy, or a VPN), or a module proxy reachable without " +
			"the poisoned name (GOPROXY=https://goproxy.cn,direct inside mainland China).",
	}
}

func checkDNSForgedIP(ctx *Context) []Finding {
	groups := collectAnswers(ctx, func(x *decode.DNSExchange, addr netip.Addr) (string, bool) {
		if src, ok := forgedFor(x.Name, addr); ok {
			return "listed by " + src, true
		}
		if x.Type == "AAAA" && addr.Is6() && teredo.Contains(addr) && isPublicName(x.Name) {
			return "a Teredo (2001::/32) address, which injectors put in forged AAAA answers", true
		}
		return "", false
	})
	var out []Finding
	for _, g := range groups {
		out = append(out, Finding{
			Severity: Error, Host: g.key.name,
			Summary:  fmt.Sprintf("%s was answered with %s, a known forged address", g.key.name, g.key.addr),
			Expected: fmt.Sprintf("the real addresses of %s", g.key.name),
			Observed: fmt.Sprintf("%s from %s: %s", g.key.addr, g.srv, g.why),
			Evidence: capEvidence(g.ev, 12),
			Hint: "The answer was forged on the path (DNS injection by a national or corporate firewall). " +
				"Use a module proxy that is not poisoned on your network (GOPROXY=https://goproxy.cn,direct in mainland " +
				"China), or resolve over an encrypted transport (DNS over TLS/HTTPS, a VPN). " +
				"Flush cached answers afterwards: `resolvectl flush-caches`.",
		})
	}
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

func checkDNSSearchSuffix(ctx *Context) []Finding {
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
			verdict := r.RCode
			if r.RCode == "NOERROR" && len(r.Answers) > 0 {
				g.answered = true
				verdict = "answered: " + r.Answers[len(r.Answers)-1].Data
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
