package samples

import (
	"time"

	"github.com/miekg/dns"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/samples/synth"
)

// goTwoAttempts sends what Go's resolver sends for name with the default
// resolv.conf (attempts:2) when each query fails: an A and an AAAA query,
// then, gap later, both again with new IDs and sockets. answer is called
// for each query.
func goTwoAttempts(r *synth.Resolver, t time.Time, gap time.Duration, name string, answer func(q *synth.Query)) {
	for attempt := range 2 {
		base := t.Add(time.Duration(attempt) * gap)
		answer(r.GoQuery(base, name, dns.TypeA))
		answer(r.GoQuery(base.Add(ms(0.05)), name, dns.TypeAAAA))
	}
}

var dnsStubNotRunning = scenario{
	name: "dns-stub-resolver-down",
	shows: "/etc/resolv.conf names systemd-resolved's stub 127.0.0.53, but it is not running: every query draws an " +
		"ICMP port unreachable and the go command fails with `connection refused`.",
	made: "miekg/dns queries as Go's resolver sends them (A and AAAA in parallel, two attempts), ICMP errors quoting " +
		"them; Linux SLL2 on `any`",
	must: []analyze.ExpectedFinding{find("dns-unreachable", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.SLL2, "any", "Linux cooked capture v2 on all interfaces",
			"go mod download in a container whose /etc/resolv.conf was copied from a host running systemd-resolved.")
		r := c.Resolver(synth.Loopback("127.0.0.1"), stub(), 0, 0)
		goTwoAttempts(r, at(0), ms(0.09), proxyHost, func(q *synth.Query) { q.PortUnreachable(q.Sent.Add(ms(0.021))) })
		return nil
	},
}

var dnsTCPRefused = scenario{
	name: "dns-tcp-resolver-refused",
	shows: "With `options use-vc` in resolv.conf Go asks its resolver over TCP, and the router, which serves DNS only " +
		"over UDP, resets every connection to port 53.",
	made: "TCP SYNs to port 53 answered by RST, ACK from the router (two attempts of A and AAAA); Ethernet",
	must: []analyze.ExpectedFinding{find("dns-unreachable", "", "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "wlan0", "home laptop on Wi-Fi",
			"go mod download with `options use-vc` in /etc/resolv.conf; the router does not serve DNS over TCP.")
		me, rt := laptop(), router()
		for i := range 4 {
			k := c.Dial(me, rt, 53, ms(1.1))
			t := at(ms(0.9*float64(i/2) + 0.06*float64(i%2)))
			k.SYN(t)
			k.Refuse(t.Add(ms(1.1)), 0)
		}
		return nil
	},
}

var dnsTimeout = scenario{
	name: "dns-timeout-no-answer",
	shows: "The router answers no DNS query at all: Go's resolver waits 5 s, asks again with new IDs, and gives up " +
		"after 10 s with `i/o timeout`.",
	made: "miekg/dns queries as Go's resolver sends them, with no response; Ethernet",
	must: []analyze.ExpectedFinding{find("dns-timeout", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "wlan0", "home laptop on Wi-Fi",
			"go mod download while the router's DNS forwarder hangs.")
		r := c.Resolver(laptop(), router(), 0, 0)
		for attempt := range 2 {
			t := at(time.Duration(attempt) * 5 * time.Second)
			r.GoQuery(t, proxyHost, dns.TypeA)
			r.GoQuery(t.Add(ms(0.06)), proxyHost, dns.TypeAAAA)
		}
		// The go command's exit ends the capture: nothing more happens.
		c.Mark(at(10*time.Second + ms(3)))
		return nil
	},
}

