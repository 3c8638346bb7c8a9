package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Live capture: libpcap handles (one per interface) feed a pcapng file.
//
// The file is written as it is captured, at its final path: a Section Header
// Block holding the metadata known at the start, one Interface Description
// Block per interface, then packets. Every block reaches the file in one
// write (a buffer is flushed only at block boundaries, every FlushInterval),
// so a process that is killed leaves a file readable up to its last whole
// block. Stop ends the capture cleanly: it drains the handles, writes an
// Interface Statistics Block per interface (kernel drop counts) and closes
// the file. Finalize then rewrites the metadata: a pcapng section header
// cannot grow in place, so it writes a new file beside the first — the
// final Section Header Block followed by every block after the first one,
// copied — and renames it over the first (the disk briefly holds the
// capture twice; without --full it is small). Should that fail (a full disk),
// the file written while capturing stays, complete but for the metadata
// known only at the end.

// Defaults of a live capture.
const (
	DefaultSnapLen       = 262144
	DefaultFlushInterval = 200 * time.Millisecond
	readTimeout          = 50 * time.Millisecond // how often an idle reader looks up
	drainMax             = time.Second           // how long Stop waits for buffered packets
	packetQueue          = 4096
	writeBufferSize      = 256 << 10
)

// ErrLiveUnavailable is returned by StartLive in a modsniff built without
// cgo (and so without libpcap).
var ErrLiveUnavailable = errors.New("this modsniff was built without cgo/libpcap: live capture is unavailable; analyze still works")

// PermissionError is returned when the system refuses to capture.
type PermissionError struct {
	Interface string
	Err       error
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("no permission to capture on %s (%v): run modsniff with sudo, or allow it once with "+
		"`sudo setcap cap_net_raw,cap_net_admin=eip $(command -v modsniff)`", e.Interface, e.Err)
}

func (e *PermissionError) Unwrap() error { return e.Err }

// UnknownInterfaceError is returned for an interface libpcap does not know.
type UnknownInterfaceError struct {
	Name string
	// Available lists the interfaces that can be captured on, with their
	// descriptions and addresses.
	Available []string
}

func (e *UnknownInterfaceError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no interface %q", e.Name)
	if len(e.Available) > 0 {
		b.WriteString("; interfaces that can be captured on:")
		for _, a := range e.Available {
			b.WriteString("\n  " + a)
		}
	}
	return b.String()
}

// LiveConfig describes a live capture.
type LiveConfig struct {
	// Interfaces to capture on (default "any"); each gets its own handle
	// and its own pcapng interface.
	Interfaces []string
	// Filter is the BPF capture filter (see DefaultFilter).
	Filter string
	// SnapLen is the largest number of bytes kept of a packet (default
	// DefaultSnapLen).
	SnapLen int
	// Full keeps application data: packets are written whole. Without it,
	// NewTrimmer is required.
	Full bool
	// NewTrimmer returns the Trimmer of one interface (package decode/trim
	// provides modsniff's); it is not used with Full.
	NewTrimmer func() Trimmer
	// Path is the file to write.
	Path string
	// Meta is the metadata written at the start (Started, Interfaces,
	// Filter and Full are filled in).
	Meta *Metadata
	// UID and GID, when not -1, own the file (the user who ran sudo).
	UID, GID int
	// FlushInterval is how often captured packets reach the file (default
	// DefaultFlushInterval).
	FlushInterval time.Duration
}

// Trimmer decides what a live capture keeps of each packet of one
// interface (DESIGN §6, "Privacy"). modsniff's is decode/trim's, handed
// over through LiveConfig.NewTrimmer because capture cannot import decode.
type Trimmer interface {
	// Append appends to dst what is kept of the frame data, of link type
	// lt, captured at t, and returns the extended slice; data is only read.
	Append(dst []byte, lt layers.LinkType, data []byte, t time.Time) []byte
	// QueryNames returns the names asked of DNS so far.
	QueryNames() []string
}

