package capture

import (
	"io"
	"sync"
	"sync/atomic"
)

// readAhead reads its source on a goroutine of its own, a few chunks ahead
// of its consumer, so that reading the file (or decompressing it) overlaps
// with decoding on another core. Data and the source's final error reach the
// consumer in the source's order. Its memory is readAheadChunks ×
// readAheadSize bytes while its consumer only reads; a consumer that keeps
// chunks past their reading (Packet.Hold) makes it fill new ones instead, up
// to readAheadMaxChunks, and then wait for one to come back.
type readAhead struct {
	full chan *chunk // chunks read, in order; closed after the last
	free chan *chunk // chunks consumed and released, to be filled again
	stop chan struct{}
	done chan struct{}
	once sync.Once
	err  error // the source's error (io.EOF at its end), set before full closes
	size int
	made int // chunks allocated, by the reading goroutine
	// holds counts the Holds not yet released, of every chunk; held
	// wakes a reading goroutine that waits for a chunk when one begins.
	holds atomic.Int32
	held  chan struct{}

	cur  *chunk // the chunk Read is consuming
	rest []byte // what Read has not yet copied of cur
}

// chunk is one buffer of a readAhead. refs counts who keeps it: the reader
// while it reads it, and every Hold on a packet inside it. The last release
// gives it back to be filled again.
type chunk struct {
	data []byte // what was read into buf
	buf  []byte
	refs atomic.Int32
	ra   *readAhead
}

// release drops one reference; the last gives the chunk back.
func (c *chunk) release() {
	switch n := c.refs.Add(-1); {
	case n == 0:
		select {
		case c.ra.free <- c:
		default: // never: free holds every chunk made
		}
	case n < 0:
		panic("capture: chunk released more often than kept")
	}
}

const (
	readAheadChunks = 4
	readAheadSize   = 256 << 10
	// readAheadMaxChunks bounds the chunks a readAhead makes when its
	// consumer holds some: a sharded decoder holds one per batch of
	// frames in flight (decode.Sharded), a handful per shard. Past the
	// bound the reading waits for a release. It never waits forever as
	// long as what the consumer holds while it reads on, without handing
	// it to someone who will release it, stays well under the bound: a
	// sharded decoder holds that way only the chunk of each shard's batch
	// being filled, at most eight.
	readAheadMaxChunks = 40
)

// newReadAhead reads src ahead in chunks of size bytes.
func newReadAhead(src io.Reader, size int) *readAhead {
	ra := &readAhead{
		full: make(chan *chunk, readAheadChunks),
		free: make(chan *chunk, readAheadMaxChunks),
		stop: make(chan struct{}),
		done: make(chan struct{}),
		held: make(chan struct{}, 1),
		size: size,
	}
	go ra.run(src)
	return ra
}

// next returns a chunk to fill: a released one; else a new one while fewer
// than readAheadChunks exist or, while the consumer holds chunks, fewer than
// readAheadMaxChunks; else it waits for one to be released. nil when
// stopped.
func (ra *readAhead) next() *chunk {
	for {
		select {
		case c := <-ra.free:
			return c
		default:
		}
		if ra.made < readAheadChunks || ra.made < readAheadMaxChunks && ra.holds.Load() > 0 {
			ra.made++
			return &chunk{buf: make([]byte, ra.size), ra: ra}
		}
		select {
		case c := <-ra.free:
			return c
		case <-ra.held: // the consumer began to hold chunks: look again
		case <-ra.stop:
			return nil
		}
	}
}

// hold records a new Hold on chunk c.
func (ra *readAhead) hold(c *chunk) {
	ra.holds.Add(1)
	c.refs.Add(1)
	select {
	case ra.held <- struct{}{}:
	default:
	}
}

func (ra *readAhead) run(src io.Reader) {
	defer close(ra.done)
	defer close(ra.full)
	for {
		c := ra.next()
		if c == nil {
			return
		}
		buf := c.buf
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
			c.data = buf[:n]
			c.refs.Store(1) // the consumer's
			select {
			case ra.full <- c:
			case <-ra.stop:
				return
			}
		} else {
			ra.free <- c
		}
		if err != nil {
			ra.err = err
			return
		}
	}
}

// Read copies from the chunk being consumed, waiting for the next one when
// it is used up.
func (ra *readAhead) Read(p []byte) (int, error) {
	if len(ra.rest) == 0 {
		if ra.cur != nil {
			ra.cur.release()
			ra.cur = nil
		}
		c, ok := <-ra.full
		if !ok {
			return 0, ra.err
		}
		ra.cur, ra.rest = c, c.data
	}
	n := copy(p, ra.rest)
	ra.rest = ra.rest[n:]
	return n, nil
}

// take returns the next chunk, which the caller reads in place (its data)
// and releases; false after the last one, ra.err then saying why. Read and
// take must not both be used.
func (ra *readAhead) take() (*chunk, bool) {
	c, ok := <-ra.full
	return c, ok
}

// Close stops the goroutine and waits for it, so that the source may be
// closed safely afterwards.
func (ra *readAhead) Close() {
	ra.once.Do(func() { close(ra.stop) })
	<-ra.done
}
