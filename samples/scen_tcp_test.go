package samples

import (
	"fmt"
	"time"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/samples/synth"
)

// officeLookup resolves proxy.golang.org (IPv4 only) through the office
// DNS and returns when the answers are in.
func officeLookup(c *synth.Capture, me *synth.Host) time.Time {
	r := c.Resolver(me, corpDNS(), ms(0.7), 1232)
	return r.GoLookup(at(0), proxyHost, []string{proxyHost + ". 300 IN A " + proxyV4}, nil)
}

var tcpConnectTimeout = scenario{
	name: "tcp-connect-timeout",
	shows: "The office firewall silently drops connections to proxy.golang.org: the SYN is retransmitted after 1, 3, " +
		"7 and 15 s until Go's 30 s dial timeout.",
	made: "SYN retransmissions with Linux's backoff, nothing answering; Ethernet",
	must: []analyze.ExpectedFinding{find("tcp-connect-timeout", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download behind a firewall that drops outbound HTTPS to proxy.golang.org.")
		me := desktop()
		t := officeLookup(c, me)
		k := c.Dial(me, google(proxyV4), 443, ms(18))
		k.SYNTimeout(t.Add(ms(0.2)), t.Add(30*time.Second))
		c.Mark(t.Add(30*time.Second + ms(0.4)))
		return nil
	},
}

var tcpConnectRefused = scenario{
	name: "tcp-connect-refused",
	shows: "The office firewall rejects connections to proxy.golang.org with a TCP reset (IP TTL 62: two hops away, " +
		"not the server's 118).",
	made: "a SYN answered by RST, ACK from the firewall's hop; Ethernet",
	must: []analyze.ExpectedFinding{find("tcp-connect-refused", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download behind a firewall that rejects outbound HTTPS to proxy.golang.org with tcp-reset.")
		me := desktop()
		t := officeLookup(c, me)
		k := c.Dial(me, google(proxyV4), 443, ms(18))
		k.SYN(t.Add(ms(0.2)))
		k.Refuse(t.Add(ms(1.4)), 62)
		return nil
	},
}

var tcpIPv6Broken = scenario{
	name: "tcp-ipv6-broken-ipv4-works",
	shows: "The laptop has an IPv6 address but no working IPv6 route: Go dials proxy.golang.org and sum.golang.org " +
		"over IPv6 first, gets no answer, falls back to IPv4 after 300 ms and succeeds.",
	made: "Happy Eyeballs as Go's dialer does it (IPv6 SYN, IPv4 300 ms later); Go 1.26 crypto/tls (TLS 1.3) over " +
		"in-memory pipes; Ethernet",
	must: []analyze.ExpectedFinding{
		find("tcp-ipv6-broken", proxyHost, "warning"), find("tcp-ipv6-broken", sumHost, "warning"),
		find("tls-cert-hidden", proxyHost, "info"), find("tls-cert-hidden", sumHost, "info"),
	},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "wlan0", "home laptop on Wi-Fi",
			"go mod download on a dual-stack laptop whose ISP's IPv6 is broken; every fetch waits 300 ms for the IPv4 fallback.")
		me := laptop()
		me6 := synth.Local("2a02:810d:4b40:2a00:8e16:45ff:fe3a:9e71", laptopMAC)
		r := c.Resolver(me, router(), ms(9.6), 1232)
		chain, roots, err := g.publicChain(proxyHost)
		if err != nil {
			return err
		}
		sumChain, _, err := g.publicChain(sumHost)
		if err != nil {
			return err
		}
		hosts := []struct {
			name, v4, v6 string
			chain        synth.Chain
			xs           []synth.Exchange
		}{
			{proxyHost, proxyV4, proxyV6, chain, g.quoteFetch()},
			{sumHost, sumV4, "2a00:1450:4001:813::2011", sumChain, sumLookup()},
		}
		t := at(0)
		var conns []*synth.Conn
		for _, h := range hosts {
			t = r.GoLookup(t, h.name, []string{h.name + ". 300 IN A " + h.v4}, []string{h.name + ". 300 IN AAAA " + h.v6})
			k6 := c.Dial(me6, synth.Remote(h.v6, 64, 12), 443, ms(20))
			k6.SYN(t.Add(ms(0.2)))
			k := c.Dial(me, google(h.v4), 443, ms(18.4))
			end, conv := g.fetch(k, k.Handshake(t.Add(ms(300.2))), h.name, frontEnd(h.chain), roots, h.xs, synth.DefaultTiming)
			if err := ended(conv, "", ""); err != nil {
				return err
			}
			conns = append(conns, k)
			t = end.Add(ms(35))
		}
		// go build runs after the download; the go command exits later.
		exit := t.Add(1400 * time.Millisecond)
		for i, k := range conns {
			k.Reset(synth.FromClient, exit.Add(time.Duration(i)*ms(0.02)))
		}
		return nil
	},
}

