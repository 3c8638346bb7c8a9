package reassembly

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/modsniff/modsniff/capture"
)

// recorder writes Data as text and each Gap as "[gap N]".
type recorder struct {
	b    strings.Builder
	refs []int // packet of every call
}

func (r *recorder) Data(p []byte, at capture.Ref) {
	r.b.Write(p)
	r.refs = append(r.refs, int(at.Packet))
}

func (r *recorder) Gap(n int64, at capture.Ref) {
	fmt.Fprintf(&r.b, "[gap %d]", n)
	r.refs = append(r.refs, int(at.Packet))
}

// seg is one segment of a test: flags holds 'S' and/or 'F'.
type seg struct {
	seq   uint32
	flags string
	data  string
}

func ref(n int) capture.Ref {
	return capture.NewRef(0, n, time.Unix(1700000000, int64(n)))
}

// play offers segs to s as packets 1, 2, 3 … and flushes when asked.
func play(s *Stream, segs []seg, flush bool) {
	for i, g := range segs {
		s.Segment(g.seq, strings.Contains(g.flags, "S"), strings.Contains(g.flags, "F"), []byte(g.data), ref(i+1))
	}
	if flush {
		s.Flush(ref(len(segs) + 1))
	}
}

func TestStream(t *testing.T) {
	const wrap = 0xfffffff0 // ISN 16 below 2^32
	tests := []struct {
		name  string
		lim   Limits
		segs  []seg
		flush bool
		want  string
		refs  []int // packets cited by the sink calls, when checked
		check func(t *testing.T, st Stats)
	}{{
		name: "in order",
		segs: []seg{{100, "S", ""}, {101, "", "hello"}, {106, "", " world"}, {112, "F", ""}},
		want: "hello world",
		refs: []int{2, 3},
		check: func(t *testing.T, st Stats) {
			expect(t, "Bytes", st.Bytes, 11)
			expect(t, "Closed", st.Closed, true)
		},
	}, {
		name: "out of order then fill",
		segs: []seg{{0, "S", ""}, {6, "", "world"}, {1, "", "hello"}},
		want: "helloworld",
		refs: []int{3, 3},
		check: func(t *testing.T, st Stats) {
			expect(t, "OutOfOrder", st.OutOfOrder, 1)
			expect(t, "Overlaps", st.Overlaps, 0)
		},
	}, {
		name: "out of order three segments reversed",
		segs: []seg{{0, "S", ""}, {9, "", "ghi"}, {5, "", "def"}, {8, "", "-"}, {1, "", "abc+"}},
		want: "abc+def-ghi",
	}, {
		name: "retransmission of delivered data is not delivered again",
		segs: []seg{{1, "", "hello"}, {1, "", "hello"}, {3, "", "llo"}, {6, "", "!"}},
		want: "hello!",
		check: func(t *testing.T, st Stats) {
			expect(t, "Retransmitted", st.Retransmitted, 2)
			expect(t, "Conflicts", st.Conflicts, 0)
		},
	}, {
		name: "partial overlap delivers only the new part",
		segs: []seg{{1, "", "hello"}, {4, "", "lo world"}},
		want: "hello world",
		check: func(t *testing.T, st Stats) {
			expect(t, "Overlaps", st.Overlaps, 1)
			expect(t, "Conflicts", st.Conflicts, 0)
		},
	}, {
		name: "conflicting retransmission: first wins",
		segs: []seg{{1, "", "hello"}, {6, "", " world"}, {1, "", "HELLO"}},
		want: "hello world",
		check: func(t *testing.T, st Stats) {
			expect(t, "Conflicts", st.Conflicts, 1)
			expect(t, "FirstConflict", st.FirstConflict.Packet, 3)
		},
	}, {
		name: "conflicting overlap with buffered data: first wins",
		segs: []seg{{0, "S", ""}, {6, "", "world"}, {8, "", "RLD!!"}, {1, "", "hello"}},
		want: "helloworld!!",
		check: func(t *testing.T, st Stats) {
			expect(t, "Conflicts", st.Conflicts, 1)
			expect(t, "FirstConflict", st.FirstConflict.Packet, 3)
			expect(t, "Overlaps", st.Overlaps, 1)
		},
	}, {
		name: "in-order segment overlapping buffered data: buffered bytes win",
		segs: []seg{{0, "S", ""}, {6, "", "world"}, {1, "", "helloWORLD!"}},
		want: "helloworld!",
		refs: []int{3, 3, 3}, // the buffered "world" is cited at the packet that completed it
		check: func(t *testing.T, st Stats) {
			expect(t, "Conflicts", st.Conflicts, 1)
			expect(t, "FirstConflict", st.FirstConflict.Packet, 3)
		},
	}, {
		name: "duplicate of buffered data",
		segs: []seg{{0, "S", ""}, {6, "", "world"}, {6, "", "world"}, {1, "", "hello"}},
		want: "helloworld",
		check: func(t *testing.T, st Stats) {
			expect(t, "Retransmitted", st.Retransmitted, 1)
			expect(t, "OutOfOrder", st.OutOfOrder, 1)
		},
	}, {
		name: "segment spanning several buffered pieces fills only the holes",
		segs: []seg{{0, "S", ""}, {3, "", "cd"}, {7, "", "gh"}, {2, "", "bXdefYhij"}, {1, "", "a"}},
		want: "abcdefghij",
		check: func(t *testing.T, st Stats) {
			expect(t, "Conflicts", st.Conflicts, 1)
			expect(t, "OutOfOrder", st.OutOfOrder, 3)
		},
	}, {
		name: "missing SYN starts at the first data",
		segs: []seg{{5000, "", "abc"}, {5003, "", "def"}},
		want: "abcdef",
	}, {
		name: "pure ACKs before the first data do not start the stream",
		segs: []seg{{4000, "", ""}, {5000, "", "abc"}},
		want: "abc",
	}, {
		name: "segments before the start are dropped",
		segs: []seg{{5000, "", "abc"}, {4990, "", "0123456789"}, {4995, "", "56789abc"}, {5003, "", "d"}},
		want: "abcd",
		check: func(t *testing.T, st Stats) {
			expect(t, "BeforeStart", st.BeforeStart, 1)
			expect(t, "Retransmitted", st.Retransmitted, 1)
		},
	}, {
		name: "wrap-around across 2^32",
		segs: []seg{{wrap, "S", ""}, {1, "", "XYZ"}, {wrap + 1, "", "0123456789abcdef"}, {4, "F", "!"}},
		want: "0123456789abcdefXYZ!",
		check: func(t *testing.T, st Stats) {
			expect(t, "OutOfOrder", st.OutOfOrder, 1)
			expect(t, "Closed", st.Closed, true)
		},
	}, {
		name: "wrap-around retransmission",
		segs: []seg{{wrap, "S", ""}, {wrap + 1, "", "0123456789abcdefXYZ"}, {wrap + 10, "", "9abcdefXYZ"}},
		want: "0123456789abcdefXYZ",
		check: func(t *testing.T, st Stats) {
			expect(t, "Retransmitted", st.Retransmitted, 1)
		},
	}, {
		name: "data after FIN is ignored",
		segs: []seg{{1, "F", "abc"}, {4, "", "def"}, {2, "", "bcdef"}, {4, "F", ""}},
		want: "abc",
		check: func(t *testing.T, st Stats) {
			expect(t, "AfterFIN", st.AfterFIN, 2)
			expect(t, "Retransmitted", st.Retransmitted, 2)
			expect(t, "Closed", st.Closed, true)
		},
	}, {
		name: "FIN before buffered data drops it",
		segs: []seg{{0, "S", ""}, {6, "", "world"}, {4, "F", ""}, {1, "", "abc"}},
		want: "abc",
		check: func(t *testing.T, st Stats) {
			expect(t, "Closed", st.Closed, true)
		},
	}, {
		name: "FIN out of order closes when the data arrives",
		segs: []seg{{0, "S", ""}, {4, "F", "def"}, {1, "", "abc"}},
		want: "abcdef",
		check: func(t *testing.T, st Stats) {
			expect(t, "Closed", st.Closed, true)
		},
	}, {
		name:  "lost segment then Flush reports the gap",
		segs:  []seg{{0, "S", ""}, {1, "", "abc"}, {10, "", "xyz"}, {13, "", "!"}},
		flush: true,
		want:  "abc[gap 6]xyz!",
		refs:  []int{2, 3, 3, 4},
		check: func(t *testing.T, st Stats) {
			expect(t, "Gaps", st.Gaps, 1)
			expect(t, "LostBytes", st.LostBytes, 6)
			expect(t, "BoundHits", st.BoundHits, 0)
		},
	}, {
		name:  "Flush reports the hole before a FIN",
		segs:  []seg{{0, "S", ""}, {1, "", "abc"}, {10, "F", ""}},
		flush: true,
		want:  "abc[gap 6]",
		refs:  []int{2, 4},
		check: func(t *testing.T, st Stats) {
			expect(t, "Closed", st.Closed, true)
		},
	}, {
		name: "per-stream byte bound forces a gap, later data still delivered",
		lim:  Limits{MaxBufferedPerStream: 8},
		segs: []seg{{0, "S", ""}, {1, "", "ab"}, {10, "", "12345"}, {20, "", "67890"}, {15, "", "vwxyz"}},
		want: "ab[gap 7]12345vwxyz67890",
		check: func(t *testing.T, st Stats) {
			expect(t, "BoundHits", st.BoundHits, 1)
			expect(t, "LostBytes", st.LostBytes, 7)
		},
	}, {
		name: "per-stream segment bound forces a gap",
		lim:  Limits{MaxSegmentsPerStream: 2},
		segs: []seg{{0, "S", ""}, {3, "", "c"}, {5, "", "e"}, {7, "", "g"}, {1, "", "ab"}, {4, "", "d"}, {6, "", "f"}},
		want: "[gap 2]cdefg",
		check: func(t *testing.T, st Stats) {
			expect(t, "BoundHits", st.BoundHits, 1)
			expect(t, "Retransmitted", st.Retransmitted, 1)
		},
	}, {
		name: "bound hit by a segment inside the first hole gives up only up to it",
		lim:  Limits{MaxBufferedPerStream: 6},
		segs: []seg{{0, "S", ""}, {1, "", "a"}, {10, "", "jklmn"}, {5, "", "efghi"}, {2, "", "bcd"}},
		want: "a[gap 3]efghijklmn",
		refs: []int{2, 4, 4, 4}, // jklmn became deliverable with packet 4
		check: func(t *testing.T, st Stats) {
			expect(t, "BoundHits", st.BoundHits, 1)
			expect(t, "Retransmitted", st.Retransmitted, 1)
		},
	}, {
		name: "segment larger than the bound is delivered after a gap",
		lim:  Limits{MaxBufferedPerStream: 4},
		segs: []seg{{0, "S", ""}, {5, "", "efghij"}, {1, "", "abcd"}},
		want: "[gap 4]efghij",
		check: func(t *testing.T, st Stats) {
			expect(t, "BoundHits", st.BoundHits, 1)
		},
	}, {
		name: "retransmission older than the 64-byte tail cannot be compared",
		segs: []seg{{1, "", strings.Repeat("a", 100)}, {1, "", "X"}, {90, "", "X"}},
		want: strings.Repeat("a", 100),
		check: func(t *testing.T, st Stats) {
			expect(t, "Conflicts", st.Conflicts, 1)
			expect(t, "FirstConflict", st.FirstConflict.Packet, 3)
		},
	}, {
		name: "tail is forgotten after a gap",
		lim:  Limits{MaxBufferedPerStream: 1},
		segs: []seg{{1, "", "abc"}, {10, "", "xy"}, {2, "", "Z"}, {10, "", "XY"}},
		want: "abc[gap 6]xy",
		check: func(t *testing.T, st Stats) {
			expect(t, "Conflicts", st.Conflicts, 1) // XY against xy: still in the tail
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r recorder
			b := NewBudget(0)
			s := NewStream(&r, b, tt.lim)
			play(s, tt.segs, tt.flush)
			if got := r.b.String(); got != tt.want {
				t.Errorf("delivered %q, want %q", got, tt.want)
			}
			if tt.refs != nil && fmt.Sprint(r.refs) != fmt.Sprint(tt.refs) {
				t.Errorf("cited packets %v, want %v", r.refs, tt.refs)
			}
			if tt.check != nil {
				tt.check(t, s.Stats())
			}
			if err := s.invariant(); err != nil {
				t.Error(err)
			}
			if tt.flush && b.Used() != 0 {
				t.Errorf("Budget.Used() = %d after Flush, want 0", b.Used())
			}
		})
	}
}