// maxQueryNames caps the DNS names a capture remembers.
const maxQueryNames = 256

// source is one open capture handle.
type source interface {
	// read returns the next packet, valid until the next call, or
	// errTimeout when none came within the read timeout.
	read() (data []byte, t time.Time, origLen int, err error)
	linkType() layers.LinkType
	snapLen() int
	// stats returns received, dropped by the kernel (ps_drop) and dropped
	// by the interface (ps_ifdrop).
	stats() (recv, drop, ifdrop uint64, err error)
	close()
}

// errTimeout is a source's "nothing yet".
var errTimeout = errors.New("read timeout")

// IfaceStats is what one interface's capture counted.
type IfaceStats struct {
	Name string
	// Received, Dropped and IfDropped are libpcap's counters: packets that
	// passed the filter, dropped by the kernel for lack of buffer, dropped
	// by the interface.
	Received, Dropped, IfDropped uint64
	// Written counts the packets written, Cut those shortened for privacy.
	Written, Cut int
	// Err is the error that ended reading early, if one did.
	Err error
}

// Live is a running capture.
type Live struct {
	cfg     LiveConfig
	f       *os.File
	buf     *blockBuffer
	w       *Writer
	shbLen  int64
	ifaces  []*liveIface
	packets chan livePacket
	stop    atomic.Bool
	readers sync.WaitGroup
	written chan struct{} // closed when the writer goroutine is done
	wErr    error         // the writer goroutine's error
	stopped bool
	start   time.Time
	end     time.Time
	names   map[string]struct{}
	keys    liveKeys // TLS secrets streamed in (live_keys.go)

	// flushMu guards onDisk and flushed: the writer goroutine publishes
	// each flush, so that whoever reads the file while the capture runs
	// can wait for packets to reach it instead of guessing a delay.
	flushMu sync.Mutex
	onDisk  int           // packets handed to the file by the last flush
	flushed chan struct{} // closed and replaced at each flush
}

type liveIface struct {
	name  string
	src   source
	trim  Trimmer // nil: packets are kept whole
	stats IfaceStats
	ready chan struct{}
}

type livePacket struct {
	iface   int
	t       time.Time
	data    []byte
	origLen int
	secrets []byte // when set, a Decryption Secrets Block instead of a packet
}

// CheckLive tells, before anything else is done, whether capturing on the
// interfaces can work: it returns ErrLiveUnavailable without libpcap, an
// *UnknownInterfaceError or a *PermissionError that says what to do.
func CheckLive(interfaces []string) error {
	srcs, err := openSources(interfaces, "", 256)
	for _, s := range srcs {
		s.close()
	}
	return err
}

// StartLive opens the interfaces, creates the file and starts capturing.
// When it returns, every handle is active with its filter set and its
// reader running: traffic from then on is captured.
func StartLive(cfg LiveConfig) (*Live, error) {
	if len(cfg.Interfaces) == 0 {
		cfg.Interfaces = []string{"any"}
	}
	if cfg.SnapLen <= 0 {
		cfg.SnapLen = DefaultSnapLen
	}
	if !cfg.Full && cfg.NewTrimmer == nil {
		return nil, errors.New("a capture without --full needs a trimmer (LiveConfig.NewTrimmer)")
	}
	srcs, err := openSources(cfg.Interfaces, cfg.Filter, cfg.SnapLen)
	if err != nil {
		return nil, err
	}
	return startLive(cfg, srcs)
}

