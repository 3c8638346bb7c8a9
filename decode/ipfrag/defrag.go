// Package ipfrag reassembles fragmented IP datagrams: IPv4 (RFC 791, with
// the hole bookkeeping of RFC 815) and IPv6 (RFC 8200 §4.5, with RFC 5722 for
// overlapping fragments), with bounded memory. Time is the capture's: a
// datagram expires when a later fragment's timestamp says it has waited too
// long, never by the wall clock.
//
// Each datagram being reassembled is one buffer, written at the fragments'
// offsets as in RFC 815, plus a bitmap of the 8-byte blocks received. Every
// fragment but the last covers whole blocks, so the bitmap finds overlaps
// and completion exactly, at a cost proportional to the fragment's length
// whatever the order of arrival.
package ipfrag

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/modsniff/modsniff/decode/wire"
)

// Defaults used for zero (or negative) limits.
const (
	DefaultMaxDatagrams = 256
	DefaultMaxBytes     = 4 << 20
	DefaultTimeout      = 60 * time.Second // RFC 8200 §4.5
)

// maxLength is the longest datagram payload a fragment may extend to: the
// Total Length field of IPv4 (RFC 791) and the Payload Length of IPv6
// (RFC 8200 §4.5) are 16 bits.
const maxLength = 65535

// Errors naming what was wrong with a fragment; Add wraps them in an *Error.
var (
	// ErrTooLong: the fragment extends beyond 65535 bytes.
	ErrTooLong = errors.New("datagram longer than 65535 bytes")
	// ErrOffset: the offset is negative or not a multiple of 8.
	ErrOffset = errors.New("offset not a multiple of 8")
	// ErrMisaligned: a fragment other than the last has a length that is not
	// a multiple of 8.
	ErrMisaligned = errors.New("non-final fragment length not a multiple of 8")
	// ErrEmpty: a fragment other than the last carries no data.
	ErrEmpty = errors.New("zero-length non-final fragment")
	// ErrLength: the fragments disagree on where the datagram ends (two
	// final fragments with different ends, or data beyond the final one).
	ErrLength = errors.New("fragments disagree on the datagram length")
	// ErrOverlap: IPv6 fragments overlap (RFC 5722); the whole datagram is
	// discarded, including fragments still to come.
	ErrOverlap = errors.New("overlapping IPv6 fragments")
)