func expect[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestSharedBudget(t *testing.T) {
	b := NewBudget(10)
	var ra, rb recorder
	a := NewStream(&ra, b, Limits{})
	c := NewStream(&rb, b, Limits{})
	a.Segment(0, true, false, nil, ref(1))
	c.Segment(1000, true, false, nil, ref(2))
	a.Segment(5, false, false, []byte("efghijkl"), ref(3)) // held by a: 8
	expect(t, "Used", b.Used(), 8)
	c.Segment(1005, false, false, []byte("EFG"), ref(4)) // 8+3 > 10: c gives up its hole
	expect(t, "Hits", b.Hits(), 1)
	expect(t, "c BoundHits", c.Stats().BoundHits, 1)
	expect(t, "c delivered", rb.b.String(), "[gap 4]EFG")
	expect(t, "Used", b.Used(), 8)
	c.Segment(1008, false, false, []byte("HI"), ref(5)) // in order: needs no budget
	expect(t, "c delivered", rb.b.String(), "[gap 4]EFGHI")
	a.Segment(1, false, false, []byte("abcd"), ref(6))
	expect(t, "a delivered", ra.b.String(), "abcdefghijkl")
	expect(t, "Used", b.Used(), 0)
	a.Segment(20, false, false, []byte("tuv"), ref(7))
	c.Segment(1020, false, false, []byte("TUV"), ref(8))
	expect(t, "Used", b.Used(), 6)
	a.Flush(ref(9))
	c.Flush(ref(9))
	expect(t, "Used", b.Used(), 0)
	expect(t, "a delivered", ra.b.String(), "abcdefghijkl[gap 7]tuv")
	expect(t, "c delivered", rb.b.String(), "[gap 4]EFGHI[gap 10]TUV")
}

func TestNilSinkAndBudget(t *testing.T) {
	s := NewStream(nil, nil, Limits{})
	s.Segment(1, false, false, []byte("abc"), ref(1))
	s.Segment(9, false, false, []byte("xyz"), ref(2))
	s.Flush(ref(3))
	expect(t, "Bytes", s.Stats().Bytes, 6)
}

func TestIdleStreamHoldsNoBuffers(t *testing.T) {
	s := NewStream(nil, NewBudget(0), Limits{})
	s.Segment(1, false, false, []byte("abc"), ref(1))
	s.Segment(9, false, false, []byte("xyz"), ref(2))
	s.Segment(4, false, false, []byte("defgh"), ref(3))
	if s.pending != nil {
		t.Errorf("pending = %v after the hole filled, want nil", s.pending)
	}
}

func TestInOrderDoesNotAllocate(t *testing.T) {
	s := NewStream(discard{}, NewBudget(0), Limits{})
	p := make([]byte, 1460)
	seq := uint32(0xfffff000)
	s.Segment(seq, true, false, nil, ref(1))
	seq++
	at := ref(2)
	allocs := testing.AllocsPerRun(1000, func() {
		s.Segment(seq, false, false, p, at)
		seq += uint32(len(p))
	})
	if allocs != 0 {
		t.Errorf("in-order Segment allocates %v times per call, want 0", allocs)
	}
	// A retransmission of the tail is bookkeeping too.
	allocs = testing.AllocsPerRun(1000, func() {
		s.Segment(seq-100, false, false, p[:100], at)
	})
	if allocs != 0 {
		t.Errorf("retransmitted Segment allocates %v times per call, want 0", allocs)
	}
}

func BenchmarkInOrder(b *testing.B) {
	s := NewStream(discard{}, NewBudget(0), Limits{})
	p := make([]byte, 1460)
	seq := uint32(1)
	s.Segment(0, true, false, nil, ref(1))
	at := ref(2)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		s.Segment(seq, false, false, p, at)
		seq += uint32(len(p))
	}
}