var dnsAAAADropped = scenario{
	name: "dns-aaaa-dropped",
	shows: "The router answers A queries but silently drops AAAA: every lookup waits for two 5 s timeouts before Go " +
		"uses the IPv4 answer, and the download then works.",
	made: "miekg/dns; A answered, AAAA (two attempts) never; then Go 1.26 crypto/tls (TLS 1.3) over an in-memory pipe; Ethernet",
	must: []analyze.ExpectedFinding{find("dns-timeout", proxyHost, "error"), find("tls-cert-hidden", proxyHost, "info")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "wlan0", "home laptop on Wi-Fi",
			"go mod download through a router whose DNS forwarder drops AAAA queries.")
		me := laptop()
		r := c.Resolver(me, router(), ms(2.3), 1232)
		// The A query is answered at once; the AAAA query times out twice
		// (a new ID and socket each time), and only then does Go use the
		// IPv4 address.
		r.GoQuery(at(0), proxyHost, dns.TypeA).Answer(proxyHost + ". 300 IN A " + proxyV4)
		r.GoQuery(at(ms(0.06)), proxyHost, dns.TypeAAAA)
		r.GoQuery(at(5*time.Second+ms(0.06)), proxyHost, dns.TypeAAAA)
		chain, roots, err := g.publicChain(proxyHost)
		if err != nil {
			return err
		}
		k := c.Dial(me, google(proxyV4), 443, ms(18.2))
		end, conv := g.fetch(k, k.Handshake(at(10*time.Second+ms(0.4))), proxyHost, frontEnd(chain), roots, g.quoteFetch(), synth.DefaultTiming)
		if err := ended(conv, "", ""); err != nil {
			return err
		}
		k.Reset(synth.FromClient, end.Add(ms(2.6)))
		return nil
	},
}

// rcodeNet is where a failing resolver sits: the client, the resolver,
// its RTT, and the capture's interface.
type rcodeNet struct {
	client      func() *synth.Host
	server      *synth.Host
	rtt         time.Duration
	ifName      string
	ifDesc      string
	withSOA     bool // negative answers carry the zone's SOA
	description string
}

// rcodeScenario answers every query for proxy.golang.org with rcode, as
// often as Go's resolver asks (once for NXDOMAIN, which is final; twice
// for SERVFAIL and REFUSED).
func rcodeScenario(n rcodeNet, rcode int) func(g *gen) error {
	return func(g *gen) error {
		c := g.capture(synth.Ethernet, n.ifName, n.ifDesc, n.description)
		r := c.Resolver(n.client(), n.server, n.rtt, 1232)
		answer := func(q *synth.Query) {
			m := q.Reply(rcode)
			if n.withSOA {
				q.WithAuthority(m, "golang.org. 60 IN SOA ns1.google.com. dns-admin.google.com. 1 900 900 1800 60")
			}
			q.Respond(q.Sent.Add(n.rtt), m)
		}
		if rcode == dns.RcodeNameError {
			answer(r.GoQuery(at(0), proxyHost, dns.TypeA))
			answer(r.GoQuery(at(ms(0.05)), proxyHost, dns.TypeAAAA))
			return nil
		}
		goTwoAttempts(r, at(0), n.rtt+ms(0.12), proxyHost, answer)
		return nil
	}
}

var dnsServfail = scenario{
	name:  "dns-servfail",
	shows: "The router's DNS forwarder answers SERVFAIL for proxy.golang.org (its upstream is unreachable); Go asks twice and fails.",
	made:  "miekg/dns SERVFAIL responses to Go-style queries; Ethernet",
	must:  []analyze.ExpectedFinding{find("dns-error-rcode", proxyHost, "error")},
	gen: rcodeScenario(rcodeNet{client: laptop, server: router(), rtt: ms(4.1), ifName: "wlan0", ifDesc: "home laptop on Wi-Fi",
		description: "go mod download while the router's upstream DNS is down."}, dns.RcodeServerFailure),
}

var dnsRefused = scenario{
	name: "dns-refused",
	shows: "resolv.conf points at the company's authoritative-only name server, which REFUSES recursion for " +
		"proxy.golang.org.",
	made: "miekg/dns REFUSED responses to Go-style queries; Ethernet",
	must: []analyze.ExpectedFinding{find("dns-error-rcode", proxyHost, "error")},
	gen: rcodeScenario(rcodeNet{client: desktop, server: corpServer("10.20.0.10"), rtt: ms(0.6), ifName: "eno1", ifDesc: "office desktop",
		description: "go mod download on a desktop whose resolv.conf names the authoritative server ns1.corp.example."}, dns.RcodeRefused),
}

