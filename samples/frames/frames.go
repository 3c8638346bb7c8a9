// Package frames writes the bytes of link-layer frames for the sample
// synthesizer (samples/synth), the decoder's test recordings
// (decode/decodetest), the bench generator (samples/bench/benchgen) and any
// package's tests: Ethernet II and Linux SLL2 framing, IPv4 (RFC 791) and
// IPv6 (RFC 8200) headers, TCP (RFC 9293) and UDP (RFC 768) headers with
// their checksums (RFC 1071).
//
// It depends on the standard library only, so that tests of every package
// — capture's own included — can build frames with it. Functions named Put
// write into a buffer the caller sized (the bench generator reuses one
// buffer for millions of frames); functions named Append grow a slice.
package frames

import (
	"encoding/binary"
	"net/netip"
)

// EtherTypes (IEEE 802 Numbers registry).
const (
	EtherIPv4 = 0x0800
	EtherIPv6 = 0x86dd
	EtherARP  = 0x0806
)

// IP protocol numbers (IANA Assigned Internet Protocol Numbers).
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)

// Header lengths without options.
const (
	EthLen  = 14
	IPv4Len = 20
	IPv6Len = 40
	UDPLen  = 8
	TCPLen  = 20
)

// TCP flags (RFC 9293 §3.1).
const (
	FIN = 0x01
	SYN = 0x02
	RST = 0x04
	PSH = 0x08
	ACK = 0x10
)

// PutEthernet writes an Ethernet II header into b[:EthLen].
func PutEthernet(b []byte, dst, src []byte, etherType uint16) {
	copy(b[0:6], dst)
	copy(b[6:12], src)
	binary.BigEndian.PutUint16(b[12:14], etherType)
}

// EtherTypeOf returns the EtherType of an IP packet by its version nibble.
func EtherTypeOf(ip []byte) uint16 {
	if len(ip) > 0 && ip[0]>>4 == 6 {
		return EtherIPv6
	}
	return EtherIPv4
}

// AppendEthernet appends an Ethernet II frame carrying the IP packet ip to
// b. Short frames are not padded to 60 bytes: a capture on the sending host
// sees them unpadded.
func AppendEthernet(b []byte, dst, src []byte, ip []byte) []byte {
	n := len(b)
	b = append(b, make([]byte, EthLen)...)
	PutEthernet(b[n:], dst, src, EtherTypeOf(ip))
	return append(b, ip...)
}

// SLL2 header fields (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html).
const (
	ARPHRDEther    = 1   // ARPHRD_ETHER
	ARPHRDLoopback = 772 // ARPHRD_LOOPBACK

	PacketHost     = 0 // PACKET_HOST: addressed to this host
	PacketOutgoing = 4 // PACKET_OUTGOING: sent by this host
)

// AppendSLL2 appends a Linux "cooked" v2 frame (the "any" pseudo-interface)
// carrying the IP packet ip to b: protocol, reserved, interface index,
// ARPHRD type, packet type, address length and 8 bytes of the sender's
// link-layer address.
func AppendSLL2(b []byte, ifIndex, arphrd uint16, pktType byte, addr []byte, ip []byte) []byte {
	et := EtherTypeOf(ip)
	b = append(b, byte(et>>8), byte(et), 0, 0, 0, 0, byte(ifIndex>>8), byte(ifIndex), byte(arphrd>>8), byte(arphrd), pktType, byte(len(addr)))
	var a [8]byte
	copy(a[:], addr)
	b = append(b, a[:]...)
	return append(b, ip...)
}

// PutIPv4 writes an IPv4 header (RFC 791) with its checksum into
// b[:IPv4Len], for a payload of n bytes; df sets Don't Fragment.
func PutIPv4(b []byte, src, dst netip.Addr, proto, ttl uint8, id uint16, df bool, n int) {
	b[0] = 0x45
	b[1] = 0
	binary.BigEndian.PutUint16(b[2:4], uint16(IPv4Len+n))
	binary.BigEndian.PutUint16(b[4:6], id)
	var flags uint16
	if df {
		flags = 0x4000
	}
	binary.BigEndian.PutUint16(b[6:8], flags)
	b[8] = ttl
	b[9] = proto
	b[10], b[11] = 0, 0
	s, d := src.As4(), dst.As4()
	copy(b[12:16], s[:])
	copy(b[16:20], d[:])
	binary.BigEndian.PutUint16(b[10:12], Checksum(b[:IPv4Len]))
}

// PutIPv6 writes an IPv6 header (RFC 8200) into b[:IPv6Len] for a payload
// of n bytes.
func PutIPv6(b []byte, src, dst netip.Addr, next, hops uint8, flow uint32, n int) {
	binary.BigEndian.PutUint32(b[0:4], 6<<28|flow&0xfffff)
	binary.BigEndian.PutUint16(b[4:6], uint16(n))
	b[6] = next
	b[7] = hops
	s, d := src.As16(), dst.As16()
	copy(b[8:24], s[:])
	copy(b[24:40], d[:])
}

