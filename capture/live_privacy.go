package capture

import (
	"bytes"
	"encoding/binary"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// What a live capture keeps of each packet unless --full (DESIGN §6,
// "Privacy"). Every packet keeps its link, IP and transport headers, and its
// original length, so Wireshark marks a cut packet "[Packet size limited
// during capture]". Payload is kept whole for:
//
//   - ICMP and ICMPv6 (errors quote only the offending packet's headers);
//   - DNS, mDNS, LLMNR, NetBIOS name service and DHCP: UDP and TCP ports 53,
//     5353, 5355, 137, 67, 68, 546 and 547;
//   - QUIC Initial, Handshake and Retry packets (UDP port 443, long header);
//   - TLS, on a TCP connection whose SYN was captured: every record that is
//     not application_data (handshake, alert, change_cipher_spec), and of the
//     application_data records (RFC 8446 §5: TLS 1.3 encrypts part of the
//     handshake in them) the server's up to the point the client's Finished
//     acknowledges — its encrypted flight, certificate included — the
//     client's first one (its Finished, or the alert that rejects the
//     server), and any record of at most 24 bytes (an encrypted alert). In
//     TLS 1.2 and earlier every application_data record is application data;
//   - HTTP/1: request and response heads (start line and header fields) with
//     the values of Authorization, Proxy-Authorization, Cookie and
//     Set-Cookie overwritten by '*', and the first 4 KiB of the body of an
//     error response (status 400 and above: the proxy's explanation); after
//     a CONNECT request and its 2xx answer the tunnel is treated as a new
//     stream (TLS inside);
//   - SOCKS4/5: the first 512 bytes of each direction (the negotiation; the
//     RFC 1929 password overwritten by '*'), then as a new stream;
//   - another protocol: the first 256 bytes of each direction (enough to
//     show that port 443 does not speak TLS).
//
// Everything else is cut. Every TLS record header is kept in its place: a
// packet keeps its bytes up to the end of the last kept piece (a record
// header, an alert, a handshake record); the cut bytes before that point
// are overwritten with zeros, those after it are not written. So the
// decoder (and Wireshark) still see every record's type and length — how
// much application data went each way, and the alerts at the end — but
// none of its content. A TLS 1.3 bulk download keeps about one zeroed
// record body fragment per 16 KiB record.
//
// Decisions are made per byte of the TCP stream, by sequence number, so that
// reordering cannot smuggle application data into the kept part: bytes are
// kept whole only when they are proven to be handshake, either by walking
// the records in order (a hole inside a record body is stepped over) or by
// causality — the server's application data is sent only after the
// client's Finished, so every server byte sent before that segment was
// seen, and every byte below its acknowledgement number, is handshake (up
// to 64 KiB). A segment beyond a hole that the record walk cannot bridge is
// cut unless it lies below such a bound, until a segment starting with a
// record header resynchronises the walk; a retransmission is kept only up
// to the first byte ever cut in its direction. A connection whose SYN was
// not captured (it began before the capture) is followed from a segment
// starting with a ClientHello, a ServerHello or an HTTP/1 message; before
// that only segments made of TLS alerts are kept.
//
// Credentials in HTTP heads and SOCKS authentication are overwritten only
// when the field lies within one packet; the capture's metadata is redacted
// separately (see RedactURL and RedactText).

// Bounds of the privacy state.
const (
	cutRecordMax      = 24       // application_data records this short are kept (encrypted alerts)
	provisionalCap    = 64 << 10 // server bytes kept before the client's Finished is seen
	socksKeep         = 512      // bytes of a SOCKS negotiation kept per direction
	unknownKeep       = 256      // bytes of an unknown protocol kept per direction
	httpHeadMax       = 16 << 10 // an HTTP head longer than this is cut
	httpErrorBody     = 4 << 10  // bytes of the body of an HTTP error response kept
	serverHelloBuf    = 4 << 10  // bytes of the server's first handshake record kept to read its version
	maxTrimFlows      = 1 << 14  // TCP connections tracked per interface
	maxTrimFrags      = 1024     // IP datagrams whose fragments are tracked
	maxQueryNames     = 256      // DNS query names remembered
	flowIdleTimeout   = 2 * time.Minute
	flowClosedTimeout = 10 * time.Second
	unknownLinkKeep   = 128 // bytes kept of a frame whose link type is not parsed
	malformedKeep     = 64  // bytes kept past the network header of a malformed packet
)

// span is a byte range [off, off+n) of a packet to overwrite with fill:
// '*' for a credential, 0 for cut bytes that lie before kept ones.
type span struct {
	off, n int
	fill   byte
}

// trimmer decides, packet by packet, how much of each packet a capture
// keeps. It tracks TCP connections of one interface; it is not safe for
// concurrent use.
type trimmer struct {
	full   bool
	flows  map[flowKey]*tflow
	frags  map[fragKey]bool // IP datagram → its fragments are kept whole
	names  map[string]struct{}
	dnsIPs map[netip.Addr]struct{} // resolvers seen: their fragments are DNS
	masks  []span
	zero   []span // cut bytes of the segment being walked
	swept  time.Time
	cut    int // packets cut
	masked int // credential fields overwritten
}

func newTrimmer(full bool) *trimmer {
	return &trimmer{
		full:   full,
		flows:  make(map[flowKey]*tflow),
		frags:  make(map[fragKey]bool),
		names:  make(map[string]struct{}),
		dnsIPs: make(map[netip.Addr]struct{}),
	}
}

type flowKey struct{ a, b netip.AddrPort }

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
}

