package decode

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// synFlood feeds n SYN-only connections from distinct client ports, one
// millisecond apart, to a decoder with the given flow limit.
func synFlood(t testing.TB, n, maxFlows int) *Decoder {
	d := New(0, Options{Limits: Limits{MaxFlows: maxFlows}})
	w := &wire{d: d, clock: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), ttl: 64, link: layers.LinkTypeEthernet}
	if tt, ok := t.(*testing.T); ok {
		w.t = tt
	} else {
		w.t = &testing.T{}
	}
	server := netip.MustParseAddrPort("192.0.2.80:443")
	for i := range n {
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 40000)
		w.tcp(client, server, 1000, 0, tcpFlags{syn: true}, nil)
	}
	return d
}

func TestFlowTableEvictsLongestIdleFirst(t *testing.T) {
	d := synFlood(t, 100, 10)
	// The limit is enforced before each packet is decoded, so the last
	// packet's new flow is the eleventh: 89 connections were evicted, the
	// oldest first.
	if got := d.stats.FlowsEvicted; got != 89 {
		t.Errorf("FlowsEvicted = %d, want 89", got)
	}
	if len(d.flows) != 11 || d.openFlows.n != 11 || d.endedFlows.n != 0 {
		t.Fatalf("live flows %d (open list %d, ended list %d), want 11", len(d.flows), d.openFlows.n, d.endedFlows.n)
	}
	for f := d.openFlows.head; f != nil; f = f.next {
		if f.seq < 89 {
			t.Errorf("flow #%d survived, but it is older than the 10 most recent", f.seq)
		}
	}
	ev := d.Finish()
	if len(ev.TCP) != 100 {
		t.Errorf("%d connections in the events, want all 100", len(ev.TCP))
	}
	noted := 0
	for _, n := range ev.Notes {
		if n.Msg == fmt.Sprintf("more than %d TCP connections were live at once: the longest-idle ones were finished early", 10) {
			noted++
		}
	}
	if noted != 1 {
		t.Errorf("the flow limit was noted %d times, want once: %v", noted, ev.Notes)
	}
}

func TestFlowTableKeepsRecentlyActiveFlows(t *testing.T) {
	w := newWire(t)
	w.d = New(0, Options{Limits: Limits{MaxFlows: 2}})
	server := netip.MustParseAddrPort("192.0.2.80:443")
	a := netip.MustParseAddrPort("10.0.0.1:40001")
	b := netip.MustParseAddrPort("10.0.0.2:40002")
	c := netip.MustParseAddrPort("10.0.0.3:40003")
	w.tcp(a, server, 1000, 0, tcpFlags{syn: true}, nil)
	w.tcp(b, server, 1000, 0, tcpFlags{syn: true}, nil)
	// a is active again: b is now the longest idle and goes first.
	w.tcp(server, a, 5000, 1001, tcpFlags{syn: true, ack: true}, nil)
	w.tcp(c, server, 1000, 0, tcpFlags{syn: true}, nil)
	w.tcp(c, server, 1001, 0, tcpFlags{ack: true}, nil) // the sweep runs before this packet
	if _, ok := w.d.flows[keyOf(b, server)]; ok {
		t.Errorf("the longest-idle flow b is still live")
	}
	for _, p := range []netip.AddrPort{a, c} {
		if _, ok := w.d.flows[keyOf(p, server)]; !ok {
			t.Errorf("flow from %v was evicted although it was active", p)
		}
	}
}

func TestFlowTableForgetsEndedFlowsSooner(t *testing.T) {
	w := newWire(t)
	server := netip.MustParseAddrPort("192.0.2.80:443")
	closed := netip.MustParseAddrPort("10.0.0.1:40001")
	open := netip.MustParseAddrPort("10.0.0.2:40002")
	w.tcp(closed, server, 1000, 0, tcpFlags{syn: true}, nil)
	w.tcp(server, closed, 5000, 1001, tcpFlags{rst: true, ack: true}, nil)
	w.tcp(open, server, 1000, 0, tcpFlags{syn: true}, nil)
	w.after(time.Minute)
	w.tcp(netip.MustParseAddrPort("10.0.0.3:40003"), server, 1000, 0, tcpFlags{syn: true}, nil)
	if _, ok := w.d.flows[keyOf(closed, server)]; ok {
		t.Errorf("a reset flow idle for a minute is still live")
	}
	if _, ok := w.d.flows[keyOf(open, server)]; !ok {
		t.Errorf("an open flow idle for a minute was forgotten (the open idle limit is %v)", w.d.lim.FlowIdle)
	}
}

// BenchmarkSYNFloodPastFlowLimit measures SYN-only flows beyond the flow
// table's limit: each new flow evicts one in O(1), so the time per flow
// stays flat as the number of flows over the limit grows (compare the
// ns/op of the sizes).
func BenchmarkSYNFloodPastFlowLimit(b *testing.B) {
	for _, n := range []int{20000, 80000} {
		b.Run(fmt.Sprintf("flows=%d", n), func(b *testing.B) {
			for range b.N {
				synFlood(b, n, 1024).Finish()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/flow")
		})
	}
}

func TestPerPacketNotesAreCappedWithACount(t *testing.T) {
	w := newWire(t)
	server := netip.MustParseAddrPort("192.0.2.53:53")
	for i := range 1000 {
		w.udp(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), uint16(30000+i)), server, []byte{1, 2, 3})
	}
	ev := w.d.Finish()
	short, summary := 0, ""
	for _, n := range ev.Notes {
		switch {
		case strings.Contains(n.Msg, "shorter than its 12-byte header"):
			short++
		case strings.Contains(n.Msg, "more notes like the above"):
			summary = n.Msg
		}
	}
	if short != maxNotesPerKind {
		t.Errorf("%d notes about short DNS messages, want the first %d", short, maxNotesPerKind)
	}
	want := fmt.Sprintf("984 more notes like the above (DNS messages shorter than their header), from packet %d on, were left out", maxNotesPerKind+1)
	if summary != want {
		t.Errorf("summary note %q, want %q", summary, want)
	}
}

func TestGroupThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 12345: "12,345", 1234567: "1,234,567"} {
		if got := groupThousands(n); got != want {
			t.Errorf("groupThousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFragmentsThatNeverCompleteAreSummarised(t *testing.T) {
	w := newWire(t)
	w.d = New(0, Options{Limits: Limits{MaxFragDatagrams: 4}})
	src, dst := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("192.0.2.80")
	for i := range 10 {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: uint16(i), Flags: layers.IPv4MoreFragments, Protocol: layers.IPProtocolUDP,
			SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, gopacket.Payload(make([]byte, 64))); err != nil {
			t.Fatal(err)
		}
		w.frame(w.linkFrame(buf.Bytes(), false))
	}
	ev := w.d.Finish()
	want := "IP fragments: 10 seen, 0 datagrams reassembled; 6 evicted incomplete to stay within the defragmenter's limits (4 datagrams"
	if !slices.ContainsFunc(ev.Notes, func(n Note) bool { return strings.HasPrefix(n.Msg, want) }) {
		t.Errorf("no note starting %q in %v", want, ev.Notes)
	}
}