// PutIP writes the IPv4 (with DF set) or IPv6 header of a packet from src
// to dst (both of one family) and returns its length.
func PutIP(b []byte, src, dst netip.Addr, proto, ttl uint8, id uint16, flow uint32, n int) int {
	if src.Is4() {
		PutIPv4(b, src, dst, proto, ttl, id, true, n)
		return IPv4Len
	}
	PutIPv6(b, src, dst, proto, ttl, flow, n)
	return IPv6Len
}

// Checksum is the Internet checksum (RFC 1071) of b.
func Checksum(b []byte) uint16 { return fold(sum(0, b)) }

func sum(s uint32, b []byte) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// TransportChecksum is the TCP or UDP checksum of seg (its checksum field
// zero) over the IPv4 or IPv6 pseudo-header (RFC 9293 §3.1, RFC 8200 §8.1).
func TransportChecksum(src, dst netip.Addr, proto uint8, seg []byte) uint16 {
	var s uint32
	s = sum(s, src.AsSlice())
	s = sum(s, dst.AsSlice())
	s += uint32(proto) + uint32(len(seg))
	return fold(sum(s, seg))
}

// TCP is one TCP segment's header fields.
type TCP struct {
	Src, Dst netip.AddrPort
	Seq, Ack uint32
	Flags    uint8
	Window   uint16
	// Options are the encoded options, padded to a multiple of four bytes
	// by the caller.
	Options []byte
}

// AppendTCPPacket appends an IP packet (IPv4 without DF, or IPv6) carrying
// the TCP segment t with payload to b, with both checksums.
func AppendTCPPacket(b []byte, t TCP, ttl uint8, ipID uint16, payload []byte) []byte {
	seg := make([]byte, TCPLen+len(t.Options)+len(payload))
	binary.BigEndian.PutUint16(seg[0:2], t.Src.Port())
	binary.BigEndian.PutUint16(seg[2:4], t.Dst.Port())
	binary.BigEndian.PutUint32(seg[4:8], t.Seq)
	binary.BigEndian.PutUint32(seg[8:12], t.Ack)
	seg[12] = uint8((TCPLen+len(t.Options))/4) << 4
	seg[13] = t.Flags
	binary.BigEndian.PutUint16(seg[14:16], t.Window)
	copy(seg[TCPLen:], t.Options)
	copy(seg[TCPLen+len(t.Options):], payload)
	binary.BigEndian.PutUint16(seg[16:18], TransportChecksum(t.Src.Addr(), t.Dst.Addr(), ProtoTCP, seg))
	n := len(b)
	if t.Src.Addr().Is4() {
		b = append(b, make([]byte, IPv4Len)...)
		PutIPv4(b[n:], t.Src.Addr(), t.Dst.Addr(), ProtoTCP, ttl, ipID, false, len(seg))
	} else {
		b = append(b, make([]byte, IPv6Len)...)
		PutIPv6(b[n:], t.Src.Addr(), t.Dst.Addr(), ProtoTCP, ttl, 0, len(seg))
	}
	return append(b, seg...)
}

// AppendIPPacket appends an IP packet (IPv4 without DF, or IPv6) from src
// to dst carrying the already encoded transport message msg.
func AppendIPPacket(b []byte, src, dst netip.Addr, proto, ttl uint8, ipID uint16, msg []byte) []byte {
	n := len(b)
	if src.Is4() {
		b = append(b, make([]byte, IPv4Len)...)
		PutIPv4(b[n:], src, dst, proto, ttl, ipID, false, len(msg))
	} else {
		b = append(b, make([]byte, IPv6Len)...)
		PutIPv6(b[n:], src, dst, proto, ttl, 0, len(msg))
	}
	return append(b, msg...)
}

// AppendUDPPacket appends an IP packet (IPv4 without DF, or IPv6) carrying
// one UDP datagram from src to dst with its checksum.
func AppendUDPPacket(b []byte, src, dst netip.AddrPort, ttl uint8, ipID uint16, payload []byte) []byte {
	d := make([]byte, UDPLen+len(payload))
	binary.BigEndian.PutUint16(d[0:2], src.Port())
	binary.BigEndian.PutUint16(d[2:4], dst.Port())
	binary.BigEndian.PutUint16(d[4:6], uint16(len(d)))
	copy(d[UDPLen:], payload)
	c := TransportChecksum(src.Addr(), dst.Addr(), ProtoUDP, d)
	if c == 0 {
		c = 0xffff // RFC 768: a computed zero is sent as all ones
	}
	binary.BigEndian.PutUint16(d[6:8], c)
	return AppendIPPacket(b, src.Addr(), dst.Addr(), ProtoUDP, ttl, ipID, d)
}

// AppendICMPv4Packet appends an IPv4 packet carrying an ICMP message (RFC
// 792) of the given type and code whose body follows the 4 bytes of the
// header after the checksum (for errors: unused, then the quoted packet).
func AppendICMPv4Packet(b []byte, src, dst netip.Addr, typ, code, ttl uint8, ipID uint16, rest [4]byte, body []byte) []byte {
	m := make([]byte, 8+len(body))
	m[0], m[1] = typ, code
	copy(m[4:8], rest[:])
	copy(m[8:], body)
	binary.BigEndian.PutUint16(m[2:4], Checksum(m))
	return AppendIPPacket(b, src, dst, ProtoICMP, ttl, ipID, m)
}
