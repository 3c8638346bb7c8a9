package decode

import "unsafe"

// slab hands out zeroed values of T carved from chunks, for the events a
// decoder keeps for the whole analysis. Allocated one by one, they lay
// among the short-lived state of their flows (reassembly streams, record
// readers) in the heap's spans of their size class; when that state was
// freed, the spans stayed partly empty and could not be given back: on a
// 1 GiB capture a quarter of the heap was such holes. Carved from chunks,
// the events lie together, and a chunk is one allocation instead of
// dozens. A chunk lives as long as any of its values, which is as long as
// the events.
type slab[T any] struct {
	free []T
	n    int // values handed out, which sizes the next chunk
}

// slabChunkBytes bounds the bytes of one chunk: chunks start at 4 values,
// so that a capture of a few connections does not pay for a large one, and
// double up to the most values that fit. 40 KiB is five pages: a chunk that
// size is a large object, which the runtime rounds up to whole pages and
// gives no allocation header, so a full chunk wastes less than one value.
// A chunk of a small size class would carry an 8-byte header and be
// rounded up to the class: 64 connections of 320 bytes took 21,760 bytes
// for 20,480, and 64 DNS responses of 64 bytes 4,864 for 4,096.
const slabChunkBytes = 40 << 10

// new returns a pointer to a zeroed T.
func (s *slab[T]) new() *T {
	if len(s.free) == 0 {
		s.free = make([]T, slabChunkLen[T](s.n))
	}
	p := &s.free[0]
	s.free = s.free[1:]
	s.n++
	return p
}

// slabChunkLen is the number of values of the chunk that follows handed
// out ones.
func slabChunkLen[T any](handedOut int) int {
	var zero T
	most := max(slabChunkBytes/max(int(unsafe.Sizeof(zero)), 1), 1)
	return min(max(handedOut, 4), most)
}