// trim returns how many leading bytes of data to keep and the spans of
// them to overwrite (valid until the next call).
func (t *trimmer) trim(lt layers.LinkType, data []byte, now time.Time) (int, []span) {
	t.masks = t.masks[:0]
	keep := t.decide(lt, data, now)
	keep = max(0, min(keep, len(data)))
	if t.full {
		return len(data), nil
	}
	if keep < len(data) {
		t.cut++
	}
	masks := t.masks[:0]
	for _, m := range t.masks {
		if m.off >= 0 && m.off+m.n <= keep {
			masks = append(masks, m)
		}
	}
	t.masked += len(masks)
	return keep, masks
}

// decide parses the frame down to the transport and applies the rules.
func (t *trimmer) decide(lt layers.LinkType, data []byte, now time.Time) int {
	off, proto, ok := netOffset(lt, data)
	if !ok {
		return unknownLinkKeep
	}
	switch proto {
	case 0x0800:
		return t.ipv4(data, off, now)
	case 0x86dd:
		return t.ipv6(data, off, now)
	}
	return len(data) // ARP and other link-layer traffic
}

// netOffset finds the network header of a frame: its offset and EtherType.
func netOffset(lt layers.LinkType, data []byte) (int, uint16, bool) {
	byVersion := func(off int) (int, uint16, bool) {
		if len(data) <= off {
			return 0, 0, false
		}
		switch data[off] >> 4 {
		case 4:
			return off, 0x0800, true
		case 6:
			return off, 0x86dd, true
		}
		return off, 0, true
	}
	switch lt {
	case layers.LinkTypeEthernet:
		off, typ := 14, uint16(0)
		if len(data) < off {
			return 0, 0, false
		}
		typ = binary.BigEndian.Uint16(data[12:])
		for i := 0; i < 3 && (typ == 0x8100 || typ == 0x88a8 || typ == 0x9100); i++ {
			if len(data) < off+4 {
				return 0, 0, false
			}
			typ = binary.BigEndian.Uint16(data[off+2:])
			off += 4
		}
		if typ == 0x8864 { // PPPoE session (RFC 2516): 6 bytes, then the PPP protocol
			if len(data) < off+8 {
				return 0, 0, false
			}
			switch binary.BigEndian.Uint16(data[off+6:]) {
			case 0x0021:
				return off + 8, 0x0800, true
			case 0x0057:
				return off + 8, 0x86dd, true
			}
			return off, typ, true
		}
		return off, typ, true
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return 0, 0, false
		}
		return 16, binary.BigEndian.Uint16(data[14:]), true
	case layers.LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return 0, 0, false
		}
		return 20, binary.BigEndian.Uint16(data[0:]), true
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(data) < 4 {
			return 0, 0, false
		}
		for _, fam := range []uint32{binary.LittleEndian.Uint32(data), binary.BigEndian.Uint32(data)} {
			switch fam {
			case 2:
				return 4, 0x0800, true
			case 10, 24, 28, 30:
				return 4, 0x86dd, true
			}
		}
		return 4, 0, true
	case layers.LinkTypeRaw, 12, 14, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		return byVersion(0)
	case 239: // LINKTYPE_NFLOG: a header, then TLVs; NFULA_PAYLOAD (9) holds the packet
		if off, ok := nflogPayload(data); ok {
			return byVersion(off)
		}
	}
	return 0, 0, false
}