var dnsNXDomain = scenario{
	name: "dns-nxdomain-filtered",
	shows: "The office's filtering resolver answers NXDOMAIN (with a made-up SOA) for proxy.golang.org, a name that " +
		"exists: a DNS policy blocks the module proxy.",
	made: "miekg/dns NXDOMAIN responses with an SOA; Ethernet",
	must: []analyze.ExpectedFinding{find("dns-error-rcode", proxyHost, "error")},
	gen: rcodeScenario(rcodeNet{client: desktop, server: corpDNS(), rtt: ms(0.7), ifName: "eno1", ifDesc: "office desktop", withSOA: true,
		description: "go mod download behind a DNS filter (response policy zone) that blocks proxy.golang.org."}, dns.RcodeNameError),
}

var dnsBogonLoopback = scenario{
	name: "dns-bogon-loopback",
	shows: "The router's ad-block list answers 127.0.0.1 and ::1 for proxy.golang.org; the go command dials this " +
		"machine's port 443, where nothing listens, and is refused.",
	made: "miekg/dns answers from the router; TCP SYNs on lo answered by RST, ACK; Linux SLL2 on `any`",
	must: []analyze.ExpectedFinding{find("dns-bogon-answer", proxyHost, "error"), find("tcp-connect-refused", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.SLL2, "any", "Linux cooked capture v2 on all interfaces",
			"go mod download at home; the router runs an ad-block list that maps proxy.golang.org to localhost.")
		r := c.Resolver(laptop(), router(), ms(0.9), 1232)
		t := r.GoLookup(at(0), proxyHost, []string{proxyHost + ". 10 IN A 127.0.0.1"}, []string{proxyHost + ". 10 IN AAAA ::1"})
		// Go dials ::1 first (RFC 6724 prefers IPv6), then 127.0.0.1.
		for i, addr := range []string{"::1", "127.0.0.1"} {
			me := synth.Loopback(addr)
			k := c.Dial(me, synth.Loopback(addr), 443, ms(0.012))
			st := t.Add(ms(0.15 + 0.1*float64(i)))
			k.SYN(st)
			k.Refuse(st.Add(ms(0.012)), 0)
		}
		return nil
	},
}

var dnsBogonUnspecified = scenario{
	name: "dns-bogon-unspecified",
	shows: "A Pi-hole answers 0.0.0.0 and :: for proxy.golang.org (its NULL blocking mode); Linux delivers the dial " +
		"to 0.0.0.0 to this machine, where nothing listens on 443.",
	made: "miekg/dns answers from a LAN resolver; the loopback dial and its RST, ACK; Linux SLL2 on `any`",
	must: []analyze.ExpectedFinding{find("dns-bogon-answer", proxyHost, "error"), find("tcp-connect-refused", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.SLL2, "any", "Linux cooked capture v2 on all interfaces",
			"go mod download at home with a Pi-hole (192.168.1.2) as resolver; proxy.golang.org is on a block list.")
		pihole := synth.Neighbor("192.168.1.2", []byte{0xb8, 0x27, 0xeb, 0x4c, 0x90, 0x1d}, 64)
		pihole.IPID = synth.ZeroID
		r := c.Resolver(laptop(), pihole, ms(1.3), 1232)
		t := r.GoLookup(at(0), proxyHost, []string{proxyHost + ". 2 IN A 0.0.0.0"}, []string{proxyHost + ". 2 IN AAAA ::"})
		// Go dials [::]:443 first, then 0.0.0.0:443; the kernel turns each
		// into a loopback connection.
		for i, addr := range []string{"::1", "127.0.0.1"} {
			k := c.Dial(synth.Loopback(addr), synth.Loopback(addr), 443, ms(0.011))
			st := t.Add(ms(0.14 + 0.09*float64(i)))
			k.SYN(st)
			k.Refuse(st.Add(ms(0.011)), 0)
		}
		return nil
	},
}

