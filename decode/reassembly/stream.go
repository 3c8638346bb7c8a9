// Package reassembly puts each direction of a TCP connection back in
// sequence order (RFC 9293 §3.4 and §3.10.7.4) for the parsers above it, with
// bounded memory: a direction holds out-of-order data only up to its Limits,
// all directions of one decoder share a Budget, and when a bound is reached
// the stream stops waiting for the missing bytes and reports them as a gap.
//
// In-order data, the common case, is handed to the Sink without copying and
// without allocating. A Stream is not safe for concurrent use; neither is a
// Budget.
package reassembly

import (
	"bytes"
	"slices"
	"sort"

	"github.com/modsniff/modsniff/decode/wire"
)

// Defaults used for zero (or negative) limits.
const (
	DefaultMaxBufferedPerStream = 256 << 10
	DefaultMaxSegmentsPerStream = 1024
	DefaultBudget               = 16 << 20
)

// maxPayload caps the bytes taken from one segment. No IP packet carries more
// than 65535; the cap keeps sequence arithmetic far from 2^31 even for a
// caller that hands over something absurd.
const maxPayload = 1 << 24

// tailSize is how many delivered bytes a Stream keeps to compare
// retransmissions against.
const tailSize = 64

// Sink receives one direction's bytes in order.
type Sink interface {
	// Data delivers in-order bytes. p is valid only during the call: it may
	// alias the packet or a buffer the Stream reuses.
	Data(p []byte, at wire.Ref)
	// Gap reports that n bytes are missing before the next Data: lost, not
	// captured, or given up on because a limit was reached. at is the packet
	// whose data follows the gap (the FIN's, or Flush's, for a hole before
	// the FIN).
	Gap(n int64, at wire.Ref)
}

// Limits bounds the out-of-order data one Stream holds. Zero fields take the
// defaults.
type Limits struct {
	// MaxBufferedPerStream is the out-of-order bytes one direction may hold
	// (default 256 KiB).
	MaxBufferedPerStream int
	// MaxSegmentsPerStream is the number of pending out-of-order pieces one
	// direction may hold (default 1024).
	MaxSegmentsPerStream int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBufferedPerStream <= 0 {
		l.MaxBufferedPerStream = DefaultMaxBufferedPerStream
	}
	if l.MaxSegmentsPerStream <= 0 {
		l.MaxSegmentsPerStream = DefaultMaxSegmentsPerStream
	}
	return l
}

// Budget caps the out-of-order bytes held by all the Streams of one decoder
// together. Bytes are taken when a segment is buffered and returned when it
// is delivered or dropped.
type Budget struct {
	max, used int64
	hits      int
}

// NewBudget returns a Budget of max bytes (DefaultBudget when max <= 0).
func NewBudget(max int64) *Budget {
	if max <= 0 {
		max = DefaultBudget
	}
	return &Budget{max: max}
}

// Used returns the bytes currently held against b.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used
}

// Hits returns how many times b refused to hold more bytes.
func (b *Budget) Hits() int {
	if b == nil {
		return 0
	}
	return b.hits
}

func (b *Budget) take(n int) bool {
	if b == nil {
		return true
	}
	if b.used+int64(n) > b.max {
		b.hits++
		return false
	}
	b.used += int64(n)
	return true
}

func (b *Budget) give(n int) {
	if b != nil {
		b.used -= int64(n)
	}
}

// Stats counts what a Stream saw. Segment counts are of segments offered,
// byte counts of sequence space. Every connection keeps two until the
// analysis ends, so the segment counts are 32-bit, like the frame numbers
// of wire.Ref: no capture reaches 2^31 segments in one stream without
// passing 2^31 frames.
type Stats struct {
	// Bytes is the number of bytes delivered through Data.
	Bytes int64
	// Gaps and LostBytes count the Gap calls and the bytes they reported.
	LostBytes int64
	Gaps      int32
	// Retransmitted counts segments carrying no new byte: entirely delivered
	// already, or entirely buffered already.
	Retransmitted int32
	// OutOfOrder counts segments buffered because they arrived ahead of the
	// next expected byte.
	OutOfOrder int32
	// Overlaps counts segments carrying new bytes as well as bytes already
	// delivered or buffered.
	Overlaps int32
	// Conflicts counts segments whose overlapping bytes differ from the bytes
	// received first (which win): evidence of injection. Only buffered bytes
	// and the last 64 delivered bytes can be compared.
	Conflicts int32
	// BoundHits counts the times a limit forced a gap.
	BoundHits int32
	// BeforeStart counts segments entirely before the stream's first byte
	// (seen when the SYN was not captured); they are dropped.
	BeforeStart int32
	// AfterFIN counts segments carrying bytes beyond the FIN; those bytes
	// are dropped.
	AfterFIN int32
	// FirstConflict is the first segment counted in Conflicts.
	FirstConflict wire.Ref
	// Closed is set once every sequence number up to the FIN has been
	// delivered or reported as a gap.
	Closed bool
}

