package reassembly

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/modsniff/modsniff/capture"
)

// gen is the byte every honest segment carries at sequence number x, so a
// delivered byte shows where it came from.
func gen(x uint32) byte { return byte((x * 2654435761) >> 24) }

// checker is a Sink that verifies what it is given. When honest, every byte
// must be gen of its sequence number, which catches bytes delivered twice,
// skipped without a gap, or out of order.
type checker struct {
	s       *Stream
	honest  bool
	pos     int64 // sequence numbers consumed since the start: data and gaps
	data    int64
	lost    int64
	failure string
}

func (c *checker) Data(p []byte, at capture.Ref) {
	if len(p) == 0 {
		c.fail("empty Data")
	}
	if c.honest {
		for i, b := range p {
			x := c.s.start + uint32(c.pos) + uint32(i)
			if b != gen(x) {
				c.fail(fmt.Sprintf("byte at seq %#x (stream offset %d) is %#02x, want %#02x", x, c.pos+int64(i), b, gen(x)))
				break
			}
		}
	}
	c.pos += int64(len(p))
	c.data += int64(len(p))
}

func (c *checker) Gap(n int64, at capture.Ref) {
	if n <= 0 || n >= 1<<31 {
		c.fail(fmt.Sprintf("Gap(%d)", n))
	}
	c.pos += n
	c.lost += n
}

func (c *checker) fail(msg string) {
	if c.failure == "" {
		c.failure = msg
	}
}

// consistent compares what the sink saw with what the stream counted.
func (c *checker) consistent() error {
	if c.failure != "" {
		return fmt.Errorf("sink: %s", c.failure)
	}
	st := c.s.Stats()
	if st.Bytes != c.data || st.LostBytes != c.lost {
		return fmt.Errorf("stats say %d delivered and %d lost, sink saw %d and %d", st.Bytes, st.LostBytes, c.data, c.lost)
	}
	if c.s.started && uint32(c.s.next-c.s.start) != uint32(c.pos) {
		return fmt.Errorf("next is %d past the start, sink saw %d", c.s.next-c.s.start, c.pos)
	}
	if cap(c.s.pending) > 2*c.s.lim.MaxSegmentsPerStream+8 {
		return fmt.Errorf("pending has capacity %d", cap(c.s.pending))
	}
	return c.s.invariant()
}

// FuzzStream decodes its input as an initial sequence number (4 bytes)
// followed by 4-byte segments: flags (bit 0: stream B, bit 1: SYN, bit 2:
// FIN, bit 3: corrupt the payload, B only, bit 4: Flush the stream first),
// a signed 16-bit step from the
// stream's previous sequence number, and a length. Both streams share a small
// Budget and have small limits, so the bounds are hit often.
func FuzzStream(f *testing.F) {
	seg := func(flags byte, step int16, n byte) []byte {
		return []byte{flags, byte(uint16(step) >> 8), byte(step), n}
	}
	seed := func(isn uint32, segs ...[]byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, isn)
		for _, s := range segs {
			b = append(b, s...)
		}
		return b
	}
	f.Add(seed(1000, seg(2, 0, 0), seg(0, 1, 100), seg(0, 100, 100), seg(4, 100, 0)))
	f.Add(seed(0xffffff00, seg(2, 0, 0), seg(0, 201, 200), seg(0, -200, 200), seg(0, 400, 50), seg(4, 50, 0)))
	f.Add(seed(7, seg(0, 0, 50), seg(1, 0, 50), seg(0, 300, 255), seg(0, 300, 255), seg(0, 300, 255), seg(9, -20, 80), seg(0, -650, 255)))
	f.Add(seed(42, seg(0, 0, 10), seg(0, 20, 10), seg(0, 20, 10), seg(0, 20, 10), seg(0, 20, 10), seg(0, 20, 10),
		seg(0, 20, 10), seg(0, 20, 10), seg(0, 20, 10), seg(0, 20, 10), seg(0, -190, 255)))
	f.Add(seed(0x7fffffff, seg(1, 0, 30), seg(9, -10, 30), seg(5, 40, 20), seg(1, -30, 60), seg(1, 100, 1)))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 4 {
			return
		}
		isn := binary.BigEndian.Uint32(in)
		in = in[4:]
		budget := NewBudget(700)
		lim := Limits{MaxBufferedPerStream: 512, MaxSegmentsPerStream: 8}
		var cs [2]*checker
		var prev [2]uint32
		var flushGaps [2]int32
		for i := range cs {
			cs[i] = &checker{honest: i == 0}
			cs[i].s = NewStream(cs[i], budget, lim)
			prev[i] = isn + uint32(i)<<20
		}
		buf := make([]byte, 255)
		for k := 0; len(in) >= 4; k++ {
			flags, step, n := in[0], int16(binary.BigEndian.Uint16(in[1:3])), int(in[3])
			in = in[4:]
			i := int(flags & 1)
			seq := prev[i] + uint32(int32(step))
			prev[i] = seq
			syn, fin := flags&2 != 0, flags&4 != 0
			data := buf[:n]
			x := seq
			if syn {
				x++
			}
			for j := range data {
				data[j] = gen(x + uint32(j))
				if flags&8 != 0 && i == 1 {
					data[j] ^= 0x5a
				}
			}
			if flags&16 != 0 {
				before := cs[i].s.Stats().Gaps
				cs[i].s.Flush(capture.Ref{Packet: int32(k + 1)})
				flushGaps[i] += cs[i].s.Stats().Gaps - before
			}
			cs[i].s.Segment(seq, syn, fin, data, capture.Ref{Packet: int32(k + 1)})
			for j, c := range cs {
				if err := c.consistent(); err != nil {
					t.Fatalf("after segment %d: %v", k+1, err)
				}
				// Before the end, only a limit makes a gap.
				if st := c.s.Stats(); st.Gaps != st.BoundHits+flushGaps[j] {
					t.Fatalf("after segment %d: %d gaps but %d bound hits", k+1, st.Gaps, st.BoundHits)
				}
			}
			if got := budget.Used(); got != int64(cs[0].s.held+cs[1].s.held) || got > 700 {
				t.Fatalf("after segment %d: Budget.Used() = %d, streams hold %d and %d", k+1, got, cs[0].s.held, cs[1].s.held)
			}
		}
		for _, c := range cs {
			c.s.Flush(capture.Ref{Packet: 1 << 20})
			if err := c.consistent(); err != nil {
				t.Fatalf("after Flush: %v", err)
			}
			if c.s.pending != nil || c.s.held != 0 {
				t.Fatalf("after Flush: %d pieces, %d bytes still held", len(c.s.pending), c.s.held)
			}
		}
		if budget.Used() != 0 {
			t.Fatalf("Budget.Used() = %d after Flush", budget.Used())
		}
	})
}
