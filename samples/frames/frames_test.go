package frames

import (
	"bytes"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestTCPPacketsMatchGopacketsSerialization builds the same segments with
// this package and with gopacket's serializer (the reference for lengths and
// checksums) and wants the same bytes.
func TestTCPPacketsMatchGopacketsSerialization(t *testing.T) {
	tests := []struct {
		name     string
		src, dst string
		flags    uint8
		opts     []byte
		payload  []byte
	}{
		{"IPv4 SYN", "10.0.0.2:41000", "142.250.74.113:443", SYN, nil, nil},
		{"IPv4 data with an odd length", "10.0.0.2:41000", "142.250.74.113:443", PSH | ACK, nil, []byte("hello, world!")},
		{"IPv4 with options", "10.0.0.2:41000", "142.250.74.113:443", ACK, []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, []byte("x")},
		{"IPv6 FIN", "[2001:db8::2]:41000", "[2001:db8::1]:443", FIN | ACK, nil, nil},
		{"IPv6 data", "[2001:db8::2]:41000", "[2001:db8::1]:443", PSH | ACK, nil, bytes.Repeat([]byte{0xab}, 1001)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := netip.MustParseAddrPort(tt.src), netip.MustParseAddrPort(tt.dst)
			seg := TCP{Src: src, Dst: dst, Seq: 1000, Ack: 5000, Flags: tt.flags, Window: 65535, Options: tt.opts}
			got := AppendTCPPacket(nil, seg, 64, 7, tt.payload)

			tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: 1000, Ack: 5000,
				Window: 65535, SYN: tt.flags&SYN != 0, ACK: tt.flags&ACK != 0, PSH: tt.flags&PSH != 0, FIN: tt.flags&FIN != 0}
			if len(tt.opts) > 0 {
				tcp.Options = []layers.TCPOption{{OptionType: 1}, {OptionType: 1},
					{OptionType: 8, OptionLength: 10, OptionData: tt.opts[4:]}}
			}
			var ip gopacket.SerializableLayer
			if src.Addr().Is4() {
				v4 := &layers.IPv4{Version: 4, TTL: 64, Id: 7, Protocol: layers.IPProtocolTCP, SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
				tcp.SetNetworkLayerForChecksum(v4)
				ip = v4
			} else {
				v6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
				tcp.SetNetworkLayerForChecksum(v6)
				ip = v6
			}
			buf := gopacket.NewSerializeBuffer()
			if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, tcp, gopacket.Payload(tt.payload)); err != nil {
				t.Fatal(err)
			}
			if want := buf.Bytes(); !bytes.Equal(got, want) {
				t.Errorf("bytes differ:\n got %x\nwant %x", got, want)
			}
		})
	}
}

func TestLinkFramesCarryTheIPPacketWithItsEtherType(t *testing.T) {
	v4 := AppendTCPPacket(nil, TCP{Src: netip.MustParseAddrPort("10.0.0.2:1"), Dst: netip.MustParseAddrPort("10.0.0.1:2")}, 64, 1, nil)
	v6 := AppendTCPPacket(nil, TCP{Src: netip.MustParseAddrPort("[::1]:1"), Dst: netip.MustParseAddrPort("[::1]:2")}, 64, 1, nil)
	mac1, mac2 := []byte{2, 0, 0, 0, 0, 1}, []byte{2, 0, 0, 0, 0, 2}
	for _, tt := range []struct {
		name  string
		frame []byte
		lt    layers.LinkType
		ip    []byte
		et    layers.EthernetType
	}{
		{"Ethernet IPv4", AppendEthernet(nil, mac2, mac1, v4), layers.LinkTypeEthernet, v4, layers.EthernetTypeIPv4},
		{"Ethernet IPv6", AppendEthernet(nil, mac2, mac1, v6), layers.LinkTypeEthernet, v6, layers.EthernetTypeIPv6},
		{"SLL2 outgoing", AppendSLL2(nil, 2, ARPHRDEther, PacketOutgoing, mac1, v4), layers.LinkTypeLinuxSLL2, v4, layers.EthernetTypeIPv4},
		{"SLL2 loopback", AppendSLL2(nil, 1, ARPHRDLoopback, PacketHost, make([]byte, 6), v6), layers.LinkTypeLinuxSLL2, v6, layers.EthernetTypeIPv6},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := gopacket.NewPacket(tt.frame, tt.lt, gopacket.Default)
			if el := p.ErrorLayer(); el != nil {
				t.Fatal(el.Error())
			}
			if tcp := p.Layer(layers.LayerTypeTCP); tcp == nil {
				t.Fatal("no TCP layer")
			}
			if !bytes.HasSuffix(tt.frame, tt.ip) {
				t.Error("the frame does not end with the IP packet")
			}
			switch l := p.LinkLayer().(type) {
			case *layers.Ethernet:
				if l.EthernetType != tt.et || !bytes.Equal(l.SrcMAC, mac1) {
					t.Errorf("ethernet %v from %v", l.EthernetType, l.SrcMAC)
				}
			case *layers.LinuxSLL2:
				if l.ProtocolType != tt.et {
					t.Errorf("sll2 protocol %v", l.ProtocolType)
				}
			default:
				t.Errorf("link layer %T", l)
			}
		})
	}
}

func TestUDPAndICMPPacketsMatchGopacketsSerialization(t *testing.T) {
	serialize := func(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	for _, tt := range []struct{ name, src, dst string }{
		{"IPv4", "10.0.0.2:5353", "10.0.0.1:53"},
		{"IPv6", "[2001:db8::2]:5353", "[2001:db8::1]:53"},
	} {
		t.Run("UDP "+tt.name, func(t *testing.T) {
			src, dst := netip.MustParseAddrPort(tt.src), netip.MustParseAddrPort(tt.dst)
			payload := []byte("a DNS query, say")
			got := AppendUDPPacket(nil, src, dst, 64, 9, payload)
			u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
			var ip gopacket.SerializableLayer
			if src.Addr().Is4() {
				v4 := &layers.IPv4{Version: 4, TTL: 64, Id: 9, Protocol: layers.IPProtocolUDP, SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
				u.SetNetworkLayerForChecksum(v4)
				ip = v4
			} else {
				v6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
				u.SetNetworkLayerForChecksum(v6)
				ip = v6
			}
			if want := serialize(t, ip, u, gopacket.Payload(payload)); !bytes.Equal(got, want) {
				t.Errorf("bytes differ:\n got %x\nwant %x", got, want)
			}
		})
	}
	t.Run("ICMP port unreachable", func(t *testing.T) {
		src, dst := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
		quoted := AppendUDPPacket(nil, netip.MustParseAddrPort("10.0.0.2:5353"), netip.MustParseAddrPort("10.0.0.1:53"), 64, 1, []byte("q"))
		got := AppendICMPv4Packet(nil, src, dst, 3, 3, 64, 2, [4]byte{}, quoted)
		ip := &layers.IPv4{Version: 4, TTL: 64, Id: 2, Protocol: layers.IPProtocolICMPv4, SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
		ic := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)}
		if want := serialize(t, ip, ic, gopacket.Payload(quoted)); !bytes.Equal(got, want) {
			t.Errorf("bytes differ:\n got %x\nwant %x", got, want)
		}
	})
}
