package trim

import (
	"github.com/modsniff/modsniff/samples/frames/tcpconv"

	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/link"
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// The conversations come from samples/frames/tcpconv, shared with the
// other side of the privacy tests.
const (
	appByte = tcpconv.AppByte
	hsByte  = tcpconv.HSByte
)

type tcpConn = tcpconv.Conn

func newConn(t *testing.T, client, server string) *tcpConn { return tcpconv.New(t, client, server) }

var (
	record      = tcpconv.Record
	clientHello = tcpconv.ClientHello
	serverHello = tcpconv.ServerHello
)

// kept runs packets through a trimmer and returns what it kept of each,
// with masks applied.
func kept(t *testing.T, tr *Trimmer, lt layers.LinkType, pkts ...[]byte) [][]byte {
	t.Helper()
	var out [][]byte
	now := time.Unix(1_700_000_000, 0)
	for _, p := range pkts {
		keep, masks := tr.trim(lt, p, now)
		k := bytes.Clone(p[:keep])
		for _, m := range masks {
			for j := m.off; j < m.off+m.n; j++ {
				k[j] = m.fill
			}
		}
		out = append(out, k)
		now = now.Add(time.Millisecond)
	}
	return out
}

// payloadOf returns the TCP or UDP payload of a frame (as far as it was
// kept), found by the decoder's link layer.
func payloadOf(t *testing.T, lt layers.LinkType, frame []byte) []byte {
	t.Helper()
	l := link.New()
	l.Decode(lt, frame, nil)
	for _, d := range l.Decoded {
		switch d {
		case layers.LayerTypeTCP:
			return l.TCP.Payload
		case layers.LayerTypeUDP:
			return l.UDP.Payload
		}
	}
	if len(l.Decoded) == 0 {
		t.Fatalf("no network header in % x", frame)
	}
	if ip := &l.IPv4; l.Decoded[len(l.Decoded)-1] == layers.LayerTypeIPv4 && ip.FragOffset == 0 && ip.Protocol == layers.IPProtocolUDP {
		// a first fragment: the UDP header follows the IP header
		if len(ip.Payload) >= 8 {
			return ip.Payload[8:]
		}
	}
	return nil
}

// wantPayload checks what was kept of one packet's payload.
func wantPayload(t *testing.T, what string, lt layers.LinkType, got []byte, want []byte) {
	t.Helper()
	if p := payloadOf(t, lt, got); !bytes.Equal(p, want) {
		t.Errorf("%s: kept payload\n% x\nwant\n% x", what, head(p), head(want))
	}
}

func head(b []byte) []byte {
	if len(b) > 48 {
		return b[:48]
	}
	return b
}

// hdrOnly is the kept form of a cut TLS record: its header only.
func hdrOnly(r []byte) []byte { return r[:5] }

// zeroBody is r with its body overwritten by zeros (cut, but followed by
// a kept record in the same segment).
func zeroBody(r []byte) []byte {
	out := bytes.Clone(r)
	clear(out[5:])
	return out
}

func TestTrimTLS13KeepsHandshakeCutsApplicationData(t *testing.T) {
	for _, sll2 := range []bool{false, true} {
		c := newConn(t, "10.0.0.2:40000", "142.250.1.1:443")
		c.SLL2 = sll2
		lt := c.LinkType()
		tr := New()
		ch := clientHello(1700)
		sh := serverHello(0x0304)
		ccs := record(20, 1, 1)
		flight1 := record(23, 1200, hsByte) // EncryptedExtensions, Certificate …
		flight2 := record(23, 900, hsByte)  // … CertificateVerify, Finished
		fin := record(23, 53, hsByte)       // the client's Finished
		req := record(23, 300, appByte)
		resp1 := record(23, 1000, appByte)
		resp2 := record(23, 400, appByte)
		closeNotify := record(23, 19, hsByte) // an encrypted alert

		pkts := c.Handshake()
		pkts = append(pkts,
			c.Seg(true, "PA", ch[:1400]),                    // 3: ClientHello, first segment
			c.Seg(true, "PA", ch[1400:]),                    // 4: and the rest
			c.Seg(false, "PA", cat(sh, ccs, flight1[:800])), // 5
			c.Seg(false, "PA", cat(flight1[800:], flight2)), // 6
			c.Seg(true, "PA", cat(ccs, fin)),                // 7: the client's Finished
			c.Seg(true, "PA", req),                          // 8
			c.Seg(false, "PA", cat(resp1, resp2[:200])),     // 9
			c.Seg(false, "PA", resp2[200:]),                 // 10
			c.Seg(true, "PA", closeNotify),                  // 11
		)
		got := kept(t, tr, lt, pkts...)
		wantPayload(t, "ClientHello 1", lt, got[3], ch[:1400])
		wantPayload(t, "ClientHello 2", lt, got[4], ch[1400:])
		wantPayload(t, "server flight 1", lt, got[5], cat(sh, ccs, flight1[:800]))
		wantPayload(t, "server flight 2", lt, got[6], cat(flight1[800:], flight2))
		wantPayload(t, "client Finished", lt, got[7], cat(ccs, fin))
		wantPayload(t, "request", lt, got[8], hdrOnly(req))
		wantPayload(t, "response", lt, got[9], cat(zeroBody(resp1), hdrOnly(resp2)))
		wantPayload(t, "response end", lt, got[10], nil)
		wantPayload(t, "close_notify", lt, got[11], closeNotify)
		for i, g := range got {
			if bytes.Contains(g, []byte{appByte, appByte}) {
				t.Errorf("packet %d keeps application data", i)
			}
		}
		if tr.Cut != 3 {
			for i, g := range got {
				t.Logf("%d: %d of %d", i, len(g), len(pkts[i]))
			}
			t.Errorf("cut %d packets, want 3", tr.Cut)
		}
	}
}

func TestTrimReorderingCannotKeepApplicationData(t *testing.T) {
	c := newConn(t, "10.0.0.2:40001", "142.250.1.1:443")
	lt := c.LinkType()
	tr := New()
	ch := clientHello(500)
	sh := serverHello(0x0304)
	flight := record(23, 3000, hsByte)
	fin := record(23, 53, hsByte)
	app := record(23, 3000, appByte)

	pkts := c.Handshake()
	p3 := c.Seg(true, "PA", ch)
	// The server's flight in three segments, the last two swapped.
	f1 := c.Seg(false, "PA", cat(sh, flight[:1000]))
	f2 := c.Seg(false, "PA", flight[1000:2000])
	f3 := c.Seg(false, "PA", flight[2000:])
	p7 := c.Seg(true, "PA", fin)
	// The server's application data in three segments: 2 and 3 arrive
	// before 1; then 1 is retransmitted.
	a1 := c.Seg(false, "PA", app[:1000])
	a2 := c.Seg(false, "PA", app[1000:2000])
	a3 := c.Seg(false, "PA", app[2000:])
	// The client retransmits its ClientHello (kept) and sends data twice.
	req := record(23, 200, appByte)
	r1 := c.Seg(true, "PA", req)
	r1again := c.SegAt(true, "PA", c.CSeq-uint32(len(req)), req)
	chAgain := c.SegAt(true, "PA", 1001, ch)

	pkts = append(pkts, p3, f1, f3, f2, p7, a2, a3, a1, a1, r1, r1again, chAgain)
	got := kept(t, tr, lt, pkts...)
	wantPayload(t, "flight 1", lt, got[4], cat(sh, flight[:1000]))
	wantPayload(t, "flight 3 (early)", lt, got[5], flight[2000:])
	wantPayload(t, "flight 2 (late)", lt, got[6], flight[1000:2000])
	wantPayload(t, "client Finished", lt, got[7], fin)
	for i := 8; i < len(got); i++ {
		if i == len(got)-1 {
			wantPayload(t, "ClientHello again", lt, got[i], ch)
			continue
		}
		if p := payloadOf(t, lt, got[i]); bytes.Contains(p, []byte{appByte}) {
			t.Errorf("packet %d keeps application data: % x", i, head(p))
		}
	}
	wantPayload(t, "first app segment, in order at last", lt, got[10], hdrOnly(app))
}

func TestTrimTLS12(t *testing.T) {
	c := newConn(t, "10.0.0.2:40002", "10.20.8.20:443")
	lt := c.LinkType()
	tr := New()
	ch := clientHello(300)
	sh := serverHello(0x0303)
	cert := record(22, 2500, hsByte)
	shd := record(22, 4, hsByte)
	cke := record(22, 70, hsByte)
	ccs := record(20, 1, 1)
	fin := record(22, 40, 0x77) // encrypted Finished: a handshake record
	app := record(23, 600, appByte)
	alert := record(21, 26, 0x77) // encrypted alert (close_notify)

	pkts := c.Handshake()
	pkts = append(pkts,
		c.Seg(true, "PA", ch),
		c.Seg(false, "PA", cat(sh, cert[:1000])),
		c.Seg(false, "PA", cat(cert[1000:], shd)),
		c.Seg(true, "PA", cat(cke, ccs, fin)),
		c.Seg(false, "PA", cat(ccs, fin)),
		c.Seg(true, "PA", app),
		c.Seg(false, "PA", cat(app, app, alert)),
	)
	got := kept(t, tr, lt, pkts...)
	wantPayload(t, "certificate", lt, got[5], cat(cert[1000:], shd))
	wantPayload(t, "client finished", lt, got[6], cat(cke, ccs, fin))
	wantPayload(t, "server finished", lt, got[7], cat(ccs, fin))
	wantPayload(t, "request", lt, got[8], hdrOnly(app))
	wantPayload(t, "response and alert", lt, got[9], cat(zeroBody(app), zeroBody(app), alert))
}

func TestTrimConnectionsBeforeTheCapture(t *testing.T) {
	c := newConn(t, "10.0.0.2:40003", "10.0.0.9:443")
	lt := c.LinkType()
	tr := New()
	app := record(23, 500, appByte)
	alert := record(21, 26, 0x77)
	got := kept(t, tr, lt,
		c.Seg(false, "PA", app),   // no SYN seen: cut
		c.Seg(false, "PA", alert), // only an alert: kept
	)
	wantPayload(t, "application data", lt, got[0], nil)
	wantPayload(t, "alert", lt, got[1], alert)

	// A connection whose SYN was missed is picked up at its ClientHello.
	c = newConn(t, "10.0.0.2:40004", "10.0.0.9:443")
	ch := clientHello(200)
	got = kept(t, tr, lt, c.Seg(true, "PA", ch), c.Seg(false, "PA", cat(serverHello(0x0303), record(22, 900, hsByte))))
	wantPayload(t, "ClientHello", lt, got[0], ch)
	wantPayload(t, "ServerHello", lt, got[1], cat(serverHello(0x0303), record(22, 900, hsByte)))
}

func TestTrimHTTPConnectTunnel(t *testing.T) {
	c := newConn(t, "10.0.0.2:40005", "10.0.0.8:3128")
	lt := c.LinkType()
	tr := New()
	connect := []byte("CONNECT proxy.golang.org:443 HTTP/1.1\r\nHost: proxy.golang.org:443\r\nProxy-Authorization: Basic dXNlcjpzZWNyZXQ=\r\n\r\n")
	ok := []byte("HTTP/1.1 200 Connection established\r\n\r\n")
	ch := clientHello(400)
	sh := serverHello(0x0304)
	flight := record(23, 2000, hsByte)
	fin := record(23, 53, hsByte)
	app := record(23, 700, appByte)
	pkts := c.Handshake()
	pkts = append(pkts,
		c.Seg(true, "PA", connect),
		c.Seg(false, "PA", ok),
		c.Seg(true, "PA", ch),
		c.Seg(false, "PA", cat(sh, flight)),
		c.Seg(true, "PA", fin),
		c.Seg(true, "PA", app),
		c.Seg(false, "PA", app),
	)
	got := kept(t, tr, lt, pkts...)
	masked := bytes.Replace(connect, []byte("dXNlcjpzZWNyZXQ="), bytes.Repeat([]byte("*"), 16), 1)
	wantPayload(t, "CONNECT", lt, got[3], masked)
	wantPayload(t, "200", lt, got[4], ok)
	wantPayload(t, "ClientHello", lt, got[5], ch)
	wantPayload(t, "flight", lt, got[6], cat(sh, flight))
	wantPayload(t, "Finished", lt, got[7], fin)
	wantPayload(t, "request", lt, got[8], hdrOnly(app))
	wantPayload(t, "response", lt, got[9], hdrOnly(app))
	if tr.Masked != 1 {
		t.Errorf("masked %d fields, want 1", tr.Masked)
	}
}

func TestTrimPlainHTTP(t *testing.T) {
	c := newConn(t, "10.0.0.2:40006", "10.20.8.20:80")
	lt := c.LinkType()
	tr := New()
	get := []byte("GET /example.com/m/@v/list HTTP/1.1\r\nHost: goproxy\r\nAuthorization: Bearer tok3n\r\nCookie: a=b\r\n\r\n")
	okHead := []byte("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n")
	body := []byte("v1.0.0\nv2")
	nf := []byte("HTTP/1.1 404 Not Found\r\nContent-Length: 24\r\n\r\nnot found: no such thing")
	pkts := c.Handshake()
	pkts = append(pkts,
		c.Seg(true, "PA", get),
		c.Seg(false, "PA", cat(okHead, body)),
		c.Seg(true, "PA", get),
		c.Seg(false, "PA", nf),
	)
	got := kept(t, tr, lt, pkts...)
	masked := bytes.Replace(get, []byte("tok3n"), []byte("*****"), 1)
	masked = bytes.Replace(masked, []byte("a=b"), []byte("***"), 1)
	wantPayload(t, "request", lt, got[3], masked)
	wantPayload(t, "200 and body", lt, got[4], okHead)
	wantPayload(t, "404 and its explanation", lt, got[6], nf)
}

func TestTrimSOCKS5Password(t *testing.T) {
	c := newConn(t, "10.0.0.2:40007", "10.0.0.8:1080")
	lt := c.LinkType()
	tr := New()
	auth := append([]byte{1, 4}, "user"...)
	auth = append(auth, 6)
	auth = append(auth, "s3cret"...)
	ch := clientHello(300)
	app := record(23, 300, appByte)
	pkts := c.Handshake()
	pkts = append(pkts,
		c.Seg(true, "PA", []byte{5, 1, 2}),
		c.Seg(false, "PA", []byte{5, 2}),
		c.Seg(true, "PA", auth),
		c.Seg(false, "PA", []byte{1, 0}),
		c.Seg(true, "PA", []byte{5, 1, 0, 3, 16, 'p', 'r', 'o', 'x', 'y', '.', 'g', 'o', 'l', 'a', 'n', 'g', '.', 'o', 'r', 'g', 1, 187}),
		c.Seg(false, "PA", []byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0}),
		c.Seg(true, "PA", ch),
		c.Seg(false, "PA", serverHello(0x0304)),
		c.Seg(true, "PA", record(23, 53, hsByte)),
		c.Seg(true, "PA", app),
	)
	got := kept(t, tr, lt, pkts...)
	wantPayload(t, "auth", lt, got[5], append(auth[:len(auth)-6:len(auth)-6], "******"...))
	wantPayload(t, "ClientHello", lt, got[9], ch)
	wantPayload(t, "application data", lt, got[12], hdrOnly(app))
}

