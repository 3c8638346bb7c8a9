package decode

import (
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"github.com/modsniff/modsniff/capture"
)

// clientHello returns the first TLS record a crypto/tls client configured
// like the go command (ALPN h2, http/1.1; default curves) sends.
func clientHello(t *testing.T, name string) []byte {
	t.Helper()
	c, s := net.Pipe()
	defer s.Close()
	go func() {
		cl := tls.Client(c, &tls.Config{ServerName: name, NextProtos: []string{"h2", "http/1.1"}})
		cl.Handshake()
		cl.Close()
	}()
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(s, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, binary.BigEndian.Uint16(hdr[3:]))
	if _, err := io.ReadFull(s, body); err != nil {
		t.Fatal(err)
	}
	return append(hdr, body...)
}

func TestDNSOverUDPKeepsEveryResponse(t *testing.T) {
	client, resolver := ap("10.0.0.2:41000"), ap("10.0.0.1:53")
	tests := []struct {
		name      string
		responses [][]byte
		ttls      []uint8
		want      int
	}{
		{"one response", [][]byte{answer(t, 7, "proxy.golang.org", dns.TypeA, dns.RcodeSuccess, "proxy.golang.org. 300 IN A 142.250.1.1")}, []uint8{64}, 1},
		{"identical retransmission is kept too", [][]byte{
			answer(t, 7, "proxy.golang.org", dns.TypeA, dns.RcodeSuccess, "proxy.golang.org. 300 IN A 142.250.1.1"),
			answer(t, 7, "proxy.golang.org", dns.TypeA, dns.RcodeSuccess, "proxy.golang.org. 300 IN A 142.250.1.1")}, []uint8{64, 64}, 2},
		{"racing forged answer before the real one", [][]byte{
			answer(t, 7, "proxy.golang.org", dns.TypeA, dns.RcodeSuccess, "proxy.golang.org. 60 IN A 31.13.94.37"),
			answer(t, 7, "proxy.golang.org", dns.TypeA, dns.RcodeSuccess, "proxy.golang.org. 300 IN A 142.250.1.1")}, []uint8{52, 118}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWire(t)
			q := w.udp(client, resolver, query(t, 7, "proxy.golang.org", dns.TypeA))
			for i, r := range tt.responses {
				w.ttl = tt.ttls[i]
				w.udp(resolver, client, r)
			}
			ev := w.d.Finish()
			if len(ev.DNS) != 1 {
				t.Fatalf("got %d transactions, want 1", len(ev.DNS))
			}
			x := ev.DNS[0]
			if int(x.Query.Packet) != q || x.Name != "proxy.golang.org" || x.QType != dns.TypeA || x.Transport != DNSOverUDP || x.Client != client || x.Server != resolver {
				t.Errorf("transaction = %+v", x)
			}
			if len(x.Responses) != tt.want {
				t.Fatalf("got %d responses, want %d", len(x.Responses), tt.want)
			}
			for i, r := range x.Responses {
				if r.IP.TTL != tt.ttls[i] || r.IP.ID == 0 || int(r.At.Packet) != q+1+i || r.Extra != nil {
					t.Errorf("response %d: %+v", i, r)
				}
			}
		})
	}
}

