package ipfrag

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/modsniff/modsniff/capture"
)

var (
	key4 = Key{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("198.51.100.2"), ID: 0x1234, Proto: 17}
	key6 = Key{Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("2001:db8::2"), ID: 0xdeadbeef, Proto: 17}
	t0   = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
)

func ref(n int, after time.Duration) capture.Ref {
	return capture.NewRef(0, n, t0.Add(after))
}

// pattern returns n bytes that differ from their neighbours.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// frag is one fragment of a test datagram: bytes [off, end) of it.
type frag struct{ off, end int }

// feed offers the fragments of whole to d as packets 1, 2, 3 …, in the order
// given, and returns the result of the last Add that completed, if any.
func feed(t *testing.T, d *Defragmenter, k Key, whole []byte, frags []frag) (got []byte, first capture.Ref) {
	t.Helper()
	for i, f := range frags {
		dg, fr, ok, err := d.Add(k, f.off, f.end < len(whole), whole[f.off:f.end], ref(i+1, time.Duration(i)*time.Millisecond))
		if err != nil {
			t.Fatalf("fragment %d (%d-%d): %v", i+1, f.off, f.end, err)
		}
		if ok {
			if got != nil {
				t.Fatalf("fragment %d completed a second datagram", i+1)
			}
			got, first = dg, fr
		}
	}
	return got, first
}

// permutations returns every order of fs.
func permutations(fs []frag) [][]frag {
	if len(fs) <= 1 {
		return [][]frag{fs}
	}
	var out [][]frag
	for i := range fs {
		rest := append(append([]frag(nil), fs[:i]...), fs[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]frag{fs[i]}, p...))
		}
	}
	return out
}

func TestReassemblesInAnyOrder(t *testing.T) {
	tests := []struct {
		name  string
		size  int
		frags []frag
	}{
		{"two fragments", 1500, []frag{{0, 1480}, {1480, 1500}}},
		{"three fragments", 3000, []frag{{0, 1232}, {1232, 2464}, {2464, 3000}}},
		{"three fragments, final one short of a block", 2469, []frag{{0, 1232}, {1232, 2464}, {2464, 2469}}},
		{"largest datagram", 65535, []frag{{0, 32768}, {32768, 65528}, {65528, 65535}}},
	}
	for _, tt := range tests {
		for _, k := range []Key{key4, key6} {
			for _, order := range permutations(tt.frags) {
				name := fmt.Sprintf("%s/%v/%v", tt.name, k.Src, order)
				t.Run(name, func(t *testing.T) {
					d := New(Limits{})
					whole := pattern(tt.size)
					got, first := feed(t, d, k, whole, order)
					if !bytes.Equal(got, whole) {
						t.Fatalf("reassembled %d bytes, want the %d sent", len(got), len(whole))
					}
					for i, f := range order {
						if f.off == 0 && int(first.Packet) != i+1 {
							t.Errorf("first = %v, want packet %d (offset 0)", first, i+1)
						}
					}
					expect(t, "Reassembled", d.Stats().Reassembled, 1)
					expect(t, "held", d.held, 0)
					expect(t, "datagrams", len(d.m), 0)
				})
			}
		}
	}
}

func TestDatagramIsTheCallers(t *testing.T) {
	d := New(Limits{})
	whole := pattern(24)
	got, _ := feed(t, d, key4, whole, []frag{{0, 16}, {16, 24}})
	got = append(got, 'x') // must not write into anything d still uses
	got2, _ := feed(t, d, key4, whole, []frag{{16, 24}, {0, 16}})
	if !bytes.Equal(got2, whole) || !bytes.Equal(got[:24], whole) {
		t.Fatal("datagrams share memory")
	}
}

func TestAtomicFragment(t *testing.T) {
	d := New(Limits{})
	d.Add(key6, 8, true, pattern(8), ref(1, 0))
	got, first, ok, err := d.Add(key6, 0, false, []byte("whole"), ref(2, 0))
	if err != nil || !ok || string(got) != "whole" || first.Packet != 2 {
		t.Fatalf("Add(atomic) = %q, %v, %v, %v", got, first, ok, err)
	}
	expect(t, "datagrams waiting", len(d.m), 1) // RFC 6946: processed in isolation
}

