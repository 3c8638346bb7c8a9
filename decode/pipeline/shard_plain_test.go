package pipeline

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/samples/frames"
)

// plainAndOddCapture writes Ethernet and raw-IP frames that the sharded
// decoder's front end routes without its layer decoders (whole IPv4
// datagrams without options, IPv6 without extension headers) next to
// frames it must decode (IP options, a VLAN tag, an EtherType that
// disagrees with the version field, a datagram cut by the snap length),
// with malformed transport headers among both. It returns the path and the
// number of frames whose headers are malformed.
func plainAndOddCapture(t *testing.T) (string, int) {
	t.Helper()
	var b bytes.Buffer
	w, err := capture.NewWriter(&b, capture.Section{})
	if err != nil {
		t.Fatal(err)
	}
	eth, err := w.AddInterface(capture.Interface{LinkType: layers.LinkTypeEthernet, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := w.AddInterface(capture.Interface{LinkType: layers.LinkTypeRaw, Name: "tun0"})
	if err != nil {
		t.Fatal(err)
	}
	mac1, mac2 := []byte{2, 0, 0, 0, 0, 1}, []byte{2, 0, 0, 0, 0, 2}
	at := t0
	write := func(ifc int, frame []byte, orig int) {
		at = at.Add(10 * time.Millisecond)
		if err := w.WritePacket(ifc, at, frame, orig); err != nil {
			t.Fatal(err)
		}
	}
	ether := func(ip []byte) { f := frames.AppendEthernet(nil, mac1, mac2, ip); write(eth, f, len(f)) }
	rawIP := func(ip []byte) { write(raw, ip, len(ip)) }
	malformed := 0

	for i := range 6 {
		for _, fam := range []string{"192.0.2.%d", "2001:db8::%d"} {
			client := netip.AddrPortFrom(netip.MustParseAddr(fmt.Sprintf(fam, 10+i)), uint16(50000+i))
			server := netip.AddrPortFrom(netip.MustParseAddr(fmt.Sprintf(fam, 1)), 443)
			out := func(ip []byte) {
				if i%2 == 0 {
					ether(ip)
				} else {
					rawIP(ip)
				}
			}
			out(frames.AppendTCPPacket(nil, frames.TCP{Src: client, Dst: server, Seq: 100, Flags: frames.SYN, Window: 64240}, 64, 1, nil))
			out(frames.AppendTCPPacket(nil, frames.TCP{Src: server, Dst: client, Seq: 900, Ack: 101, Flags: frames.SYN | frames.ACK, Window: 64240}, 57, 0, nil))
			out(frames.AppendTCPPacket(nil, frames.TCP{Src: client, Dst: server, Seq: 101, Ack: 901, Flags: frames.ACK | frames.PSH, Window: 64240}, 64, 2, []byte("hello")))
			// DNS and NTP over UDP.
			resolver := netip.AddrPortFrom(server.Addr(), 53)
			out(frames.AppendUDPPacket(nil, client, resolver, 64, 3, []byte{0, 1, 2}))
			out(frames.AppendUDPPacket(nil, netip.AddrPortFrom(client.Addr(), 123), netip.AddrPortFrom(server.Addr(), 123), 64, 4, append([]byte{0x23}, make([]byte, 47)...)))
			// Transport headers the shard must call malformed: a TCP
			// segment shorter than its header, a TCP data offset past the
			// segment, a UDP datagram of 5 bytes.
			out(frames.AppendIPPacket(nil, client.Addr(), server.Addr(), frames.ProtoTCP, 64, 5, []byte{0xc3, 0x50, 1, 187, 0, 0, 0, 1, 0, 0}))
			seg := make([]byte, 20)
			seg[0], seg[1], seg[2], seg[3], seg[12] = 0xc3, 0x51, 1, 187, 0xf0
			out(frames.AppendIPPacket(nil, client.Addr(), server.Addr(), frames.ProtoTCP, 64, 6, seg))
			out(frames.AppendIPPacket(nil, client.Addr(), server.Addr(), frames.ProtoUDP, 64, 7, []byte{0xc3, 0x52, 0, 53, 0}))
			// A UDP header of 3 bytes: too short for the front end's ports.
			out(frames.AppendIPPacket(nil, client.Addr(), server.Addr(), frames.ProtoUDP, 64, 8, []byte{0xc3, 0x53, 0}))
			malformed += 4
		}
	}
	// Frames the front end decodes with its layer decoders.
	client := netip.MustParseAddrPort("192.0.2.77:40000")
	server := netip.MustParseAddrPort("192.0.2.1:443")
	syn := frames.AppendTCPPacket(nil, frames.TCP{Src: client, Dst: server, Seq: 7, Flags: frames.SYN, Window: 1024}, 64, 9, nil)
	// IPv4 with 4 bytes of options (IHL 6): one NOP option and End.
	opt := append(append(append([]byte{}, syn[:20]...), 1, 0, 0, 0), syn[20:]...)
	opt[0] = 0x46
	opt[2], opt[3] = byte(len(opt)>>8), byte(len(opt))
	opt[10], opt[11] = 0, 0
	c := frames.Checksum(opt[:24])
	opt[10], opt[11] = byte(c>>8), byte(c)
	ether(opt)
	// A VLAN-tagged frame.
	tagged := append(append([]byte{}, mac1...), mac2...)
	tagged = append(tagged, 0x81, 0x00, 0x00, 0x05, 0x08, 0x00)
	tagged = append(tagged, syn...)
	write(eth, tagged, len(tagged))
	// EtherType IPv6 with an IPv4 header.
	odd := frames.AppendEthernet(nil, mac1, mac2, syn)
	odd[12], odd[13] = 0x86, 0xdd
	write(eth, odd, len(odd))
	malformed++
	// A datagram cut by the snap length, with a malformed TCP header.
	bad := frames.AppendIPPacket(nil, client.Addr(), server.Addr(), frames.ProtoTCP, 64, 10, append([]byte{0x9c, 0x40, 1, 187, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0}, make([]byte, 60)...))
	write(raw, bad[:40], len(bad))
	malformed++
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plain.pcapng")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, malformed
}

// TestShardedDecodingOfPlainFramesEqualsSequential: the frames the front
// end routes by their IP header alone give the sequential decoder's
// events, and a malformed transport header among them is counted once, as
// the sequential decoder counts it, with the same first packet.
func TestShardedDecodingOfPlainFramesEqualsSequential(t *testing.T) {
	path, malformed := plainAndOddCapture(t)
	seq, _ := openWith(t, path, decode.Sequential)
	st := seq.Events.Stats[0]
	if st.Malformed != malformed || len(seq.Events.TCP) != 13 || len(seq.Events.NTP) != 12 {
		t.Fatalf("sequential decoder: %d malformed (want %d), %d TCP, %d NTP", st.Malformed, malformed, len(seq.Events.TCP), len(seq.Events.NTP))
	}
	note := false
	for _, n := range seq.Events.Notes {
		note = note || strings.HasPrefix(n.Msg, fmt.Sprintf("%d packets had a malformed or truncated header (first: packet 6)", malformed))
	}
	if !note {
		t.Fatalf("no note of the malformed headers from packet 6: %v", seq.Events.Notes)
	}
	for _, n := range []int{1, 2, 3} {
		got, exact := openWith(t, path, n)
		if !exact {
			t.Errorf("%d shards: inexact", n)
		}
		if d := firstDifference(seq, got); d != "" {
			t.Errorf("%d shards: %s differs from the sequential decoder: %+v against %+v", n, d, got.Events.Stats, seq.Events.Stats)
		}
	}
}