func TestDNSResponsesWithTheSameAnswerShareIt(t *testing.T) {
	client, resolver := ap("10.0.0.2:41000"), ap("10.0.0.1:53")
	a := func(ttl int) string { return fmt.Sprintf("proxy.golang.org. %d IN A 142.250.1.1", ttl) }
	cname := "proxy.golang.org. 300 IN CNAME ghs.googlehosted.com."
	b := "ghs.googlehosted.com. 300 IN A 142.250.1.2"
	answers := [][]string{{a(300)}, {a(300)}, {a(299)}, {cname, b}, {cname, b}, {b, cname}}
	for _, tt := range []struct {
		name string
		mask uint64
		// same lists the pairs of responses that must share their answers.
		same [][2]int
	}{
		{"distinct hashes", ^uint64(0), [][2]int{{0, 1}, {3, 4}}},
		{"every hash colliding: only the first kept is shared", 0, [][2]int{{0, 1}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func(m uint64) { dnsHashMask = m }(dnsHashMask)
			dnsHashMask = tt.mask
			w := newWire(t)
			for i, rrs := range answers {
				id := uint16(10 + i)
				w.udp(client, resolver, query(t, id, "proxy.golang.org", dns.TypeA))
				w.ttl = uint8(60 + i)
				w.udp(resolver, client, answer(t, id, "proxy.golang.org", dns.TypeA, dns.RcodeSuccess, rrs...))
			}
			ev := w.d.Finish()
			if len(ev.DNS) != len(answers) {
				t.Fatalf("got %d transactions", len(ev.DNS))
			}
			for i, x := range ev.DNS {
				if len(x.Responses) != 1 || x.ID != uint16(10+i) {
					t.Fatalf("transaction %d: %+v", i, x)
				}
				r := x.Responses[0]
				var got []string
				for _, rec := range r.Answers {
					got = append(got, fmt.Sprintf("%s. %d IN %s %s", rec.Name, rec.TTL, TypeName(rec.Type), rec.Data()))
				}
				want := strings.Join(answers[i], "|")
				want = strings.ReplaceAll(want, "CNAME ghs.googlehosted.com.", "CNAME ghs.googlehosted.com") // targets without the root dot
				if g := strings.Join(got, "|"); g != want || r.IP.TTL != uint8(60+i) || int(r.At.Packet) != 2*i+2 {
					t.Errorf("response %d: answers %q want %q, IP TTL %d, packet %d", i, g, want, r.IP.TTL, r.At.Packet)
				}
				for j := range i {
					shared := &ev.DNS[j].Responses[0].Answers[0] == &r.Answers[0]
					if want := slices.Contains(tt.same, [2]int{j, i}); shared != want {
						t.Errorf("responses %d and %d share their answers: %v, want %v", j, i, shared, want)
					}
				}
			}
		})
	}
}

func TestDNSResponseKeepsItsRarePartsApart(t *testing.T) {
	client, resolver := ap("10.0.0.2:41000"), ap("10.0.0.1:53")
	var rrs []string
	for i := range maxRecordsPerSection + 8 {
		rrs = append(rrs, fmt.Sprintf("proxy.golang.org. 300 IN A 142.250.1.%d", i+1))
	}
	w := newWire(t)
	w.udp(client, resolver, query(t, 7, "proxy.golang.org", dns.TypeA))
	w.udp(resolver, client, answer(t, 7, "proxy.golang.org", dns.TypeA, dns.RcodeSuccess, rrs...))
	// Same ID, another question: rejected, with its own question.
	w.udp(resolver, client, answer(t, 7, "sum.golang.org", dns.TypeAAAA, dns.RcodeSuccess))
	// A response cut inside its answer section.
	w.udp(client, resolver, query(t, 8, "proxy.golang.org", dns.TypeAAAA))
	cut := answer(t, 8, "proxy.golang.org", dns.TypeAAAA, dns.RcodeSuccess, "proxy.golang.org. 300 IN AAAA 2607:f8b0::1")
	w.udp(resolver, client, cut[:len(cut)-4])
	ev := w.d.Finish()
	if len(ev.DNS) != 2 || len(ev.DNS[0].Responses) != 1 || len(ev.DNS[0].Rejected()) != 1 || len(ev.DNS[1].Responses) != 1 {
		t.Fatalf("DNS = %+v", ev.DNS)
	}
	if r := ev.DNS[0].Responses[0]; len(r.Answers) != maxRecordsPerSection || r.AnswersOmitted() != 8 || r.Malformed() != "" || r.Question() != "" {
		t.Errorf("long answer: %d answers, %d omitted, extra %+v", len(r.Answers), r.AnswersOmitted(), r.Extra)
	}
	if r := ev.DNS[0].Rejected()[0]; r.Question() != "sum.golang.org" || r.QType() != dns.TypeAAAA || r.AnswersOmitted() != 0 {
		t.Errorf("rejected response: %+v", r.Extra)
	}
	if r := ev.DNS[1].Responses[0]; r.Malformed() == "" || r.MalformedSection() != SectionAnswer || r.Question() != "" || len(r.Answers) != 0 {
		t.Errorf("cut response: %+v, extra %+v", r, r.Extra)
	}
}