func BenchmarkOneLossPerWindow(b *testing.B) {
	// Each window of 45 segments loses its first one, which arrives last.
	s := NewStream(discard{}, NewBudget(0), Limits{})
	p := make([]byte, 1460)
	s.Segment(0, true, false, nil, ref(1))
	seq := uint32(1)
	at := ref(2)
	const window = 45
	b.SetBytes(int64(len(p) * window))
	b.ReportAllocs()
	for b.Loop() {
		for i := 1; i < window; i++ {
			s.Segment(seq+uint32(i*len(p)), false, false, p, at)
		}
		s.Segment(seq, false, false, p, at)
		seq += uint32(window * len(p))
	}
}

// invariant checks what the Stream promises itself: pending sorted,
// non-overlapping, ahead of next, within the limits, and held consistent.
func (s *Stream) invariant() error {
	held := 0
	prev := int64(1) // the first piece starts after next
	for k, q := range s.pending {
		off := s.offset(k)
		if off < prev || off >= 1<<31 {
			return fmt.Errorf("pending[%d] at offset %d, previous ends at %d", k, off, prev)
		}
		if len(q.data) == 0 {
			return fmt.Errorf("pending[%d] is empty", k)
		}
		prev = off + int64(len(q.data))
		held += len(q.data)
	}
	if held != s.held {
		return fmt.Errorf("held = %d, pending holds %d", s.held, held)
	}
	if s.held > s.lim.MaxBufferedPerStream || len(s.pending) > s.lim.MaxSegmentsPerStream {
		return fmt.Errorf("holding %d bytes in %d pieces, beyond %+v", s.held, len(s.pending), s.lim)
	}
	if s.finSeen && !s.stats.Closed && len(s.pending) > 0 {
		last := len(s.pending) - 1
		if s.offset(last)+int64(len(s.pending[last].data)) > int64(s.fin-s.next) {
			return fmt.Errorf("pending data beyond the FIN")
		}
	}
	return nil
}