// Error reports a fragment that made Add drop its datagram.
type Error struct {
	Key    Key
	Offset int
	Length int
	More   bool
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("ipfrag: %s > %s id %#x proto %d: fragment at %d+%d: %v",
		e.Key.Src, e.Key.Dst, e.Key.ID, e.Key.Proto, e.Offset, e.Length, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Key identifies the datagram a fragment belongs to: RFC 791's (source,
// destination, protocol, identification) for IPv4 with its 16-bit ID, RFC
// 8200's (source, destination, identification) for IPv6 with its 32-bit
// Identification; Proto is the IPv4 protocol or the Next Header of the
// fragment header. IPv6 rules apply when Src is an IPv6 address.
type Key struct {
	Src, Dst netip.Addr
	ID       uint32
	Proto    uint8
}

func (k Key) v6() bool { return k.Src.Is6() && !k.Src.Is4In6() }

// Limits bounds a Defragmenter. Zero fields take the defaults.
type Limits struct {
	// MaxDatagrams is the number of datagrams in reassembly at once
	// (default 256).
	MaxDatagrams int
	// MaxBytes is the fragment data held by all of them together
	// (default 4 MiB).
	MaxBytes int64
	// Timeout is how long, in capture time, a datagram may wait for its
	// missing fragments (default 60 s, RFC 8200 §4.5).
	Timeout time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxDatagrams <= 0 {
		l.MaxDatagrams = DefaultMaxDatagrams
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	return l
}

// Stats counts what a Defragmenter did.
type Stats struct {
	// Reassembled counts datagrams completed.
	Reassembled int
	// Expired counts datagrams that timed out incomplete.
	Expired int
	// Dropped counts datagrams evicted (oldest first) to stay within the
	// limits.
	Dropped int
	// Overlaps counts fragments overlapping data already received with
	// different bytes or a different extent.
	Overlaps int
	// Duplicates counts fragments whose bytes were all received already,
	// identical: dropped harmlessly (RFC 8200 §4.5 allows this for IPv6).
	Duplicates int
	// Errors counts fragments Add returned an error for.
	Errors int
}

// datagram is one datagram being reassembled.
type datagram struct {
	key   Key
	buf   []byte   // the datagram so far, grown to the furthest end received
	have  []uint64 // bit b set: bytes [8b, 8b+8) received (or up to total)
	got   int      // bytes received
	end   int      // furthest end received
	total int      // datagram length, -1 until the final fragment
	first wire.Ref
	since time.Time // capture time of the first fragment received
	dead  bool      // IPv6 overlap seen: discard the rest (RFC 5722)

	older, newer *datagram
}

// Defragmenter reassembles the fragmented datagrams of one capture. It is not
// safe for concurrent use.
type Defragmenter struct {
	lim    Limits
	m      map[Key]*datagram
	oldest *datagram // list in order of first arrival
	newest *datagram
	held   int64 // len(buf) summed over datagrams
	stats  Stats
}

// New returns a Defragmenter bounded by l.
func New(l Limits) *Defragmenter {
	return &Defragmenter{lim: l.withDefaults(), m: make(map[Key]*datagram)}
}

// Stats returns what d has counted so far.
func (d *Defragmenter) Stats() Stats { return d.stats }

// Add offers one fragment: offset in bytes, more the More Fragments flag,
// payload the fragment's data after the IP header (IPv4) or the Fragment
// header (IPv6), which d copies. When the fragment completes its datagram,
// Add returns the reassembled payload (a new slice the caller may keep), the
// packet of the fragment at offset 0, and complete = true. A fragment at
// offset 0 without more is a whole datagram (an atomic fragment, RFC 6946)
// and is returned at once, alone.
//
// A malformed fragment makes Add drop its datagram and return an *Error
// wrapping one of the Err values. For IPv4, overlapping bytes received first
// win; for IPv6, an overlap discards the datagram (RFC 5722).
func (d *Defragmenter) Add(k Key, offset int, more bool, payload []byte, at wire.Ref) (datagram []byte, first wire.Ref, complete bool, err error) {
	d.expire(at.Time())
	n := len(payload)
	switch {
	case offset < 0 || offset%8 != 0:
		err = ErrOffset
	case offset > maxLength || n > maxLength-offset:
		err = ErrTooLong
	case more && n == 0:
		err = ErrEmpty
	case more && n%8 != 0:
		err = ErrMisaligned
	}
	if err == nil && offset == 0 && !more {
		return bytes.Clone(payload), at, true, nil
	}
	end := offset + n
	g := d.m[k]
	if err == nil && g != nil && !g.dead {
		switch {
		case !more && g.total >= 0 && g.total != end:
			err = ErrLength
		case !more && g.end > end:
			err = ErrLength
		case more && g.total >= 0 && end > g.total:
			err = ErrLength
		}
	}
	if err != nil {
		if g != nil && !g.dead {
			d.remove(g)
		}
		d.stats.Errors++
		return nil, wire.Ref{}, false, &Error{Key: k, Offset: offset, Length: n, More: more, Err: err}
	}
	if g == nil {
		g = d.create(k, at)
	}
	if g.dead {
		return nil, wire.Ref{}, false, nil
	}
	if !more {
		g.total = end
	}
	if !d.grow(g, end) {
		return nil, wire.Ref{}, false, nil
	}
	b0, b1 := offset/8, (end+7)/8
	if g.anySet(b0, b1) {
		if g.allSet(b0, b1) && bytes.Equal(g.buf[offset:end], payload) {
			d.stats.Duplicates++
			return nil, wire.Ref{}, false, nil
		}
		d.stats.Overlaps++
		if k.v6() {
			d.kill(g)
			d.stats.Errors++
			return nil, wire.Ref{}, false, &Error{Key: k, Offset: offset, Length: n, More: more, Err: ErrOverlap}
		}
	}
	// Copy the blocks not yet received: first-received bytes win.
	for b := b0; b < b1; {
		if g.isSet(b) {
			b++
			continue
		}
		e := b
		for e < b1 && !g.isSet(e) {
			g.set(e)
			e++
		}
		lo, hi := 8*b, min(8*e, end)
		copy(g.buf[lo:hi], payload[lo-offset:hi-offset])
		g.got += hi - lo
		b = e
	}
	g.end = max(g.end, end)
	if offset == 0 && g.first.IsZero() {
		g.first = at
	}
	if g.total < 0 || g.got < g.total {
		return nil, wire.Ref{}, false, nil
	}
	out := g.buf[:g.total:g.total]
	first = g.first
	d.remove(g)
	d.stats.Reassembled++
	return out, first, true, nil
}

// create starts a datagram, evicting the oldest one if there are too many.
func (d *Defragmenter) create(k Key, at wire.Ref) *datagram {
	if len(d.m) >= d.lim.MaxDatagrams && d.oldest != nil {
		d.evict(d.oldest)
	}
	g := &datagram{key: k, total: -1, since: at.Time(), older: d.newest}
	if d.newest != nil {
		d.newest.newer = g
	} else {
		d.oldest = g
	}
	d.newest = g
	d.m[k] = g
	return g
}

// grow makes g's buffer reach end, doubling it to keep growth linear, and
// evicts the oldest other datagrams to stay within MaxBytes. When even that
// is not enough, it drops g and reports false.
func (d *Defragmenter) grow(g *datagram, end int) bool {
	if end <= len(g.buf) {
		return true
	}
	size := max(end, min(2*len(g.buf), maxLength))
	if g.total >= 0 {
		size = g.total
	}
	if d.held+int64(size-len(g.buf)) > d.lim.MaxBytes {
		size = end
	}
	need := int64(size - len(g.buf))
	for d.held+need > d.lim.MaxBytes {
		victim := d.oldest
		if victim == g {
			victim = g.newer
		}
		if victim == nil {
			d.evict(g)
			return false
		}
		d.evict(victim)
	}
	buf := make([]byte, size)
	copy(buf, g.buf)
	g.buf = buf
	d.held += need
	if words := (size/8 + 64) / 64; words > len(g.have) {
		g.have = append(g.have, make([]uint64, words-len(g.have))...)
	}
	return true
}

// expire removes the datagrams that have waited longer than Timeout by now.
func (d *Defragmenter) expire(now time.Time) {
	if now.IsZero() {
		return
	}
	for g := d.oldest; g != nil && now.Sub(g.since) > d.lim.Timeout; g = d.oldest {
		if !g.dead {
			d.stats.Expired++
		}
		d.remove(g)
	}
}

func (d *Defragmenter) evict(g *datagram) {
	if !g.dead {
		d.stats.Dropped++
	}
	d.remove(g)
}

// kill discards g's data but keeps its key until it expires or is evicted,
// so the fragments still to come are discarded too (RFC 5722).
func (d *Defragmenter) kill(g *datagram) {
	d.held -= int64(len(g.buf))
	g.buf, g.have, g.dead = nil, nil, true
}

func (d *Defragmenter) remove(g *datagram) {
	d.held -= int64(len(g.buf))
	g.buf, g.have = nil, nil
	if g.older != nil {
		g.older.newer = g.newer
	} else {
		d.oldest = g.newer
	}
	if g.newer != nil {
		g.newer.older = g.older
	} else {
		d.newest = g.older
	}
	g.older, g.newer = nil, nil
	delete(d.m, g.key)
}

func (g *datagram) isSet(b int) bool { return g.have[b/64]&(1<<(b%64)) != 0 }
func (g *datagram) set(b int)        { g.have[b/64] |= 1 << (b % 64) }

// anySet and allSet report whether any or all of blocks [b0, b1) were
// received, a word at a time.
func (g *datagram) anySet(b0, b1 int) bool {
	for b := b0; b < b1; {
		w, m, next := g.word(b, b1)
		if w&m != 0 {
			return true
		}
		b = next
	}
	return false
}

func (g *datagram) allSet(b0, b1 int) bool {
	for b := b0; b < b1; {
		w, m, next := g.word(b, b1)
		if w&m != m {
			return false
		}
		b = next
	}
	return true
}

// word returns the bitmap word holding block b, the mask of blocks [b, b1)
// within it, and the first block of the next word.
func (g *datagram) word(b, b1 int) (w, mask uint64, next int) {
	next = min((b/64+1)*64, b1)
	mask = (1<<(next-b) - 1) << (b % 64) // a shift by 64 gives 0: all ones
	return g.have[b/64], mask, next
}