func TestICMPErrorsAttachToTheTransactionTheyQuote(t *testing.T) {
	client, resolver := ap("127.0.0.1:43210"), ap("127.0.0.53:53")
	w := newWire(t)
	w.link = layers.LinkTypeRaw
	qb := query(t, 0x1234, "proxy.golang.org", dns.TypeAAAA)
	w.udp(client, resolver, qb)
	// The kernel answers with port unreachable, quoting the query.
	quoted := w.ipPacket(client.Addr(), resolver.Addr(), layers.IPProtocolUDP,
		&layers.UDP{SrcPort: layers.UDPPort(client.Port()), DstPort: 53}, gopacket.Payload(qb))
	icmp := w.icmpUnreachable(resolver.Addr(), client.Addr(), 3, quoted)
	ev := w.d.Finish()
	if len(ev.DNS) != 1 || len(ev.DNS[0].ICMP()) != 1 {
		t.Fatalf("DNS = %+v", ev.DNS)
	}
	e := ev.DNS[0].ICMP()[0]
	if e.Kind != "port-unreachable" || int(e.At.Packet) != icmp || e.Src != client || e.Dst != resolver || !e.HasDNS || e.DNSID != 0x1234 || !e.Matched {
		t.Errorf("ICMP = %+v", e)
	}
}

func TestDNSOverTCPFramesSeveralMessages(t *testing.T) {
	w := newWire(t)
	c := w.connect(ap("10.0.0.2:50000"), ap("10.0.0.1:53"))
	frame := func(m []byte) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(m))), m...) }
	// Two queries in one segment; two answers, the first split over two.
	c.send(0, append(frame(query(t, 1, "proxy.golang.org", dns.TypeA)), frame(query(t, 2, "sum.golang.org", dns.TypeA))...), 1460)
	answers := append(frame(answer(t, 1, "proxy.golang.org", dns.TypeA, 0, "proxy.golang.org. 1 IN A 142.250.1.1")),
		frame(answer(t, 2, "sum.golang.org", dns.TypeA, 0, "sum.golang.org. 1 IN A 142.250.1.2"))...)
	c.send(1, answers, 20)
	ev := w.d.Finish()
	if len(ev.DNS) != 2 {
		t.Fatalf("got %d transactions, want 2", len(ev.DNS))
	}
	for i, x := range ev.DNS {
		if x.Transport != DNSOverTCP || len(x.Responses) != 1 || len(x.Responses[0].Answers) != 1 {
			t.Errorf("transaction %d = %+v", i, x)
		}
	}
	if ev.TCP[0].App != AppDNS {
		t.Errorf("app = %q", ev.TCP[0].App)
	}
}