// segment is a piece of out-of-order data, copied out of its packet.
type segment struct {
	seq  uint32
	data []byte
	at   wire.Ref
}

// Stream reassembles one direction of a TCP connection. Its zero memory cost
// is a few words plus a 64-byte tail: buffers are allocated only while data
// is out of order.
type Stream struct {
	sink   Sink
	budget *Budget
	lim    Limits

	started bool
	start   uint32 // sequence number of the first byte
	next    uint32 // sequence number of the next byte to deliver
	finSeen bool
	fin     uint32 // sequence number the FIN occupies

	pending []segment // sorted by seq, non-overlapping, all after next
	held    int       // bytes in pending
	// now is the packet being offered: buffered data that it makes
	// deliverable is cited at it, the packet that completed the bytes, as
	// Wireshark reports reassembled data. Zero during Flush.
	now wire.Ref

	// tail holds the last tailLen bytes delivered, ending at next.
	tail    [tailSize]byte
	tailLen int

	stats Stats
}

// NewStream returns a Stream delivering to sink. budget may be shared by the
// streams of one decoder; nil means no shared cap.
func NewStream(sink Sink, budget *Budget, lim Limits) *Stream {
	s := new(Stream)
	s.Init(sink, budget, lim)
	return s
}

// Init makes s a new Stream, as NewStream does, in place: for a Stream
// that lives inside the state of its connection.
func (s *Stream) Init(sink Sink, budget *Budget, lim Limits) {
	if sink == nil {
		sink = discard{}
	}
	*s = Stream{sink: sink, budget: budget, lim: lim.withDefaults()}
}

type discard struct{}

func (discard) Data([]byte, wire.Ref) {}
func (discard) Gap(int64, wire.Ref)   {}

// Stats returns what s has counted so far.
func (s *Stream) Stats() Stats { return s.stats }

// Closed reports whether every sequence number up to the FIN has been
// delivered or reported as a gap: the sink gets nothing more.
func (s *Stream) Closed() bool { return s.stats.Closed }

// Segment offers one TCP segment of this direction: seq is its sequence
// number, syn and fin its flags, payload its data (which s does not keep).
// The stream starts at the SYN's sequence number plus one or, when the SYN
// was not captured, at the first segment carrying data or a FIN. Sequence
// numbers are compared modulo 2^32 (RFC 9293 §3.4, RFC 1982 serial
// arithmetic); the bytes received first win when segments overlap. RST is
// the caller's business: a segment carrying it is treated like any other.
func (s *Stream) Segment(seq uint32, syn, fin bool, payload []byte, at wire.Ref) {
	if len(payload) > maxPayload {
		payload = payload[:maxPayload]
	}
	s.now = at
	defer func() { s.now = wire.Ref{} }()
	if syn {
		seq++ // the SYN occupies one sequence number
		if !s.started {
			s.begin(seq)
		}
	}
	if len(payload) == 0 && !fin {
		return
	}
	if !s.started {
		s.begin(seq)
	}
	end := seq + uint32(len(payload))
	if s.beforeStart(end) {
		s.stats.BeforeStart++
		return
	}
	closed := s.stats.Closed
	if fin {
		s.setFIN(end)
	}
	if s.finSeen {
		payload = s.trimAfterFIN(seq, payload)
	}
	if len(payload) == 0 {
		if fin && closed {
			s.stats.Retransmitted++
		}
		s.checkFIN()
		return
	}
	s.offer(seq, payload, at)
}

// Lost declares that n bytes starting at seq were on the wire but are not
// in the capture (a snap length, or privacy trimming, cut them off the end
// of a segment). When they are the next bytes of the stream they are
// reported as a Gap at once instead of being waited for, so a snap-length
// capture costs no buffering. Declarations behind the stream, or ahead of
// a hole, are ignored: the bytes then count as lost when a bound or Flush
// gives up on them.
func (s *Stream) Lost(seq uint32, n int, at wire.Ref) {
	if n <= 0 || !s.started || n > maxPayload || s.next != seq {
		return
	}
	if s.finSeen && int32(s.fin-(seq+uint32(n))) < 0 {
		n = int(s.fin - seq)
	}
	// Buffered bytes inside the range were captured after all (a
	// retransmission kept whole): deliver up to them.
	if len(s.pending) > 0 && int32(s.pending[0].seq-(seq+uint32(n))) < 0 {
		n = int(s.pending[0].seq - seq)
	}
	if n <= 0 {
		return
	}
	s.now = at
	s.skip(seq+uint32(n), at)
	s.drain()
	s.now = wire.Ref{}
}

