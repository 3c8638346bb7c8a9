package benchgen

import (
	"encoding/binary"
	"net/netip"

	"github.com/modsniff/modsniff/samples/frames"
)

// Frame building. Every frame is Ethernet II; IPv4 headers carry a correct
// header checksum, TCP and UDP checksums are left zero, as a capture taken
// on a host with checksum offload shows them (Wireshark and modsniff do not
// verify them by default).

// Names of the shared frame builder's constants, as this file uses them.
const (
	etherIPv4 = frames.EtherIPv4
	etherIPv6 = frames.EtherIPv6
	etherARP  = frames.EtherARP

	protoICMP = frames.ProtoICMP
	protoTCP  = frames.ProtoTCP
	protoUDP  = frames.ProtoUDP

	ethLen  = frames.EthLen
	ip4Len  = frames.IPv4Len
	ip6Len  = frames.IPv6Len
	udpLen  = frames.UDPLen
	tcpBase = frames.TCPLen

	flagFIN = frames.FIN
	flagSYN = frames.SYN
	flagRST = frames.RST
	flagPSH = frames.PSH
	flagACK = frames.ACK
)

type mac [6]byte

// host is one machine on the captured link (or beyond its router).
type host struct {
	mac mac // its own, or the router's for an address beyond the router
	v4  netip.Addr
	v6  netip.Addr
}

// udpFrame builds an Ethernet/IP/UDP frame carrying payload into b and
// returns it.
func udpFrame(b []byte, from, to *host, src, dst netip.Addr, sport, dport uint16, ttl uint8, id uint16, payload []byte) []byte {
	typ := uint16(etherIPv4)
	if !src.Is4() {
		typ = etherIPv6
	}
	frames.PutEthernet(b, to.mac[:], from.mac[:], typ)
	n := ethLen + frames.PutIP(b[ethLen:], src, dst, protoUDP, ttl, id, 0, udpLen+len(payload))
	binary.BigEndian.PutUint16(b[n:], sport)
	binary.BigEndian.PutUint16(b[n+2:], dport)
	binary.BigEndian.PutUint16(b[n+4:], uint16(udpLen+len(payload)))
	binary.BigEndian.PutUint16(b[n+6:], 0)
	n += udpLen
	n += copy(b[n:], payload)
	return b[:n]
}

// tcpHalf is the header template of one direction of a TCP connection:
// Ethernet, IP and a TCP header with room for the timestamp option. Only the
// lengths, IP ID and checksum, sequence numbers, flags, window and
// timestamps are patched per segment.
type tcpHalf struct {
	hdr    [ethLen + ip6Len + tcpBase + 12]byte
	v6     bool
	ipOff  int // start of the IP header
	tcpOff int // start of the TCP header
	ttl    uint8
	ipID   uint16
	flow   uint32
	ts     bool   // data segments carry the timestamp option
	tsBase uint32 // this sender's timestamp clock offset
	wnd    uint16
}

func newTCPHalf(from, to *host, src, dst netip.AddrPort, ttl uint8, ipID uint16, flow uint32, ts bool, tsBase uint32, wnd uint16) tcpHalf {
	h := tcpHalf{v6: !src.Addr().Is4(), ttl: ttl, ipID: ipID, flow: flow, ts: ts, tsBase: tsBase, wnd: wnd}
	typ := uint16(etherIPv4)
	h.ipOff = ethLen
	h.tcpOff = ethLen + ip4Len
	if h.v6 {
		typ = etherIPv6
		h.tcpOff = ethLen + ip6Len
	}
	frames.PutEthernet(h.hdr[:], to.mac[:], from.mac[:], typ)
	// The IP header is written per segment (its length and ID change);
	// keep the addresses in place for it.
	frames.PutIP(h.hdr[h.ipOff:], src.Addr(), dst.Addr(), protoTCP, ttl, 0, flow, 0)
	t := h.hdr[h.tcpOff:]
	binary.BigEndian.PutUint16(t[0:2], src.Port())
	binary.BigEndian.PutUint16(t[2:4], dst.Port())
	return h
}