func TestTCPConnectionOutcomes(t *testing.T) {
	client, server := ap("10.0.0.2:40000"), ap("142.250.1.1:443")
	t.Run("unanswered SYNs are all recorded", func(t *testing.T) {
		w := newWire(t)
		for range 3 {
			w.after(time.Second).tcp(client, server, 77, 0, tcpFlags{syn: true}, nil)
		}
		ev := w.d.Finish()
		if len(ev.TCP) != 1 || len(ev.TCP[0].SYN()) != 3 || !ev.TCP[0].SYNACK.IsZero() {
			t.Fatalf("TCP = %+v", ev.TCP)
		}
	})
	t.Run("SYN answered by RST", func(t *testing.T) {
		w := newWire(t)
		w.tcp(client, server, 77, 0, tcpFlags{syn: true}, nil)
		w.tcp(server, client, 0, 78, tcpFlags{rst: true, ack: true}, nil)
		ev := w.d.Finish()
		c := ev.TCP[0]
		if len(c.Resets()) != 1 || c.Resets()[0].FromClient || c.Client != client {
			t.Fatalf("conn = %+v", c)
		}
	})
	t.Run("a clean connection keeps no rare part, and its SYN is listed", func(t *testing.T) {
		w := newWire(t)
		syn := w.n + 1
		c := w.connect(client, server)
		c.send(0, []byte("GET / HTTP/1.1\r\n\r\n"), 1460)
		w.tcp(client, server, c.cseq, c.sseq, tcpFlags{fin: true, ack: true}, nil)
		w.tcp(server, client, c.sseq, c.cseq+1, tcpFlags{fin: true, ack: true}, nil)
		ev := w.d.Finish()
		conn := ev.TCP[0]
		if conn.Extra != nil || len(conn.SYN()) != 1 || int(conn.SYN()[0].Packet) != syn || conn.Resets() != nil ||
			conn.ICMP() != nil || conn.Tunnel() != nil || conn.Stall(0) != nil || conn.Stall(1) != nil {
			t.Fatalf("conn = %+v, extra %+v", conn, conn.Extra)
		}
		if conn.ClientFirstPayload.IsZero() || conn.ServerFINIdle <= 0 || conn.Packets != [2]int32{4, 2} {
			t.Fatalf("conn = %+v", conn)
		}
	})
	t.Run("a retransmitted SYN lists the first one too, and a reset joins it", func(t *testing.T) {
		w := newWire(t)
		first := w.tcp(client, server, 77, 0, tcpFlags{syn: true}, nil)
		again := w.after(time.Second).tcp(client, server, 77, 0, tcpFlags{syn: true}, nil)
		rst := w.tcp(server, client, 0, 78, tcpFlags{rst: true, ack: true}, nil)
		ev := w.d.Finish()
		c := ev.TCP[0]
		syns := c.SYN()
		if len(syns) != 2 || int(syns[0].Packet) != first || int(syns[1].Packet) != again {
			t.Fatalf("SYNs = %v", syns)
		}
		if r := c.Resets(); len(r) != 1 || int(r[0].At.Packet) != rst || r[0].FromClient {
			t.Fatalf("resets = %+v", r)
		}
	})
	t.Run("a SYN after the connection's first packet is listed on its own", func(t *testing.T) {
		w := newWire(t)
		first := w.tcp(client, server, 70, 0, tcpFlags{ack: true}, nil)
		syn := w.tcp(client, server, 77, 0, tcpFlags{syn: true}, nil)
		ev := w.d.Finish()
		c := ev.TCP[0]
		if len(ev.TCP) != 1 || int(c.First.Packet) != first || len(c.SYN()) != 1 || int(c.SYN()[0].Packet) != syn {
			t.Fatalf("TCP = %+v, SYNs %v", ev.TCP, c.SYN())
		}
	})
	t.Run("a flow seen without its SYN picks the client by port", func(t *testing.T) {
		w := newWire(t)
		w.tcp(server, client, 9000, 100, tcpFlags{ack: true}, []byte("x"))
		ev := w.d.Finish()
		if c := ev.TCP[0]; c.Client != client || c.Server != server || !c.RoleGuessed {
			t.Fatalf("conn = %+v", c)
		}
	})
}

func TestTLSHandshakeIsFoundAfterReordering(t *testing.T) {
	w := newWire(t)
	client, server := ap("10.0.0.2:40001"), ap("142.250.1.1:443")
	c := w.connect(client, server)
	hello := clientHello(t, "proxy.golang.org")
	// Send the second half first: the reassembler must wait for the first.
	half := len(hello) / 2
	w.tcp(client, server, c.cseq+uint32(half), c.sseq, tcpFlags{ack: true}, hello[half:])
	last := w.tcp(client, server, c.cseq, c.sseq, tcpFlags{ack: true}, hello[:half])
	ev := w.d.Finish()
	if len(ev.TLS) != 1 {
		t.Fatalf("got %d TLS sessions", len(ev.TLS))
	}
	s := ev.TLS[0]
	if s.ClientHello.ServerName != "proxy.golang.org" || int(s.ClientHelloAt.Packet) != last || s.Conn != ev.TCP[0] {
		t.Errorf("session: SNI %q at %v", s.ClientHello.ServerName, s.ClientHelloAt)
	}
	if got := ev.TCP[0].Stream[0].OutOfOrder; got != 1 {
		t.Errorf("out-of-order segments = %d, want 1", got)
	}
}

