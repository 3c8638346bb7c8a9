package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// gcGovernor keeps the memory the Go runtime holds near what the analysis
// keeps alive. With GOGC=100 the heap grows to twice the live data before a
// collection, so a run whose events take 30 MB peaks at 60 MB of heap. The
// governor sets a soft memory limit (runtime/debug.SetMemoryLimit) after
// every collection: floor while the live heap is small, where GOGC=100's
// doubling is cheap; then the live heap plus a third of it, so that the
// headroom stays proportional and the collector never runs back to back
// the way a fixed limit below the live heap makes it; never above ceiling,
// the user's --max-memory. A third, not a half: most of what decoding
// allocates is kept (the events), so a collection frees little and the
// heap's peak is set by the headroom. On the bench's 1 GiB capture a
// third takes 4 MiB off the peak for under a point of GC CPU.
// Once reading ends (hold), the limit no longer falls: analysis and output
// work within the memory reading already took.
type gcGovernor struct {
	floor   int64
	ceiling atomic.Int64
	stopped atomic.Bool
	// held is the limit hold set: the limit does not fall below it.
	held    atomic.Int64
	current atomic.Int64 // the limit last set
	sample  []metrics.Sample
}

// processGovernor is the one governor of the process: analyze starts it,
// and a later analyze in the same process (the tests) only moves its
// ceiling.
var (
	processGovernor     *gcGovernor
	processGovernorOnce sync.Once
)

// governGC starts the process's governor, or sets its ceiling when it runs.
func governGC(ceiling int64) {
	processGovernorOnce.Do(func() { processGovernor = newGCGovernor(gcFloor, ceiling) })
	processGovernor.ceiling.Store(ceiling)
	processGovernor.held.Store(0)
	processGovernor.set(processGovernor.limit(0, 0))
}

// sentinel is garbage after every collection: its cleanup runs once per
// cycle and arms the next one.
type sentinel struct{ _ [16]byte }

// newGCGovernor starts governing; stop ends it.
func newGCGovernor(floor, ceiling int64) *gcGovernor {
	g := &gcGovernor{floor: floor,
		sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/total:bytes"},
			{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/released:bytes"},
			{Name: "/memory/classes/heap/free:bytes"}, {Name: "/memory/classes/profiling/buckets:bytes"}}}
	g.ceiling.Store(ceiling)
	g.set(g.limit(0, 0))
	g.arm()
	return g
}

// stop ends the governing after the next collection.
func (g *gcGovernor) stop() { g.stopped.Store(true) }

func (g *gcGovernor) arm() {
	s := &sentinel{}
	runtime.AddCleanup(s, func(g *gcGovernor) {
		if g.stopped.Load() {
			return
		}
		metrics.Read(g.sample)
		live := int64(g.sample[0].Value.Uint64())
		// Beside the heap's objects the limit counts what the runtime
		// holds and has not returned to the system: fragmentation,
		// stacks, metadata. Not the free heap pages: the heap grows
		// into them first, and counting them raised the limit by what
		// decoding had just freed, so that analysis and output could
		// take that much again on top. Nor the profiler's buckets: the
		// runtime reserves their hash table whole (1.4 MB) at the first
		// sampled allocation, which package initialisation makes before
		// main can turn sampling off, and touches it a page at a time.
		other := int64(g.sample[1].Value.Uint64()) - int64(g.sample[2].Value.Uint64()) - int64(g.sample[3].Value.Uint64()) -
			int64(g.sample[4].Value.Uint64()) - int64(g.sample[5].Value.Uint64())
		g.set(g.limit(live, other))
		g.arm()
	}, g)
}

// set sets the soft limit to l.
func (g *gcGovernor) set(l int64) {
	g.current.Store(l)
	debug.SetMemoryLimit(l)
}

// hold keeps the limit from falling below where it is now. Reading ends with
// the heap at its limit, and the collection that follows frees what
// decoding held for flows in progress: the limit then fell with the live
// heap, the scavenger returned the freed pages to the system, and analysis
// faulted them in again, a few thousand page faults and two more
// collections on a 4 GiB capture. Held, analysis reuses the pages reading
// had already taken.
func (g *gcGovernor) hold() {
	g.held.Store(g.current.Load())
}

// holdGC holds the process's governor, if it runs.
func holdGC() {
	if processGovernor != nil {
		processGovernor.hold()
	}
}

// limit returns the soft limit for a live heap of live bytes when the
// runtime holds other bytes beside the heap's objects.
func (g *gcGovernor) limit(live, other int64) int64 {
	l := max(g.floor, live+live/3+max(other, 0), g.held.Load())
	if c := g.ceiling.Load(); c > 0 {
		l = min(l, c)
	}
	return l
}

// gcFloor is the soft limit while the live heap is small: below it a
// collection every time the heap doubles costs little CPU and little
// memory.
const gcFloor = 48 << 20
