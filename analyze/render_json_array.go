package analyze

import (
	"runtime"
	"sync"
)

// Elements of a JSON array are encoded in batches, on as many goroutines
// as there are cores, and written in order: the bytes are those of one
// encoder going element by element, while a dense capture's tens of
// thousands of events take a fraction of the time.
var (
	// arrayBatch is the number of elements a batch holds: small, so
	// that the batches in flight add little to the peak heap (128 added
	// 14 MiB at 10,000 connections).
	arrayBatch = 32
	// arrayParallelMin is the smallest array worth other goroutines.
	arrayParallelMin = 4 * arrayBatch
)

// arrayBatchJob is the encoding of elements [lo, hi) of an array.
type arrayBatchJob struct {
	lo, hi int
	buf    []byte
	err    error
	done   chan struct{}
}

// array writes a non-empty array of n elements, element i given by elem,
// whose first line starts where the cursor is and whose other lines
// start with prefix.
func (jw *jsonStream) array(n int, elem arrayElem, prefix string) {
	if jw.err != nil {
		return
	}
	in := prefix + "  "
	jw.w.WriteString("[\n")
	workers := min(runtime.GOMAXPROCS(0), 4)
	if n < arrayParallelMin || workers < 2 {
		for i := range n {
			b := append(jw.buf[:0], in...)
			b, jw.err = elem(jw.elem, b, i, in)
			if jw.err != nil {
				return
			}
			if i < n-1 {
				b = append(b, ",\n"...)
			} else {
				b = append(b, '\n')
			}
			jw.w.Write(b)
			jw.buf = b
		}
	} else {
		jw.arrayParallel(n, elem, in, workers)
	}
	jw.w.WriteString(prefix)
	jw.w.WriteString("]")
}

// arrayParallel encodes the elements in batches on workers goroutines and
// writes the batches in order. At most about 3×workers batches exist at
// once, so memory stays bounded whatever the array's length.
func (jw *jsonStream) arrayParallel(n int, elem arrayElem, in string, workers int) {
	jobs := make(chan *arrayBatchJob, workers)
	order := make(chan *arrayBatchJob, workers)
	if jw.free == nil {
		// Batch buffers to reuse, kept from array to array: each
		// fresh buffer grows by doubling to a batch's size (48 KB of
		// TLS events), which summed to 4 MB over a 1 GiB capture's
		// report when every array started without any.
		jw.free = make(chan []byte, 3*workers+1)
	}
	free := jw.free
	go func() {
		for lo := 0; lo < n; lo += arrayBatch {
			b := &arrayBatchJob{lo: lo, hi: min(lo+arrayBatch, n), done: make(chan struct{})}
			select {
			case b.buf = <-free:
			default:
			}
			order <- b
			jobs <- b
		}
		close(order)
		close(jobs)
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			e := newElemEncoder()
			for b := range jobs {
				b.buf = b.buf[:0]
				for i := b.lo; i < b.hi && b.err == nil; i++ {
					b.buf = append(b.buf, in...)
					b.buf, b.err = elem(e, b.buf, i, in)
					if i < n-1 {
						b.buf = append(b.buf, ",\n"...)
					} else {
						b.buf = append(b.buf, '\n')
					}
				}
				close(b.done)
			}
		})
	}
	for b := range order {
		<-b.done
		if b.err != nil && jw.err == nil {
			jw.err = b.err
		}
		if jw.err == nil {
			jw.w.Write(b.buf)
		}
		select {
		case free <- b.buf:
		default:
		}
	}
	wg.Wait()
}