// startLive runs a capture over open sources (tests use fake ones).
func startLive(cfg LiveConfig, srcs []source) (l *Live, err error) {
	defer func() {
		if err != nil {
			for _, s := range srcs {
				s.close()
			}
		}
	}()
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.SnapLen <= 0 {
		cfg.SnapLen = DefaultSnapLen
	}
	if len(cfg.Interfaces) == 0 {
		cfg.Interfaces = []string{"any"}
	}
	meta := &Metadata{}
	if cfg.Meta != nil {
		c := *cfg.Meta
		meta = &c
	}
	l = &Live{cfg: cfg, start: time.Now(), names: make(map[string]struct{}), flushed: make(chan struct{})}
	meta.Started = l.start.UTC()
	meta.Interfaces = slices.Clone(cfg.Interfaces)
	meta.Filter = cfg.Filter
	meta.Full = cfg.Full
	cfg.Meta = meta
	l.cfg = cfg

	f, err := createFresh(cfg.Path, cfg.UID, cfg.GID)
	if err != nil {
		return nil, err
	}
	l.f = f
	l.buf = &blockBuffer{w: f, buf: make([]byte, 0, writeBufferSize)}
	sec, err := sectionFor(meta)
	if err != nil {
		l.abandon()
		return nil, err
	}
	count := &countingWriter{w: l.buf}
	l.w, err = NewWriter(count, sec)
	if err != nil {
		l.abandon()
		return nil, err
	}
	l.shbLen = count.n
	for i, s := range srcs {
		name := cfg.Interfaces[min(i, len(cfg.Interfaces)-1)]
		ifc := Interface{LinkType: s.linkType(), SnapLen: s.snapLen(), Name: name}
		if cfg.Filter != "" {
			ifc.Comments = []string{"capture filter: " + cfg.Filter}
		}
		if _, err := l.w.AddInterface(ifc); err != nil {
			l.abandon()
			return nil, err
		}
		li := &liveIface{name: name, src: s, ready: make(chan struct{})}
		if !cfg.Full && cfg.NewTrimmer != nil {
			li.trim = cfg.NewTrimmer()
		}
		l.ifaces = append(l.ifaces, li)
	}
	if err := l.buf.Flush(); err != nil {
		l.abandon()
		return nil, err
	}
	l.keys.headLen = count.n
	l.packets = make(chan livePacket, packetQueue)
	l.written = make(chan struct{})
	for i := range l.ifaces {
		l.readers.Add(1)
		go l.read(i)
	}
	go l.write()
	for _, ifc := range l.ifaces {
		<-ifc.ready
	}
	return l, nil
}

// abandon closes and removes a file that was never a capture.
func (l *Live) abandon() {
	l.f.Close()
	os.Remove(l.cfg.Path)
}

// sectionFor is the section header of a modsniff capture.
func sectionFor(m *Metadata) (Section, error) {
	comments, err := m.Comments()
	if err != nil {
		return Section{}, err
	}
	return Section{
		Comments: comments,
		Hardware: runtime.GOARCH,
		OS:       runtime.GOOS,
		UserAppl: "modsniff " + m.ModsniffVersion,
	}, nil
}

// read is one interface's reader: it trims packets and queues them until
// Stop, then drains what the kernel still holds (up to drainMax), reads the
// counters and closes the handle.
func (l *Live) read(i int) {
	defer l.readers.Done()
	ifc := l.ifaces[i]
	lt := ifc.src.linkType()
	var stopAt time.Time
	first := true
	for {
		data, t, origLen, err := ifc.src.read()
		if first {
			close(ifc.ready)
			first = false
		}
		if l.stop.Load() && stopAt.IsZero() {
			stopAt = time.Now()
		}
		if err == errTimeout {
			if !stopAt.IsZero() {
				break // drained
			}
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				ifc.stats.Err = err
			}
			break
		}
		var out []byte
		if ifc.trim != nil {
			out = ifc.trim.Append(nil, lt, data, t)
		} else {
			out = append(out, data...)
		}
		if len(out) < len(data) {
			ifc.stats.Cut++
		}
		l.packets <- livePacket{iface: i, t: t, data: out, origLen: max(origLen, len(data))}
		ifc.stats.Written++
		if !stopAt.IsZero() && time.Since(stopAt) > drainMax {
			break
		}
	}
	if recv, drop, ifdrop, err := ifc.src.stats(); err == nil {
		ifc.stats.Received, ifc.stats.Dropped, ifc.stats.IfDropped = recv, drop, ifdrop
	}
	ifc.src.close()
}

