package torture

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
)

// sink is where a shape writes its capture: frames on one Ethernet
// interface of a pcapng section (so shapes can add Decryption Secrets
// Blocks), timed by a clock that advances 100 µs per frame.
type sink struct {
	w     *capture.Writer
	clock time.Time
	buf   []byte
	ipid  uint16
	err   error
}

func newSink(w *capture.Writer) (*sink, error) {
	if _, err := w.AddInterface(capture.Interface{LinkType: layers.LinkTypeEthernet, SnapLen: 262144}); err != nil {
		return nil, err
	}
	return &sink{w: w, clock: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), buf: make([]byte, 0, 1<<17)}, nil
}

// frame writes one frame and advances the clock.
func (s *sink) frame(b []byte) {
	if s.err != nil {
		return
	}
	s.clock = s.clock.Add(100 * time.Microsecond)
	s.err = s.w.WritePacket(0, s.clock, b, len(b))
}

// after advances the clock without a frame.
func (s *sink) after(d time.Duration) { s.clock = s.clock.Add(d) }

var (
	macA = []byte{0x02, 0, 0, 0, 0, 0xa}
	macB = []byte{0x02, 0, 0, 0, 0, 0xb}
)

// ether starts an Ethernet II frame of the given type in s.buf.
func (s *sink) ether(typ uint16) []byte {
	b := append(s.buf[:0], macB...)
	b = append(b, macA...)
	return binary.BigEndian.AppendUint16(b, typ)
}

// ipv4 appends an IPv4 header (RFC 791) for a payload of n bytes.
func (s *sink) ipv4(b []byte, src, dst netip.Addr, proto uint8, n int, fragOff int, more bool, id uint16) []byte {
	h := len(b)
	flags := uint16(fragOff / 8)
	if more {
		flags |= 0x2000
	}
	b = append(b, 0x45, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(20+n))
	b = binary.BigEndian.AppendUint16(b, id)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = append(b, 64, proto, 0, 0)
	s4, d4 := src.As4(), dst.As4()
	b = append(b, s4[:]...)
	b = append(b, d4[:]...)
	var sum uint32
	for i := h; i < h+20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(b[h+10:], ^uint16(sum))
	return b
}

// udp writes an Ethernet/IPv4/UDP frame (RFC 768; checksum 0: none).
func (s *sink) udp(src, dst netip.AddrPort, payload []byte) {
	s.ipid++
	b := s.ether(0x0800)
	b = s.ipv4(b, src.Addr(), dst.Addr(), 17, 8+len(payload), 0, false, s.ipid)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
	b = append(b, 0, 0)
	s.buf = append(b, payload...)
	s.frame(s.buf)
}

// TCP flags (RFC 9293 §3.1).
const (
	fin = 0x01
	syn = 0x02
	rst = 0x04
	psh = 0x08
	ack = 0x10
)

// tcp writes an Ethernet/IPv4/TCP segment (RFC 9293; checksum left 0).
func (s *sink) tcp(src, dst netip.AddrPort, seq, acknum uint32, flags uint8, payload []byte) {
	s.ipid++
	b := s.ether(0x0800)
	b = s.ipv4(b, src.Addr(), dst.Addr(), 6, 20+len(payload), 0, false, s.ipid)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	b = binary.BigEndian.AppendUint32(b, seq)
	b = binary.BigEndian.AppendUint32(b, acknum)
	b = append(b, 5<<4, flags)
	b = binary.BigEndian.AppendUint16(b, 65535)
	b = append(b, 0, 0, 0, 0)
	s.buf = append(b, payload...)
	s.frame(s.buf)
}

// conn is a TCP connection the shapes drive segment by segment.
type conn struct {
	s              *sink
	client, server netip.AddrPort
	cseq, sseq     uint32
}

// open writes the three-way handshake.
func (s *sink) open(client, server netip.AddrPort) *conn {
	c := &conn{s: s, client: client, server: server, cseq: 1000, sseq: 900000}
	s.tcp(client, server, c.cseq, 0, syn, nil)
	s.tcp(server, client, c.sseq, c.cseq+1, syn|ack, nil)
	c.cseq++
	c.sseq++
	s.tcp(client, server, c.cseq, c.sseq, ack, nil)
	return c
}

// send writes p from the client (or the server) in segments of at most
// 1460 bytes.
func (c *conn) send(fromClient bool, p []byte) {
	for len(p) > 0 {
		n := min(len(p), 1460)
		if fromClient {
			c.s.tcp(c.client, c.server, c.cseq, c.sseq, ack|psh, p[:n])
			c.cseq += uint32(n)
		} else {
			c.s.tcp(c.server, c.client, c.sseq, c.cseq, ack|psh, p[:n])
			c.sseq += uint32(n)
		}
		p = p[n:]
	}
}

// clientAddr returns a distinct client address and port for connection i.
func clientAddr(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(20000+i%40000))
}
