// Package decodetest records real traffic for tests: crypto/tls (and
// net/http) clients and servers talk over in-memory connections whose
// writes are recorded, and the recording becomes numbered Ethernet/IPv4/TCP
// packets or a pcapng file, with the key log of the sessions beside it.
// It is meant for the tests of decode, analyze and the command line.
package decodetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/samples/frames"
)

// Chunk is one Write on a recorded connection.
type Chunk struct {
	Conn int // index of the connection, in the order they were opened
	Dir  int // 0: client to server, 1: server to client
	Data []byte
	// Close marks the end of the direction (a FIN); Data is empty.
	Close bool
}

// Recorder records what both ends of its connections write, in order, and
// collects a key log. It is safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	chunks []Chunk
	nconn  int
	keylog bytes.Buffer
}

// KeyLog returns a writer for tls.Config.KeyLogWriter.
func (r *Recorder) KeyLog() io.Writer { return keyLogWriter{r} }

type keyLogWriter struct{ r *Recorder }

func (w keyLogWriter) Write(p []byte) (int, error) {
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	return w.r.keylog.Write(p)
}

// KeyLogBytes returns the key log written so far.
func (r *Recorder) KeyLogBytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.keylog.Bytes())
}

// Chunks returns the recording so far.
func (r *Recorder) Chunks() []Chunk {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.chunks)
}

// Pipe returns the two ends of a new recorded in-memory connection: what
// the client writes is recorded as direction 0, what the server writes as 1.
// Writes never block; Close ends the writer's direction.
func (r *Recorder) Pipe() (client, server net.Conn) {
	r.mu.Lock()
	id := r.nconn
	r.nconn++
	r.mu.Unlock()
	c2s, s2c := newPipeBuf(), newPipeBuf()
	return &pipeEnd{r: s2c, w: c2s, dir: 0, conn: id, rec: r}, &pipeEnd{r: c2s, w: s2c, dir: 1, conn: id, rec: r}
}

// Listener returns a listener whose connections come from Dial: the
// client side of a Pipe is returned by Dial, the server side by Accept.
func (r *Recorder) Listener() *Listener {
	return &Listener{rec: r, conns: make(chan net.Conn, 16), done: make(chan struct{})}
}

