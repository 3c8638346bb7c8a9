package decode

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

// slabChunk bounds the values of one chunk: chunks start small, so that a
// capture of a few connections does not pay for a large one, and double.
const slabChunk = 64

// new returns a pointer to a zeroed T.
func (s *slab[T]) new() *T {
	if len(s.free) == 0 {
		s.free = make([]T, min(max(s.n, 4), slabChunk))
	}
	p := &s.free[0]
	s.free = s.free[1:]
	s.n++
	return p
}