// Flush delivers everything buffered, reporting the holes between as gaps,
// and a hole before a FIN already seen (cited at at). It returns every byte
// to the Budget. s may be offered more segments afterwards.
func (s *Stream) Flush(at wire.Ref) {
	for len(s.pending) > 0 {
		q := s.pending[0]
		s.skip(q.seq, q.at)
		s.drain()
	}
	if s.finSeen && !s.stats.Closed {
		s.skip(s.fin, at)
		s.checkFIN()
	}
}

func (s *Stream) begin(seq uint32) {
	s.started = true
	s.start, s.next = seq, seq
}

// beforeStart reports whether a segment ending at end lies entirely before
// the stream's first byte. Once 2^31 sequence numbers have passed the
// question has no answer and it says no.
func (s *Stream) beforeStart(end uint32) bool {
	back := int32(s.next - end)
	span := s.stats.Bytes + s.stats.LostBytes
	return back > 0 && span < 1<<31 && int64(back) >= span
}

// setFIN records the first FIN that is not behind data already delivered
// and drops buffered data beyond it.
func (s *Stream) setFIN(seq uint32) {
	if s.finSeen || int32(seq-s.next) < 0 {
		return
	}
	s.finSeen, s.fin = true, seq
	limit := int64(s.fin - s.next)
	for len(s.pending) > 0 {
		k := len(s.pending) - 1
		q := &s.pending[k]
		qs := int64(q.seq - s.next)
		qe := qs + int64(len(q.data))
		if qe <= limit {
			break
		}
		if qs < limit {
			keep := int(limit - qs)
			s.release(len(q.data) - keep)
			q.data = slices.Clone(q.data[:keep])
			break
		}
		s.release(len(q.data))
		s.pending[k] = segment{}
		s.pending = s.pending[:k]
	}
	if len(s.pending) == 0 {
		s.pending = nil
	}
}

// trimAfterFIN cuts payload, starting at seq, at the FIN.
func (s *Stream) trimAfterFIN(seq uint32, payload []byte) []byte {
	if len(payload) == 0 {
		return payload
	}
	room := int32(s.fin - seq)
	if room <= 0 {
		s.stats.AfterFIN++
		return nil
	}
	if int64(room) < int64(len(payload)) {
		s.stats.AfterFIN++
		return payload[:room]
	}
	return payload
}

func (s *Stream) checkFIN() {
	if s.finSeen && !s.stats.Closed && s.next == s.fin {
		s.stats.Closed = true
	}
}

// offer places payload, which starts at seq, relative to the next expected
// byte: behind it (a retransmission, or an overlap whose new part follows),
// at it (delivered at once), or ahead of it (buffered). When buffering would
// break a limit, it gives up on the first hole (up to the first buffered
// segment, or to p if p comes first) and tries again.
func (s *Stream) offer(seq uint32, p []byte, at wire.Ref) {
	overlapped := false
	for {
		d := int64(int32(seq - s.next))
		if d < 0 {
			if -d >= int64(len(p)) {
				s.stats.Retransmitted++
				s.compareTail(seq, p, at)
				return
			}
			s.stats.Overlaps++
			overlapped = true
			s.compareTail(seq, p[:-d], at)
			p, seq, d = p[-d:], s.next, 0
		}
		if d == 0 {
			s.deliver(p, at, overlapped)
			return
		}
		if s.buffer(seq, p, at) {
			return
		}
		s.stats.BoundHits++
		if len(s.pending) > 0 && int32(s.pending[0].seq-seq) < 0 {
			q := s.pending[0]
			s.skip(q.seq, q.at)
			s.drain()
		} else {
			s.skip(seq, at) // p is the first data after the hole
		}
	}
}

// deliver hands p, which starts at next, to the sink. Where buffered data
// overlaps p, the buffered bytes (received first) are delivered instead.
func (s *Stream) deliver(p []byte, at wire.Ref, overlapped bool) {
	for len(p) > 0 && len(s.pending) > 0 {
		q := s.pending[0]
		rel := int64(q.seq - s.next)
		if rel >= int64(len(p)) {
			break
		}
		if rel > 0 {
			s.emit(p[:rel], at)
			p = p[rel:]
		}
		if !overlapped {
			s.stats.Overlaps++
			overlapped = true
		}
		n := min(len(p), len(q.data))
		if !bytes.Equal(p[:n], q.data[:n]) {
			s.conflict(at)
		}
		p = p[n:]
		s.pop()
	}
	if len(p) > 0 {
		s.emit(p, at)
	}
	s.drain()
}