func TestIPv6OverlapDiscardsDatagram(t *testing.T) {
	d := New(Limits{})
	whole := pattern(40)
	mustAdd(t, d, key6, 0, true, whole[0:16], 1)
	_, _, _, err := d.Add(key6, 8, true, whole[8:24], ref(2, 0))
	if !errors.Is(err, ErrOverlap) {
		t.Fatalf("overlapping fragment: err = %v, want ErrOverlap", err)
	}
	var fe *Error
	if !errors.As(err, &fe) || fe.Offset != 8 || fe.Length != 16 || fe.Key != key6 {
		t.Fatalf("error = %#v", err)
	}
	// The rest of the datagram, even the fragments that would complete it,
	// is discarded too (RFC 5722).
	for i, f := range []frag{{16, 24}, {24, 40}} {
		dg, _, ok, err := d.Add(key6, f.off, f.end < 40, whole[f.off:f.end], ref(3+i, 0))
		if ok || dg != nil || err != nil {
			t.Fatalf("fragment after the overlap: %v %v %v", dg, ok, err)
		}
	}
	st := d.Stats()
	expect(t, "Overlaps", st.Overlaps, 1)
	expect(t, "Reassembled", st.Reassembled, 0)
	expect(t, "held", d.held, 0)
	// It is forgotten when it expires; the ID can then be used again.
	mustAdd(t, d, key6, 0, true, whole[0:16], 5, time.Minute+time.Second)
	got, _, ok, err := d.Add(key6, 16, false, whole[16:40], ref(6, time.Minute+time.Second))
	if err != nil || !ok || !bytes.Equal(got, whole) {
		t.Fatalf("reuse after expiry: %v %v", ok, err)
	}
	expect(t, "Expired", d.Stats().Expired, 0)
}

func TestIPv6ExactDuplicateIsKept(t *testing.T) {
	d := New(Limits{})
	whole := pattern(40)
	got, _ := feed(t, d, key6, whole, []frag{{0, 16}, {0, 16}, {32, 40}, {32, 40}, {16, 32}})
	if !bytes.Equal(got, whole) {
		t.Fatal("not reassembled")
	}
	expect(t, "Duplicates", d.Stats().Duplicates, 2)
	expect(t, "Overlaps", d.Stats().Overlaps, 0)
}

func TestIPv6DuplicateWithDifferentBytesIsAnOverlap(t *testing.T) {
	d := New(Limits{})
	mustAdd(t, d, key6, 0, true, pattern(16), 1)
	_, _, _, err := d.Add(key6, 0, true, make([]byte, 16), ref(2, 0))
	if !errors.Is(err, ErrOverlap) {
		t.Fatalf("err = %v, want ErrOverlap", err)
	}
}

func TestIPv4OverlapFirstWins(t *testing.T) {
	tests := []struct {
		name  string
		frags []struct {
			off  int
			more bool
			data string
		}
		want     string
		overlaps int
	}{{
		name: "later fragment overwrites nothing",
		frags: []struct {
			off  int
			more bool
			data string
		}{{0, true, "AAAAAAAABBBBBBBB"}, {8, true, "xxxxxxxxCCCCCCCC"}, {24, false, "DD"}},
		want:     "AAAAAAAABBBBBBBBCCCCCCCCDD",
		overlaps: 1,
	}, {
		name: "fragment spanning a hole fills only the hole",
		frags: []struct {
			off  int
			more bool
			data string
		}{{0, true, "AAAAAAAA"}, {16, false, "CCCCCCCCD"}, {0, true, "xxxxxxxxBBBBBBBBxxxxxxxx"}},
		want:     "AAAAAAAABBBBBBBBCCCCCCCCD",
		overlaps: 1,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New(Limits{})
			var got []byte
			for i, f := range tt.frags {
				dg, _, ok, err := d.Add(key4, f.off, f.more, []byte(f.data), ref(i+1, 0))
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					got = dg
				}
			}
			expect(t, "datagram", string(got), tt.want)
			expect(t, "Overlaps", d.Stats().Overlaps, tt.overlaps)
		})
	}
}

func TestTimeoutByCaptureTime(t *testing.T) {
	d := New(Limits{Timeout: 30 * time.Second})
	whole := pattern(24)
	mustAdd(t, d, key4, 0, true, whole[:16], 1, 0)
	// 30 s is not more than the timeout: still waiting.
	mustAdd(t, d, key6, 0, true, whole[:16], 2, 30*time.Second)
	expect(t, "Expired", d.Stats().Expired, 0)
	// 31 s after the first fragment of key4 it has expired; key6 has not.
	dg, _, ok, err := d.Add(key4, 16, false, whole[16:], ref(3, 31*time.Second))
	if err != nil || ok || dg != nil {
		t.Fatalf("late fragment completed an expired datagram: %v %v", ok, err)
	}
	expect(t, "Expired", d.Stats().Expired, 1)
	dg, _, ok, _ = d.Add(key6, 16, false, whole[16:], ref(4, 31*time.Second))
	if !ok || !bytes.Equal(dg, whole) {
		t.Fatal("key6 did not complete")
	}
	// Packets without a timestamp expire nothing.
	d.Add(key4, 0, true, whole[:16], capture.Ref{Packet: 5})
	d.Add(key6, 0, true, whole[:16], capture.Ref{Packet: 6})
	expect(t, "Expired", d.Stats().Expired, 1)
}

