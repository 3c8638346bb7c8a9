package decode

import "testing"

// TestSlabHandsOutDistinctZeroedValuesInGrowingChunks checks that every
// value is zeroed and distinct, and that chunks double from 4 values to as
// many as fit in slabChunkBytes.
func TestSlabHandsOutDistinctZeroedValuesInGrowingChunks(t *testing.T) {
	var s slab[TCPConn]
	seen := map[*TCPConn]bool{}
	var chunks []int
	for i := range 300 {
		fresh := len(s.free) == 0
		c := s.new()
		if fresh {
			chunks = append(chunks, cap(s.free)+1)
		}
		if seen[c] {
			t.Fatalf("value %d handed out twice", i)
		}
		if c.First.Packet != 0 || c.TLS != nil || c.Packets != [2]int32{} {
			t.Fatalf("value %d is not zeroed: %+v", i, c)
		}
		seen[c] = true
		c.Packets[0] = int32(i + 1) // a later value must not see it
	}
	// A TCPConn is 320 bytes: 128 of them are the 40 KiB of a full chunk.
	want := []int{4, 4, 8, 16, 32, 64, 128, 128}
	if len(chunks) != len(want) {
		t.Fatalf("chunks %v, want %v", chunks, want)
	}
	for i := range want {
		if chunks[i] != want[i] {
			t.Fatalf("chunks %v, want %v", chunks, want)
		}
	}
	if got := cap(s.free) + s.n; got != 4+4+8+16+32+64+128*2 {
		t.Errorf("values in chunks %d", got)
	}
}
