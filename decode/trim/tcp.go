package trim

import (
	"math"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/decode/tlswire"
)

// Stream modes, per direction.
const (
	modeDetect  uint8 = iota // the next byte starts a stream: look at it
	modeTLS                  // TLS records
	modeHTTP                 // HTTP/1 heads and bodies
	modeSOCKS                // a SOCKS negotiation
	modeUnknown              // another protocol
)

// tflow is one TCP connection; d[0] is the direction of the SYN's sender.
type tflow struct {
	client    netip.AddrPort
	d         [2]tdir
	version   uint16 // negotiated TLS version, from the ServerHello (0: not seen)
	hrr       bool   // a HelloRetryRequest was seen: TLS 1.3
	connect   bool   // the client sent CONNECT; its 2xx answer starts a tunnel
	connectOK bool   // the answer to CONNECT was 2xx
	finSeen   bool   // the segment carrying the client's Finished was seen
	last      time.Time
	closed    bool
}

// tdir is one direction of a tflow. Offsets count stream bytes from 0, the
// byte after the SYN.
type tdir struct {
	isn       uint32
	haveISN   bool
	next      int64 // the offset the walk expects next
	lost      bool  // the walk lost track of the structure
	keepBelow int64 // bytes below this offset are handshake: kept
	firstCut  int64 // the first offset the walk cut (math.MaxInt64: none)
	mode      uint8
	modeAt    int64 // offset where the mode started
	finMark   bool  // the segment being walked carries the client's Finished

	// TLS record walk
	hdr     [5]byte
	hdrN    int
	remain  int
	typ     uint8
	keepRec bool
	sawCCS  bool
	n22     int    // handshake records seen
	finDone bool   // the client's first protected record was seen
	sh      []byte // the first handshake record's body (server), until its version is read
	shDone  bool

	// HTTP
	inBody  bool
	status  int // status of the response being walked
	errBody int // bytes of an error response's body still kept
	headLen int
	crlf    int // how much of "\r\n\r\n" the head so far ends with
}

// flowKey names a TCP connection by its two ends, in canonical order.
type flowKey struct{ a, b netip.AddrPort }

func canonical(x, y netip.AddrPort) flowKey {
	if x.Addr().Less(y.Addr()) || (x.Addr() == y.Addr() && x.Port() < y.Port()) {
		return flowKey{x, y}
	}
	return flowKey{y, x}
}

// tcp returns how many bytes of the segment's payload (at payloadOff in
// the frame) to keep.
func (t *Trimmer) tcp(h *layers.TCP, srcIP, dstIP netip.Addr, payloadOff int, now time.Time) int {
	src := netip.AddrPortFrom(srcIP, uint16(h.SrcPort))
	dst := netip.AddrPortFrom(dstIP, uint16(h.DstPort))
	seq, ack, payload := h.Seq, h.Ack, h.Payload
	syn, hasAck, fin, rst := h.SYN, h.ACK, h.FIN, h.RST
	if wholePort(src.Port()) || wholePort(dst.Port()) {
		return len(payload)
	}
	t.sweep(now)
	k := canonical(src, dst)
	f := t.flows[k]
	if syn && !hasAck && (f == nil || !f.d[0].haveISN || f.client != src || f.d[0].isn != seq) {
		if f == nil && len(t.flows) >= MaxFlows {
			t.evict()
		}
		f = &tflow{client: src}
		f.d[0].isn, f.d[0].haveISN = seq, true
		for i := range f.d {
			f.d[i].firstCut = math.MaxInt64
		}
		t.flows[k] = f
	}
	if f == nil {
		// No SYN: the connection began before the capture. It is picked up
		// only at a segment that starts a TLS handshake or an HTTP/1
		// message; a segment of nothing but TLS alerts (its end) is kept.
		if onlyAlerts(payload) {
			return len(payload)
		}
		if !pickupStart(payload) {
			return 0
		}
		client := src
		if (handshakeStart(payload) && payload[5] == 2) || isHTTPStart(payload, true) {
			client = dst
		}
		if len(t.flows) >= MaxFlows {
			t.evict()
		}
		f = &tflow{client: client}
		for i := range f.d {
			f.d[i].firstCut = math.MaxInt64
		}
		t.flows[k] = f
	}
	f.last = now
	dir := 0
	if src != f.client {
		dir = 1
	}
	d, o := &f.d[dir], &f.d[1-dir]
	if syn && hasAck && dir == 1 && !d.haveISN {
		d.isn, d.haveISN = seq, true
	}
	if dir == 0 && hasAck && !o.haveISN && !syn {
		// The SYN-ACK was missed: the client's acknowledgement names it.
		o.isn, o.haveISN = ack-1, true
	}
	if fin || rst {
		f.closed = true
	}
	if !d.haveISN && !syn && d.next == 0 && pickupStart(payload) {
		d.isn, d.haveISN = seq-1, true // picked up at its handshake
	}
	if !d.haveISN || len(payload) == 0 {
		return 0
	}
	dataSeq := seq
	if syn {
		dataSeq++
	}
	a := d.next + int64(int32(dataSeq-(d.isn+1+uint32(d.next))))
	if a < 0 {
		return 0
	}
	b := a + int64(len(payload))
	keep := 0
	t.zero = t.zero[:0]
	switch {
	case a == d.next && !d.lost:
		keep = f.walk(t, dir, payload, a, payloadOff)
	case a < d.next:
		// A retransmission (and maybe more): kept up to the first byte ever
		// cut in this direction; new bytes beyond d.next continue the walk.
		old := min(b, d.next)
		keep = int(max(0, min(old, d.firstCut)-a))
		if b > d.next && !d.lost {
			n := f.walk(t, dir, payload[d.next-a:], d.next, payloadOff+int(d.next-a))
			if keep == int(d.next-a) {
				keep += n
			}
		}
	default: // a hole before this segment, or a lost walk
		if hole := a - d.next; !d.lost && d.mode == modeTLS && d.hdrN == 0 && d.remain > 0 && int64(d.remain) >= hole {
			// The hole lies inside the current record's body: skip it.
			d.remain -= int(hole)
			if d.typ == tlswire.ContentHandshake && dir == 1 && !d.shDone {
				d.shDone, d.sh = true, nil
			}
			if d.remain == 0 {
				d.endRecord(f, dir)
			}
			d.next = a
			keep = f.walk(t, dir, payload, a, payloadOff)
			break
		}
		if d.lost && d.mode == modeTLS && looksLikeRecord(payload) {
			// Resynchronise on a segment that starts with a record header.
			d.lost, d.hdrN, d.remain, d.next = false, 0, 0, a
			keep = f.walk(t, dir, payload, a, payloadOff)
			break
		}
		if !d.lost {
			d.lost = true
			d.firstCut = min(d.firstCut, d.next)
		}
	}
	// Causality: bytes below keepBelow are handshake.
	whole := 0 // bytes kept whole whatever the walk said
	if kb := d.keepBelow; kb > a {
		whole = int(min(b, kb) - a)
	}
	if dir == 1 && !f.finSeen && f.d[0].mode == modeTLS && b <= provisionalCap && (d.mode == modeTLS || d.lost) {
		// Before the client's Finished, everything a TLS server sends is
		// its handshake flight: its application data can only follow.
		whole = len(payload)
	}
	keep = max(keep, whole)
	for _, z := range t.zero {
		start, end := max(z.off, payloadOff+whole), min(z.off+z.n, payloadOff+keep)
		if start < end {
			t.masks = append(t.masks, span{off: start, n: end - start})
		}
	}
	if dir == 0 && d.finMark {
		// This segment carries the client's Finished: its acknowledgement
		// covers the server's whole flight.
		d.finMark = false
		if !f.finSeen {
			f.finSeen = true
			if hasAck && o.haveISN {
				if x := int64(ack - (o.isn + 1)); x > o.keepBelow && x < math.MaxInt32 {
					o.keepBelow = x
				}
			}
		}
	}
	return min(keep, len(payload))
}

