package decode

import (
	"fmt"
	"runtime/metrics"
	"time"
)

// Budget bounds the work of an analysis: a deadline on the wall clock and
// a ceiling on the Go heap. Crossing either stops the reading of inputs
// cleanly — what was decoded so far is analyzed and reported, with a note
// that says where and why reading stopped — instead of running on until
// the user gives up or the kernel's OOM killer ends the process with
// nothing to show. One Budget is shared by all the inputs of a run.
type Budget struct {
	// Deadline is when reading stops; zero for none.
	Deadline time.Time
	// MaxHeap is the heap size, in bytes, at which reading stops; 0 for
	// none.
	MaxHeap uint64

	n       int
	sample  []metrics.Sample
	stopped string
}

// budgetEvery is how many packets pass between two looks at the clock and
// the heap: reading runtime/metrics costs about a microsecond.
const budgetEvery = 4096

// Exceeded reports, for the packet about to be read, whether the budget is
// spent, and says why: "the 30s time limit (--timeout) was reached". Once
// exceeded it stays so. A nil Budget is never exceeded.
func (b *Budget) Exceeded() (string, bool) {
	if b == nil {
		return "", false
	}
	if b.stopped != "" {
		return b.stopped, true
	}
	b.n++
	if b.n%budgetEvery != 0 {
		return "", false
	}
	if !b.Deadline.IsZero() && time.Now().After(b.Deadline) {
		b.stopped = "the time limit (--timeout) was reached"
		return b.stopped, true
	}
	if b.MaxHeap > 0 {
		if b.sample == nil {
			b.sample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		}
		metrics.Read(b.sample)
		if v := b.sample[0].Value; v.Kind() == metrics.KindUint64 && v.Uint64() > b.MaxHeap {
			b.stopped = fmt.Sprintf("the memory limit of %d MiB (--max-memory) was reached", b.MaxHeap>>20)
			return b.stopped, true
		}
	}
	return "", false
}