// segment writes the header of one TCP segment into b from the template,
// with room for n payload bytes after it, and returns the frame and that
// room for the caller to fill. opts, when not nil, replaces the timestamp
// option (the options of a SYN).
func (h *tcpHalf) segment(b []byte, flags uint8, seq, ack, tsval, tsecr uint32, opts []byte, n int) (frame, payload []byte) {
	optLen := 0
	if opts != nil {
		optLen = len(opts)
	} else if h.ts {
		optLen = 12
	}
	hl := h.tcpOff + tcpBase + optLen
	copy(b[:h.tcpOff+tcpBase], h.hdr[:h.tcpOff+tcpBase])
	ipPayload := tcpBase + optLen + n
	if h.v6 {
		binary.BigEndian.PutUint16(b[h.ipOff+4:], uint16(ipPayload))
	} else {
		ip := b[h.ipOff : h.ipOff+ip4Len]
		binary.BigEndian.PutUint16(ip[2:4], uint16(ip4Len+ipPayload))
		binary.BigEndian.PutUint16(ip[4:6], h.ipID)
		h.ipID++
		ip[10], ip[11] = 0, 0
		binary.BigEndian.PutUint16(ip[10:12], frames.Checksum(ip))
	}
	t := b[h.tcpOff:]
	binary.BigEndian.PutUint32(t[4:8], seq)
	if flags&flagACK == 0 {
		ack = 0
	}
	binary.BigEndian.PutUint32(t[8:12], ack)
	t[12] = uint8((tcpBase+optLen)/4) << 4
	t[13] = flags
	binary.BigEndian.PutUint16(t[14:16], h.wnd)
	t[16], t[17], t[18], t[19] = 0, 0, 0, 0
	switch {
	case opts != nil:
		copy(t[tcpBase:], opts)
	case h.ts:
		o := t[tcpBase : tcpBase+12]
		o[0], o[1], o[2], o[3] = 1, 1, 8, 10 // NOP, NOP, TS kind 8 length 10
		binary.BigEndian.PutUint32(o[4:8], tsval)
		binary.BigEndian.PutUint32(o[8:12], tsecr)
	}
	return b[:hl+n], b[hl : hl+n]
}

// synOptions returns the options of a SYN or SYN-ACK: Linux's order (MSS,
// SACK permitted, timestamps, NOP, window scale) when ts is set, else
// Windows' (MSS, NOP, window scale, NOP, NOP, SACK permitted).
func synOptions(mss int, ts bool, tsval, tsecr uint32, wscale uint8) []byte {
	if ts {
		o := make([]byte, 20)
		o[0], o[1] = 2, 4
		binary.BigEndian.PutUint16(o[2:4], uint16(mss))
		o[4], o[5] = 4, 2
		o[6], o[7] = 8, 10
		binary.BigEndian.PutUint32(o[8:12], tsval)
		binary.BigEndian.PutUint32(o[12:16], tsecr)
		o[16], o[17], o[18], o[19] = 1, 3, 3, wscale
		return o
	}
	o := make([]byte, 12)
	o[0], o[1] = 2, 4
	binary.BigEndian.PutUint16(o[2:4], uint16(mss))
	o[4], o[5], o[6], o[7] = 1, 3, 3, wscale
	o[8], o[9], o[10], o[11] = 1, 1, 4, 2
	return o
}

// arpFrame builds an ARP request (RFC 826) from a for b's address, or b's
// reply to a.
func arpFrame(buf []byte, a, b *host, reply bool) []byte {
	f := buf[:ethLen+28]
	if reply {
		frames.PutEthernet(f, a.mac[:], b.mac[:], etherARP)
	} else {
		frames.PutEthernet(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, a.mac[:], etherARP)
	}
	p := f[ethLen:]
	binary.BigEndian.PutUint16(p[0:2], 1)      // Ethernet
	binary.BigEndian.PutUint16(p[2:4], 0x0800) // IPv4
	p[4], p[5] = 6, 4
	sa, sb := a.v4.As4(), b.v4.As4()
	if reply {
		binary.BigEndian.PutUint16(p[6:8], 2)
		copy(p[8:14], b.mac[:])
		copy(p[14:18], sb[:])
		copy(p[18:24], a.mac[:])
		copy(p[24:28], sa[:])
	} else {
		binary.BigEndian.PutUint16(p[6:8], 1)
		copy(p[8:14], a.mac[:])
		copy(p[14:18], sa[:])
		clear(p[18:24])
		copy(p[24:28], sb[:])
	}
	return f
}

// icmpEchoFrame builds an ICMP echo request or reply (RFC 792) between two
// IPv4 hosts, with a 56-byte payload like ping's.
func icmpEchoFrame(buf []byte, from, to *host, src, dst netip.Addr, ttl uint8, ipID, ident, seq uint16, reply bool, body []byte) []byte {
	frames.PutEthernet(buf, to.mac[:], from.mac[:], etherIPv4)
	n := 8 + len(body)
	frames.PutIPv4(buf[ethLen:], src, dst, protoICMP, ttl, ipID, true, n)
	m := buf[ethLen+ip4Len : ethLen+ip4Len+n]
	m[0] = 8
	if reply {
		m[0] = 0
	}
	m[1], m[2], m[3] = 0, 0, 0
	binary.BigEndian.PutUint16(m[4:6], ident)
	binary.BigEndian.PutUint16(m[6:8], seq)
	copy(m[8:], body)
	binary.BigEndian.PutUint16(m[2:4], frames.Checksum(m))
	return buf[:ethLen+ip4Len+n]
}