// tls12OrOlder reports whether v is SSL 3.0 to TLS 1.2, whose
// application_data records are all application data.
func tls12OrOlder(v uint16) bool { return v >= tlswire.VersionSSL30 && v <= tlswire.VersionTLS12 }

// handshakeStart reports whether p starts with a TLS handshake record
// carrying a ClientHello or a ServerHello.
func handshakeStart(p []byte) bool {
	return looksLikeRecord(p) && p[0] == tlswire.ContentHandshake && len(p) >= 6 &&
		(p[5] == tlswire.TypeClientHello || p[5] == tlswire.TypeServerHello)
}

// pickupStart reports whether a connection whose start was not captured
// can be followed from a segment starting with p.
func pickupStart(p []byte) bool {
	return handshakeStart(p) || isHTTPStart(p, false) || isHTTPStart(p, true)
}

// onlyAlerts reports whether p is one or more whole TLS alert records, each
// short enough to hold nothing but an alert.
func onlyAlerts(p []byte) bool {
	if len(p) == 0 {
		return false
	}
	for len(p) > 0 {
		if !looksLikeRecord(p) || p[0] != tlswire.ContentAlert {
			return false
		}
		n := int(p[3])<<8 | int(p[4])
		if n > 64 || len(p) < 5+n {
			return false
		}
		p = p[5+n:]
	}
	return true
}

// looksLikeRecord reports whether p starts with a TLS record header as
// the decoder judges one (tlswire.LooksLikeTLS; an SSLv2-format hello is
// another protocol here).
func looksLikeRecord(p []byte) bool {
	return len(p) >= 5 && p[0]&0x80 == 0 && tlswire.LooksLikeTLS(p)
}

// sweep forgets idle and closed connections now and then.
func (t *Trimmer) sweep(now time.Time) {
	if now.Sub(t.swept) < 10*time.Second {
		return
	}
	t.swept = now
	for k, f := range t.flows {
		idle := now.Sub(f.last)
		if idle > flowIdleTimeout || (f.closed && idle > flowClosedTimeout) {
			delete(t.flows, k)
		}
	}
}

// evict makes room in a full table: the longest-idle half goes. Later
// packets of an evicted connection are cut.
func (t *Trimmer) evict() {
	var newest, oldest time.Time
	for _, f := range t.flows {
		if oldest.IsZero() || f.last.Before(oldest) {
			oldest = f.last
		}
		if f.last.After(newest) {
			newest = f.last
		}
	}
	mid := oldest.Add(newest.Sub(oldest) / 2)
	for k, f := range t.flows {
		if !f.last.After(mid) {
			delete(t.flows, k)
		}
	}
}