func TestTrimUnknownProtocolOn443(t *testing.T) {
	c := newConn(t, "10.0.0.2:40008", "10.0.0.9:443")
	lt := c.LinkType()
	tr := New()
	banner := bytes.Repeat([]byte("x"), 300)
	pkts := c.Handshake()
	pkts = append(pkts, c.Seg(false, "PA", banner), c.Seg(false, "PA", banner))
	got := kept(t, tr, lt, pkts...)
	wantPayload(t, "first 256 bytes", lt, got[3], banner[:256])
	wantPayload(t, "then nothing", lt, got[4], nil)
}

// udpFrame builds an Ethernet/IPv4/UDP frame; frag sets the fragment
// offset field (in 8-byte units) and the more-fragments flag.
func udpFrame(t *testing.T, src, dst string, payload []byte, id uint16, fragOff uint16, more bool) []byte {
	t.Helper()
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	udp := &layers.UDP{SrcPort: layers.UDPPort(s.Port()), DstPort: layers.UDPPort(d.Port())}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, Id: id,
		SrcIP: net.IP(s.Addr().AsSlice()), DstIP: net.IP(d.Addr().AsSlice())}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, eth, ip, udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if fragOff != 0 || more {
		f := fragOff
		if more {
			f |= 0x2000
		}
		binary.BigEndian.PutUint16(b[14+6:], f)
		if fragOff != 0 { // a later fragment has no UDP header: drop it
			b = append(b[:14+20:14+20], payload...)
			binary.BigEndian.PutUint16(b[14+2:], uint16(20+len(payload)))
		}
	}
	return b
}

