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

// busyCapture writes a raw-IP capture of many short flows spread over
// twenty minutes of capture time, so that sweeps finish idle flows while
// others are live: HTTP requests answered or not, flows that stop after
// two bytes (their protocol is decided when they are finished), DNS
// queries and answers, DNS messages shorter than their header (a capped
// kind of note), ICMP errors quoting flows and queries, and IPv4
// fragments.
func busyCapture(t *testing.T) string {
	t.Helper()
	c := newRawCapture(t, 700*time.Millisecond)
	write := c.write
	server := netip.MustParseAddrPort("192.0.2.80:80")
	resolver := netip.MustParseAddrPort("192.0.2.53:53")
	type conn struct {
		c       netip.AddrPort
		cs, ss  uint32
		payload []byte
		i       int
	}
	var live []conn
	// Twenty messages too short for DNS from one socket: one shard's
	// notes of that kind come first.
	for range 20 {
		write(frames.AppendUDPPacket(nil, netip.MustParseAddrPort("10.9.9.9:5353"), resolver, 64, 0, []byte{9}))
	}
	for i := range 600 {
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i % 3), 2}), uint16(40000+i))
		cs, ss := uint32(1000*i), uint32(7000*i+1)
		write(frames.AppendTCPPacket(nil, frames.TCP{Src: client, Dst: server, Seq: cs, Flags: frames.SYN}, 64, uint16(i), nil))
		write(frames.AppendTCPPacket(nil, frames.TCP{Src: server, Dst: client, Seq: ss, Ack: cs + 1, Flags: frames.SYN | frames.ACK}, 60, 0, nil))
		var req []byte
		switch i % 4 {
		case 0, 1:
			req = []byte(fmt.Sprintf("GET /%d HTTP/1.1\r\nHost: h%d.example\r\nUser-Agent: Go-http-client/1.1 %s\r\n\r\n", i, i%7, strings.Repeat("x", i%50)))
		case 2:
			req = []byte("GE") // decided when the flow is finished
		}
		if i%6 == 5 {
			// DNS over TCP that stops inside a message: finishing the
			// flow notes it.
			dc := netip.AddrPortFrom(client.Addr(), uint16(30000+i))
			write(frames.AppendTCPPacket(nil, frames.TCP{Src: dc, Dst: netip.AddrPortFrom(resolver.Addr(), 53), Seq: 5, Flags: frames.SYN}, 64, 0, nil))
			write(frames.AppendTCPPacket(nil, frames.TCP{Src: dc, Dst: netip.AddrPortFrom(resolver.Addr(), 53), Seq: 6, Flags: frames.ACK}, 64, 0, []byte{0, 40, 1, 2, 3}))
		}
		live = append(live, conn{client, cs + 1, ss + 1, req, i})
		// Earlier connections go on: a request, an answer, a close.
		if len(live) > 5 {
			c := live[0]
			live = live[1:]
			switch {
			case c.i%4 == 0:
				// Out of order: the second half first, held until the
				// first comes.
				h := len(c.payload) / 2
				write(frames.AppendTCPPacket(nil, frames.TCP{Src: c.c, Dst: server, Seq: c.cs + uint32(h), Ack: c.ss, Flags: frames.ACK | frames.PSH}, 64, 0, c.payload[h:]))
				write(frames.AppendTCPPacket(nil, frames.TCP{Src: c.c, Dst: server, Seq: c.cs, Ack: c.ss, Flags: frames.ACK}, 64, 0, c.payload[:h]))
			case c.payload != nil:
				write(frames.AppendTCPPacket(nil, frames.TCP{Src: c.c, Dst: server, Seq: c.cs, Ack: c.ss, Flags: frames.ACK | frames.PSH}, 64, 0, c.payload))
			}
			if c.i%4 == 1 {
				resp := []byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
				write(frames.AppendTCPPacket(nil, frames.TCP{Src: server, Dst: c.c, Seq: c.ss, Ack: c.cs + uint32(len(c.payload)), Flags: frames.ACK | frames.PSH}, 60, 0, resp))
				write(frames.AppendTCPPacket(nil, frames.TCP{Src: c.c, Dst: server, Seq: c.cs + uint32(len(c.payload)), Flags: frames.ACK | frames.FIN}, 64, 0, nil))
			}
		}
		q := netip.AddrPortFrom(client.Addr(), uint16(20000+i))
		switch i % 5 {
		case 0:
			write(frames.AppendUDPPacket(nil, q, resolver, 64, 0, dnsQuery(uint16(i), fmt.Sprintf("q%d.example", i))))
			write(frames.AppendUDPPacket(nil, resolver, q, 60, 0, dnsAnswer(uint16(i), fmt.Sprintf("q%d.example", i))))
		case 1:
			write(frames.AppendUDPPacket(nil, q, resolver, 64, 0, []byte{1, 2, 3})) // shorter than a header
		case 2:
			query := frames.AppendUDPPacket(nil, q, resolver, 64, 0, dnsQuery(uint16(i), "gone.example"))
			write(query)
			write(frames.AppendICMPv4Packet(nil, resolver.Addr(), q.Addr(), 3, 3, 60, 0, [4]byte{}, query))
		case 3:
			quoted := frames.AppendTCPPacket(nil, frames.TCP{Src: client, Dst: server, Seq: cs, Flags: frames.SYN}, 64, 0, nil)
			write(frames.AppendICMPv4Packet(nil, netip.MustParseAddr("192.0.2.1"), client.Addr(), 3, 13, 250, 0, [4]byte{}, quoted[:28]))
		case 4:
			for _, f := range fragments(q, resolver, dnsQuery(uint16(i), fmt.Sprintf("frag%d.example", i)), uint16(i)) {
				write(f)
			}
		}
		if i%100 == 99 {
			c.at = c.at.Add(6 * time.Minute) // the open flows go idle
		}
	}
	return c.file("busy.pcapng")
}

