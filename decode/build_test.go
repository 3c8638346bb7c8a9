package decode

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/samples/frames"
)

// wire builds test traffic: real packets serialized by gopacket, numbered
// and timed like a capture, fed to a Decoder.
type wire struct {
	t     *testing.T
	d     *Decoder
	n     int
	clock time.Time
	ipid  uint16
	ttl   uint8
	link  layers.LinkType
	// dump, when set, receives every frame (to look at a test's traffic
	// in Wireshark).
	dump *capture.Writer
}

func newWire(t *testing.T) *wire {
	return &wire{t: t, d: New(0, Options{}), clock: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), ttl: 64, link: layers.LinkTypeEthernet}
}

// after advances the capture clock.
func (w *wire) after(d time.Duration) *wire { w.clock = w.clock.Add(d); return w }

// frame feeds one frame of the wire's link type and returns its number.
func (w *wire) frame(data []byte) int {
	w.n++
	w.clock = w.clock.Add(time.Millisecond)
	w.d.Packet(&capture.Packet{Number: w.n, Time: w.clock, LinkType: w.link, Data: data, Length: len(data)})
	if w.dump != nil {
		w.dump.WritePacket(0, w.clock, data, len(data))
	}
	return w.n
}

// ipPacket serializes an IP packet carrying the given transport layers.
func (w *wire) ipPacket(src, dst netip.Addr, proto layers.IPProtocol, ls ...gopacket.SerializableLayer) []byte {
	w.t.Helper()
	var network gopacket.NetworkLayer
	var all []gopacket.SerializableLayer
	if src.Is4() {
		w.ipid++
		ip := &layers.IPv4{Version: 4, TTL: w.ttl, Id: w.ipid, Protocol: proto, SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
		network, all = ip, append(all, ip)
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: w.ttl, NextHeader: proto, SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
		network, all = ip, append(all, ip)
	}
	for _, l := range ls {
		switch t := l.(type) {
		case *layers.UDP:
			t.SetNetworkLayerForChecksum(network)
		case *layers.TCP:
			t.SetNetworkLayerForChecksum(network)
		}
	}
	all = append(all, ls...)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, all...); err != nil {
		w.t.Fatal(err)
	}
	return buf.Bytes()
}

// linkFrame wraps an IP packet in the wire's link layer.
func (w *wire) linkFrame(ip []byte, v6 bool) []byte {
	w.t.Helper()
	switch w.link {
	case layers.LinkTypeEthernet:
		return frames.AppendEthernet(nil, []byte{2, 0, 0, 0, 0, 2}, []byte{2, 0, 0, 0, 0, 1}, ip)
	case layers.LinkTypeRaw:
		return ip
	}
	w.t.Fatalf("link type %v not built by the test helper", w.link)
	return nil
}

// nextID returns the IPv4 ID of the wire's next packet.
func (w *wire) nextID() uint16 { w.ipid++; return w.ipid }

// udp sends one UDP datagram.
func (w *wire) udp(src, dst netip.AddrPort, payload []byte) int {
	ip := frames.AppendUDPPacket(nil, src, dst, w.ttl, w.nextID(), payload)
	return w.frame(w.linkFrame(ip, src.Addr().Is6()))
}

// tcpFlags selects the flags of a test segment.
type tcpFlags struct{ syn, ack, fin, rst, psh bool }

// bits returns the flags as the TCP header's bits.
func (f tcpFlags) bits() uint8 {
	var b uint8
	for _, x := range []struct {
		set bool
		bit uint8
	}{{f.syn, frames.SYN}, {f.ack, frames.ACK}, {f.fin, frames.FIN}, {f.rst, frames.RST}, {f.psh, frames.PSH}} {
		if x.set {
			b |= x.bit
		}
	}
	return b
}

// tcp sends one TCP segment.
func (w *wire) tcp(src, dst netip.AddrPort, seq, ack uint32, f tcpFlags, payload []byte) int {
	t := frames.TCP{Src: src, Dst: dst, Seq: seq, Ack: ack, Flags: f.bits(), Window: 65535}
	ip := frames.AppendTCPPacket(nil, t, w.ttl, w.nextID(), payload)
	return w.frame(w.linkFrame(ip, src.Addr().Is6()))
}

// icmpUnreachable sends an ICMP error from `from` quoting the given IP packet.
func (w *wire) icmpUnreachable(from, to netip.Addr, code uint8, quoted []byte) int {
	ip := frames.AppendICMPv4Packet(nil, from, to, 3, code, w.ttl, w.nextID(), [4]byte{}, quoted)
	return w.frame(w.linkFrame(ip, false))
}

// conn is a TCP connection driven by a test.
type conn struct {
	w              *wire
	client, server netip.AddrPort
	cseq, sseq     uint32
}

// connect performs the three-way handshake.
func (w *wire) connect(client, server netip.AddrPort) *conn {
	c := &conn{w: w, client: client, server: server, cseq: 1000, sseq: 5000}
	w.tcp(client, server, c.cseq, 0, tcpFlags{syn: true}, nil)
	w.tcp(server, client, c.sseq, c.cseq+1, tcpFlags{syn: true, ack: true}, nil)
	c.cseq++
	c.sseq++
	w.tcp(client, server, c.cseq, c.sseq, tcpFlags{ack: true}, nil)
	return c
}

// send writes p from the client (dir 0) or the server (dir 1) in segments
// of at most mss bytes and returns the last frame number.
func (c *conn) send(dir int, p []byte, mss int) int {
	last := 0
	for len(p) > 0 {
		n := min(len(p), mss)
		if dir == 0 {
			last = c.w.tcp(c.client, c.server, c.cseq, c.sseq, tcpFlags{ack: true, psh: true}, p[:n])
			c.cseq += uint32(n)
		} else {
			last = c.w.tcp(c.server, c.client, c.sseq, c.cseq, tcpFlags{ack: true, psh: true}, p[:n])
			c.sseq += uint32(n)
		}
		p = p[n:]
	}
	return last
}

// dnsMsg packs a DNS message built by fill.
func dnsMsg(t *testing.T, fill func(m *dns.Msg)) []byte {
	t.Helper()
	m := new(dns.Msg)
	fill(m)
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// query returns a DNS query for name/qtype with the given ID.
func query(t *testing.T, id uint16, name string, qtype uint16) []byte {
	return dnsMsg(t, func(m *dns.Msg) { m.SetQuestion(dns.Fqdn(name), qtype); m.Id = id })
}

// answer returns a response to a query with the given records.
func answer(t *testing.T, id uint16, name string, qtype uint16, rcode int, rrs ...string) []byte {
	return dnsMsg(t, func(m *dns.Msg) {
		q := new(dns.Msg)
		q.SetQuestion(dns.Fqdn(name), qtype)
		q.Id = id
		m.SetRcode(q, rcode)
		for _, s := range rrs {
			rr, err := dns.NewRR(s)
			if err != nil {
				t.Fatal(err)
			}
			m.Answer = append(m.Answer, rr)
		}
	})
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func netipAddrPort(addr string, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr(addr), port)
}
