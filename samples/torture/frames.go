package torture

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/samples/frames"
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

// ethernet wraps the IP packet ip (built by samples/frames) in an
// Ethernet II frame and writes it.
func (s *sink) ethernet(ip []byte) {
	s.buf = frames.AppendEthernet(s.buf[:0], macB, macA, ip)
	s.frame(s.buf)
}

// udp writes an Ethernet/IP/UDP frame (RFC 768).
func (s *sink) udp(src, dst netip.AddrPort, payload []byte) {
	s.ipid++
	s.ethernet(frames.AppendUDPPacket(nil, src, dst, 64, s.ipid, payload))
}

// fragment writes an IPv4 fragment (RFC 791 §3.2) of a UDP datagram:
// payload at byte offset off, with more fragments to come when more is set.
func (s *sink) fragment(src, dst netip.Addr, id uint16, off int, more bool, payload []byte) {
	ip := frames.AppendIPPacket(nil, src, dst, frames.ProtoUDP, 64, id, payload)
	flags := uint16(off / 8)
	if more {
		flags |= 0x2000
	}
	binary.BigEndian.PutUint16(ip[6:8], flags)
	binary.BigEndian.PutUint16(ip[10:12], 0)
	binary.BigEndian.PutUint16(ip[10:12], frames.Checksum(ip[:frames.IPv4Len]))
	s.ethernet(ip)
}

// TCP flags (RFC 9293 §3.1).
const (
	syn = frames.SYN
	psh = frames.PSH
	ack = frames.ACK
)

// tcp writes an Ethernet/IP/TCP segment (RFC 9293).
func (s *sink) tcp(src, dst netip.AddrPort, seq, acknum uint32, flags uint8, payload []byte) {
	s.ipid++
	s.ethernet(frames.AppendTCPPacket(nil, frames.TCP{Src: src, Dst: dst, Seq: seq, Ack: acknum, Flags: flags, Window: 65535}, 64, s.ipid, payload))
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