// rawCapture writes a raw-IP pcapng capture, a frame every step of
// capture time from t0, to a file in a test's temporary directory.
type rawCapture struct {
	t    *testing.T
	b    bytes.Buffer
	w    *capture.Writer
	ifc  int
	at   time.Time
	step time.Duration
}

func newRawCapture(t *testing.T, step time.Duration) *rawCapture {
	t.Helper()
	c := &rawCapture{t: t, at: t0, step: step}
	var err error
	if c.w, err = capture.NewWriter(&c.b, capture.Section{}); err != nil {
		t.Fatal(err)
	}
	if c.ifc, err = c.w.AddInterface(capture.Interface{LinkType: layers.LinkTypeRaw, Name: "raw"}); err != nil {
		t.Fatal(err)
	}
	return c
}

// write adds the IP packet pkt, a step after the previous one.
func (c *rawCapture) write(pkt []byte) {
	c.at = c.at.Add(c.step)
	if err := c.w.WritePacket(c.ifc, c.at, pkt, len(pkt)); err != nil {
		c.t.Fatal(err)
	}
}

// file writes the capture to name in the test's temporary directory and
// returns its path.
func (c *rawCapture) file(name string) string {
	if err := c.w.Flush(); err != nil {
		c.t.Fatal(err)
	}
	path := filepath.Join(c.t.TempDir(), name)
	if err := os.WriteFile(path, c.b.Bytes(), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return path
}

// dnsQuery encodes a query for the A record of name (RFC 1035 §4.1).
func dnsQuery(id uint16, name string) []byte {
	m := []byte{byte(id >> 8), byte(id), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, l := range strings.Split(name, ".") {
		m = append(m, byte(len(l)))
		m = append(m, l...)
	}
	return append(m, 0, 0, 1, 0, 1)
}

// dnsAnswer encodes a response to dnsQuery with one A record.
func dnsAnswer(id uint16, name string) []byte {
	m := dnsQuery(id, name)
	m[2], m[3], m[7] = 0x81, 0x80, 1
	return append(m, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7)
}

// fragments splits a UDP datagram into two IPv4 fragments (RFC 791).
func fragments(src, dst netip.AddrPort, payload []byte, id uint16) [][]byte {
	whole := frames.AppendUDPPacket(nil, src, dst, 64, id, payload)
	udp := whole[frames.IPv4Len:]
	first, rest := udp[:16], udp[16:]
	a := frames.AppendIPPacket(nil, src.Addr(), dst.Addr(), frames.ProtoUDP, 64, id, first)
	a[6] |= 0x20 // more fragments
	b := frames.AppendIPPacket(nil, src.Addr(), dst.Addr(), frames.ProtoUDP, 64, id, rest)
	b[6], b[7] = 0, 2 // offset 16 bytes
	for _, p := range [][]byte{a, b} {
		p[10], p[11] = 0, 0
		c := frames.Checksum(p[:frames.IPv4Len])
		p[10], p[11] = byte(c>>8), byte(c)
	}
	return [][]byte{a, b}
}

// TestShardedDecodingOfManyFlowsEqualsSequential decodes a capture where
// sweeps finish flows in every shard at the same moments, notes of a
// capped kind come from every shard, and ICMP errors and fragments are
// routed: the events are the sequential ones.
func TestShardedDecodingOfManyFlowsEqualsSequential(t *testing.T) {
	path := busyCapture(t)
	seq, _ := openWith(t, path, decode.Sequential)
	ev := seq.Events
	if len(ev.TCP) < 700 || len(ev.HTTP) < 250 || len(ev.DNS) < 300 || len(ev.ICMP) < 200 || ev.Stats[0].Reassembled != 120 {
		t.Fatalf("the capture does not hold what it should: %d TCP, %d HTTP, %d DNS, %d ICMP, %d reassembled",
			len(ev.TCP), len(ev.HTTP), len(ev.DNS), len(ev.ICMP), ev.Stats[0].Reassembled)
	}
	capped := false
	for _, n := range ev.Notes {
		capped = capped || strings.Contains(n.Msg, "more notes like the above (DNS messages shorter")
	}
	if !capped {
		t.Fatalf("no capped notes: %v", ev.Notes)
	}
	for _, n := range []int{1, 2, 3, 4, 7} {
		got, exact := openWith(t, path, n)
		if !exact {
			t.Errorf("%d shards: a shard reached its share of a limit", n)
		}
		if d := firstDifference(seq, got); d != "" {
			t.Errorf("%d shards: %s differs from the sequential decoder", n, d)
		}
	}
}

// nearLimitCases are limits that busyCapture reaches, one kind each.
var nearLimitCases = []struct {
	name string
	lim  decode.Limits
}{
	{"flow table", decode.Limits{MaxFlows: 8}},
	{"events of a kind", decode.Limits{MaxEvents: 250}},
	{"reassembly buffer", decode.Limits{TotalBuffer: 90}},
}

// TestShardedDecodingNearALimitIsDoneAgain shows what happens when an
// input comes near a limit as a whole: a shard reaches its share, says so,
// and Open decodes the file again with one flow decoder, so that what the
// limit cuts is what the sequential decoder cuts.
func TestShardedDecodingNearALimitIsDoneAgain(t *testing.T) {
	path := busyCapture(t)
	for _, tc := range nearLimitCases {
		t.Run(tc.name, func(t *testing.T) {
			opt := decode.Options{Limits: tc.lim, Shards: decode.Sequential}
			want, err := Open(0, path, nil, opt)
			if err != nil {
				t.Fatal(err)
			}
			opt.Shards = 2
			r, err := capture.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			_, exact := decodeInput(0, path, r, opt, false)
			r.Close()
			if exact {
				t.Fatalf("sharded decoding near the limit reported exact results")
			}
			got, err := Open(0, path, nil, opt)
			if err != nil {
				t.Fatal(err)
			}
			if d := firstDifference(want, got); d != "" {
				t.Errorf("%s differs from the sequential decoder", d)
			}
		})
	}
}

// TestOneFlowDecoderNearALimitNeedsNoSecondPass shows the pipeline of two
// CPUs: one flow decoder behind the front end has the whole limits and
// sees every flow in order, so what a limit cuts is what the sequential
// decoder cuts, and the file is not decoded again.
func TestOneFlowDecoderNearALimitNeedsNoSecondPass(t *testing.T) {
	path := busyCapture(t)
	for _, tc := range nearLimitCases {
		t.Run(tc.name, func(t *testing.T) {
			want, err := Open(0, path, nil, decode.Options{Limits: tc.lim, Shards: decode.Sequential})
			if err != nil {
				t.Fatal(err)
			}
			r, err := capture.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			got, exact := decodeInput(0, path, r, decode.Options{Limits: tc.lim, Shards: 1}, true)
			r.Close()
			if !exact || got == nil {
				t.Fatalf("one flow decoder near the limit: exact %v, input %v", exact, got != nil)
			}
			if d := firstDifference(want, got); d != "" {
				t.Errorf("%s differs from the sequential decoder", d)
			}
		})
	}
}
