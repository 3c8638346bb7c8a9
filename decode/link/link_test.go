package link

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// udp4 is an IPv4/UDP packet 10.0.0.2:5000 → 10.0.0.53:53 with 4 bytes of
// payload.
var udp4 = []byte{
	0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 53, // IPv4, UDP
	0x13, 0x88, 0, 53, 0, 12, 0, 0, // UDP 5000 → 53, length 12
	'a', 'b', 'c', 'd',
}

// nflog wraps p in an NFLOG frame whose TLV headers are in order:
// NFULA_PACKET_HDR, NFULA_PREFIX (5 bytes, padded to 8), NFULA_PAYLOAD.
func nflog(order binary.AppendByteOrder, p []byte) []byte {
	tlv := func(typ uint16, v []byte) []byte {
		b := order.AppendUint16(nil, uint16(4+len(v)))
		b = order.AppendUint16(b, typ)
		b = append(b, v...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	b := []byte{2, 0, 0, 0} // AF_INET, version 0, resource ID 0 (big-endian)
	b = append(b, tlv(1, []byte{0x08, 0x00, 1, 0})...)
	b = append(b, tlv(10, []byte{0})...)
	return append(b, tlv(9, p)...)
}

// TestNFLOGTLVsAreInTheCapturingHostsByteOrder pins what tshark does
// (checked with TShark 4.0 on the corpus's nflog.pcap rewritten in both
// byte orders): the TLV headers are read in the byte order of the file's
// writer, and a frame whose TLVs are in the other order is not decoded.
func TestNFLOGTLVsAreInTheCapturingHostsByteOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		wrote binary.ByteOrder
		tlv   binary.AppendByteOrder
		ok    bool
	}{
		{"little-endian host", binary.LittleEndian, binary.LittleEndian, true},
		{"big-endian host", binary.BigEndian, binary.BigEndian, true},
		{"no byte order given: little-endian", nil, binary.LittleEndian, true},
		{"big-endian TLVs in a little-endian file", binary.LittleEndian, binary.BigEndian, false},
		{"little-endian TLVs in a big-endian file", binary.BigEndian, binary.LittleEndian, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := NFLOGPayload(nflog(tc.tlv, udp4), tc.wrote)
			if ok != tc.ok || (ok && !bytes.Equal(p, udp4)) {
				t.Errorf("NFLOGPayload = % x, %v; want the packet: %v", p, ok, tc.ok)
			}
			l := New()
			err := l.Decode(LinkTypeNFLOG, nflog(tc.tlv, udp4), tc.wrote)
			if tc.ok && (err != nil || len(l.Decoded) != 2 || l.Decoded[1] != layers.LayerTypeUDP) {
				t.Errorf("Decode: %v, layers %v", err, l.Decoded)
			}
			if !tc.ok && err != ErrNFLOG {
				t.Errorf("Decode: %v, want ErrNFLOG", err)
			}
		})
	}
	cut := nflog(binary.LittleEndian, udp4)
	cut = cut[:len(cut)-6]
	if p, ok := NFLOGPayload(cut, binary.LittleEndian); !ok || !bytes.Equal(p, udp4[:len(udp4)-6]) {
		t.Errorf("a packet cut by the snap length: % x, %v", p, ok)
	}
}

