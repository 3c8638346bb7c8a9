package capture

import (
	"io"
	"sync"
)

// readAhead reads its source on a goroutine of its own, a few chunks ahead
// of its consumer, so that reading the file (or decompressing it) overlaps
// with decoding on another core. Data and the source's final error reach the
// consumer in the source's order. Its memory is readAheadChunks ×
// readAheadSize bytes, whatever the input.
type readAhead struct {
	full chan []byte // chunks read, in order; closed after the last
	free chan []byte // chunks consumed, to be filled again
	stop chan struct{}
	done chan struct{}
	once sync.Once
	err  error // the source's error (io.EOF at its end), set before full closes

	cur, curBuf []byte // the chunk being consumed: what is left, the whole
}

const (
	readAheadChunks = 4
	readAheadSize   = 256 << 10
)

// newReadAhead reads src ahead in chunks of size bytes.
func newReadAhead(src io.Reader, size int) *readAhead {
	ra := &readAhead{
		full: make(chan []byte, readAheadChunks),
		free: make(chan []byte, readAheadChunks),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range readAheadChunks - 1 {
		ra.free <- make([]byte, size)
	}
	go ra.run(src, make([]byte, size))
	return ra
}

func (ra *readAhead) run(src io.Reader, buf []byte) {
	defer close(ra.done)
	defer close(ra.full)
	for {
		n, zero := 0, 0
		var err error
		// Fill the chunk (a gzip reader returns one block at a time).
		for n < len(buf) && err == nil {
			var m int
			m, err = src.Read(buf[n:])
			if m < 0 || m > len(buf)-n {
				m, err = 0, io.ErrNoProgress
			}
			n += m
			if m == 0 && err == nil {
				if zero++; zero >= maxZeroReads {
					err = io.ErrNoProgress
				}
			}
		}
		if n > 0 {
			select {
			case ra.full <- buf[:n]:
			case <-ra.stop:
				return
			}
		}
		if err != nil {
			ra.err = err
			return
		}
		select {
		case buf = <-ra.free:
		case <-ra.stop:
			return
		}
	}
}

// Read copies from the chunk being consumed, waiting for the next one when
// it is used up.
func (ra *readAhead) Read(p []byte) (int, error) {
	if len(ra.cur) == 0 {
		if ra.curBuf != nil {
			ra.free <- ra.curBuf[:cap(ra.curBuf)]
			ra.curBuf = nil
		}
		b, ok := <-ra.full
		if !ok {
			return 0, ra.err
		}
		ra.cur, ra.curBuf = b, b
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// take returns the next chunk, which the caller reads in place and gives
// back with give; false after the last one, ra.err then saying why.
// Read and take must not both be used.
func (ra *readAhead) take() ([]byte, bool) {
	b, ok := <-ra.full
	return b, ok
}

// give returns a chunk from take, to be filled again.
func (ra *readAhead) give(b []byte) {
	select {
	case ra.free <- b[:cap(b)]:
	default: // never: free holds every chunk
	}
}

// Close stops the goroutine and waits for it, so that the source may be
// closed safely afterwards.
func (ra *readAhead) Close() {
	ra.once.Do(func() { close(ra.stop) })
	<-ra.done
}
