package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gopacket/gopacket/layers"
	"github.com/klauspost/compress/gzip"
)

// ErrNotCapture is wrapped by the errors Open and NewReader return when the
// input is not a pcap, pcapng or gzip-compressed capture (or is too short to
// hold a file header). Test for it with errors.Is.
var ErrNotCapture = errors.New("not a pcap or pcapng capture")

// Limits that keep memory bounded whatever the input says.
const (
	// MaxPacketSize is the largest captured length accepted for one packet:
	// 262144 bytes, the maximum Wireshark and libpcap accept for the common
	// link types. A larger captured length is damage.
	MaxPacketSize = 256 << 10
	// MaxBlockSize is the largest pcapng block accepted (a Decryption
	// Secrets Block, a block full of comments …). A larger block is damage.
	MaxBlockSize = 16 << 20
	// ResyncWindow is how far the reader scans past damage for the next
	// plausible record or block before it gives up.
	ResyncWindow = 1 << 20

	initialBufSize = 4 << 10
	bufSize        = 1 << 20
	maxErrors      = 1000
	maxNotes       = 100
	maxInterfaces  = 1 << 16 // interfaces per section
	maxZeroReads   = 100
)

// metadataBudget bounds the bytes of comments, names … kept for Sections and
// Interfaces (a variable for tests).
var metadataBudget = 16 << 20

// InputError describes damage found in a capture: where it is and what was
// wrong. Reading goes on past it where it can.
type InputError struct {
	// Offset is the byte offset in the (decompressed) stream where the
	// damage was found.
	Offset int64
	// Packet is the frame number the damaged record would have had: the
	// last good packet's number plus one.
	Packet int
	// Msg says what was wrong, e.g. "truncated record: header says 1514
	// captured bytes, only 200 left in the file".
	Msg string
}

// Error formats e as "offset 4242, packet 17: truncated record: …".
func (e InputError) Error() string {
	return fmt.Sprintf("offset %d, packet %d: %s", e.Offset, e.Packet, e.Msg)
}

// notCaptureError is the error of an input that is not a capture; it wraps
// ErrNotCapture but reads as its own message.
type notCaptureError struct{ msg string }

func (e *notCaptureError) Error() string { return e.msg }
func (e *notCaptureError) Unwrap() error { return ErrNotCapture }

// Reader reads packets from a pcap or pcapng capture, gzip-compressed or not,
// as a stream. It records damage instead of failing on it (see Errors) and
// never allocates per packet: Packet.Data aliases its buffer. Its memory is
// bounded by the largest block it accepts (MaxBlockSize) plus ResyncWindow,
// whatever the input. A Reader is not safe for concurrent use.
type Reader struct {
	// OnSecrets, when set before the first call to Next, is called for each
	// Decryption Secrets Block as it is read, before the packets that follow
	// it. Secrets.Data is a copy the callee may keep.
	OnSecrets func(Secrets)

	name   string
	src    io.Reader
	closer io.Closer
	gz     *gzip.Reader
	ahead  []*readAhead // read-ahead goroutines, outermost last
	format string

	// buf[start:end] holds the bytes read from src and not consumed yet;
	// buf[start] is at offset off of the stream.
	buf        []byte
	start, end int
	off        int64
	total      int64 // bytes read from src so far
	srcDone    bool  // src returned EOF or an error
	readErr    error // the error src returned, recorded once reading reaches it
	done       bool  // no more packets will be delivered

	// When src is a readAhead, its chunks are read in place instead of
	// being copied into buf (see fillChunks): ra is src; lent the chunk
	// buf is, when it is one; pend what is left of a chunk taken but not
	// yet in buf, and pendChunk that chunk; own the buffer that holds a
	// block spanning two chunks.
	ra              *readAhead
	lent, pendChunk []byte
	pend, own       []byte

	pkt    Packet
	number int // number of the last packet delivered

	errs       []InputError
	errsLost   int
	notes      []InputError
	notedKinds uint8

	linkTypes []layers.LinkType
	budget    int // bytes of metadata that may still be kept

	ng bool             // pcapng, not pcap
	bo binary.ByteOrder // of the file, or of the current pcapng section

	// pcap
	pcapLink  layers.LinkType
	pcapSnap  uint32
	pcapNanos bool
	pcapSeen  bool
	lastSec   int64 // seconds of the last good pcap packet, for resync
	haveLast  bool

	// pcapng
	ifaces     []ngInterface // interfaces of the current section
	sections   []Section
	interfaces []Interface
	nsections  int
}

