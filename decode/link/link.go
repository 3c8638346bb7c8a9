// Package link decodes captured frames from their link-layer header down to
// the transport header, without allocating: Ethernet with up to three VLAN
// tags (IEEE 802.1Q/802.1ad) and PPPoE sessions (RFC 2516), Linux cooked
// captures (SLL, SLL2), BSD loopback, raw IP and NFLOG. It is the one link
// layer of modsniff: the decoder and the live capture's privacy trimmer
// both use it.
package link

import (
	"encoding/binary"
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// LinkTypeNFLOG is LINKTYPE_NFLOG: Linux netfilter log messages, the
// logged packet being one TLV among several.
const LinkTypeNFLOG layers.LinkType = 239

// Errors of Layers.Decode.
var (
	// ErrUnsupported is returned for a link type that is not decoded.
	ErrUnsupported = errors.New("link type not decoded")
	// ErrNFLOG is returned for an NFLOG frame without a well-formed
	// NFULA_PAYLOAD TLV.
	ErrNFLOG = errors.New("NFLOG frame without a packet")
)

// Layers holds one preallocated instance of every layer decoded; Decode
// fills them in place. A Layers is not safe for concurrent use, and its
// layers alias the frame last decoded.
type Layers struct {
	Ethernet layers.Ethernet
	Dot1Q    layers.Dot1Q
	SLL      layers.LinuxSLL
	SLL2     layers.LinuxSLL2
	Loopback layers.Loopback
	PPPoE    PPPoESession
	IPv4     layers.IPv4
	IPv6     layers.IPv6
	IPv6Ext  layers.IPv6ExtensionSkipper
	IPv6Frag layers.IPv6Fragment
	UDP      layers.UDP
	TCP      layers.TCP
	ICMPv4   layers.ICMPv4
	ICMPv6   layers.ICMPv6

	// Decoded lists the layers the last Decode filled, outermost first.
	Decoded []gopacket.LayerType

	parsers [len(firstLayers)]*gopacket.DecodingLayerParser
}

// firstLayers are the layers a frame may start with, indexed as
// firstLayer returns them.
var firstLayers = [...]gopacket.LayerType{
	layers.LayerTypeEthernet, layers.LayerTypeLinuxSLL, layers.LayerTypeLinuxSLL2,
	layers.LayerTypeLoopback, layers.LayerTypeIPv4, layers.LayerTypeIPv6,
}

// New returns Layers ready to decode.
func New() *Layers {
	l := &Layers{Decoded: make([]gopacket.LayerType, 0, 12)}
	for i, first := range firstLayers {
		// A sparse container (a slice indexed by layer type) instead of the
		// default map: the lookup per layer is on the hot path.
		dlc := gopacket.DecodingLayerContainer(gopacket.DecodingLayerSparse(nil))
		for _, d := range []gopacket.DecodingLayer{&l.Ethernet, &l.Dot1Q, &l.SLL, &l.SLL2, &l.Loopback, &l.PPPoE,
			&l.IPv4, &l.IPv6, &l.IPv6Ext, &l.IPv6Frag, &l.UDP, &l.TCP, &l.ICMPv4, &l.ICMPv6} {
			dlc = dlc.Put(d)
		}
		p := gopacket.NewDecodingLayerParser(first)
		p.SetDecodingLayerContainer(dlc)
		p.IgnoreUnsupported = true
		l.parsers[i] = p
	}
	return l
}

// Decode decodes frame, of link type lt, as far as a layer of Layers goes:
// Decoded lists the layers filled. order is the byte order of the host that
// captured the frame, which NFLOG's TLV headers are in (nil: little-endian).
// It returns ErrUnsupported for a link type it does not decode, ErrNFLOG,
// or the error of the layer that could not be decoded (truncated or
// malformed), the layers before it being filled.
func (l *Layers) Decode(lt layers.LinkType, frame []byte, order binary.ByteOrder) error {
	l.Decoded = l.Decoded[:0]
	if lt == LinkTypeNFLOG {
		var ok bool
		if frame, ok = NFLOGPayload(frame, order); !ok {
			return ErrNFLOG
		}
		lt = layers.LinkTypeRaw
	}
	first, ok := firstLayer(lt, frame)
	if !ok {
		return ErrUnsupported
	}
	return l.parsers[first].DecodeLayers(frame, &l.Decoded)
}

// firstLayer returns the index in firstLayers of the layer a frame of the
// given link type starts with.
func firstLayer(lt layers.LinkType, data []byte) (int, bool) {
	switch lt {
	case layers.LinkTypeEthernet:
		return 0, true
	case layers.LinkTypeLinuxSLL:
		return 1, true
	case layers.LinkTypeLinuxSLL2:
		return 2, true
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return 3, true
	case layers.LinkTypeIPv4:
		return 4, true
	case layers.LinkTypeIPv6:
		return 5, true
	case layers.LinkTypeRaw, 12, 14:
		if len(data) > 0 && data[0]>>4 == 6 {
			return 5, true
		}
		return 4, true
	}
	return 0, false
}

// NFLOGPayload returns the packet carried in a LINKTYPE_NFLOG frame: a
// 4-byte nfgenmsg header (family, version, resource ID) followed by TLVs
// (struct nfattr) padded to 4 bytes, type 9 (NFULA_PAYLOAD) holding the IP
// packet. The TLVs' length and type are in the byte order of the host that
// captured the frame (tcpdump.org LINKTYPE_NFLOG; libpcap and Wireshark
// read them in the byte order of the file's writer): order, little-endian
// when nil. The top bit of the type (NLA_F_NESTED) is ignored. The packet
// may be cut short, as a snap length cuts it.
func NFLOGPayload(b []byte, order binary.ByteOrder) ([]byte, bool) {
	if order == nil {
		order = binary.LittleEndian
	}
	if len(b) < 4 {
		return nil, false
	}
	b = b[4:]
	for len(b) >= 4 {
		l := int(order.Uint16(b[0:2]))
		t := order.Uint16(b[2:4]) &^ 0x8000
		if l < 4 {
			return nil, false
		}
		if t == 9 {
			// The last TLV: a snap length (or the privacy trimmer) may have
			// cut the packet in it short.
			return b[4:min(l, len(b))], true
		}
		if l > len(b) {
			return nil, false
		}
		l = (l + 3) &^ 3
		if l > len(b) {
			return nil, false
		}
		b = b[l:]
	}
	return nil, false
}

// Offset returns where sub, a slice of frame as the layers return them,
// starts in frame; ok is false when sub does not lie within frame.
func Offset(frame, sub []byte) (off int, ok bool) {
	off = cap(frame) - cap(sub)
	if off < 0 || off+len(sub) > len(frame) {
		return 0, false
	}
	if len(sub) > 0 && &frame[off] != &sub[0] {
		return 0, false
	}
	return off, true
}