func TestTrimUDPAndICMP(t *testing.T) {
	tr := New()
	lt := layers.LinkTypeEthernet
	query := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'p', 'r', 'o', 'x', 'y', 6, 'g', 'o', 'l', 'a', 'n', 'g', 3, 'o', 'r', 'g', 0, 0, 1, 0, 1}
	answerTail := bytes.Repeat([]byte{hsByte}, 600)
	other := bytes.Repeat([]byte{appByte}, 100)
	got := kept(t, tr, lt,
		udpFrame(t, "10.0.0.2:5000", "10.0.0.53:53", query, 1, 0, false),
		// the resolver's large answer: its second fragment first
		udpFrame(t, "10.0.0.53:53", "10.0.0.2:5000", answerTail, 7, 100, false),
		udpFrame(t, "10.0.0.53:53", "10.0.0.2:5000", answerTail, 7, 0, true),
		udpFrame(t, "10.0.0.2:6000", "10.0.0.7:9999", other, 2, 0, false),
		udpFrame(t, "10.0.0.7:9999", "10.0.0.2:6000", other, 3, 100, false),
	)
	wantPayload(t, "query", lt, got[0], query)
	if len(got[1]) != 14+20+len(answerTail) {
		t.Errorf("the resolver's later fragment: kept %d bytes, want all %d", len(got[1]), 14+20+len(answerTail))
	}
	wantPayload(t, "first fragment", lt, got[2], answerTail)
	wantPayload(t, "other UDP", lt, got[3], nil)
	if len(got[4]) != 14+20 {
		t.Errorf("another later fragment: kept %d bytes, want the headers (34)", len(got[4]))
	}
	if names := tr.names; len(names) != 1 {
		t.Errorf("query names %v, want proxy.golang.org", names)
	} else if _, ok := names["proxy.golang.org"]; !ok {
		t.Errorf("query names %v, want proxy.golang.org", names)
	}
}