func TestProxyTunnels(t *testing.T) {
	client, proxy := ap("10.0.0.2:40002"), ap("10.0.0.1:3128")
	t.Run("CONNECT refused with 407 keeps the realm, never the credentials", func(t *testing.T) {
		w := newWire(t)
		c := w.connect(client, proxy)
		c.send(0, []byte("CONNECT proxy.golang.org:443 HTTP/1.1\r\nHost: proxy.golang.org:443\r\nProxy-Authorization: Basic dXNlcjpzZWNyZXQ=\r\n\r\n"), 1460)
		resp := c.send(1, []byte("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp proxy\"\r\nContent-Length: 5\r\n\r\nnope!"), 1460)
		ev := w.d.Finish()
		if len(ev.Proxy) != 1 {
			t.Fatalf("tunnels = %d", len(ev.Proxy))
		}
		tu := ev.Proxy[0]
		if tu.Target != "proxy.golang.org:443" || tu.Status != 407 || tu.AuthRealm != "corp proxy" || tu.AuthScheme != "Basic" ||
			!tu.ProxyAuthorization || tu.Established || int(tu.Response.Packet) != resp {
			t.Errorf("tunnel = %+v", tu)
		}
		if strings.Contains(strings.ToLower(tu.StatusLine+tu.AuthRealm), "dxnlcjpzzwnyzxq") {
			t.Error("credentials leaked into the tunnel event")
		}
	})
	t.Run("CONNECT 200 then TLS inside the tunnel", func(t *testing.T) {
		w := newWire(t)
		c := w.connect(client, proxy)
		c.send(0, []byte("CONNECT proxy.golang.org:443 HTTP/1.1\r\nHost: proxy.golang.org:443\r\n\r\n"), 1460)
		c.send(1, []byte("HTTP/1.1 200 Connection established\r\n\r\n"), 1460)
		c.send(0, clientHello(t, "proxy.golang.org"), 1460)
		ev := w.d.Finish()
		if len(ev.TLS) != 1 || ev.TLS[0].Tunnel == nil || !ev.Proxy[0].Established || ev.TLS[0].ClientHello.ServerName != "proxy.golang.org" {
			t.Fatalf("TLS = %+v, tunnels = %+v", ev.TLS, ev.Proxy)
		}
	})
	t.Run("SOCKS5 with a refused connection", func(t *testing.T) {
		w := newWire(t)
		c := w.connect(client, ap("127.0.0.1:1080"))
		c.send(0, []byte{5, 1, 0}, 1460)
		c.send(1, []byte{5, 0}, 1460)
		req := append([]byte{5, 1, 0, 3, 16}, "proxy.golang.org"...)
		c.send(0, append(req, 1, 187), 1460)
		c.send(1, []byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0}, 1460)
		ev := w.d.Finish()
		if len(ev.Proxy) != 1 {
			t.Fatalf("tunnels = %d", len(ev.Proxy))
		}
		tu := ev.Proxy[0]
		if tu.Kind != "socks5" || tu.Target != "proxy.golang.org:443" || tu.Status != 5 || tu.Established || tu.Method != 0 {
			t.Errorf("tunnel = %+v", tu)
		}
	})
	t.Run("SOCKS5 success then TLS", func(t *testing.T) {
		w := newWire(t)
		c := w.connect(client, ap("127.0.0.1:1080"))
		c.send(0, []byte{5, 1, 0}, 1460)
		c.send(1, []byte{5, 0}, 1460)
		c.send(0, []byte{5, 1, 0, 1, 142, 250, 1, 1, 1, 187}, 1460)
		c.send(1, []byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0}, 1460)
		c.send(0, clientHello(t, "sum.golang.org"), 1460)
		ev := w.d.Finish()
		if len(ev.TLS) != 1 || ev.TLS[0].Tunnel == nil || ev.Proxy[0].Target != "142.250.1.1:443" {
			t.Fatalf("TLS = %+v, tunnels = %+v", ev.TLS, ev.Proxy)
		}
	})
}