var dnsBogonPrivate = scenario{
	name: "dns-bogon-private-split-horizon",
	shows: "The office DNS still answers proxy.golang.org with 10.44.0.17, a decommissioned internal mirror: the SYNs " +
		"go unanswered while the router reports the host unreachable.",
	made: "miekg/dns answer; SYN retransmissions (1 s RTO, doubling) and ICMP host unreachable from the router; Ethernet",
	must: []analyze.ExpectedFinding{find("dns-bogon-answer", proxyHost, "error"), find("tcp-connect-timeout", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download; a stale split-horizon record points proxy.golang.org at a mirror that no longer exists.")
		me := desktop()
		r := c.Resolver(me, corpDNS(), ms(0.7), 1232)
		t := r.GoLookup(at(0), proxyHost, []string{proxyHost + ". 3600 IN A 10.44.0.17"}, nil)
		k := c.Dial(me, corpServer("10.44.0.17"), 443, ms(1))
		gw := corpServer("10.20.0.1")
		// The router gives up resolving the address after 3 s and reports
		// the host unreachable; Linux then aborts the connect ("no route to
		// host"), after one SYN retransmission.
		syn := k.SYN(t.Add(ms(0.2)))
		k.SYN(t.Add(ms(1000.2)))
		c.ICMPUnreachable(t.Add(ms(3000.6)), gw, me, synth.ICMPHostUnreachable, syn)
		return nil
	},
}

var dnsFakeIP = scenario{
	name: "dns-fake-ip-clash",
	shows: "In a container, DNS goes to the host's Clash in fake-IP mode, which answers 198.18.0.21; the container's " +
		"traffic does not pass Clash's TUN, so the SYNs to that address vanish.",
	made: "miekg/dns answer (TTL 1) from the Docker bridge address; SYN retransmissions until Go's 30 s dial timeout; Ethernet",
	must: []analyze.ExpectedFinding{find("dns-fake-ip", proxyHost, "warning"), find("tcp-connect-timeout", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eth0", "container interface (Docker bridge)",
			"go mod download in a Docker container on a host running Clash (fake-ip mode, DNS on 0.0.0.0:53).")
		me := synth.Local("172.17.0.2", []byte{0x02, 0x42, 0xac, 0x11, 0x00, 0x02})
		bridge := synth.Neighbor("172.17.0.1", []byte{0x02, 0x42, 0x5c, 0x7e, 0x31, 0xa8}, 64)
		r := c.Resolver(me, bridge, ms(0.3), 0)
		t := r.GoLookup(at(0), proxyHost, []string{proxyHost + ". 1 IN A 198.18.0.21"}, nil)
		fake := synth.Remote("198.18.0.21", 64, 1)
		fake.MAC = bridge.MAC
		k := c.Dial(me, fake, 443, ms(1))
		k.SYNTimeout(t.Add(ms(0.1)), t.Add(30*time.Second))
		c.Mark(t.Add(30*time.Second + ms(1)))
		return nil
	},
}

var dnsInjectedRace = scenario{
	name: "dns-injected-race",
	shows: "A query to 8.8.8.8 draws a forged answer 24 ms later (IP TTL 47, IP ID 0) and the real one at 52 ms, which " +
		"the client, having taken the first, answers with ICMP port unreachable; the forged address then never answers.",
	made: "miekg/dns: two differing responses to one query from different 'hops', ICMP quoting the late one; SYN " +
		"retransmissions to the forged address; Ethernet",
	must: []analyze.ExpectedFinding{find("dns-injected-answer", proxyHost, "error"), find("tcp-connect-timeout", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eth0", "workstation",
			"go mod download with resolv.conf pointing at 8.8.8.8 across a network whose firewall injects DNS answers.")
		me := laptop()
		gdns := synth.Remote("8.8.8.8", 128, 13)
		r := c.Resolver(me, gdns, ms(52.4), 512)
		qa := r.GoQuery(at(0), proxyHost, dns.TypeA)
		q6 := r.GoQuery(at(ms(0.06)), proxyHost, dns.TypeAAAA)
		injector := synth.Remote("8.8.8.8", 64, 17)
		injector.IPID = synth.ZeroID
		forged := qa.Reply(dns.RcodeSuccess, proxyHost+". 208 IN A 157.240.11.35")
		forged.Extra = nil // injectors send no OPT record
		qa.RespondFrom(at(ms(24.3)), injector, c.IDs(injector), forged)
		late := qa.Answer(proxyHost + ". 300 IN A " + proxyV4)
		c.ICMPUnreachable(at(ms(52.45)), me, gdns, synth.ICMPPortUnreachable, late)
		q6.Respond(at(ms(52.6)), q6.Reply(dns.RcodeSuccess, proxyHost+". 300 IN AAAA "+proxyV6))
		// This machine has no IPv6 route: Go dials only the (forged) IPv4
		// answer, which leads nowhere.
		k := c.Dial(me, synth.Remote("157.240.11.35", 64, 15), 443, ms(60))
		k.SYNTimeout(at(ms(52.9)), at(30*time.Second+ms(52.9)))
		c.Mark(at(30*time.Second + ms(53)))
		return nil
	},
}

var dnsForgedPool = scenario{
	name: "dns-forged-pool-teredo",
	shows: "A poisoned resolver answers proxy.golang.org with 31.13.94.37 (from the published pools of injected " +
		"addresses) and a Teredo AAAA (2001::/32); the SYNs to the forged address vanish.",
	made: "miekg/dns answers from a public resolver; SYN retransmissions until Go's 30 s dial timeout; Ethernet",
	must: []analyze.ExpectedFinding{find("dns-forged-ip", proxyHost, "error"), find("tcp-connect-timeout", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eth0", "workstation",
			"go mod download with resolv.conf pointing at 114.114.114.114, whose cache holds forged answers.")
		me := laptop()
		r := c.Resolver(me, synth.Remote("114.114.114.114", 64, 12), ms(31.7), 0)
		t := r.GoLookup(at(0), proxyHost, []string{proxyHost + ". 142 IN A 31.13.94.37"},
			[]string{proxyHost + ". 142 IN AAAA 2001::1f0d:5e25"})
		k := c.Dial(me, synth.Remote("31.13.94.37", 64, 14), 443, ms(70))
		k.SYNTimeout(t.Add(ms(0.3)), t.Add(30*time.Second))
		c.Mark(t.Add(30*time.Second + ms(1)))
		return nil
	},
}

var dnsSearchSuffix = scenario{
	name: "dns-search-suffix",
	shows: "In a Kubernetes pod (ndots:5) every lookup first tries the three cluster search domains, each answered " +
		"NXDOMAIN, before proxy.golang.org itself; the download then works.",
	made: "miekg/dns from CoreDNS's service address; Go 1.26 crypto/tls (TLS 1.3) over an in-memory pipe; Ethernet",
	must: []analyze.ExpectedFinding{find("dns-search-suffix", proxyHost, "info"), find("tls-cert-hidden", proxyHost, "info")},
	// Slow, but nothing fails.
	healthy: true,
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eth0", "pod interface",
			"go mod download in a Kubernetes pod: search default.svc.cluster.local svc.cluster.local cluster.local, options ndots:5.")
		me := synth.Local("10.244.1.17", []byte{0x6a, 0x1f, 0x3e, 0x85, 0x0c, 0x44})
		coredns := synth.Remote("10.96.0.10", 64, 1)
		coredns.IPID = synth.ZeroID
		r := c.Resolver(me, coredns, ms(0.4), 1232)
		t := at(0)
		for _, suffix := range []string{"default.svc.cluster.local", "svc.cluster.local", "cluster.local"} {
			name := proxyHost + "." + suffix
			for i, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
				q := r.GoQuery(t.Add(ms(0.05*float64(i))), name, qt)
				q.Respond(q.Sent.Add(r.RTT), q.WithAuthority(q.Reply(dns.RcodeNameError),
					"cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1763625600 7200 1800 86400 30"))
			}
			t = t.Add(ms(0.55))
		}
		t = r.GoLookup(t, proxyHost, []string{proxyHost + ". 30 IN A " + proxyV4}, nil)
		chain, roots, err := g.publicChain(proxyHost)
		if err != nil {
			return err
		}
		k := c.Dial(me, google(proxyV4), 443, ms(2.1))
		end, conv := g.fetch(k, k.Handshake(t.Add(ms(0.2))), proxyHost, frontEnd(chain), roots, g.quoteFetch(), synth.DefaultTiming)
		if err := ended(conv, "", ""); err != nil {
			return err
		}
		k.Reset(synth.FromClient, end.Add(ms(1.7)))
		return nil
	},
}