func TestTrimIPv6(t *testing.T) {
	c := newConn(t, "[2001:db8::2]:40010", "[2001:db8::9]:443")
	lt := c.LinkType()
	tr := New()
	ch := clientHello(300)
	app := record(23, 400, appByte)
	pkts := c.Handshake()
	pkts = append(pkts, c.Seg(true, "PA", ch), c.Seg(false, "PA", serverHello(0x0303)), c.Seg(true, "PA", app))
	got := kept(t, tr, lt, pkts...)
	wantPayload(t, "ClientHello", lt, got[3], ch)
	wantPayload(t, "application data", lt, got[5], hdrOnly(app))
}

// FuzzTrim checks that no input makes the trimmer panic or keep more than
// the packet.
func FuzzTrim(f *testing.F) {
	c := newConn(&testing.T{}, "10.0.0.2:40011", "10.0.0.9:443")
	for _, p := range c.Handshake() {
		f.Add(p, uint16(layers.LinkTypeEthernet))
	}
	f.Add(c.Seg(true, "PA", clientHello(100)), uint16(layers.LinkTypeEthernet))
	f.Add([]byte{0x45, 0, 0, 20}, uint16(layers.LinkTypeRaw))
	f.Fuzz(func(t *testing.T, data []byte, lt uint16) {
		tr := New()
		for range 3 {
			keep, masks := tr.trim(layers.LinkType(lt), data, time.Unix(0, 0))
			if keep < 0 || keep > len(data) {
				t.Fatalf("keep %d of %d", keep, len(data))
			}
			for _, m := range masks {
				if m.off < 0 || m.off+m.n > keep {
					t.Fatalf("mask %+v beyond %d", m, keep)
				}
			}
		}
	})
}