// gapRecorder records data and gaps as text.
type gapRecorder struct{ b strings.Builder }

func (g *gapRecorder) Data(p []byte, _ capture.Ref) { g.b.Write(p) }
func (g *gapRecorder) Gap(n int64, _ capture.Ref)   { fmt.Fprintf(&g.b, "[gap %d]", n) }

func TestLostBytesAreAGapAtOnce(t *testing.T) {
	tests := []struct {
		name string
		play func(s *Stream)
		want string
		held int64
	}{
		{"cut tail then the next segment", func(s *Stream) {
			s.Segment(0, true, false, nil, ref(1))
			s.Segment(1, false, false, []byte("abc"), ref(2))
			s.Lost(4, 5, ref(2))
			s.Segment(9, false, false, []byte("xyz"), ref(3))
		}, "abc[gap 5]xyz", 0},
		{"next segment first, then the cut one fills the hole", func(s *Stream) {
			s.Segment(0, true, false, nil, ref(1))
			s.Segment(9, false, false, []byte("xyz"), ref(2))
			s.Segment(1, false, false, []byte("abc"), ref(3))
			s.Lost(4, 5, ref(3))
		}, "abc[gap 5]xyz", 0},
		{"a declaration behind the stream is ignored", func(s *Stream) {
			s.Segment(0, true, false, nil, ref(1))
			s.Segment(1, false, false, []byte("abcdef"), ref(2))
			s.Lost(2, 3, ref(3))
			s.Segment(7, false, false, []byte("g"), ref(4))
		}, "abcdefg", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g gapRecorder
			b := NewBudget(0)
			s := NewStream(&g, b, Limits{})
			tt.play(s)
			if got := g.b.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if b.Used() != tt.held {
				t.Errorf("budget holds %d", b.Used())
			}
		})
	}
}
