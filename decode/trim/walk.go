package trim

import (
	"bytes"

	"github.com/modsniff/modsniff/decode/tlswire"
)

// walk follows the structure of in-order bytes p of direction dir starting
// at stream offset off. It returns how many bytes of p to keep: up to the
// end of the last kept piece (a record header, a handshake record …); the
// cut pieces before it are listed in t.zero, to be overwritten with zeros,
// so that every record header stays in its place. pktOff is p's offset in
// the packet.
func (f *tflow) walk(t *Trimmer, dir int, p []byte, off int64, pktOff int) int {
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
	case looksLikeRecord(p) || len(p) < 5 && len(p) >= 2 && p[0]&0x80 == 0 && p[1] == 3 &&
		p[0] >= tlswire.ContentChangeCipherSpec && p[0] <= tlswire.ContentHeartbeat:
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
	if dir == 1 && d.typ == tlswire.ContentHandshake && !d.shDone {
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
	if d.typ == tlswire.ContentChangeCipherSpec {
		d.sawCCS = true
	}
	d.hdrN = 0
	if dir == 1 && d.typ == tlswire.ContentHandshake && !d.shDone {
		d.shDone, d.sh = true, nil // the record ended before its version could be read
	}
}

// keepRecord decides for a record from its header.
func (f *tflow) keepRecord(dir int, typ uint8, n int) bool {
	d := &f.d[dir]
	switch typ {
	case tlswire.ContentChangeCipherSpec, tlswire.ContentAlert:
		return true
	case tlswire.ContentHandshake:
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
	case tlswire.ContentApplicationData:
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

// isTLS13Version reports whether v is TLS 1.3 or one of its drafts, as
// tlswire counts them.
func isTLS13Version(v uint16) bool { return v == tlswire.VersionTLS13 || v>>8 == 0x7f || v>>8 == 0xfb }

// serverHello reads the negotiated version from the server's first
// handshake record, parsed by tlswire (RFC 8446 §4.1.3), once the message
// is buffered whole (or serverHelloBuf bytes of it).
func (f *tflow) serverHello(d *tdir) {
	s := d.sh
	if len(s) < 4 {
		return
	}
	if s[0] != tlswire.TypeServerHello {
		d.shDone, d.sh = true, nil
		return
	}
	need := 4 + (int(s[1])<<16 | int(s[2])<<8 | int(s[3]))
	if len(s) < need && len(s) < serverHelloBuf {
		return
	}
	d.shDone = true
	sh, _ := tlswire.ParseServerHello(s[4:min(len(s), need)])
	d.sh = nil
	if sh == nil {
		return
	}
	f.version = sh.Version()
	if sh.IsHelloRetryRequest {
		f.hrr = true
		f.version = tlswire.VersionTLS13
		f.d[1].shDone = false // the real ServerHello follows
	}
}

// httpStep walks HTTP/1: heads are kept (credentials masked), bodies cut.
// A segment that starts with a new request or status line starts a new
// head: bodies are not measured.
func (f *tflow) httpStep(t *Trimmer, dir int, p []byte, segStart bool, pktOff int) (int, bool) {
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
			d.status = 0
			for _, c := range p[9:12] {
				if c < '0' || c > '9' {
					d.status = 0
					break
				}
				d.status = d.status*10 + int(c-'0')
			}
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
func maskCredentials(t *Trimmer, head []byte, pktOff int) {
	for line := 0; line < len(head); {
		e := bytes.IndexByte(head[line:], '\n')
		end := len(head)
		if e >= 0 {
			end = line + e
		}
		l := head[line:end]
		if c := bytes.IndexByte(l, ':'); c > 0 {
			name := bytes.TrimSpace(l[:c])
			cookie := bytes.EqualFold(name, []byte("cookie")) || bytes.EqualFold(name, []byte("set-cookie"))
			if cookie || bytes.EqualFold(name, []byte("authorization")) || bytes.EqualFold(name, []byte("proxy-authorization")) {
				v := c + 1
				for v < len(l) && (l[v] == ' ' || l[v] == '\t') {
					v++
				}
				// Keep the scheme ("Basic", "Bearer") readable.
				if !cookie {
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
func (f *tflow) socksStep(t *Trimmer, dir int, p []byte, off int64, segStart bool, pktOff int) (int, bool) {
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