func TestPlainHTTPExchanges(t *testing.T) {
	w := newWire(t)
	c := w.connect(ap("10.0.0.2:40003"), ap("10.0.0.9:80"))
	c.send(0, []byte("GET /example.com/mod/@v/list?token=s3cret HTTP/1.1\r\nHost: goproxy.corp\r\n\r\n"), 1460)
	c.send(1, []byte("HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nnot found\n"), 8)
	c.send(0, []byte("GET /example.com/mod/@v/v1.0.0.info HTTP/1.1\r\nHost: goproxy.corp\r\n\r\n"), 1460)
	c.send(1, []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), 1460)
	ev := w.d.Finish()
	if len(ev.HTTP) != 2 {
		t.Fatalf("HTTP = %d", len(ev.HTTP))
	}
	if h := ev.HTTP[0]; h.Host != "goproxy.corp" || h.Path != "/example.com/mod/@v/list?…" || h.Status != 404 {
		t.Errorf("first = %+v", h)
	}
	if h := ev.HTTP[1]; h.Status != 200 || h.Method != "GET" {
		t.Errorf("second = %+v", h)
	}
}

func TestLinkLayers(t *testing.T) {
	client, resolver := ap("10.0.0.2:41000"), ap("10.0.0.1:53")
	ipPkt := func(w *wire) []byte {
		return w.ipPacket(client.Addr(), resolver.Addr(), layers.IPProtocolUDP,
			&layers.UDP{SrcPort: layers.UDPPort(client.Port()), DstPort: 53}, gopacket.Payload(query(t, 9, "go.dev", dns.TypeA)))
	}
	serialize := func(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	tests := []struct {
		name  string
		link  layers.LinkType
		frame func(t *testing.T, ip []byte) []byte
	}{
		{"ethernet", layers.LinkTypeEthernet, func(t *testing.T, ip []byte) []byte {
			return serialize(t, &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeIPv4}, gopacket.Payload(ip))
		}},
		{"802.1Q in 802.1ad (QinQ)", layers.LinkTypeEthernet, func(t *testing.T, ip []byte) []byte {
			return serialize(t, &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeQinQ},
				&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q},
				&layers.Dot1Q{VLANIdentifier: 200, Type: layers.EthernetTypeIPv4}, gopacket.Payload(ip))
		}},
		{"linux SLL", layers.LinkTypeLinuxSLL, func(t *testing.T, ip []byte) []byte {
			h := make([]byte, 16)
			binary.BigEndian.PutUint16(h[14:], 0x0800)
			return append(h, ip...)
		}},
		{"linux SLL2", layers.LinkTypeLinuxSLL2, func(t *testing.T, ip []byte) []byte {
			h := make([]byte, 20)
			binary.BigEndian.PutUint16(h[0:], 0x0800)
			binary.BigEndian.PutUint32(h[4:], 1) // interface index
			binary.BigEndian.PutUint16(h[8:], 1) // ARPHRD_ETHER
			h[11] = 6
			return append(h, ip...)
		}},
		{"BSD loopback", layers.LinkTypeNull, func(t *testing.T, ip []byte) []byte {
			return append([]byte{2, 0, 0, 0}, ip...)
		}},
		{"raw IP", layers.LinkTypeRaw, func(t *testing.T, ip []byte) []byte { return ip }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWire(t)
			w.n++
			w.d.Packet(&capture.Packet{Number: 1, Time: w.clock, LinkType: tt.link, Data: tt.frame(t, ipPkt(w))})
			ev := w.d.Finish()
			if len(ev.DNS) != 1 || ev.DNS[0].Name != "go.dev" {
				t.Fatalf("DNS = %+v, notes %v", ev.DNS, ev.Notes)
			}
		})
	}
}

func TestUnsupportedLinkTypeIsNotedOnce(t *testing.T) {
	d := New(0, Options{})
	for i := 1; i <= 5; i++ {
		d.Packet(&capture.Packet{Number: i, LinkType: 147, Data: []byte{1, 2, 3}})
	}
	ev := d.Finish()
	n := 0
	for _, note := range ev.Notes {
		if strings.Contains(note.Msg, "LINKTYPE_147") {
			n++
		}
	}
	if n != 1 || ev.Stats[0].Unsupported != 5 {
		t.Errorf("notes %v, unsupported %d", ev.Notes, ev.Stats[0].Unsupported)
	}
}