// Listener is an in-memory net.Listener for net/http servers.
type Listener struct {
	rec   *Recorder
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// Accept implements net.Listener.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener.
func (l *Listener) Close() error { l.once.Do(func() { close(l.done) }); return nil }

// Addr implements net.Listener.
func (l *Listener) Addr() net.Addr { return pipeAddr{} }

// Dial opens a connection to the listener (for http.Transport.DialContext).
func (l *Listener) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, s := l.rec.Pipe()
	select {
	case l.conns <- s:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type pipeBuf struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	closed bool // the writer closed: the reader gets EOF once buf is drained
	gone   bool // the reader closed: writes still go on the wire but nobody reads them
}

func newPipeBuf() *pipeBuf {
	p := &pipeBuf{}
	p.cond = sync.NewCond(&p.mu)
	return p
}

type pipeEnd struct {
	r, w      *pipeBuf
	dir, conn int
	rec       *Recorder
	closeOnce sync.Once
	deadline  time.Time
}

func (e *pipeEnd) Read(b []byte) (int, error) {
	e.r.mu.Lock()
	defer e.r.mu.Unlock()
	for len(e.r.buf) == 0 && !e.r.closed && !e.r.gone {
		e.r.cond.Wait()
	}
	if len(e.r.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(b, e.r.buf)
	e.r.buf = e.r.buf[n:]
	return n, nil
}

func (e *pipeEnd) Write(b []byte) (int, error) {
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	if e.w.closed {
		return 0, net.ErrClosed
	}
	e.rec.chunks = append(e.rec.chunks, Chunk{Conn: e.conn, Dir: e.dir, Data: slices.Clone(b)})
	if !e.w.gone {
		e.w.buf = append(e.w.buf, b...)
	}
	e.w.cond.Broadcast()
	return len(b), nil
}

// Close ends this end like a TCP close: the peer reads EOF after what was
// written (the recording gets a FIN), and what the peer still writes is
// recorded but never read. Reads on this end return EOF.
func (e *pipeEnd) Close() error {
	e.closeOnce.Do(func() {
		e.rec.mu.Lock()
		e.rec.chunks = append(e.rec.chunks, Chunk{Conn: e.conn, Dir: e.dir, Close: true})
		e.rec.mu.Unlock()
		e.w.mu.Lock()
		e.w.closed = true
		e.w.cond.Broadcast()
		e.w.mu.Unlock()
		e.r.mu.Lock()
		e.r.gone, e.r.buf = true, nil
		e.r.cond.Broadcast()
		e.r.mu.Unlock()
	})
	return nil
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

func (e *pipeEnd) LocalAddr() net.Addr              { return pipeAddr{} }
func (e *pipeEnd) RemoteAddr() net.Addr             { return pipeAddr{} }
func (e *pipeEnd) SetDeadline(time.Time) error      { return nil }
func (e *pipeEnd) SetReadDeadline(time.Time) error  { return nil }
func (e *pipeEnd) SetWriteDeadline(time.Time) error { return nil }

// Network describes where the recorded connections run.
type Network struct {
	// Client and Server are the endpoints of connection 0; connection i
	// uses client port Client.Port()+i.
	Client, Server netip.AddrPort
	// Start is the time of the first packet; each packet is 1ms later
	// than the one before.
	Start time.Time
	// MSS cuts writes into segments of at most this many bytes (default
	// 1460).
	MSS int
}

// DefaultNetwork is a client at 10.0.0.2 talking to 142.250.74.113:443,
// starting now (certificates made by this package are valid now).
func DefaultNetwork() Network {
	return Network{Client: netip.MustParseAddrPort("10.0.0.2:41000"), Server: netip.MustParseAddrPort("142.250.74.113:443"),
		Start: time.Now().UTC().Truncate(time.Second)}
}

// Packets turns the recording into Ethernet frames: for each connection
// a three-way handshake before its first write, each write in segments of
// at most MSS bytes with an ACK of the other direction, and a FIN for each
// close.
func (r *Recorder) Packets(n Network) ([]capture.Packet, error) {
	if n.MSS <= 0 {
		n.MSS = 1460
	}
	b := &builder{n: n, conns: map[int]*tcpState{}}
	for _, c := range r.Chunks() {
		b.chunk(c)
	}
	return b.pkts, nil
}

type tcpState struct {
	client, server netip.AddrPort
	seq            [2]uint32
	fin            [2]bool
}

type builder struct {
	n     Network
	conns map[int]*tcpState
	pkts  []capture.Packet
	ipid  uint16
}

func (b *builder) chunk(c Chunk) {
	st := b.conns[c.Conn]
	if st == nil {
		st = &tcpState{
			client: netip.AddrPortFrom(b.n.Client.Addr(), b.n.Client.Port()+uint16(c.Conn)),
			server: b.n.Server,
			seq:    [2]uint32{1000 + uint32(c.Conn)*100000, 5000 + uint32(c.Conn)*100000},
		}
		b.conns[c.Conn] = st
		b.segment(st, 0, frames.SYN, nil)
		b.segment(st, 1, frames.SYN|frames.ACK, nil)
		st.seq[0]++
		st.seq[1]++
		b.segment(st, 0, frames.ACK, nil)
	}
	if st.fin[c.Dir] {
		return
	}
	if c.Close {
		st.fin[c.Dir] = true
		b.segment(st, c.Dir, frames.FIN|frames.ACK, nil)
		st.seq[c.Dir]++
		return
	}
	for p := c.Data; len(p) > 0; {
		k := min(len(p), b.n.MSS)
		b.segment(st, c.Dir, frames.ACK|frames.PSH, p[:k])
		st.seq[c.Dir] += uint32(k)
		p = p[k:]
	}
}

// The MAC addresses of the client and the server.
var clientMAC, serverMAC = []byte{2, 0, 0, 0, 0, 1}, []byte{2, 0, 0, 0, 0, 2}

func (b *builder) segment(st *tcpState, dir int, flags uint8, payload []byte) {
	t := frames.TCP{Src: st.client, Dst: st.server, Seq: st.seq[dir], Flags: flags, Window: 65535}
	srcMAC, dstMAC := clientMAC, serverMAC
	if dir == 1 {
		t.Src, t.Dst = t.Dst, t.Src
		srcMAC, dstMAC = dstMAC, srcMAC
	}
	if flags&frames.ACK != 0 {
		t.Ack = st.seq[1-dir]
	}
	b.ipid++
	data := frames.AppendEthernet(nil, dstMAC, srcMAC, frames.AppendTCPPacket(nil, t, 64, b.ipid, payload))
	num := len(b.pkts) + 1
	b.pkts = append(b.pkts, capture.Packet{Number: num, Time: b.n.Start.Add(time.Duration(num) * time.Millisecond),
		LinkType: layers.LinkTypeEthernet, Data: data, Length: len(data)})
}

// WritePcapng writes packets to w as a pcapng file with one Ethernet
// interface; keylog, when not empty, goes into a Decryption Secrets Block
// before the first packet.
func WritePcapng(w io.Writer, pkts []capture.Packet, keylog []byte) error {
	pw, err := capture.NewWriter(w, capture.Section{UserAppl: "modsniff decodetest"})
	if err != nil {
		return err
	}
	if _, err := pw.AddInterface(capture.Interface{LinkType: layers.LinkTypeEthernet, SnapLen: 262144}); err != nil {
		return err
	}
	if len(keylog) > 0 {
		if err := pw.WriteSecrets(capture.SecretsTLSKeyLog, keylog); err != nil {
			return err
		}
	}
	for _, p := range pkts {
		if err := pw.WritePacket(0, p.Time, p.Data, p.Length); err != nil {
			return err
		}
	}
	return pw.Flush()
}

// WritePcap writes packets to w as a classic pcap file (Ethernet,
// nanosecond timestamps).
func WritePcap(w io.Writer, pkts []capture.Packet) error {
	pw, err := capture.NewPcapWriter(w, layers.LinkTypeEthernet, 262144, true)
	if err != nil {
		return err
	}
	for _, p := range pkts {
		if err := pw.WritePacket(p.Time, p.Data, p.Length); err != nil {
			return err
		}
	}
	return nil
}

// ErrHandshake wraps the error of a TLS session that was meant to fail.
var ErrHandshake = errors.New("handshake failed")
