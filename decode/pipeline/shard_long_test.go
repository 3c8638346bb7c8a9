package pipeline

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/samples/frames"
)

// bulkCapture writes a raw-IP capture of about 8 MB, dozens of read-ahead
// chunks: 240 HTTP/1.1 downloads of 32 KB each, eight at a time, their
// segments interleaved, every ninth segment sent again later and every
// eleventh sent again at once with its last byte changed, which the
// reassembly compares with the bytes it delivered (a conflict).
func bulkCapture(t *testing.T) string {
	t.Helper()
	c := newRawCapture(t, time.Millisecond)
	write := c.write
	server := netip.MustParseAddrPort("192.0.2.80:80")
	const body, seg = 32 << 10, 1400
	for g := range 30 {
		type dl struct {
			c      netip.AddrPort
			cs, ss uint32
			data   []byte
			off    int
		}
		var group []*dl
		for k := range 8 {
			i := g*8 + k
			c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i / 200), byte(i%200 + 1)}), uint16(41000+i))
			d := &dl{c: c, cs: uint32(i * 7919), ss: uint32(i * 104729)}
			req := []byte(fmt.Sprintf("GET /mod/%d.zip HTTP/1.1\r\nHost: proxy.example\r\n\r\n", i))
			write(frames.AppendTCPPacket(nil, frames.TCP{Src: c, Dst: server, Seq: d.cs, Flags: frames.SYN}, 64, 0, nil))
			write(frames.AppendTCPPacket(nil, frames.TCP{Src: server, Dst: c, Seq: d.ss, Ack: d.cs + 1, Flags: frames.SYN | frames.ACK}, 60, 0, nil))
			write(frames.AppendTCPPacket(nil, frames.TCP{Src: c, Dst: server, Seq: d.cs + 1, Ack: d.ss + 1, Flags: frames.ACK | frames.PSH}, 64, 0, req))
			d.cs += 1 + uint32(len(req))
			d.ss++
			d.data = fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nContent-Length: %d\r\n\r\n", body)
			for j := range body {
				d.data = append(d.data, byte(i*31+j*7+j>>8))
			}
			group = append(group, d)
		}
		var again [][]byte
		for n := 0; ; n++ {
			sent := false
			for _, d := range group {
				if d.off >= len(d.data) {
					continue
				}
				p := d.data[d.off:min(d.off+seg, len(d.data))]
				pkt := frames.AppendTCPPacket(nil, frames.TCP{Src: server, Dst: d.c, Seq: d.ss + uint32(d.off), Ack: d.cs, Flags: frames.ACK}, 60, 0, p)
				write(pkt)
				if n%9 == 4 {
					again = append(again, pkt)
				}
				if n%11 == 3 {
					// Sent again at once, its last byte changed: the
					// reassembly compares it with what it delivered.
					dup := bytes.Clone(pkt)
					dup[len(dup)-1] ^= 0xff
					write(dup)
				}
				d.off += len(p)
				sent = true
			}
			if len(again) > 6 {
				for _, p := range again {
					write(p)
				}
				again = again[:0]
			}
			if !sent {
				break
			}
		}
		for _, p := range again {
			write(p)
		}
		for _, d := range group {
			end := d.ss + uint32(len(d.data))
			write(frames.AppendTCPPacket(nil, frames.TCP{Src: server, Dst: d.c, Seq: end, Ack: d.cs, Flags: frames.ACK | frames.FIN}, 60, 0, nil))
			write(frames.AppendTCPPacket(nil, frames.TCP{Src: d.c, Dst: server, Seq: d.cs, Ack: end + 1, Flags: frames.ACK | frames.FIN}, 64, 0, nil))
		}
	}
	return c.file("bulk.pcapng")
}

// TestShardedDecodingOfALongFileEqualsSequential decodes a capture file
// many read-ahead chunks long, with records spanning chunks, on two and
// three shards: the events, retransmissions compared byte for byte and
// HTTP exchanges included, are the sequential decoder's. A frame handed to
// a shard from a chunk the reader has filled again would change them.
func TestShardedDecodingOfALongFileEqualsSequential(t *testing.T) {
	path := bulkCapture(t)
	if st, err := os.Stat(path); err != nil || st.Size() < 6<<20 {
		t.Fatalf("the capture is too short to span many chunks: %v, %v", st.Size(), err)
	}
	seq, exact := openWith(t, path, decode.Sequential)
	if !exact {
		t.Fatal("the sequential decoder reported an inexact result")
	}
	ev := seq.Events
	retrans := 0
	for _, c := range ev.TCP {
		retrans += int(c.Stream[1].Retransmitted)
	}
	if len(ev.TCP) != 240 || len(ev.HTTP) != 240 || retrans == 0 {
		t.Fatalf("the capture does not hold what it should: %d connections, %d HTTP exchanges, %d retransmissions",
			len(ev.TCP), len(ev.HTTP), retrans)
	}
	for _, n := range []int{2, 3} {
		got, exact := openWith(t, path, n)
		if !exact {
			t.Errorf("%d shards: a shard reached its share of a limit", n)
		}
		if d := firstDifference(seq, got); d != "" {
			t.Errorf("%d shards: %s differs from the sequential decoder", n, d)
		}
	}
}