// nflogPayload finds the packet inside an NFLOG frame: its offset.
// TLV lengths and types are in the capturing host's byte order.
func nflogPayload(data []byte) (int, bool) {
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		for off := 4; off+4 <= len(data); {
			n, typ := int(bo.Uint16(data[off:])), bo.Uint16(data[off+2:])
			if n < 4 || off+n > len(data) {
				break
			}
			if typ == 9 {
				return off + 4, true
			}
			off += (n + 3) &^ 3
		}
	}
	return 0, false
}

func (t *trimmer) ipv4(data []byte, off int, now time.Time) int {
	if len(data) < off+20 {
		return len(data)
	}
	h := data[off:]
	ihl := int(h[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(h[2:]))
	if ihl < 20 || total < ihl || len(h) < ihl {
		return off + malformedKeep
	}
	end := off + min(total, len(h))
	src, _ := netip.AddrFromSlice(h[12:16])
	dst, _ := netip.AddrFromSlice(h[16:20])
	proto := h[9]
	frag := binary.BigEndian.Uint16(h[6:])
	fragOff, more := frag&0x1fff, frag&0x2000 != 0
	k := fragKey{src: src, dst: dst, id: uint32(binary.BigEndian.Uint16(h[4:])), proto: proto}
	if fragOff != 0 {
		return t.laterFragment(k, src, off+ihl, end)
	}
	keep := t.transport(data, proto, src, dst, off+ihl, end, now)
	if more {
		t.rememberFragment(k, keep >= end)
	}
	return wholeFrame(keep, end, len(data))
}

// wholeFrame keeps the link layer's trailer (Ethernet padding) of a frame
// whose datagram is kept whole.
func wholeFrame(keep, end, n int) int {
	if keep >= end {
		return n
	}
	return keep
}

func (t *trimmer) ipv6(data []byte, off int, now time.Time) int {
	if len(data) < off+40 {
		return len(data)
	}
	h := data[off:]
	src, _ := netip.AddrFromSlice(h[8:24])
	dst, _ := netip.AddrFromSlice(h[24:40])
	end := off + 40 + int(binary.BigEndian.Uint16(h[4:]))
	end = min(end, len(data))
	next, p := h[6], off+40
	for range 8 {
		switch next {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(data) < p+8 {
				return p
			}
			next, p = data[p], p+8+int(data[p+1])*8
		case 51: // AH
			if len(data) < p+8 {
				return p
			}
			next, p = data[p], p+(int(data[p+1])+2)*4
		case 44: // fragment
			if len(data) < p+8 {
				return p
			}
			fo := binary.BigEndian.Uint16(data[p+2:])
			k := fragKey{src: src, dst: dst, id: binary.BigEndian.Uint32(data[p+4:]), proto: data[p]}
			next, p = data[p], p+8
			if fo&0xfff8 != 0 {
				return t.laterFragment(k, src, p, end)
			}
			keep := t.transport(data, next, src, dst, p, end, now)
			if fo&1 != 0 {
				t.rememberFragment(k, keep >= end)
			}
			return wholeFrame(keep, end, len(data))
		default:
			return wholeFrame(t.transport(data, next, src, dst, p, end, now), end, len(data))
		}
	}
	return p
}

// laterFragment decides for a fragment after the first: as its datagram's
// first fragment was decided, or — when that one has not been seen yet —
// whole for ICMP and for UDP from a resolver seen answering, and cut after
// the IP header otherwise.
func (t *trimmer) laterFragment(k fragKey, src netip.Addr, payload, end int) int {
	whole, ok := t.frags[k]
	if !ok {
		_, resolver := t.dnsIPs[src]
		whole = k.proto == 1 || k.proto == 58 || (k.proto == 17 && resolver)
	}
	if whole {
		return end
	}
	return payload
}

func (t *trimmer) rememberFragment(k fragKey, whole bool) {
	if len(t.frags) >= maxTrimFrags {
		clear(t.frags)
	}
	t.frags[k] = whole
}

// wholePort reports whether a port carries name resolution or address
// configuration, kept whole.
func wholePort(p uint16) bool {
	switch p {
	case 53, 5353, 5355, 137, 67, 68, 546, 547:
		return true
	}
	return false
}

// transport decides for the transport header at data[l4:end].
func (t *trimmer) transport(data []byte, proto uint8, src, dst netip.Addr, l4, end int, now time.Time) int {
	switch proto {
	case 1, 58: // ICMP, ICMPv6
		return len(data)
	case 17:
		if end < l4+8 {
			return len(data)
		}
		sp, dp := binary.BigEndian.Uint16(data[l4:]), binary.BigEndian.Uint16(data[l4+2:])
		payload := data[l4+8 : end]
		if wholePort(sp) || wholePort(dp) {
			switch {
			case dp == 53 || dp == 5353 || dp == 5355:
				t.queryName(payload)
			}
			if len(t.dnsIPs) < maxTrimFrags {
				if sp == 53 {
					t.dnsIPs[src] = struct{}{}
				}
				if dp == 53 {
					t.dnsIPs[dst] = struct{}{}
				}
			}
			return len(data)
		}
		if (sp == 443 || dp == 443) && len(payload) > 0 && payload[0]&0x80 != 0 && (payload[0]>>4)&3 != 1 {
			return len(data) // QUIC long header other than 0-RTT
		}
		return l4 + 8
	case 6:
		if end < l4+20 {
			return len(data)
		}
		doff := int(data[l4+12]>>4) * 4
		if doff < 20 || end < l4+doff {
			return min(len(data), l4+malformedKeep)
		}
		p := l4 + doff
		return p + t.tcp(data[l4:p], data[p:end], src, dst, p, now)
	}
	return l4 + 8
}

// queryName remembers the first question name of a DNS query.
func (t *trimmer) queryName(m []byte) {
	if len(t.names) >= maxQueryNames || len(m) < 12 || m[2]&0x80 != 0 || binary.BigEndian.Uint16(m[4:]) == 0 {
		return
	}
	var b strings.Builder
	for i, labels := 12, 0; i < len(m) && labels < 128; labels++ {
		n := int(m[i])
		if n == 0 {
			if b.Len() > 0 {
				t.names[strings.ToLower(b.String())] = struct{}{}
			}
			return
		}
		if n > 63 || i+1+n > len(m) {
			return
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		for _, c := range m[i+1 : i+1+n] {
			if c <= ' ' || c >= 0x7f {
				return
			}
			b.WriteByte(c)
		}
		i += 1 + n
	}
}

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

func canonical(x, y netip.AddrPort) flowKey {
	if x.Addr().Less(y.Addr()) || (x.Addr() == y.Addr() && x.Port() < y.Port()) {
		return flowKey{x, y}
	}
	return flowKey{y, x}
}

// tcp returns how many bytes of the segment's payload to keep.
func (t *trimmer) tcp(hdr, payload []byte, srcIP, dstIP netip.Addr, payloadOff int, now time.Time) int {
	src := netip.AddrPortFrom(srcIP, binary.BigEndian.Uint16(hdr[0:]))
	dst := netip.AddrPortFrom(dstIP, binary.BigEndian.Uint16(hdr[2:]))
	seq := binary.BigEndian.Uint32(hdr[4:])
	ack := binary.BigEndian.Uint32(hdr[8:])
	flags := hdr[13]
	syn, hasAck, fin, rst := flags&0x02 != 0, flags&0x10 != 0, flags&0x01 != 0, flags&0x04 != 0
	if wholePort(src.Port()) || wholePort(dst.Port()) {
		return len(payload)
	}
	t.sweep(now)
	k := canonical(src, dst)
	f := t.flows[k]
	if syn && !hasAck && (f == nil || !f.d[0].haveISN || f.client != src || f.d[0].isn != seq) {
		if f == nil && len(t.flows) >= maxTrimFlows {
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
		if len(t.flows) >= maxTrimFlows {
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
			if d.typ == 22 && dir == 1 && !d.shDone {
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

func tls12OrOlder(v uint16) bool { return v != 0 && v <= 0x0303 && v >= 0x0300 }

// handshakeStart reports whether p starts with a TLS handshake record
// carrying a ClientHello or a ServerHello.
func handshakeStart(p []byte) bool {
	return len(p) >= 6 && p[0] == 22 && p[1] == 3 && p[2] <= 4 && (p[5] == 1 || p[5] == 2)
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
		if len(p) < 5 || p[0] != 21 || p[1] != 3 {
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

// looksLikeRecord reports whether p starts with a plausible TLS record
// header.
func looksLikeRecord(p []byte) bool {
	return len(p) >= 5 && p[0] >= 20 && p[0] <= 23 && p[1] == 3 && p[2] <= 4 &&
		int(p[3])<<8|int(p[4]) <= 16384+2048
}

// sweep forgets idle and closed connections now and then.
func (t *trimmer) sweep(now time.Time) {
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
func (t *trimmer) evict() {
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

// walk follows the structure of in-order bytes p of direction dir starting
// at stream offset off. It returns how many bytes of p to keep: up to the
// end of the last kept piece (a record header, a handshake record …); the
// cut pieces before it are listed in t.zero, to be overwritten with zeros,
// so that every record header stays in its place. pktOff is p's offset in
// the packet.
func (f *tflow) walk(t *trimmer, dir int, p []byte, off int64, pktOff int) int {
	d := &f.d[dir]
	keep := 0
	i := 0
	for i < len(p) && !d.lost {
		at := off + int64(i)
		if d.mode == modeDetect {
			f.detect(dir, p[i:], at)
		}
		var n int
		var kept bool
		switch d.mode {
		case modeTLS:
			n, kept = f.tlsStep(dir, p[i:])
		case modeHTTP:
			n, kept = f.httpStep(t, dir, p[i:], i == 0, pktOff+i)
		case modeSOCKS:
			n, kept = f.socksStep(t, dir, p[i:], at, i == 0, pktOff+i)
		default: // modeUnknown
			n, kept = prefixBelow(len(p)-i, at, d.modeAt+unknownKeep)
		}
		n = max(1, min(n, len(p)-i)) // always progress
		if kept {
			keep = i + n
		} else {
			d.firstCut = min(d.firstCut, at)
			if k := len(t.zero); k > 0 && t.zero[k-1].off+t.zero[k-1].n == pktOff+i {
				t.zero[k-1].n += n
			} else {
				t.zero = append(t.zero, span{off: pktOff + i, n: n})
			}
		}
		i += n
	}
	if i < len(p) { // lost on the way: the rest is cut
		d.firstCut = min(d.firstCut, off+int64(i))
	}
	d.next = off + int64(len(p))
	return keep
}

// prefixBelow splits n bytes at offset at into those below lim (kept) and
// the rest (cut): it returns the length of the first part and whether it
// is kept.
func prefixBelow(n int, at, lim int64) (int, bool) {
	switch {
	case at+int64(n) <= lim:
		return n, true
	case at < lim:
		return int(lim - at), true
	}
	return n, false
}

var httpMethods = []string{"GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "CONNECT ", "OPTIONS ", "TRACE ", "PATCH "}

// isHTTPStart reports whether p starts an HTTP/1 request (or, for the
// server side, a response).
func isHTTPStart(p []byte, response bool) bool {
	if response {
		return bytes.HasPrefix(p, []byte("HTTP/1."))
	}
	for _, m := range httpMethods {
		if bytes.HasPrefix(p, []byte(m)) {
			return true
		}
	}
	return false
}

// detect chooses the mode of a stream from its first bytes.
func (f *tflow) detect(dir int, p []byte, off int64) {
	d := &f.d[dir]
	d.modeAt = off
	d.hdrN, d.remain, d.inBody, d.headLen, d.crlf = 0, 0, false, 0, 0
	switch {
	case len(p) >= 2 && p[0] >= 20 && p[0] <= 23 && p[1] == 3:
		d.mode = modeTLS
	case isHTTPStart(p, dir == 1):
		d.mode = modeHTTP
	case dir == 0 && len(p) > 0 && (p[0] == 5 || p[0] == 4):
		d.mode = modeSOCKS
	case dir == 1 && f.d[0].mode == modeSOCKS:
		d.mode = modeSOCKS
	default:
		d.mode = modeUnknown
	}
}

// tlsStep walks TLS records: it consumes a header piece or a body piece of
// p and says whether those bytes are kept. A record header is always kept.
func (f *tflow) tlsStep(dir int, p []byte) (int, bool) {
	d := &f.d[dir]
	if d.hdrN < 5 {
		n := min(5-d.hdrN, len(p))
		copy(d.hdr[d.hdrN:], p[:n])
		d.hdrN += n
		if d.hdrN < 5 {
			return n, true
		}
		if !looksLikeRecord(d.hdr[:]) {
			d.lost = true
			return n, false
		}
		d.typ, d.remain = d.hdr[0], int(d.hdr[3])<<8|int(d.hdr[4])
		d.keepRec = f.keepRecord(dir, d.typ, d.remain)
		if d.remain == 0 {
			d.endRecord(f, dir)
		}
		return n, true
	}
	n := min(d.remain, len(p))
	if dir == 1 && d.typ == 22 && !d.shDone {
		d.sh = append(d.sh, p[:min(n, serverHelloBuf-len(d.sh))]...)
		f.serverHello(d)
	}
	d.remain -= n
	kept := d.keepRec
	if d.remain == 0 {
		d.endRecord(f, dir)
	}
	return n, kept
}

// endRecord readies the walk for the next record header.
func (d *tdir) endRecord(f *tflow, dir int) {
	if d.typ == 20 {
		d.sawCCS = true
	}
	d.hdrN = 0
	if dir == 1 && d.typ == 22 && !d.shDone {
		d.shDone, d.sh = true, nil // the record ended before its version could be read
	}
}

// keepRecord decides for a record from its header.
func (f *tflow) keepRecord(dir int, typ uint8, n int) bool {
	d := &f.d[dir]
	switch typ {
	case 20, 21:
		return true
	case 22:
		d.n22++
		if dir == 0 && d.sawCCS && !f.finSeen {
			// TLS 1.2: the client's encrypted Finished follows its CCS. (A
			// second ClientHello after a HelloRetryRequest follows a
			// compatibility CCS too; f.hrr tells them apart.)
			if !f.hrr && f.version != 0 && !isTLS13Version(f.version) {
				d.finMark = true
			}
		}
		return true
	case 23:
		small := n <= cutRecordMax
		if dir == 1 {
			if small {
				return true
			}
			if tls12OrOlder(f.version) {
				return false
			}
			return !f.finSeen // its encrypted flight, until the client's Finished
		}
		if f.d[1].n22 == 0 && !f.d[1].lost {
			return small // early data (0-RTT): before any ServerHello
		}
		if d.finDone {
			return small
		}
		// The client's first protected record after the ServerHello: its
		// Finished in TLS 1.3 (or the alert that rejects the server); its
		// first application data in TLS 1.2.
		d.finDone, d.finMark = true, true
		return small || !tls12OrOlder(f.version)
	}
	return false
}

func isTLS13Version(v uint16) bool { return v == 0x0304 || v>>8 == 0x7f }

// serverHello reads the negotiated version from the server's first
// handshake record once enough of it is buffered (RFC 8446 §4.1.3).
func (f *tflow) serverHello(d *tdir) {
	s := d.sh
	if len(s) < 4 {
		return
	}
	if s[0] != 2 { // not a ServerHello
		d.shDone, d.sh = true, nil
		return
	}
	need := 4 + (int(s[1])<<16 | int(s[2])<<8 | int(s[3]))
	complete := len(s) >= need
	if !complete && len(s) < serverHelloBuf {
		return
	}
	d.shDone = true
	defer func() { d.sh = nil }()
	body := s[4:min(len(s), need)]
	if len(body) < 2+32+1 {
		return
	}
	version := uint16(body[0])<<8 | uint16(body[1])
	if bytes.Equal(body[2:34], helloRetryRandom) {
		f.hrr = true
		f.d[1].shDone = false // the real ServerHello follows
		f.d[1].sh = nil
		version = 0x0304
		f.version = version
		return
	}
	rest := body[34:]
	if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
		f.version = version
		return
	}
	rest = rest[1+int(rest[0]):]
	if len(rest) < 2+1+2 {
		f.version = version
		return
	}
	rest = rest[3:]
	extLen := int(binary.BigEndian.Uint16(rest))
	rest = rest[2:]
	rest = rest[:min(len(rest), extLen)]
	for len(rest) >= 4 {
		typ, n := binary.BigEndian.Uint16(rest), int(binary.BigEndian.Uint16(rest[2:]))
		if len(rest) < 4+n {
			break
		}
		if typ == 43 && n == 2 { // supported_versions
			version = binary.BigEndian.Uint16(rest[4:])
		}
		rest = rest[4+n:]
	}
	f.version = version
}

// helloRetryRandom is the Random of a HelloRetryRequest (RFC 8446 §4.1.3).
var helloRetryRandom = []byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// httpStep walks HTTP/1: heads are kept (credentials masked), bodies cut.
// A segment that starts with a new request or status line starts a new
// head: bodies are not measured.
func (f *tflow) httpStep(t *trimmer, dir int, p []byte, segStart bool, pktOff int) (int, bool) {
	d := &f.d[dir]
	if d.inBody {
		if !segStart || !isHTTPStart(p, dir == 1) {
			if d.errBody > 0 {
				n := min(len(p), d.errBody)
				d.errBody -= n
				return n, true
			}
			return len(p), false
		}
		d.inBody, d.headLen, d.crlf = false, 0, 0
	}
	if d.headLen == 0 {
		if dir == 0 && bytes.HasPrefix(p, []byte("CONNECT ")) {
			f.connect = true
		}
		if dir == 1 && len(p) >= 12 && bytes.HasPrefix(p, []byte("HTTP/1.")) {
			d.status, _ = strconv.Atoi(string(p[9:12]))
			f.connectOK = f.connect && p[9] == '2'
		}
	}
	// The head ends with an empty line: "\r\n\r\n", perhaps across segments.
	n := len(p)
	ended := false
	for i, c := range p {
		switch {
		case c == "\r\n\r\n"[d.crlf]:
			d.crlf++
		case c == '\r':
			d.crlf = 1
		default:
			d.crlf = 0
		}
		if d.crlf == 4 {
			n, ended = i+1, true
			break
		}
	}
	maskCredentials(t, p[:n], pktOff)
	d.headLen += n
	if d.headLen > httpHeadMax {
		d.inBody = true
		return n, false
	}
	if !ended {
		return n, true
	}
	d.headLen, d.crlf = 0, 0
	if (dir == 0 && f.connect) || (dir == 1 && f.connect && f.connectOK) {
		d.mode = modeDetect // the tunnel starts
	} else {
		d.inBody = true
		d.errBody = 0
		if dir == 1 && d.status >= 400 {
			d.errBody = httpErrorBody // an error's explanation, as the go command prints it
		}
	}
	return n, true
}

// maskCredentials overwrites the values of credential header fields in a
// piece of an HTTP head.
func maskCredentials(t *trimmer, head []byte, pktOff int) {
	for line := 0; line < len(head); {
		e := bytes.IndexByte(head[line:], '\n')
		end := len(head)
		if e >= 0 {
			end = line + e
		}
		l := head[line:end]
		if c := bytes.IndexByte(l, ':'); c > 0 {
			name := strings.ToLower(string(bytes.TrimSpace(l[:c])))
			switch name {
			case "authorization", "proxy-authorization", "cookie", "set-cookie":
				v := c + 1
				for v < len(l) && (l[v] == ' ' || l[v] == '\t') {
					v++
				}
				// Keep the scheme ("Basic", "Bearer") readable.
				if name != "cookie" && name != "set-cookie" {
					if sp := bytes.IndexByte(l[v:], ' '); sp > 0 {
						v += sp + 1
					}
				}
				vend := len(l)
				for vend > v && (l[vend-1] == '\r' || l[vend-1] == ' ') {
					vend--
				}
				if vend > v {
					t.masks = append(t.masks, span{off: pktOff + line + v, n: vend - v, fill: '*'})
				}
			}
		}
		if e < 0 {
			break
		}
		line = end + 1
	}
}

// socksStep keeps a SOCKS negotiation (RFC 1928; RFC 1929's password
// masked) until a TLS record starts a segment, then walks TLS.
func (f *tflow) socksStep(t *trimmer, dir int, p []byte, off int64, segStart bool, pktOff int) (int, bool) {
	d := &f.d[dir]
	if segStart && off > d.modeAt && looksLikeRecord(p) {
		d.mode, d.modeAt, d.hdrN, d.remain = modeTLS, off, 0, 0
		return f.tlsStep(dir, p)
	}
	if dir == 0 && segStart && len(p) >= 3 && p[0] == 1 {
		// RFC 1929: VER ULEN UNAME PLEN PASSWD
		if ul := int(p[1]); 2+ul < len(p) {
			if pl := int(p[2+ul]); pl > 0 && 3+ul+pl == len(p) {
				t.masks = append(t.masks, span{off: pktOff + 3 + ul, n: pl, fill: '*'})
			}
		}
	}
	return prefixBelow(len(p), off, d.modeAt+socksKeep)
}