// buffer copies the bytes of p not already buffered into pending, unless
// that would break a limit, in which case it changes nothing and reports
// false. p starts ahead of next.
func (s *Stream) buffer(seq uint32, p []byte, at wire.Ref) bool {
	r := int64(seq - s.next)
	e := r + int64(len(p))
	i := sort.Search(len(s.pending), func(k int) bool {
		return s.offset(k)+int64(len(s.pending[k].data)) > r
	})
	// Measure the new bytes and pieces, and compare the overlapping ones.
	newBytes, pieces, conflict := 0, 0, false
	pos, j := r, i
	for ; j < len(s.pending); j++ {
		q := s.pending[j]
		qs := s.offset(j)
		qe := qs + int64(len(q.data))
		if qs >= e {
			break
		}
		if qs > pos {
			newBytes += int(qs - pos)
			pieces++
		}
		lo, hi := max(pos, qs), min(e, qe)
		if !bytes.Equal(p[lo-r:hi-r], q.data[lo-qs:hi-qs]) {
			conflict = true
		}
		pos = max(pos, qe)
	}
	if pos < e {
		newBytes += int(e - pos)
		pieces++
	}
	if newBytes == 0 {
		s.stats.Retransmitted++
		if conflict {
			s.conflict(at)
		}
		return true
	}
	if s.held+newBytes > s.lim.MaxBufferedPerStream ||
		len(s.pending)+pieces > s.lim.MaxSegmentsPerStream ||
		!s.budget.take(newBytes) {
		return false
	}
	s.held += newBytes
	s.stats.OutOfOrder++
	if j > i {
		s.stats.Overlaps++
	}
	if conflict {
		s.conflict(at)
	}
	piece := func(a, b int64) segment {
		return segment{seq: s.next + uint32(a), data: slices.Clone(p[a-r : b-r]), at: at}
	}
	if j == i {
		s.pending = slices.Insert(s.pending, i, piece(r, e))
		return true
	}
	merged := make([]segment, 0, j-i+pieces)
	pos = r
	for k := i; k < j; k++ {
		qs := s.offset(k)
		if qs > pos {
			merged = append(merged, piece(pos, qs))
		}
		merged = append(merged, s.pending[k])
		pos = max(pos, qs+int64(len(s.pending[k].data)))
	}
	if pos < e {
		merged = append(merged, piece(pos, e))
	}
	s.pending = slices.Replace(s.pending, i, j, merged...)
	return true
}

// offset returns how far pending[k] starts after next.
func (s *Stream) offset(k int) int64 { return int64(s.pending[k].seq - s.next) }

// drain delivers the buffered segments that have become contiguous.
func (s *Stream) drain() {
	for len(s.pending) > 0 && s.pending[0].seq == s.next {
		s.pop()
	}
	s.checkFIN()
}

// pop delivers and releases pending[0], which starts at next.
func (s *Stream) pop() {
	q := s.pending[0]
	s.pending[0] = segment{}
	s.pending = s.pending[1:]
	if len(s.pending) == 0 {
		s.pending = nil
	}
	s.release(len(q.data))
	at := q.at
	if !s.now.IsZero() {
		at = s.now
	}
	s.emit(q.data, at)
}

func (s *Stream) release(n int) {
	s.held -= n
	s.budget.give(n)
}

func (s *Stream) emit(p []byte, at wire.Ref) {
	s.sink.Data(p, at)
	s.stats.Bytes += int64(len(p))
	s.next += uint32(len(p))
	s.remember(p)
}

// skip reports the bytes up to seq as a gap and moves next there.
func (s *Stream) skip(seq uint32, at wire.Ref) {
	n := int64(seq - s.next)
	if n == 0 {
		return
	}
	s.sink.Gap(n, at)
	s.stats.Gaps++
	s.stats.LostBytes += n
	s.next = seq
	s.tailLen = 0
}

// remember keeps the last tailSize bytes delivered.
func (s *Stream) remember(p []byte) {
	if len(p) >= tailSize {
		copy(s.tail[:], p[len(p)-tailSize:])
		s.tailLen = tailSize
		return
	}
	keep := min(s.tailLen, tailSize-len(p))
	copy(s.tail[:keep], s.tail[s.tailLen-keep:s.tailLen])
	copy(s.tail[keep:], p)
	s.tailLen = keep + len(p)
}

// compareTail compares p, which starts at seq and ends at or before next,
// with the delivered bytes still in the tail.
func (s *Stream) compareTail(seq uint32, p []byte, at wire.Ref) {
	back := int64(s.next - seq) // p starts back bytes before next
	lo := max(-back, -int64(s.tailLen))
	hi := min(-back+int64(len(p)), 0)
	if lo >= hi {
		return
	}
	t := int64(s.tailLen)
	if !bytes.Equal(p[lo+back:hi+back], s.tail[t+lo:t+hi]) {
		s.conflict(at)
	}
}

func (s *Stream) conflict(at wire.Ref) {
	s.stats.Conflicts++
	if s.stats.Conflicts == 1 {
		s.stats.FirstConflict = at
	}
}
