package samples

import (
	"fmt"
	"net"
	"time"

	"github.com/miekg/dns"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/samples/synth"
)

// Failures on the path: what happens between the handshake and the last
// byte (black holes, resets), answers that are not TLS, and DNS answers
// the go resolver rejects.

// goConversation runs the go command's HTTPS client against a server as
// the front end serves it, without laying it out yet.
func (g *gen) goConversation(host string, t time.Time, xs []synth.Exchange) (synth.Conversation, error) {
	chain, roots, err := g.publicChain(host)
	if err != nil {
		return synth.Conversation{}, err
	}
	client := synth.HTTPSClient(synth.GoClientConfig(host, roots, t, &g.keys), xs)
	server := synth.HTTPSServer(frontEnd(chain).Config(t), xs)
	return synth.Converse(client, server), nil
}

var tlsNotTLSPortal = scenario{
	name: "tls-not-tls-plain-http-on-443",
	shows: "On a guest network a transparent proxy answers port 443 with plain HTTP: the go command's ClientHello " +
		"to proxy.golang.org draws `HTTP/1.1 400 Bad Request` and an HTML page (go: `server gave HTTP response to " +
		"HTTPS client`).",
	made: "Go 1.26 crypto/tls ClientHello against a server function that answers in plain HTTP, over an in-memory " +
		"pipe; Ethernet",
	must: []analyze.ExpectedFinding{find("tls-not-tls", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "wlan0", "laptop on a guest Wi-Fi",
			"go mod download on a guest network whose transparent proxy answers port 443 in plain HTTP.")
		me := laptop()
		r := c.Resolver(me, router(), ms(3.1), 1232)
		t := r.GoLookup(at(0), proxyHost, []string{proxyHost + ". 300 IN A " + proxyV4}, nil)
		k := c.Dial(me, google(proxyV4), 443, ms(4.2))
		t = k.Handshake(t.Add(ms(0.2)))
		client := synth.HTTPSClient(synth.GoClientConfig(proxyHost, nil, t, &g.keys), nil)
		body := "<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n" +
			"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
		server := func(sc net.Conn) error {
			buf := make([]byte, 4096)
			if _, err := sc.Read(buf); err != nil {
				return err
			}
			_, err := fmt.Fprintf(sc, "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nDate: Fri, 20 Nov 2026 10:00:00 GMT\r\n"+
				"Content-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
			return err
		}
		end, conv := k.Run(t.Add(ms(0.11)), client, server, synth.DefaultTiming)
		if err := ended(conv, "first record does not look like a TLS handshake", ""); err != nil {
			return err
		}
		k.Fin(synth.FromServer, end.Add(ms(0.1)))
		k.Close(end.Add(ms(0.3)))
		return nil
	},
}

var tlsNotTLSHTTPSProxyURL = scenario{
	name: "tls-not-tls-https-proxy-url",
	shows: "HTTPS_PROXY=https://proxy.corp.example:3128 names the office Squid, which speaks plain HTTP: the go command " +
		"starts TLS with the proxy and Squid answers the ClientHello with `HTTP/1.1 400 Bad Request` (go: `proxyconnect " +
		"tcp: tls: first record does not look like a TLS handshake`).",
	made: "Go 1.26 crypto/tls ClientHello to the proxy (SNI proxy.corp.example) and Squid 6's error response over an " +
		"in-memory pipe; Ethernet",
	must: []analyze.ExpectedFinding{find("tls-not-tls", squidName, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download with HTTPS_PROXY=https://proxy.corp.example:3128 for a Squid that speaks plain HTTP.")
		me := desktop()
		r := c.Resolver(me, corpDNS(), ms(0.8), 1232)
		t := r.GoLookup(at(0), squidName, []string{squidName + ". 3600 IN A " + squidV4}, nil)
		k := c.Dial(me, corpServer(squidV4), 3128, ms(0.6))
		t = k.Handshake(t.Add(ms(0.2)))
		client := synth.HTTPSClient(synth.GoClientConfig(squidName, nil, t, &g.keys), nil)
		server := func(sc net.Conn) error {
			buf := make([]byte, 4096)
			if _, err := sc.Read(buf); err != nil {
				return err
			}
			_, err := sc.Write([]byte(squidError("400", "Bad Request", "ERR_INVALID_REQ")))
			return err
		}
		end, conv := k.Run(t.Add(ms(0.09)), client, server, synth.DefaultTiming)
		if err := ended(conv, "first record does not look like a TLS handshake", ""); err != nil {
			return err
		}
		k.Close(end.Add(ms(0.2)))
		return nil
	},
}

var tcpResetMidTransfer = scenario{
	name: "tcp-reset-mid-transfer-injected",
	shows: "A download-size filter lets the first 40 KB of a module .zip from proxy.golang.org through and then " +
		"injects a reset (IP TTL 47, unlike the server's 118): go says `connection reset by peer`.",
	made: "Go 1.26 crypto/tls (TLS 1.3) and HTTP/2 over an in-memory pipe, the server's data cut after 40 KB and a " +
		"forged RST, ACK with another TTL and no timestamps; Ethernet",
	must: []analyze.ExpectedFinding{find("tcp-reset-mid-transfer", proxyHost, "error"), find("tls-cert-hidden", proxyHost, "info")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download of a 300 KB module zip across a firewall that resets downloads after 40 KB.")
		me := desktop()
		t := officeLookup(c, me)
		zip := make([]byte, 300<<10)
		for i := range zip {
			zip[i] = byte(g.rand.UintN(256))
		}
		copy(zip, "PK\x03\x04")
		xs := []synth.Exchange{{Method: "GET", Path: "/golang.org/x/tools/@v/v0.30.0.zip", Response: synth.Response{
			Delay: ms(9.3), Status: 200, Header: [][2]string{{"content-type", "application/zip"}}, Body: zip}}}
		k := c.Dial(me, google(proxyV4), 443, ms(18.2))
		t = k.Handshake(t.Add(ms(0.2)))
		conv, err := g.goConversation(proxyHost, t, xs)
		if err != nil {
			return err
		}
		if err := ended(conv, "", ""); err != nil {
			return err
		}
		// Keep the conversation up to the first 40 KB from the server.
		tr, sent := synth.Transcript(nil), 0
		for _, ch := range conv.Transcript {
			if ch.Dir == synth.FromServer && ch.Data != nil {
				if sent >= 40<<10 {
					break
				}
				if sent+len(ch.Data) > 40<<10 {
					ch.Data = ch.Data[:40<<10-sent]
				}
				sent += len(ch.Data)
			}
			tr = append(tr, ch)
		}
		end := k.Play(t.Add(ms(0.11)), tr, synth.DefaultTiming)
		k.Send(synth.FromServer, end.Add(ms(0.4)), synth.Seg{Flags: synth.RST | synth.ACK, TTL: 47,
			ID: uint16(g.rand.UintN(65536)), HasID: true, NoTimestamps: true})
		return nil
	},
}

var tcpPMTUBlackhole = scenario{
	name: "tcp-pmtu-blackhole-vpn",
	shows: "Behind a VPN whose tunnel carries at most 1420-byte packets, the server's full-size segments (1500 bytes) " +
		"never arrive and the ICMP that would say so is filtered: only the last, small segment of its TLS flight gets " +
		"through, the client's ACKs stall, and after 10 s go gives up with `net/http: TLS handshake timeout`.",
	made: "Go 1.26 crypto/tls flight of the server split at MSS 1460; the full-size segments left out (lost before " +
		"the capture point), the small tail delivered, the client's duplicate ACK; Ethernet",
	must: []analyze.ExpectedFinding{find("tcp-pmtu-blackhole", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eth0", "container behind a host VPN",
			"go mod download in a container on a host whose VPN tunnel has MTU 1420 and filters ICMP.")
		me := laptop()
		r := c.Resolver(me, router(), ms(6.1), 1232)
		t := r.GoLookup(at(0), proxyHost, []string{proxyHost + ". 300 IN A " + proxyV4}, nil)
		conv, err := g.goConversation(proxyHost, t, g.quoteFetch())
		if err != nil {
			return err
		}
		hello, flight := conv.Transcript.Bytes(synth.FromClient), []byte(nil)
		for _, ch := range conv.Transcript {
			if ch.Dir == synth.FromServer && ch.Data != nil {
				flight = ch.Data
				break
			}
		}
		k := c.Dial(me, google(proxyV4), 443, ms(31.5))
		t = k.Handshake(t.Add(ms(0.2)))
		segs := k.Segments(synth.FromClient, hello[:len(conv.Transcript[0].Data)])
		for i, s := range segs {
			k.Send(synth.FromClient, t.Add(ms(0.11+0.015*float64(i))), s)
		}
		t = t.Add(ms(0.2))
		server := k.Segments(synth.FromServer, flight)
		if len(server) < 2 || len(server[len(server)-1].Payload) >= len(server[0].Payload) {
			return fmt.Errorf("the server's flight (%d bytes) does not end in a smaller segment", len(flight))
		}
		arrive := t.Add(k.RTT + ms(0.9))
		k.Send(synth.FromServer, arrive, server[len(server)-1])
		k.Advance(synth.FromServer, len(flight))
		k.Ack(synth.FromClient, arrive.Add(ms(0.05)))
		// The TLS handshake timeout: the client closes; nothing more arrives.
		k.Fin(synth.FromClient, t.Add(10*time.Second))
		c.Mark(t.Add(10*time.Second + ms(3)))
		return nil
	},
}

// hijackedLookup is a Go lookup of name (A and AAAA, two attempts 5 s
// apart) answered by a resolver that puts portal into every question.
func hijackedLookup(r *synth.Resolver, t time.Time, name, portal, addr string) time.Time {
	for attempt := range 2 {
		at := t.Add(time.Duration(attempt) * 5 * time.Second)
		for i, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			q := r.GoQuery(at.Add(time.Duration(i)*70*time.Microsecond), name, qt)
			m := q.Reply(dns.RcodeSuccess)
			m.Question[0].Name = portal + "."
			if qt == dns.TypeA {
				rr, _ := dns.NewRR(portal + ". 0 IN A " + addr)
				m.Answer = append(m.Answer, rr)
			}
			q.Respond(q.Sent.Add(r.RTT+time.Duration(i)*150*time.Microsecond), m)
		}
	}
	return t.Add(10 * time.Second)
}

var dnsAnswerMismatch = scenario{
	name: "dns-answer-mismatch-portal",
	shows: "A hotel's captive portal answers every DNS query at once, but with its own name in the question " +
		"(login.hotel-wifi.example): the go resolver drops those responses and gives up after two 5 s attempts " +
		"with `i/o timeout`, although every query was answered.",
	made: "miekg/dns queries as Go's resolver sends them; responses with the query's ID and another question; " +
		"Ethernet",
	must: []analyze.ExpectedFinding{find("dns-answer-mismatch", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "wlan0", "laptop on hotel Wi-Fi",
			"go mod download on a hotel network whose DNS answers every query for its captive portal.")
		me := laptop()
		r := c.Resolver(me, router(), ms(2.4), 0)
		end := hijackedLookup(r, at(0), proxyHost, "login.hotel-wifi.example", "10.10.0.1")
		c.Mark(end.Add(ms(2)))
		return nil
	},
}

var dnsTruncatedNoTCP = scenario{
	name: "dns-truncated-tcp-blocked",
	shows: "The resolver truncates its answers for sum.golang.org (TC set) and the firewall drops DNS over TCP: Go " +
		"retries each query over TCP as RFC 7766 asks, the SYNs go unanswered, and the lookup fails with `i/o timeout`.",
	made: "miekg/dns responses with TC set and no records; TCP SYNs to port 53 retransmitted into silence until " +
		"the resolver's 5 s timeout; Ethernet",
	must: []analyze.ExpectedFinding{find("dns-answer-mismatch", sumHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download where the resolver truncates answers and a firewall drops DNS over TCP.")
		me := desktop()
		srv := corpDNS()
		r := c.Resolver(me, srv, ms(0.7), 1232)
		t := at(0)
		for i, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			q := r.GoQuery(t.Add(time.Duration(i)*70*time.Microsecond), sumHost, qt)
			m := q.Reply(dns.RcodeSuccess)
			m.Truncated = true
			q.Respond(q.Sent.Add(r.RTT), m)
		}
		t = t.Add(r.RTT + ms(0.3))
		for i := range 2 {
			k := c.Dial(me, srv, 53, ms(0.7))
			start := t.Add(time.Duration(i) * ms(0.05))
			k.SYNTimeout(start, start.Add(5*time.Second))
		}
		c.Mark(t.Add(5*time.Second + ms(2)))
		return nil
	},
}

var proxyClosedSilently = scenario{
	name: "proxy-connect-closed-silently",
	shows: "HTTPS_PROXY=http://proxy.corp.example:3128 names a port where the proxy accepts connections but closes " +
		"them without answering the CONNECT (go 1.26: `unexpected EOF`; older releases: `proxyconnect tcp: EOF`).",
	made: "the CONNECT request exactly as Go 1.26's net/http sends it, then a FIN from the proxy; Ethernet",
	must: []analyze.ExpectedFinding{find("proxy-connect-failed", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download through a proxy that closes every CONNECT without a word.")
		me := desktop()
		r := c.Resolver(me, corpDNS(), ms(0.8), 1232)
		t := r.GoLookup(at(0), squidName, []string{squidName + ". 3600 IN A " + squidV4}, nil)
		k := c.Dial(me, corpServer(squidV4), 3128, ms(0.6))
		t = k.Handshake(t.Add(ms(0.2)))
		end := k.Data(synth.FromClient, t.Add(ms(0.09)), 0,
			[]byte("CONNECT proxy.golang.org:443 HTTP/1.1\r\nHost: proxy.golang.org:443\r\nUser-Agent: Go-http-client/1.1\r\n\r\n"))
		k.Fin(synth.FromServer, end.Add(ms(0.9)))
		k.Fin(synth.FromClient, end.Add(ms(1.1)))
		return nil
	},
}

var dnsNAT64Unreachable = scenario{
	name: "dns-nat64-unreachable",
	shows: "On an IPv6-only network the resolver does DNS64: proxy.golang.org gets no A record and the AAAA " +
		"64:ff9b::8efb:2471 (its IPv4 address inside the well-known NAT64 prefix), but no NAT64 translates it, so " +
		"the SYNs go unanswered until Go's dial timeout.",
	made: "miekg/dns answers from a DNS64 resolver on the LAN; SYN retransmissions with Linux's backoff; Ethernet",
	must: []analyze.ExpectedFinding{find("dns-nat64-unreachable", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eth0", "IPv6-only lab machine",
			"go mod download on an IPv6-only network whose DNS64 has no NAT64 behind it.")
		me := synth.Local("2001:db8:64::71", laptopMAC)
		r := c.Resolver(me, synth.Neighbor("2001:db8:64::1", routerMAC, 64), ms(1.9), 1232)
		t := r.GoLookup(at(0), proxyHost, nil, []string{proxyHost + ". 300 IN AAAA 64:ff9b::8efb:2471"})
		k := c.Dial(me, synth.Remote("64:ff9b::8efb:2471", 64, 3), 443, ms(25))
		k.SYNTimeout(t.Add(ms(0.2)), t.Add(30*time.Second))
		c.Mark(t.Add(30*time.Second + ms(0.5)))
		return nil
	},
}

var socksLocalDNS = scenario{
	name: "socks-local-dns-fake-ip",
	shows: "In direct mode (GOPRIVATE) git fetches github.com through ALL_PROXY=socks5://10.20.0.9:1080; curl " +
		"resolves the name itself and the container's DNS is a leftover Clash in fake-IP mode, so the corporate " +
		"SOCKS5 proxy is asked for 198.18.0.21:443 and answers host unreachable.",
	made: "miekg/dns fake-IP answer; the SOCKS5 greeting and a CONNECT by IPv4 address (ATYP 1) as curl sends for " +
		"socks5://, the proxy's reply 4; Ethernet",
	must: []analyze.ExpectedFinding{find("socks-local-dns", "github.com", "warning"), find("dns-fake-ip", "github.com", "warning"),
		find("proxy-connect-failed", "198.18.0.21", "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eth0", "build container",
			"git over a SOCKS5 proxy (socks5://, curl resolves locally) in a container whose DNS is a fake-IP resolver.")
		me := desktop()
		r := c.Resolver(me, synth.Neighbor("172.17.0.1", routerMAC, 64), ms(0.3), 1232)
		t := r.GoLookup(at(0), "github.com", []string{"github.com. 1 IN A 198.18.0.21"}, nil)
		k := c.Dial(me, corpServer("10.20.0.9"), 1080, ms(0.7))
		t = k.Handshake(t.Add(ms(0.4)))
		t = k.Data(synth.FromClient, t.Add(ms(0.1)), 0, []byte{5, 2, 0, 1})
		t = k.Data(synth.FromServer, t.Add(ms(0.8)), 0, []byte{5, 0})
		t = k.Data(synth.FromClient, t.Add(ms(0.1)), 0, []byte{5, 1, 0, 1, 198, 18, 0, 21, 1, 187})
		t = k.Data(synth.FromServer, t.Add(ms(31)), 0, []byte{5, 4, 0, 1, 0, 0, 0, 0, 0, 0})
		k.Close(t.Add(ms(0.2)))
		return nil
	},
}

var captureOneSided = scenario{
	name: "capture-one-sided-outbound-only",
	shows: "A capture made with `tcpdump -Q out`: the go command's connections to proxy.golang.org and " +
		"sum.golang.org show its SYNs, ClientHellos and ACKs for data that never appears; nothing the servers sent " +
		"is in the file, so silence proves nothing here.",
	made: "only the client's segments of two Go 1.26 TLS 1.3 downloads, their acknowledgement numbers moving as " +
		"the unseen server data arrives; Ethernet",
	must: []analyze.ExpectedFinding{find("capture-one-sided", "", "warning"),
		// Silence-based findings stay, downgraded to info.
		find("tcp-connect-timeout", proxyHost, "info"), find("tcp-connect-timeout", sumHost, "info"),
		find("tls-large-hello-dropped", proxyHost, "info"), find("tls-large-hello-dropped", sumHost, "info")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop (-Q out)",
			"go mod download recorded with tcpdump -Q out: only outbound packets.")
		me := desktop()
		t := at(0)
		for i, h := range []struct{ name, addr string }{{proxyHost, proxyV4}, {sumHost, sumV4}} {
			conv, err := g.goConversation(h.name, t, nil)
			if err != nil {
				return err
			}
			k := c.Dial(me, google(h.addr), 443, ms(18))
			srvISN := g.rand.Uint32()
			k.SYN(t)
			ack := srvISN + 1
			when := t.Add(ms(18.1))
			k.Send(synth.FromClient, when, synth.Seg{Flags: synth.ACK, Ack: ack, HasAck: true})
			for _, ch := range conv.Transcript {
				if ch.Data == nil {
					continue
				}
				if ch.Dir == synth.FromServer {
					ack += uint32(len(ch.Data))
					when = when.Add(ms(18.5))
					k.Send(synth.FromClient, when, synth.Seg{Flags: synth.ACK, Ack: ack, HasAck: true})
					continue
				}
				for _, sg := range k.Segments(synth.FromClient, ch.Data) {
					when = when.Add(ms(0.02))
					sg.Ack, sg.HasAck = ack, true
					k.Send(synth.FromClient, when, sg)
				}
				k.Advance(synth.FromClient, len(ch.Data))
			}
			when = when.Add(ms(0.3))
			k.Send(synth.FromClient, when, synth.Seg{Flags: synth.FIN | synth.ACK, Ack: ack, HasAck: true})
			t = when.Add(ms(40 + 10*float64(i)))
		}
		c.Mark(t.Add(4 * time.Second))
		return nil
	},
}

var proxyBypassed = scenario{
	name: "proxy-bypassed-docker-build",
	shows: "In a docker build, apt reaches deb.debian.org through the office Squid (its proxy is configured in " +
		"apt.conf), but the go command got no HTTPS_PROXY (BuildKit does not pass the host's variables): it dials " +
		"proxy.golang.org directly and the firewall drops the SYNs.",
	made: "a CONNECT tunnel answered 200 for another program; the go command's direct SYNs retransmitted into " +
		"silence until its 30 s dial timeout; Ethernet",
	must: []analyze.ExpectedFinding{find("proxy-bypassed", proxyHost, "error"), find("tcp-connect-timeout", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eth0", "docker build container",
			"docker build without --build-arg HTTPS_PROXY: apt uses the proxy, the go command does not.")
		me := desktop()
		r := c.Resolver(me, corpDNS(), ms(0.8), 1232)
		t := r.GoLookup(at(0), squidName, []string{squidName + ". 3600 IN A " + squidV4}, nil)
		k := c.Dial(me, corpServer(squidV4), 3128, ms(0.6))
		client := synth.ConnectClient("deb.debian.org:443", noServer)
		server := synth.ConnectServer("HTTP/1.1 200 Connection established\r\n\r\n", noServer)
		end, conv := k.Run(k.Handshake(t.Add(ms(0.2))), client, server, synth.DefaultTiming)
		if err := ended(conv, "", ""); err != nil {
			return err
		}
		k.Close(end.Add(ms(0.5)))
		t = r.GoLookup(end.Add(ms(900)), proxyHost, []string{proxyHost + ". 300 IN A " + proxyV4}, nil)
		d := c.Dial(me, google(proxyV4), 443, ms(18))
		d.SYNTimeout(t.Add(ms(0.2)), t.Add(30*time.Second))
		c.Mark(t.Add(30*time.Second + ms(0.4)))
		return nil
	},
}

var proxyPACRequired = scenario{
	name: "proxy-pac-required-wpad",
	shows: "The office announces its proxy only through WPAD: the desktop resolves wpad.corp.example and fetches " +
		"wpad.dat (PROXY proxy.corp.example:3128), but the go command reads no PAC file, dials proxy.golang.org " +
		"directly, and the firewall drops it.",
	made: "miekg/dns answer for wpad.corp.example; the PAC file over plain HTTP; the go command's direct SYNs " +
		"retransmitted until its 30 s dial timeout; Ethernet",
	must: []analyze.ExpectedFinding{find("proxy-pac-required", proxyHost, "warning"), find("tcp-connect-timeout", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download on an office network that configures its proxy only through WPAD/PAC.")
		me := desktop()
		r := c.Resolver(me, corpDNS(), ms(0.8), 1232)
		t := r.GoLookup(at(0), "wpad.corp.example", []string{"wpad.corp.example. 3600 IN A 10.20.0.80"}, nil)
		xs := []synth.Exchange{{Method: "GET", Path: "/wpad.dat", Response: synth.Response{Delay: ms(1.2), Status: 200,
			Header: [][2]string{{"Content-Type", "application/x-ns-proxy-autoconfig"}},
			Body: []byte("function FindProxyForURL(url, host) {\n  if (isPlainHostName(host) || dnsDomainIs(host, \".corp.example\")) return \"DIRECT\";\n" +
				"  return \"PROXY proxy.corp.example:3128\";\n}\n")}}}
		k := c.Dial(me, corpServer("10.20.0.80"), 80, ms(0.5))
		end, conv := k.Run(k.Handshake(t.Add(ms(0.2))), synth.HTTPClient("wpad.corp.example", xs), synth.HTTPServer(xs), synth.DefaultTiming)
		if err := ended(conv, "", ""); err != nil {
			return err
		}
		k.Close(end.Add(ms(0.4)))
		t = r.GoLookup(end.Add(ms(2400)), proxyHost, []string{proxyHost + ". 300 IN A " + proxyV4}, nil)
		d := c.Dial(me, google(proxyV4), 443, ms(18))
		d.SYNTimeout(t.Add(ms(0.2)), t.Add(30*time.Second))
		c.Mark(t.Add(30*time.Second + ms(0.4)))
		return nil
	},
}
