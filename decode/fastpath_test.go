package decode

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/decode/link"
	"github.com/modsniff/modsniff/samples/frames"
)

// FuzzPlainDatagram holds plainDatagram to the layer decoders: whatever
// frame it accepts, they decode to the same addresses, IP fields and
// transport segment, and the next layer they would decode is the one it
// names.
func FuzzPlainDatagram(f *testing.F) {
	mac := []byte{2, 0, 0, 0, 0, 1}
	for _, ip := range [][]byte{
		frames.AppendUDPPacket(nil, netip.MustParseAddrPort("192.0.2.1:5353"), netip.MustParseAddrPort("192.0.2.53:53"), 64, 7, []byte{1, 2, 3}),
		frames.AppendUDPPacket(nil, netip.MustParseAddrPort("[2001:db8::1]:5353"), netip.MustParseAddrPort("[2001:db8::53]:53"), 64, 0, []byte{1}),
		frames.AppendTCPPacket(nil, frames.TCP{Src: netip.MustParseAddrPort("192.0.2.1:40000"), Dst: netip.MustParseAddrPort("192.0.2.2:443"), Flags: frames.SYN}, 64, 9, nil),
		frames.AppendIPPacket(nil, netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), frames.ProtoTCP, 64, 1, []byte{1, 2, 3, 4, 5}),
	} {
		f.Add(uint16(layers.LinkTypeEthernet), frames.AppendEthernet(nil, mac, mac, ip))
		f.Add(uint16(layers.LinkTypeRaw), ip)
	}
	ll := link.New()
	f.Fuzz(func(t *testing.T, lt uint16, frame []byte) {
		g, ok := plainDatagram(layers.LinkType(lt), frame)
		if !ok {
			return
		}
		ll.Decode(layers.LinkType(lt), frame, nil) // the transport header may be malformed
		var ip gopacket.DecodingLayer
		var src, dst netip.Addr
		var info IPInfo
		for _, l := range ll.Decoded {
			switch l {
			case layers.LayerTypeIPv4:
				v := &ll.IPv4
				ip, info = v, IPInfo{TTL: v.TTL, ID: v.Id}
				src, _ = netip.AddrFromSlice(v.SrcIP)
				dst, _ = netip.AddrFromSlice(v.DstIP)
			case layers.LayerTypeIPv6:
				v := &ll.IPv6
				ip, info = v, IPInfo{TTL: v.HopLimit, V6: true}
				src, _ = netip.AddrFromSlice(v.SrcIP)
				dst, _ = netip.AddrFromSlice(v.DstIP)
			}
		}
		if ip == nil {
			t.Fatalf("accepted a frame the layer decoders find no IP header in: %v", ll.Decoded)
		}
		if ip.NextLayerType() != g.proto.LayerType() {
			t.Fatalf("next layer %v, accepted as %v", ip.NextLayerType(), g.proto)
		}
		if src != g.src || dst != g.dst || info != g.ip {
			t.Fatalf("read %v → %v %+v, the layer decoders %v → %v %+v", g.src, g.dst, g.ip, src, dst, info)
		}
		if !bytes.Equal(ip.LayerPayload(), g.segment) || len(ip.LayerPayload()) != len(g.segment) {
			t.Fatalf("segment of %d bytes, the layer decoders' of %d", len(g.segment), len(ip.LayerPayload()))
		}
	})
}

// FuzzDecodeTCP holds decodeTCP to gopacket's TCP decoder: the same error,
// and the same header fields, contents and payload; the options too on a
// SYN, the only segment whose options the flow decoder reads.
func FuzzDecodeTCP(f *testing.F) {
	src, dst := netip.MustParseAddrPort("192.0.2.1:40000"), netip.MustParseAddrPort("192.0.2.2:443")
	for _, seg := range []frames.TCP{
		{Src: src, Dst: dst, Seq: 1, Flags: frames.SYN},
		{Src: dst, Dst: src, Seq: 7, Ack: 2, Flags: frames.SYN | frames.ACK},
		{Src: src, Dst: dst, Seq: 2, Ack: 8, Flags: frames.ACK | frames.PSH},
		{Src: src, Dst: dst, Seq: 9, Ack: 8, Flags: frames.FIN | frames.ACK},
		{Src: dst, Dst: src, Seq: 9, Flags: frames.RST},
	} {
		ip := frames.AppendTCPPacket(nil, seg, 64, 1, []byte("payload"))
		f.Add(ip[20:])
	}
	// A header with options (NOP, NOP, timestamps) and one with a cut
	// option, both without SYN.
	f.Add([]byte{0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 2, 0, 0, 0, 8, 0x80, 0x18, 0xff, 0xff, 0, 0, 0, 0,
		1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 'x'})
	f.Add([]byte{0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 2, 0, 0, 0, 8, 0x60, 0x12, 0xff, 0xff, 0, 0, 0, 0, 2, 9, 5, 0})
	f.Add([]byte{0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 2, 0, 0, 0, 8, 0x40, 0x10, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast, ref layers.TCP
		errFast := decodeTCP(&fast, data)
		errRef := ref.DecodeFromBytes(data, gopacket.NilDecodeFeedback)
		if (errFast == nil) != (errRef == nil) || errFast != nil && errFast.Error() != errRef.Error() {
			t.Fatalf("error %v, gopacket's %v", errFast, errRef)
		}
		if errRef != nil {
			return
		}
		if fast.SrcPort != ref.SrcPort || fast.DstPort != ref.DstPort || fast.Seq != ref.Seq || fast.Ack != ref.Ack ||
			fast.DataOffset != ref.DataOffset || fast.Window != ref.Window || fast.Checksum != ref.Checksum || fast.Urgent != ref.Urgent {
			t.Fatalf("header %+v, gopacket's %+v", fast, ref)
		}
		if [9]bool{fast.FIN, fast.SYN, fast.RST, fast.PSH, fast.ACK, fast.URG, fast.ECE, fast.CWR, fast.NS} !=
			[9]bool{ref.FIN, ref.SYN, ref.RST, ref.PSH, ref.ACK, ref.URG, ref.ECE, ref.CWR, ref.NS} {
			t.Fatalf("flags %+v, gopacket's %+v", fast, ref)
		}
		if !bytes.Equal(fast.Contents, ref.Contents) || !bytes.Equal(fast.Payload, ref.Payload) {
			t.Fatalf("contents %x payload %x, gopacket's %x %x", fast.Contents, fast.Payload, ref.Contents, ref.Payload)
		}
		if ref.SYN && len(fast.Options) != len(ref.Options) {
			t.Fatalf("SYN options %v, gopacket's %v", fast.Options, ref.Options)
		}
	})
}
