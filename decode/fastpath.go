package decode

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// datagram is what the sharded decoder's front end needs of a frame to
// route it: the endpoints, the IP fields kept as evidence, and the
// transport segment with its header, undecoded.
type datagram struct {
	src, dst netip.Addr
	ip       IPInfo
	proto    layers.IPProtocol
	// segment is the IP payload: the TCP or UDP header and its payload.
	segment []byte
}

// plainDatagram finds, without gopacket's layer decoders, the TCP or UDP
// segment of the commonest frame: untagged Ethernet (IEEE 802.3) or raw
// IP carrying a whole, unfragmented IPv4 datagram without options (RFC
// 791 §3.1) or an IPv6 packet without extension headers (RFC 8200 §3). It
// reports false for anything else — VLAN tags, other link types, IP
// options, fragments, a datagram cut by the snap length, a length field
// of 0 — which the layer decoders then handle. For the frames it accepts,
// the layer decoders would have read the same fields and the same
// segment: the transport header itself is left to the flow decoder, which
// counts a malformed one as the front end would have.
func plainDatagram(lt layers.LinkType, frame []byte) (datagram, bool) {
	switch lt {
	case layers.LinkTypeEthernet:
		if len(frame) < 14 {
			return datagram{}, false
		}
		// The EtherType, not the version field, says which header
		// follows, as for the layer decoders.
		switch binary.BigEndian.Uint16(frame[12:14]) {
		case uint16(layers.EthernetTypeIPv4):
			return plainIPv4(frame[14:])
		case uint16(layers.EthernetTypeIPv6):
			return plainIPv6(frame[14:])
		}
	case layers.LinkTypeRaw, 12, 14:
		if len(frame) > 0 && frame[0]>>4 == 6 {
			return plainIPv6(frame)
		}
		return plainIPv4(frame)
	}
	return datagram{}, false
}

// plainIPv4 reads an IPv4 header of 20 bytes: the datagram must be whole
// (its total length within the frame and at least the header) and not a
// fragment.
func plainIPv4(ip []byte) (datagram, bool) {
	if len(ip) < 20 || ip[0] != 0x45 {
		return datagram{}, false
	}
	length := int(binary.BigEndian.Uint16(ip[2:4]))
	if length < 20 || length > len(ip) || binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 {
		return datagram{}, false // cut, TSO's 0, or a fragment (MF or offset)
	}
	proto := layers.IPProtocol(ip[9])
	if proto != layers.IPProtocolTCP && proto != layers.IPProtocolUDP {
		return datagram{}, false
	}
	return datagram{
		src:     netip.AddrFrom4([4]byte(ip[12:16])),
		dst:     netip.AddrFrom4([4]byte(ip[16:20])),
		ip:      IPInfo{TTL: ip[8], ID: binary.BigEndian.Uint16(ip[4:6])},
		proto:   proto,
		segment: ip[20:length],
	}, true
}

// plainIPv6 reads an IPv6 header whose next header is TCP or UDP: the
// packet must be whole, its payload length not 0 (a jumbogram).
func plainIPv6(ip []byte) (datagram, bool) {
	if len(ip) < 40 || ip[0]>>4 != 6 {
		return datagram{}, false
	}
	length := int(binary.BigEndian.Uint16(ip[4:6]))
	if length == 0 || 40+length > len(ip) {
		return datagram{}, false
	}
	proto := layers.IPProtocol(ip[6])
	if proto != layers.IPProtocolTCP && proto != layers.IPProtocolUDP {
		return datagram{}, false
	}
	return datagram{
		src:     netip.AddrFrom16([16]byte(ip[8:24])),
		dst:     netip.AddrFrom16([16]byte(ip[24:40])),
		ip:      IPInfo{TTL: ip[7], V6: true},
		proto:   proto,
		segment: ip[40 : 40+length],
	}, true
}

// decodeTCP decodes the TCP header at the start of data (RFC 9293 §3.1)
// into t, as gopacket's TCP.DecodeFromBytes does and with the same
// errors, but reads the options only on a SYN: the MSS option of a SYN is
// the only one the flow decoder reads, and walking the options of every
// segment (a timestamp on nearly all of them) was a twentieth of the
// decoding of a capture. On any other segment t.Options and t.Padding are
// left empty.
func decodeTCP(t *layers.TCP, data []byte) error {
	if len(data) < 20 || data[13]&0x02 != 0 {
		return t.DecodeFromBytes(data, gopacket.NilDecodeFeedback)
	}
	off := int(data[12]>>4) * 4
	if off < 20 || off > len(data) {
		return t.DecodeFromBytes(data, gopacket.NilDecodeFeedback) // its error
	}
	flags := data[13]
	t.SrcPort = layers.TCPPort(binary.BigEndian.Uint16(data[0:2]))
	t.DstPort = layers.TCPPort(binary.BigEndian.Uint16(data[2:4]))
	t.Seq = binary.BigEndian.Uint32(data[4:8])
	t.Ack = binary.BigEndian.Uint32(data[8:12])
	t.DataOffset = data[12] >> 4
	t.FIN = flags&0x01 != 0
	t.SYN = false
	t.RST = flags&0x04 != 0
	t.PSH = flags&0x08 != 0
	t.ACK = flags&0x10 != 0
	t.URG = flags&0x20 != 0
	t.ECE = flags&0x40 != 0
	t.CWR = flags&0x80 != 0
	t.NS = data[12]&0x01 != 0
	t.Window = binary.BigEndian.Uint16(data[14:16])
	t.Checksum = binary.BigEndian.Uint16(data[16:18])
	t.Urgent = binary.BigEndian.Uint16(data[18:20])
	t.Options = t.Options[:0]
	t.Padding = t.Padding[:0]
	t.Multipath = false
	t.Contents = data[:off]
	t.Payload = data[off:]
	return nil
}