func TestLimits(t *testing.T) {
	t.Run("MaxDatagrams evicts the oldest", func(t *testing.T) {
		d := New(Limits{MaxDatagrams: 2})
		for id := uint32(1); id <= 3; id++ {
			k := key4
			k.ID = id
			mustAdd(t, d, k, 0, true, pattern(8), int(id))
		}
		expect(t, "Dropped", d.Stats().Dropped, 1)
		expect(t, "datagrams", len(d.m), 2)
		k := key4
		k.ID = 1
		if _, ok := d.m[k]; ok {
			t.Error("the oldest datagram was kept")
		}
	})
	t.Run("MaxBytes evicts the oldest", func(t *testing.T) {
		d := New(Limits{MaxBytes: 3000})
		for id := uint32(1); id <= 3; id++ {
			k := key6
			k.ID = id
			mustAdd(t, d, k, 1232, true, pattern(1232), int(id)) // holds 2464
			if d.held > 3000 {
				t.Fatalf("holding %d bytes", d.held)
			}
		}
		expect(t, "Dropped", d.Stats().Dropped, 2)
		expect(t, "datagrams", len(d.m), 1)
	})
	t.Run("datagram larger than MaxBytes is dropped", func(t *testing.T) {
		d := New(Limits{MaxBytes: 1000})
		mustAdd(t, d, key4, 0, true, pattern(800), 1)
		mustAdd(t, d, key4, 800, true, pattern(800), 2)
		expect(t, "Dropped", d.Stats().Dropped, 1)
		expect(t, "held", d.held, 0)
	})
	t.Run("a growing datagram evicts others, not itself", func(t *testing.T) {
		d := New(Limits{MaxBytes: 2000})
		k := key4
		k.ID = 99
		mustAdd(t, d, k, 0, true, pattern(800), 1)
		mustAdd(t, d, key4, 0, true, pattern(800), 2)
		mustAdd(t, d, k, 800, true, pattern(800), 3)
		expect(t, "Dropped", d.Stats().Dropped, 1)
		if _, ok := d.m[k]; !ok {
			t.Error("the growing datagram was dropped")
		}
	})
}

func TestBadFragments(t *testing.T) {
	tests := []struct {
		name   string
		before []frag // fragments of a 1000-byte datagram accepted first
		off    int
		more   bool
		n      int
		want   error
	}{
		{"end beyond 65535", nil, 65528, false, 8, ErrTooLong},
		{"offset beyond 65535", nil, 65536, false, 0, ErrTooLong},
		{"huge payload", nil, 0, true, 1 << 20, ErrTooLong},
		{"offset not a multiple of 8", nil, 12, true, 8, ErrOffset},
		{"negative offset", nil, -8, true, 8, ErrOffset},
		{"non-final length not a multiple of 8", nil, 0, true, 12, ErrMisaligned},
		{"zero-length non-final fragment", nil, 16, true, 0, ErrEmpty},
		{"two different final lengths", []frag{{992, 1000}}, 960, false, 48, ErrLength},
		{"final fragment before data received", []frag{{0, 800}}, 512, false, 100, ErrLength},
		{"non-final fragment beyond the final one", []frag{{992, 1000}}, 992, true, 16, ErrLength},
	}
	for _, tt := range tests {
		for _, k := range []Key{key4, key6} {
			t.Run(tt.name+"/"+k.Src.String(), func(t *testing.T) {
				d := New(Limits{})
				whole := pattern(1000)
				for i, f := range tt.before {
					mustAdd(t, d, k, f.off, f.end < 1000, whole[f.off:f.end], i+1)
				}
				dg, _, ok, err := d.Add(k, tt.off, tt.more, make([]byte, tt.n), ref(9, 0))
				if !errors.Is(err, tt.want) || ok || dg != nil {
					t.Fatalf("Add = %v, %v, want error %v", ok, err, tt.want)
				}
				var fe *Error
				if !errors.As(err, &fe) || fe.Key != k || fe.Offset != tt.off || fe.Length != tt.n {
					t.Errorf("error %#v does not name the fragment", err)
				}
				expect(t, "Errors", d.Stats().Errors, 1)
				expect(t, "datagrams", len(d.m), 0)
				expect(t, "held", d.held, 0)
			})
		}
	}
}

func TestErrorText(t *testing.T) {
	d := New(Limits{})
	_, _, _, err := d.Add(key4, 0, true, make([]byte, 12), ref(1, 0))
	want := "ipfrag: 192.0.2.1 > 198.51.100.2 id 0x1234 proto 17: fragment at 0+12: non-final fragment length not a multiple of 8"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
}

func mustAdd(t *testing.T, d *Defragmenter, k Key, off int, more bool, p []byte, packet int, after ...time.Duration) {
	t.Helper()
	var at time.Duration
	if len(after) > 0 {
		at = after[0]
	}
	if _, _, ok, err := d.Add(k, off, more, p, ref(packet, at)); err != nil || ok {
		t.Fatalf("Add(%d+%d) = %v, %v", off, len(p), ok, err)
	}
}

func expect[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func BenchmarkThreeFragments(b *testing.B) {
	d := New(Limits{})
	whole := pattern(3000)
	at := ref(1, 0)
	b.SetBytes(int64(len(whole)))
	b.ReportAllocs()
	for b.Loop() {
		d.Add(key6, 2464, false, whole[2464:], at)
		d.Add(key6, 0, true, whole[:1232], at)
		if _, _, ok, _ := d.Add(key6, 1232, true, whole[1232:2464], at); !ok {
			b.Fatal("not reassembled")
		}
	}
}