// FuzzTrimStream drives one TCP connection with segments described by the
// input (direction, flags, sequence offset, payload), out of order and
// overlapping as it pleases, and checks the bounds of every decision.
func FuzzTrimStream(f *testing.F) {
	seed := []byte{0, 0, 0, 0}
	seed = append(seed, 1, 0, 0, 0)
	seed = append(seed, 2, 0, 1, byte(len(clientHello(40))))
	seed = append(seed, clientHello(40)...)
	seed = append(seed, 3, 0, 1, 30)
	seed = append(seed, record(23, 25, appByte)...)
	f.Add(seed)
	f.Fuzz(func(t *testing.T, in []byte) {
		c := newConn(t, "10.0.0.2:40100", "10.0.0.9:443")
		tr := New()
		now := time.Unix(0, 0)
		for len(in) >= 4 {
			op, off, n := in[0], binary.BigEndian.Uint16(in[1:]), int(in[3])
			in = in[4:]
			n = min(n, len(in))
			payload := in[:n]
			in = in[n:]
			fromClient := op&1 == 0
			flags := "PA"
			switch op >> 1 & 3 {
			case 0:
				flags = "S"
			case 1:
				flags = "SA"
			}
			base := uint32(5000)
			if fromClient {
				base = 1000
			}
			p := c.SegAt(fromClient, flags, base+uint32(off), payload)
			keep, masks := tr.trim(layers.LinkTypeEthernet, p, now)
			if keep < 0 || keep > len(p) {
				t.Fatalf("keep %d of %d", keep, len(p))
			}
			for _, m := range masks {
				if m.off < 0 || m.off+m.n > keep {
					t.Fatalf("mask %+v beyond %d", m, keep)
				}
			}
			now = now.Add(time.Millisecond)
		}
	})
}