// write is the writer goroutine: packets in, blocks out, a flush every
// FlushInterval.
func (l *Live) write() {
	defer close(l.written)
	tick := time.NewTicker(l.cfg.FlushInterval)
	defer tick.Stop()
	written := 0
	for {
		select {
		case p, ok := <-l.packets:
			if !ok {
				return
			}
			if l.wErr == nil && p.secrets != nil {
				l.wErr = l.w.WriteSecrets(SecretsTLSKeyLog, p.secrets)
			} else if l.wErr == nil {
				l.wErr = l.w.WritePacket(p.iface, p.t, p.data, p.origLen)
				written++
			}
		case <-tick.C:
			if l.wErr == nil {
				l.wErr = l.w.Flush()
			}
			if l.wErr == nil {
				l.publishFlush(written)
			}
		}
	}
}

// publishFlush records that the first n packets are in the file and wakes
// whoever waits for them.
func (l *Live) publishFlush(n int) {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	if n == l.onDisk {
		return
	}
	l.onDisk = n
	close(l.flushed)
	l.flushed = make(chan struct{})
}

// waitOnDisk waits until a flush has put at least n packets in the file,
// or timeout has passed; it reports whether they are there. A process
// killed after it returns true leaves a file holding them.
func (l *Live) waitOnDisk(n int, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.flushMu.Lock()
		done, next := l.onDisk >= n, l.flushed
		l.flushMu.Unlock()
		if done {
			return true
		}
		select {
		case <-next:
		case <-deadline.C:
			return false
		}
	}
}

// Stop ends the capture: the readers drain and close their handles, an
// Interface Statistics Block per interface is written, and the file is
// flushed, synced and closed. It returns the first error met while writing.
func (l *Live) Stop() error {
	if l.stopped {
		return l.wErr
	}
	l.stopped = true
	l.stop.Store(true)
	l.readers.Wait()
	l.keys.close()
	close(l.packets)
	<-l.written
	l.end = time.Now()
	for i, ifc := range l.ifaces {
		st := InterfaceStats{
			Time: l.end, StartTime: l.start, EndTime: l.end,
			Received: ifc.stats.Received, Dropped: ifc.stats.IfDropped, OSDropped: ifc.stats.Dropped,
			Delivered: uint64(ifc.stats.Written),
			Present:   StatReceived | StatDropped | StatOSDropped | StatDelivered,
		}
		if ifc.stats.Cut > 0 {
			st.Comments = []string{fmt.Sprintf("%d packets cut after their headers for privacy (no --full)", ifc.stats.Cut)}
		}
		if l.wErr == nil {
			l.wErr = l.w.WriteStats(i, st)
		}
		if ifc.trim != nil {
			for _, n := range ifc.trim.QueryNames() {
				if len(l.names) < maxQueryNames {
					l.names[n] = struct{}{}
				}
			}
		}
	}
	if l.wErr == nil {
		l.wErr = l.w.Flush()
	}
	if err := l.f.Sync(); err != nil && l.wErr == nil {
		l.wErr = err
	}
	if err := l.f.Close(); err != nil && l.wErr == nil {
		l.wErr = err
	}
	return l.wErr
}

// Stats returns what each interface counted; complete after Stop.
func (l *Live) Stats() []IfaceStats {
	out := make([]IfaceStats, len(l.ifaces))
	for i, ifc := range l.ifaces {
		out[i] = ifc.stats
		out[i].Name = ifc.name
	}
	return out
}