var tcpResetAfterHello = scenario{
	name: "tls-sni-reset-injected",
	shows: "A censoring firewall reads the SNI proxy.golang.org in the ClientHello and injects three resets 9 ms " +
		"later; their IP TTL (47) and IDs are unlike the server's SYN-ACK (118).",
	made: "Go 1.26 crypto/tls ClientHello over a TCP handshake; forged RST, ACK segments with the next sequence " +
		"numbers, another TTL and no timestamps; Ethernet",
	must: []analyze.ExpectedFinding{find("tcp-reset-after-hello", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eth0", "workstation",
			"go mod download across a firewall that resets TLS connections naming proxy.golang.org.")
		me := laptop()
		r := c.Resolver(me, router(), ms(8.1), 1232)
		t := r.GoLookup(at(0), proxyHost, []string{proxyHost + ". 300 IN A " + proxyV4}, nil)
		hello, err := clientHello(g, proxyHost)
		if err != nil {
			return err
		}
		k := c.Dial(me, google(proxyV4), 443, ms(38))
		t = k.Handshake(t.Add(ms(0.2)))
		t = k.Data(synth.FromClient, t.Add(ms(0.11)), ms(0.015), hello)
		seq := k.Next(synth.FromServer)
		for i, off := range []uint32{0, 1460, 4380} {
			k.Send(synth.FromServer, t.Add(ms(9.2+0.04*float64(i))), synth.Seg{Flags: synth.RST | synth.ACK,
				Seq: seq + off, HasSeq: true, TTL: 47, ID: uint16(g.rand.UintN(65536)), HasID: true, NoTimestamps: true})
		}
		return nil
	},
}

// clientHello returns the first flight of the go command's TLS client for
// host: its ClientHello.
func clientHello(g *gen, host string) ([]byte, error) {
	cfg := synth.GoClientConfig(host, nil, at(0), &g.keys)
	conv := synth.Converse(synth.HTTPSClient(cfg, nil), noServer)
	if len(conv.Transcript) == 0 {
		return nil, conv.ClientErr
	}
	return conv.Transcript[0].Data, nil
}

var tcpLargeHelloDropped = scenario{
	name: "tls-large-hello-dropped",
	shows: "A middlebox drops the two-segment ClientHello that Go's X25519MLKEM768 key share makes (1.5 KB): the " +
		"client retransmits into silence until its 10 s TLS handshake timeout.",
	made: "Go 1.26 crypto/tls ClientHello split at MSS 1448; retransmissions with Linux's RTO backoff; no server " +
		"packets after the handshake; Ethernet",
	must: []analyze.ExpectedFinding{find("tls-large-hello-dropped", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download through an old DPI firewall that drops TLS ClientHellos spanning two segments.")
		me := desktop()
		t := officeLookup(c, me)
		hello, err := clientHello(g, proxyHost)
		if err != nil {
			return err
		}
		if len(hello) <= 1448 {
			return fmt.Errorf("the ClientHello has only %d bytes: it fits in one segment", len(hello))
		}
		k := c.Dial(me, google(proxyV4), 443, ms(18.3))
		t = k.Handshake(t.Add(ms(0.2))).Add(ms(0.11))
		segs := k.Segments(synth.FromClient, hello)
		for i, s := range segs {
			s.Lost = true
			k.Send(synth.FromClient, t.Add(time.Duration(i)*ms(0.015)), s)
		}
		k.Advance(synth.FromClient, len(hello))
		// Linux retransmits the first unacknowledged segment at each RTO
		// (about 200 ms after a short-RTT handshake, doubling).
		when := t
		for rto := ms(218); when.Add(rto).Before(t.Add(10 * time.Second)); rto *= 2 {
			when = when.Add(rto)
			s := segs[0]
			s.Lost = true
			k.Send(synth.FromClient, when, s)
		}
		// The handshake timeout: the client closes; its FIN is dropped too.
		k.Send(synth.FromClient, t.Add(10*time.Second), synth.Seg{Flags: synth.FIN | synth.ACK, Lost: true})
		c.Mark(t.Add(10*time.Second + ms(2)))
		return nil
	},
}
