package synth

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// Dir is the direction of bytes on a connection: the client's or the
// server's.
type Dir int

// The two directions.
const (
	FromClient Dir = 0
	FromServer Dir = 1
)

func (d Dir) other() Dir { return 1 - d }

// Chunk is one Write of one side, as it went onto the wire, or (with no
// Data) a pause the side took before its next Write (see Think).
type Chunk struct {
	Dir   Dir
	Data  []byte
	Think time.Duration
}

// Transcript is every Write of a conversation in the order it happened.
type Transcript []Chunk

// Bytes returns everything one side wrote.
func (t Transcript) Bytes(d Dir) []byte {
	var b []byte
	for _, c := range t {
		if c.Dir == d && c.Data != nil {
			b = append(b, c.Data...)
		}
	}
	return b
}

// ErrStalled is returned by a Read when both sides wait for each other:
// the conversation cannot go on.
var ErrStalled = errors.New("synth: both sides are waiting to read")

// Converse runs client and server against each other over an in-memory
// connection and returns what they wrote. The two functions never run at
// the same time: a side runs until it blocks in Read with nothing to read,
// then the other side runs. The interleaving, and so every draw from the
// global deterministic random source, is therefore the same on every run.
// Writes never block. A side's function returning closes its end.
func Converse(client, server func(net.Conn) error) Conversation {
	d := &duplex{}
	d.cond = sync.NewCond(&d.mu)
	var errs [2]error
	var wg sync.WaitGroup
	for i, fn := range []func(net.Conn) error{client, server} {
		side := Dir(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.mu.Lock()
			for d.turn != side {
				d.cond.Wait()
			}
			d.mu.Unlock()
			errs[side] = fn(&end{d: d, side: side})
			d.mu.Lock()
			d.exited[side] = true
			d.closed[side] = true
			if !d.exited[side.other()] {
				d.turn = side.other()
			}
			d.cond.Broadcast()
			d.mu.Unlock()
		}()
	}
	wg.Wait()
	return Conversation{Transcript: d.log, ClientErr: errs[0], ServerErr: errs[1]}
}

// Conversation is the outcome of Converse: what was written and how each
// side's function ended.
type Conversation struct {
	Transcript           Transcript
	ClientErr, ServerErr error
}

// duplex is the shared state of the two ends.
type duplex struct {
	mu      sync.Mutex
	cond    *sync.Cond
	turn    Dir
	inbox   [2][]byte // bytes waiting to be read by each side
	closed  [2]bool   // the side closed its end: the peer reads EOF
	waiting [2]bool   // the side is blocked in Read
	exited  [2]bool
	log     Transcript
}

// end is one side's net.Conn.
type end struct {
	d    *duplex
	side Dir
}

func (e *end) Read(p []byte) (int, error) {
	d := e.d
	d.mu.Lock()
	defer d.mu.Unlock()
	peer := e.side.other()
	for len(d.inbox[e.side]) == 0 {
		switch {
		case d.closed[e.side]:
			return 0, net.ErrClosed
		case d.closed[peer] || d.exited[peer]:
			return 0, io.EOF
		case d.waiting[peer] && len(d.inbox[peer]) == 0:
			return 0, ErrStalled
		}
		d.waiting[e.side] = true
		d.turn = peer
		d.cond.Broadcast()
		for d.turn != e.side {
			d.cond.Wait()
		}
		d.waiting[e.side] = false
	}
	n := copy(p, d.inbox[e.side])
	d.inbox[e.side] = d.inbox[e.side][n:]
	return n, nil
}

func (e *end) Write(p []byte) (int, error) {
	d := e.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed[e.side] {
		return 0, net.ErrClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	d.inbox[e.side.other()] = append(d.inbox[e.side.other()], p...)
	d.log = append(d.log, Chunk{Dir: e.side, Data: append([]byte(nil), p...)})
	return len(p), nil
}

// Think records that the side of c (a connection made by Converse) takes
// d before its next write: a server reading storage, a client verifying a
// certificate. Play turns it into time; other connections ignore it.
func Think(c net.Conn, d time.Duration) {
	e, ok := c.(*end)
	if !ok {
		return
	}
	e.d.mu.Lock()
	defer e.d.mu.Unlock()
	e.d.log = append(e.d.log, Chunk{Dir: e.side, Think: d})
}

func (e *end) Close() error {
	d := e.d
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed[e.side] = true
	return nil
}

type pipeAddr string

func (a pipeAddr) Network() string { return "synth" }
func (a pipeAddr) String() string  { return string(a) }

func (e *end) LocalAddr() net.Addr              { return pipeAddr([]string{"client", "server"}[e.side]) }
func (e *end) RemoteAddr() net.Addr             { return pipeAddr([]string{"client", "server"}[e.side.other()]) }
func (e *end) SetDeadline(time.Time) error      { return nil }
func (e *end) SetReadDeadline(time.Time) error  { return nil }
func (e *end) SetWriteDeadline(time.Time) error { return nil }