// Open opens the capture at path ("-" is standard input) and returns a
// Reader for it. The format is sniffed from the magic bytes, never the file
// name: gzip (decompressed transparently), pcap in either byte order and
// resolution, pcapng. An input that is none of these gives an error wrapping
// ErrNotCapture that names the file and shows its first bytes.
func Open(path string) (*Reader, error) {
	if path == "-" {
		return NewReader(os.Stdin, "stdin")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *fs.PathError names the operation and the file
	}
	r, err := NewReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader returns a Reader for the capture read from src; name is used in
// error messages. It reads the file header (for pcapng, the first Section
// Header Block) before it returns.
//
// A regular file is read (and a gzip stream decompressed, with
// klauspost/compress, about twice as fast as compress/gzip) on goroutines of
// their own, ahead of the decoder: see readAhead. Other sources (pipes,
// standard input, in-memory readers) are read in line, so that Close never
// waits on a read that may block.
func NewReader(src io.Reader, name string) (*Reader, error) {
	ahead := 0
	if isRegularFile(src) {
		ahead = readAheadSize
	}
	return newReader(src, name, ahead)
}

// newReader is NewReader, reading src ahead in chunks of ahead bytes, or
// in line when ahead is 0.
func newReader(src io.Reader, name string, ahead int) (_ *Reader, err error) {
	r := &Reader{name: name, budget: metadataBudget}
	defer func() {
		if err != nil {
			r.stopAhead()
		}
	}()
	if ahead > 0 {
		ra := newReadAhead(src, ahead)
		r.ahead = append(r.ahead, ra)
		src = ra
	}
	r.reset(src)
	n := r.fill(4)
	if n >= 2 && r.buf[r.start] == 0x1f && r.buf[r.start+1] == 0x8b {
		// RFC 1952 gzip member: decompress and sniff again.
		// What was read so far, with the rest of a read-ahead chunk not
		// yet in buf, goes first.
		head := append(bytes.Clone(r.buf[r.start:r.end]), r.pend...)
		rest := io.MultiReader(bytes.NewReader(head), src)
		gz, err := gzip.NewReader(rest)
		if err != nil {
			return nil, &notCaptureError{fmt.Sprintf("%s: not a capture file: corrupt gzip header: %v", name, err)}
		}
		r.gz = gz
		var plain io.Reader = gz
		if ahead > 0 {
			ra := newReadAhead(gz, ahead)
			r.ahead = append(r.ahead, ra)
			plain = ra
		}
		r.reset(plain)
		if err := r.sniff(" (inside gzip)"); err != nil {
			return nil, err
		}
		r.format += " gzip"
		return r, nil
	}
	if err := r.sniff(""); err != nil {
		return nil, err
	}
	return r, nil
}

// isRegularFile reports whether src is an open regular file.
func isRegularFile(src io.Reader) bool {
	f, ok := src.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode().IsRegular()
}

// stopAhead stops the read-ahead goroutines, the outermost first.
func (r *Reader) stopAhead() {
	for i := len(r.ahead) - 1; i >= 0; i-- {
		r.ahead[i].Close()
	}
	r.ahead = nil
}

// reset makes src the stream the reader reads, from offset 0.
func (r *Reader) reset(src io.Reader) {
	if r.lent != nil {
		r.buf = nil // the chunk goes back to the previous source
	}
	r.giveBack()
	r.src = src
	r.ra, _ = src.(*readAhead)
	if r.buf == nil {
		r.buf = make([]byte, initialBufSize)
	}
	r.start, r.end, r.off, r.total = 0, 0, 0, 0
	r.srcDone, r.readErr = false, nil
}

// Magic numbers of draft-ietf-opsawg-pcap (File Header) and
// draft-ietf-opsawg-pcapng (Section Header Block), as they appear in the file.
var (
	magicPcapBE     = []byte{0xa1, 0xb2, 0xc3, 0xd4}
	magicPcapLE     = []byte{0xd4, 0xc3, 0xb2, 0xa1}
	magicPcapNsBE   = []byte{0xa1, 0xb2, 0x3c, 0x4d}
	magicPcapNsLE   = []byte{0x4d, 0x3c, 0xb2, 0xa1}
	magicPcapng     = []byte{0x0a, 0x0d, 0x0d, 0x0a}
	magicByteOrderB = []byte{0x1a, 0x2b, 0x3c, 0x4d}
	magicByteOrderL = []byte{0x4d, 0x3c, 0x2b, 0x1a}
	magicGzip       = []byte{0x1f, 0x8b}
)

// sniff identifies the format from the first bytes of the stream and reads
// the file header; where is added to error messages (" (inside gzip)").
func (r *Reader) sniff(where string) error {
	n := r.fill(8) // the magic, and what describeStart shows when it is none
	head := r.buf[r.start : r.start+n]
	if n == 0 {
		return r.notCapture(where, "empty file")
	}
	if n < 4 {
		for _, m := range [][]byte{magicPcapBE, magicPcapLE, magicPcapNsBE, magicPcapNsLE, magicPcapng} {
			if bytes.HasPrefix(m, head) {
				return r.notCapture(where, fmt.Sprintf("truncated header: the file has only %d bytes", n))
			}
		}
		return r.notCapture(where, describeStart(head))
	}
	m := head[:4]
	switch {
	case bytes.Equal(m, magicPcapLE), bytes.Equal(m, magicPcapBE),
		bytes.Equal(m, magicPcapNsLE), bytes.Equal(m, magicPcapNsBE):
		return r.readPcapHeader(where)
	case bytes.Equal(m, magicPcapng):
		return r.readPcapngHeader(where)
	case where != "" && bytes.HasPrefix(m, magicGzip):
		return r.notCapture(where, "gzip inside gzip is not supported")
	}
	return r.notCapture(where, describeStart(head))
}

// notCapture returns the ErrNotCapture error for this input.
func (r *Reader) notCapture(where, detail string) error {
	msg := fmt.Sprintf("%s: not a capture file%s: %s", r.name, where, detail)
	if len(r.errs) > 0 {
		msg += " (" + r.errs[0].Msg + ")"
	}
	return &notCaptureError{msg}
}

// describeStart shows the first (up to 8) bytes of an unrecognised input in
// hex and as text, and says what was expected.
func describeStart(b []byte) string {
	if len(b) > 8 {
		b = b[:8]
	}
	var hex, text strings.Builder
	for i, c := range b {
		if i > 0 {
			hex.WriteByte(' ')
		}
		fmt.Fprintf(&hex, "%02x", c)
		if c >= 0x20 && c < 0x7f {
			text.WriteByte(c)
		} else {
			text.WriteByte('.')
		}
	}
	return fmt.Sprintf("starts with %s (%q); expected pcap, pcapng or gzip", hex.String(), text.String())
}

// Close releases the input; it closes the file if the Reader was made by
// Open (never standard input).
func (r *Reader) Close() error {
	var err error
	r.stopAhead()
	if r.gz != nil {
		err = r.gz.Close()
	}
	if r.closer != nil {
		if cerr := r.closer.Close(); cerr != nil && err == nil {
			err = cerr
		}
		r.closer = nil
	}
	r.done = true
	return err
}

// Name returns the name the Reader was given (the path for Open).
func (r *Reader) Name() string { return r.name }

// Format returns "pcap", "pcap (nanosecond)" or "pcapng", followed by
// " gzip" when the input was compressed.
func (r *Reader) Format() string { return r.format }

// Errors returns the damage found so far, in the order it was found.
func (r *Reader) Errors() []InputError { return append([]InputError(nil), r.errs...) }

// Notes returns oddities that are not damage, such as a captured length
// above the original length; only the first record of each kind is noted.
func (r *Reader) Notes() []InputError { return append([]InputError(nil), r.notes...) }

// LinkTypes returns the distinct link types of the interfaces that carried
// packets so far, in the order of their first packet.
func (r *Reader) LinkTypes() []layers.LinkType { return append([]layers.LinkType(nil), r.linkTypes...) }

// Sections returns every pcapng Section Header Block read so far (none for
// pcap).
func (r *Reader) Sections() []Section { return append([]Section(nil), r.sections...) }

// Interfaces returns every interface read so far, across sections, with the
// statistics of the last Interface Statistics Block for each. A pcap file
// has one interface, described by its file header.
func (r *Reader) Interfaces() []Interface { return append([]Interface(nil), r.interfaces...) }

// Next returns the next packet, or io.EOF at the end of the input. Damage is
// not returned: it is recorded (see Errors), and reading resumes after it or
// ends with io.EOF. The Packet and its Data are valid only until the next
// call to Next.
func (r *Reader) Next() (*Packet, error) {
	if r.done {
		return nil, io.EOF
	}
	var ok bool
	if r.ng {
		ok = r.nextPcapng()
	} else {
		ok = r.nextPcap()
	}
	if !ok {
		r.done = true
		return nil, io.EOF
	}
	return &r.pkt, nil
}

// damage records an InputError at stream offset at for the next packet.
func (r *Reader) damage(at int64, format string, args ...any) {
	r.record(at, r.number+1, format, args...)
}

// record records an InputError at stream offset at for packet number n.
func (r *Reader) record(at int64, n int, format string, args ...any) {
	if len(r.errs) >= maxErrors {
		r.errsLost++
		if r.errsLost == 1 {
			r.errs = append(r.errs, InputError{Offset: at, Packet: n,
				Msg: fmt.Sprintf("more than %d errors; further damage is not recorded", maxErrors)})
		}
		return
	}
	r.errs = append(r.errs, InputError{Offset: at, Packet: n, Msg: fmt.Sprintf(format, args...)})
}

// Kinds of notes, each recorded once.
const (
	noteCapOverOrig uint8 = 1 << iota
	noteCapOverSnap
	noteVersion
)

// note records an oddity that is not damage, the first time one of its kind
// is seen.
func (r *Reader) note(kind uint8, at int64, format string, args ...any) {
	if r.notedKinds&kind != 0 || len(r.notes) >= maxNotes {
		return
	}
	r.notedKinds |= kind
	r.notes = append(r.notes, InputError{Offset: at, Packet: r.number + 1, Msg: fmt.Sprintf(format, args...)})
}

// keep reports whether n more bytes of metadata may be retained, and counts
// them; the first refusal is recorded as damage.
func (r *Reader) keep(at int64, n int) bool {
	if r.budget < 0 {
		return false
	}
	r.budget -= n
	if r.budget < 0 {
		r.damage(at, "more than %d bytes of section and interface metadata; further metadata is not kept", metadataBudget)
		return false
	}
	return true
}

// fill makes at least n bytes available in buf[start:end], reading from the
// source as needed, and returns how many are available, at most n (fewer
// only at the end of the input).
func (r *Reader) fill(n int) int {
	if r.end-r.start >= n {
		return n
	}
	return r.fillSlow(n)
}

func (r *Reader) fillSlow(n int) int {
	if r.ra != nil {
		return r.fillChunks(n)
	}
	zeroReads := 0
	for r.end-r.start < n && !r.srcDone {
		if r.end == len(r.buf) {
			r.makeRoom(n)
		}
		m, err := r.src.Read(r.buf[r.end:])
		if m < 0 || m > len(r.buf)-r.end {
			m, err = 0, errors.New("source returned an invalid count")
		}
		r.end += m
		r.total += int64(m)
		switch {
		case err == io.EOF:
			r.srcDone = true
		case err != nil:
			r.srcDone, r.readErr = true, err
		case m == 0:
			zeroReads++
			if zeroReads >= maxZeroReads {
				r.srcDone, r.readErr = true, io.ErrNoProgress
			}
		default:
			zeroReads = 0
		}
	}
	if r.end-r.start < n && r.readErr != nil {
		// Reading has reached the failure: record it against the record
		// it cut short.
		r.readFailed(r.readErr)
		r.readErr = nil
	}
	return min(n, r.end-r.start)
}

// fillChunks is fill for a readAhead source, whose chunks buf reads in
// place: the bytes of a capture file are not copied on their way to the
// decoder. Only a block that spans two chunks is copied, with just what
// fill asks for of the second chunk, into own; once own is consumed, buf
// reads the rest of that chunk in place. A chunk goes back to the
// readAhead when buf has moved past it, which is during a later call to
// Next: a Packet's Data stays valid until then.
func (r *Reader) fillChunks(n int) int {
	for r.end-r.start < n {
		avail := r.end - r.start
		if len(r.pend) == 0 {
			if r.srcDone {
				break
			}
			c, ok := r.ra.take()
			if !ok {
				r.srcDone = true
				if err := r.ra.err; err != io.EOF {
					r.readErr = err
				}
				break
			}
			r.total += int64(len(c))
			r.pend, r.pendChunk = c, c
		}
		if avail == 0 {
			// Nothing left to read in buf: read the chunk in place.
			r.giveLent()
			r.buf, r.lent = r.pendChunk, r.pendChunk
			r.start, r.end = len(r.pendChunk)-len(r.pend), len(r.pendChunk)
			r.pend, r.pendChunk = nil, nil
			continue
		}
		// A block spans chunks: what is left of buf, then what n needs
		// of the pending chunk, go to own.
		if r.lent != nil || r.start > 0 {
			r.own = append(r.own[:0], r.buf[r.start:r.end]...)
			r.giveLent()
			r.start, r.end = 0, avail
		}
		k := min(n-avail, len(r.pend))
		r.own = append(r.own[:r.end], r.pend[:k]...)
		r.buf = r.own
		r.end += k
		if r.pend = r.pend[k:]; len(r.pend) == 0 {
			r.ra.give(r.pendChunk)
			r.pendChunk = nil
		}
	}
	if r.end-r.start < n && r.readErr != nil {
		r.readFailed(r.readErr)
		r.readErr = nil
	}
	return min(n, r.end-r.start)
}

// giveLent gives the chunk buf reads in place back to the readAhead.
func (r *Reader) giveLent() {
	if r.lent != nil {
		r.ra.give(r.lent)
		r.lent = nil
	}
}

// giveBack gives every chunk the reader holds back to the readAhead.
func (r *Reader) giveBack() {
	r.giveLent()
	if r.pendChunk != nil {
		r.ra.give(r.pendChunk)
		r.pend, r.pendChunk = nil, nil
	}
}

// makeRoom frees space at the end of a full buffer: it moves the unread
// bytes to the front and, when that is not enough for n bytes or the buffer
// is still small, grows it. The buffer only grows when it is full of data,
// so it stays within twice the size of what the input really holds.
func (r *Reader) makeRoom(n int) {
	size := len(r.buf)
	if size < bufSize || n > size {
		size = max(min(2*size, max(bufSize, n)), size)
	}
	if size == len(r.buf) && r.start > 0 {
		copy(r.buf, r.buf[r.start:r.end])
	} else {
		nb := make([]byte, size)
		copy(nb, r.buf[r.start:r.end])
		r.buf = nb
	}
	r.end -= r.start
	r.start = 0
}

// readFailed records a failure of the source other than its end.
func (r *Reader) readFailed(err error) {
	var at = r.total
	switch {
	case r.gz != nil && errors.Is(err, io.ErrUnexpectedEOF):
		r.damage(at, "gzip stream truncated after %d decompressed bytes", r.total)
	case r.gz != nil:
		r.damage(at, "gzip stream corrupt after %d decompressed bytes: %v", r.total, err)
	default:
		r.damage(at, "read error after %d bytes: %v", r.total, err)
	}
}

// consume drops the first n available bytes.
func (r *Reader) consume(n int) {
	r.start += n
	r.off += int64(n)
}

// sawLinkType notes that a packet was carried on link type lt, for LinkTypes.
func (r *Reader) sawLinkType(lt layers.LinkType) {
	for _, l := range r.linkTypes {
		if l == lt {
			return
		}
	}
	r.linkTypes = append(r.linkTypes, lt)
}