// nflogFrame wraps the IP packet of an Ethernet frame in an NFLOG frame
// whose TLV headers are in order (NFULA_PACKET_HDR, then NFULA_PAYLOAD).
func nflogFrame(order binary.AppendByteOrder, eth []byte) []byte {
	p := eth[14:]
	b := []byte{2, 0, 0, 0}
	b = order.AppendUint16(b, 8)
	b = order.AppendUint16(b, 1)
	b = append(b, 0x08, 0x00, 1, 0)
	b = order.AppendUint16(b, uint16(4+len(p)))
	b = order.AppendUint16(b, 9)
	return append(b, p...)
}

// TestTrimNFLOGInTheCapturingHostsByteOrder: a live capture reads NFLOG
// TLVs in its own host's byte order (tcpdump.org LINKTYPE_NFLOG), through
// the decoder's link layer; TLVs in the other order are not an NFLOG frame
// it can read, and only their first bytes are kept.
func TestTrimNFLOGInTheCapturingHostsByteOrder(t *testing.T) {
	var native, other binary.AppendByteOrder = binary.LittleEndian, binary.BigEndian
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		native, other = other, native
	}
	query := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'p', 'r', 'o', 'x', 'y', 6, 'g', 'o', 'l', 'a', 'n', 'g', 3, 'o', 'r', 'g', 0, 0, 1, 0, 1}
	c := newConn(t, "10.0.0.2:40012", "10.0.0.9:443")
	app := record(23, 400, appByte)
	pkts := c.Handshake()
	pkts = append(pkts, c.Seg(true, "PA", clientHello(200)), c.Seg(false, "PA", serverHello(0x0303)), c.Seg(true, "PA", app))
	var in [][]byte
	for _, p := range pkts {
		in = append(in, nflogFrame(native, p))
	}
	dnsQuery := nflogFrame(native, udpFrame(t, "10.0.0.2:5000", "10.0.0.53:53", query, 1, 0, false))
	wrongOrder := nflogFrame(other, udpFrame(t, "10.0.0.2:5000", "10.0.0.53:53", bytes.Repeat([]byte{appByte}, 300), 2, 0, false))
	in = append(in, dnsQuery, wrongOrder)
	tr := New()
	got := kept(t, tr, link.LinkTypeNFLOG, in...)
	wantPayload(t, "ClientHello", link.LinkTypeNFLOG, got[3], clientHello(200))
	wantPayload(t, "application data", link.LinkTypeNFLOG, got[5], hdrOnly(app))
	if !bytes.Equal(got[6], dnsQuery) {
		t.Errorf("DNS query: kept %d of %d bytes", len(got[6]), len(dnsQuery))
	}
	if _, ok := tr.names["proxy.golang.org"]; !ok {
		t.Errorf("query names %v", tr.names)
	}
	if len(got[7]) != unknownLinkKeep {
		t.Errorf("TLVs in the other byte order: kept %d bytes, want %d", len(got[7]), unknownLinkKeep)
	}

	// The trimmed frames are still NFLOG frames the decoder reads, their
	// payload TLV cut short as a snap length cuts it.
	dec := decode.New(0, decode.Options{Trimmed: true})
	for i, g := range got[:6] {
		dec.Packet(&capture.Packet{Number: i + 1, Time: time.Unix(1_700_000_000, int64(i)), LinkType: link.LinkTypeNFLOG,
			Data: g, Length: len(in[i]), ByteOrder: binary.NativeEndian})
	}
	ev := dec.Finish()
	if len(ev.TLS) != 1 || ev.TLS[0].ClientHello == nil || ev.TLS[0].Version() != 0x0303 || ev.TLS[0].EncryptedCount[0] != 1 {
		t.Errorf("decoded from the trimmed frames: %d TLS sessions %+v; stats %+v", len(ev.TLS), ev.TLS, ev.Stats)
	}
}