// QueryNames returns the names asked of DNS during the capture (at most
// 256), sorted; complete after Stop.
func (l *Live) QueryNames() []string {
	out := make([]string, 0, len(l.names))
	for n := range l.names {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Metadata returns the metadata written at the start.
func (l *Live) Metadata() *Metadata { c := *l.cfg.Meta; return &c }

// Finalize replaces the file's metadata with m (Started, Interfaces,
// Filter and Full are kept from the start; Ended is set to the end of the
// capture when zero): it writes the final section header and the blocks
// captured to a new file in the same directory and renames it over the
// capture. Call it after Stop. On error the capture file is left as it
// was.
func (l *Live) Finalize(m *Metadata) error {
	if !l.stopped {
		return errors.New("capture: Finalize before Stop")
	}
	c := *m
	start := l.cfg.Meta
	c.Started, c.Interfaces, c.Filter, c.Full = start.Started, start.Interfaces, start.Filter, start.Full
	if c.Ended.IsZero() {
		c.Ended = l.end.UTC()
	}
	return rewriteHeader(l.cfg.Path, &c, l.shbLen, l.cfg.UID, l.cfg.GID, l.keys.block())
}

// rewriteHeader replaces the first shbLen bytes of the pcapng file at path
// (its Section Header Block) with one carrying m. When ins.block is set, it
// is inserted ins.at bytes into the file (after the interfaces).
func rewriteHeader(path string, m *Metadata, shbLen int64, uid, gid int, ins insertion) error {
	sec, err := sectionFor(m)
	if err != nil {
		return err
	}
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	var head [12]byte
	if _, err := io.ReadFull(src, head[:]); err != nil {
		return fmt.Errorf("%s: reading its section header: %w", path, err)
	}
	if binary.LittleEndian.Uint32(head[0:]) != blockSHB || int64(binary.LittleEndian.Uint32(head[4:])) != shbLen {
		return fmt.Errorf("%s: its section header is not the one written", path)
	}
	tmp, err := createTemp(path, uid, gid)
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := &blockBuffer{w: tmp, buf: make([]byte, 0, writeBufferSize)}
	if _, err := NewWriter(bw, sec); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if _, err := src.Seek(shbLen, io.SeekStart); err != nil {
		return err
	}
	if ins.block != nil {
		if _, err := io.CopyN(tmp, src, ins.at-shbLen); err != nil {
			return fmt.Errorf("copying the capture: %w", err)
		}
		if _, err := tmp.Write(ins.block); err != nil {
			return err
		}
	}
	if _, err := io.Copy(tmp, src); err != nil {
		return fmt.Errorf("copying the capture: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	done = true
	return nil
}

// createFresh creates path as a new file of mode 0600 owned by uid:gid
// (when not -1): a temporary file in the same directory, renamed to path,
// so that an existing file or symbolic link at path is replaced, never
// written through.
func createFresh(path string, uid, gid int) (*os.File, error) {
	f, err := createTemp(path, uid, gid)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// createTemp creates a file of mode 0600 beside path.
func createTemp(path string, uid, gid int) (*os.File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil { // CreateTemp's 0600 is subject to the umask: be sure
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	if uid != -1 || gid != -1 {
		if err := f.Chown(uid, gid); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, err
		}
	}
	return f, nil
}

// blockBuffer buffers whole blocks: the Writer hands it one block per
// Write, and it passes them on only at block boundaries, so the file never
// ends inside a block because of buffering.
type blockBuffer struct {
	w   io.Writer
	buf []byte
	err error
}

func (b *blockBuffer) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(b.buf)+len(p) > cap(b.buf) && len(b.buf) > 0 {
		if err := b.Flush(); err != nil {
			return 0, err
		}
	}
	if len(p) > cap(b.buf) {
		if _, err := b.w.Write(p); err != nil {
			b.err = err
			return 0, err
		}
		return len(p), nil
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// Flush writes the buffered blocks in one write.
func (b *blockBuffer) Flush() error {
	if b.err != nil {
		return b.err
	}
	if len(b.buf) > 0 {
		if _, err := b.w.Write(b.buf); err != nil {
			b.err = err
			return err
		}
		b.buf = b.buf[:0]
	}
	return nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (c *countingWriter) Flush() error {
	if f, ok := c.w.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}
