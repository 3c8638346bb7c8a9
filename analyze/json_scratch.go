package analyze

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"time"
	"unsafe"

	"github.com/modsniff/modsniff/decode/tlswire"
)

// jsonScratch holds what the streamed report converted its last value
// with, for the next value to reuse: the lists of a DNSJSON or TLSJSON, and
// the bytes of the strings formatted for it (timestamps, addresses,
// fingerprints, a finding's texts). The report writes each value as soon
// as it is converted, and a dense capture has tens of thousands: formatted
// one by one on the heap, those strings were half of what writing the 4 GiB
// bench capture's report allocated.
//
// Everything a scratch hands out is valid until the next begin: the caller
// writes the value, then starts the next. The methods of a nil *jsonScratch
// allocate, for values that are kept.
type jsonScratch struct {
	resps    []DNSRespJSON
	recs     []RecordJSON
	certs    []CertJSON
	strs     []string
	alerts   []AlertJSON
	evidence []Evidence
	// text holds the bytes of the strings handed out since begin. The
	// strings share them (strings.Builder's trick); begin writes over
	// them, which is why nothing a scratch hands out may outlive the
	// value being written. When text grows, the strings handed out keep
	// the old array, which nothing writes again.
	text []byte
}

// begin starts the conversion of a value: the strings and lists of the
// value converted before are given up.
func (sc *jsonScratch) begin() {
	if sc != nil {
		sc.text = sc.text[:0]
		sc.strs = sc.strs[:0]
		sc.alerts = sc.alerts[:0]
		sc.evidence = sc.evidence[:0]
	}
}

// since returns sc.text from offset from on as a string sharing its bytes.
func (sc *jsonScratch) since(from int) string {
	if from == len(sc.text) {
		return ""
	}
	return unsafe.String(&sc.text[from], len(sc.text)-from)
}

// timestamp is Timestamp(t).
func (sc *jsonScratch) timestamp(t time.Time) string {
	if sc == nil || t.IsZero() {
		return Timestamp(t)
	}
	n := len(sc.text)
	sc.text = t.UTC().AppendFormat(sc.text, time.RFC3339Nano)
	return sc.since(n)
}

// addrPort is addrPort(a).
func (sc *jsonScratch) addrPort(a netip.AddrPort) string {
	if sc == nil || !a.IsValid() {
		return addrPort(a)
	}
	n := len(sc.text)
	sc.text = a.AppendTo(sc.text)
	return sc.since(n)
}

// hex is hex.EncodeToString(b).
func (sc *jsonScratch) hex(b []byte) string {
	if sc == nil {
		return hex.EncodeToString(b)
	}
	n := len(sc.text)
	sc.text = hex.AppendEncode(sc.text, b)
	return sc.since(n)
}

// ja4 is tlswire.JA4(ch, transport).
func (sc *jsonScratch) ja4(ch *tlswire.ClientHello, transport byte) string {
	if sc == nil {
		return tlswire.JA4(ch, transport)
	}
	n := len(sc.text)
	sc.text = tlswire.AppendJA4(sc.text, ch, transport)
	return sc.since(n)
}

// format returns what app appends to an empty slice.
func (sc *jsonScratch) format(app func([]byte) []byte) string {
	if sc == nil {
		return string(app(nil))
	}
	n := len(sc.text)
	sc.text = app(sc.text)
	return sc.since(n)
}

// cat is the concatenation of parts.
func (sc *jsonScratch) cat(parts ...string) string {
	if sc == nil {
		if len(parts) == 1 {
			return parts[0]
		}
		size := 0
		for _, p := range parts {
			size += len(p)
		}
		var b strings.Builder
		b.Grow(size)
		for _, p := range parts {
			b.WriteString(p)
		}
		return b.String()
	}
	n := len(sc.text)
	for _, p := range parts {
		sc.text = append(sc.text, p...)
	}
	return sc.since(n)
}

// stringList returns an empty list with room for n strings, carved from
// the scratch (or allocated when sc is nil). Never nil: an empty list is
// written [].
func (sc *jsonScratch) stringList(n int) []string {
	if sc == nil {
		return make([]string, 0, n)
	}
	return carve(&sc.strs, n, 16)
}

// evidenceList returns an empty list with room for n evidence items,
// carved from the scratch (or allocated when sc is nil).
func (sc *jsonScratch) evidenceList(n int) []Evidence {
	if sc == nil {
		return make([]Evidence, 0, n)
	}
	return carve(&sc.evidence, n, 16)
}

// alertList returns an empty list with room for n alerts, carved from the
// scratch (or allocated when sc is nil). Never nil.
func (sc *jsonScratch) alertList(n int) []AlertJSON {
	if sc == nil {
		return make([]AlertJSON, 0, n)
	}
	return carve(&sc.alerts, n, 8)
}

// carve returns an empty list with room for n elements, cut from the free
// end of *pool, which it replaces by a larger array when too short (the
// lists already carved keep the old one).
func carve[T any](pool *[]T, n, minCap int) []T {
	if cap(*pool)-len(*pool) < n || *pool == nil {
		*pool = make([]T, 0, max(n, 2*cap(*pool), minCap))
	}
	l := len(*pool)
	*pool = (*pool)[:l+n]
	return (*pool)[l : l : l+n]
}

// certificates returns an empty list for n certificates: from the scratch
// (the last session converted is gone), or allocated when sc is nil.
// Never nil.
func (sc *jsonScratch) certificates(n int) []CertJSON {
	if sc == nil {
		return make([]CertJSON, 0, n)
	}
	if cap(sc.certs) < n || sc.certs == nil {
		sc.certs = make([]CertJSON, 0, max(n, 8))
	}
	return sc.certs[:0:n]
}

// responses returns an empty list for n responses: from the scratch, which
// it empties (the last value converted is gone), or allocated when sc is
// nil. Never nil: an empty list is written [].
func (sc *jsonScratch) responses(n int) []DNSRespJSON {
	if sc == nil {
		return make([]DNSRespJSON, 0, n)
	}
	if cap(sc.resps) < n || sc.resps == nil {
		sc.resps = make([]DNSRespJSON, 0, max(n, 8))
	}
	sc.recs = sc.recs[:0]
	return sc.resps[:0:n]
}

// records returns an empty list for n records, carved from the scratch
// (or allocated when sc is nil). Never nil.
func (sc *jsonScratch) records(n int) []RecordJSON {
	if sc == nil {
		return make([]RecordJSON, 0, n)
	}
	return carve(&sc.recs, n, 32)
}

// appendAddrString appends a.String() to b.
func appendAddrString(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(b, a.String()...) // "invalid IP", which AppendTo leaves out
	}
	return a.AppendTo(b)
}

// appendAddrPortString appends a.String() to b.
func appendAddrPortString(b []byte, a netip.AddrPort) []byte {
	if !a.IsValid() {
		return append(b, a.String()...)
	}
	return a.AppendTo(b)
}