// TestDecodeFindsTheTransport decodes the same UDP packet behind every
// link layer and checks the offset of its payload.
func TestDecodeFindsTheTransport(t *testing.T) {
	eth := func(typ uint16, rest ...[]byte) []byte {
		b := append(make([]byte, 12), byte(typ>>8), byte(typ))
		return append(b, bytes.Join(rest, nil)...)
	}
	vlan := func(typ uint16) []byte { return []byte{0, 7, byte(typ >> 8), byte(typ)} }
	pppoe := []byte{0x11, 0, 0, 1, 0, byte(len(udp4) + 2), 0x00, 0x21}
	sll2 := append([]byte{0x08, 0}, make([]byte, 18)...)
	for _, tc := range []struct {
		name string
		lt   layers.LinkType
		b    []byte
		off  int
	}{
		{"Ethernet", layers.LinkTypeEthernet, eth(0x0800, udp4), 14},
		{"Ethernet, 802.1ad and 802.1Q tags", layers.LinkTypeEthernet, eth(0x88a8, vlan(0x8100), vlan(0x0800), udp4), 22},
		{"Ethernet, PPPoE session", layers.LinkTypeEthernet, eth(0x8864, pppoe, udp4), 22},
		{"Ethernet with padding", layers.LinkTypeEthernet, eth(0x0800, udp4, make([]byte, 6)), 14},
		{"Linux SLL2", layers.LinkTypeLinuxSLL2, append(sll2, udp4...), 20},
		{"BSD loopback", layers.LinkTypeNull, append([]byte{2, 0, 0, 0}, udp4...), 4},
		{"raw IP", layers.LinkTypeRaw, udp4, 0},
		{"NFLOG", LinkTypeNFLOG, nflog(binary.LittleEndian, udp4), 4 + 8 + 8 + 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := New()
			if err := l.Decode(tc.lt, tc.b, nil); err != nil {
				t.Fatalf("Decode: %v (layers %v)", err, l.Decoded)
			}
			if got := l.Decoded[len(l.Decoded)-1]; got != layers.LayerTypeUDP {
				t.Fatalf("layers %v", l.Decoded)
			}
			off, ok := Offset(tc.b, l.UDP.Payload)
			if !ok || off != tc.off+28 || !bytes.Equal(l.UDP.Payload, []byte("abcd")) {
				t.Errorf("payload % x at %d (%v), want abcd at %d", l.UDP.Payload, off, ok, tc.off+28)
			}
		})
	}
	if err := New().Decode(layers.LinkTypeIEEE802_11, udp4, nil); err != ErrUnsupported {
		t.Errorf("802.11: %v, want ErrUnsupported", err)
	}
}

// TestDecodeAllocatesNothing guards the hot path of both the decoder and
// the live capture's trimmer.
func TestDecodeAllocatesNothing(t *testing.T) {
	l := New()
	frame := append(append(make([]byte, 12), 0x08, 0), udp4...)
	if n := testing.AllocsPerRun(100, func() { l.Decode(layers.LinkTypeEthernet, frame, nil) }); n != 0 {
		t.Errorf("%v allocations per frame", n)
	}
}

func TestOffsetRejectsForeignSlices(t *testing.T) {
	a, b := make([]byte, 10), make([]byte, 10)
	if _, ok := Offset(a, b[2:4]); ok {
		t.Error("a slice of another array was placed")
	}
	if off, ok := Offset(a, a[3:5]); !ok || off != 3 {
		t.Errorf("Offset = %d, %v", off, ok)
	}
}

// FuzzDecode checks that no frame makes the link layer panic, and that
// every payload it returns lies within the frame.
func FuzzDecode(f *testing.F) {
	f.Add(append(append(make([]byte, 12), 0x08, 0), udp4...), uint16(layers.LinkTypeEthernet), false)
	f.Add(nflog(binary.BigEndian, udp4), uint16(LinkTypeNFLOG), true)
	f.Add(udp4, uint16(layers.LinkTypeRaw), false)
	l := New()
	f.Fuzz(func(t *testing.T, b []byte, lt uint16, big bool) {
		var order binary.ByteOrder = binary.LittleEndian
		if big {
			order = binary.BigEndian
		}
		if p, ok := NFLOGPayload(b, order); ok {
			if _, in := Offset(b, p); !in {
				t.Fatalf("NFLOG payload outside the frame")
			}
		}
		if l.Decode(layers.LinkType(lt), b, order) == nil && len(l.Decoded) > 0 {
			var last gopacket.DecodingLayer
			switch l.Decoded[len(l.Decoded)-1] {
			case layers.LayerTypeUDP:
				last = &l.UDP
			case layers.LayerTypeTCP:
				last = &l.TCP
			}
			if last != nil {
				if _, in := Offset(b, last.LayerPayload()); !in {
					t.Fatalf("transport payload outside the frame")
				}
			}
		}
	})
}