func TestIPv4FragmentsAreReassembled(t *testing.T) {
	w := newWire(t)
	client, resolver := ap("10.0.0.2:41000"), ap("10.0.0.1:53")
	w.udp(client, resolver, query(t, 5, "proxy.golang.org", dns.TypeTXT))
	var rrs []string
	for i := range 20 {
		rrs = append(rrs, `proxy.golang.org. 60 IN TXT "`+strings.Repeat(string(rune('a'+i)), 200)+`"`)
	}
	resp := answer(t, 5, "proxy.golang.org", dns.TypeTXT, 0, rrs...)
	udp := w.ipPacket(resolver.Addr(), client.Addr(), layers.IPProtocolUDP,
		&layers.UDP{SrcPort: 53, DstPort: layers.UDPPort(client.Port())}, gopacket.Payload(resp))[20:]
	// Cut the UDP datagram into 1480-byte IPv4 fragments by hand.
	for off := 0; off < len(udp); off += 1480 {
		end := min(off+1480, len(udp))
		flags := layers.IPv4MoreFragments
		if end == len(udp) {
			flags = 0
		}
		ip := &layers.IPv4{Version: 4, TTL: 60, Id: 4242, Protocol: layers.IPProtocolUDP, Flags: flags,
			FragOffset: uint16(off / 8), SrcIP: net.IP(resolver.Addr().AsSlice()), DstIP: net.IP(client.Addr().AsSlice())}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, gopacket.Payload(udp[off:end])); err != nil {
			t.Fatal(err)
		}
		w.frame(w.linkFrame(buf.Bytes(), false))
	}
	ev := w.d.Finish()
	if len(ev.DNS) != 1 || len(ev.DNS[0].Responses) != 1 || len(ev.DNS[0].Responses[0].Answers) != 20 {
		t.Fatalf("DNS = %+v", ev.DNS)
	}
	if ev.Stats[0].Reassembled != 1 || ev.Stats[0].Fragments < 3 {
		t.Errorf("stats = %+v", ev.Stats[0])
	}
}

// TestSnapLengthCutsAreGapsNotWaits: a capture with a small snap length
// keeps only the start of each segment. The cut bytes are declared lost at
// once, so nothing is buffered and the TLS record stream stays in step.
func TestSnapLengthCutsAreGapsNotWaits(t *testing.T) {
	w := newWire(t)
	client, server := ap("10.0.0.2:40010"), ap("142.250.1.1:443")
	c := w.connect(client, server)
	c.send(0, clientHello(t, "proxy.golang.org"), 1460)
	// Application-data records of 1460 bytes, one a segment, each frame
	// cut at 120 bytes: every record header is captured, every body cut.
	var stream []byte
	for range 3 {
		stream = append(stream, 23, 3, 3, 0x05, 0xaf)
		stream = append(stream, make([]byte, 1455)...)
	}
	const snap = 120
	for off := 0; off < len(stream); off += 1460 {
		end := min(off+1460, len(stream))
		tcp := &layers.TCP{SrcPort: layers.TCPPort(client.Port()), DstPort: layers.TCPPort(server.Port()), Seq: c.cseq + uint32(off), Ack: c.sseq, ACK: true, Window: 65535}
		frame := w.linkFrame(w.ipPacket(client.Addr(), server.Addr(), layers.IPProtocolTCP, tcp, gopacket.Payload(stream[off:end])), false)
		w.n++
		w.d.Packet(&capture.Packet{Number: w.n, Time: w.clock, LinkType: w.link, Data: frame[:snap], Length: len(frame)})
	}
	ev := w.d.Finish()
	conn := ev.TCP[0]
	if conn.Stream[0].BoundHits != 0 || conn.Stream[0].OutOfOrder != 0 {
		t.Errorf("the stream waited for cut bytes: %+v", conn.Stream[0])
	}
	if conn.Payload[0] < int64(len(stream)) {
		t.Errorf("payload counted %d, want at least %d (cut bytes count)", conn.Payload[0], len(stream))
	}
	s := ev.TLS[0]
	if s.Lost[0] || len(s.Notes()) > 0 {
		t.Errorf("the record stream lost its step: lost %v, notes %q", s.Lost[0], s.Notes())
	}
}
