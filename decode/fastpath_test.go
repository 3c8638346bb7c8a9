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
