package tlswire

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/modsniff/modsniff/decode/wire"
)

// Record-layer limits.
const (
	// MaxRecordLength is the largest record body a peer may send: 2^14 plus
	// the 2048 bytes of expansion RFC 5246 §6.2.3 allows (RFC 8446 §5.2
	// allows 256; older stacks use the larger bound).
	MaxRecordLength = 1<<14 + 2048
	// MaxHandshakeBuffer caps the handshake reassembly buffer of one
	// direction, header included; a longer message stops the handshake
	// parsing of that direction.
	MaxHandshakeBuffer = 64 << 10
	// maxSSLv2Record is the largest body of a two-byte-header SSLv2 record.
	maxSSLv2Record = 0x7fff
)

// What a record's body is used for.
const (
	modeNone      uint8 = iota
	modeSkip            // counted, never copied: encrypted records, stray data
	modeHandshake       // plaintext handshake: streamed into the message reassembler
	modeSmall           // plaintext alert or ChangeCipherSpec: first bytes kept
	modeSSLv2           // the SSLv2-format ClientHello: buffered whole
	modeOpen            // encrypted record handed to an opener: buffered whole
	// modeMaybeHandshake is a handshake record after a TLS 1.3
	// compatibility CCS: plaintext if it starts a ClientHello, else protected.
	modeMaybeHandshake
)

// opener removes the protection of records (see dirDecrypter). Given an
// encrypted record's 5-byte header and body, it returns the inner content
// type and plaintext (which may overwrite body), or an error; the plaintext
// is dispatched like a plaintext record's body. Conn buffers each record
// whole (at most MaxRecordLength bytes) only for a direction that has an
// opener.
type opener interface {
	open(hdr, body []byte) (innerType uint8, plaintext []byte, err error)
}

// half is the state of one direction. Its small fields are grouped at the
// end, which keeps a Conn, allocated for every TLS connection, in a
// smaller size class.
type half struct {
	dir Dir

	recLen   int // current record: its declared length
	remain   int // body bytes still to come
	recOff   int // body bytes consumed so far
	recStart wire.Ref
	bytes    int64 // bytes fed
	recIdx   int   // index of the current record among the first MaxEncryptedRecords protected ones, or -1
	hdrN     int   // bytes of hdr held
	smallN   int   // bytes of small held

	hs        []byte // handshake message being reassembled, header included
	hsFirstAt wire.Ref
	hsDiscard int // bytes of a message lost in a gap still to drop

	pkts    int // distinct packets fed, until the ClientHello completed
	lastPkt wire.Ref

	// Messages are reported at the packet that completed their record, as
	// Wireshark does: the log entries of the current record (and the views
	// that follow them) are moved to its last packet when it ends.
	hsFrom int // first Session log entry of the current record

	open   opener
	recBuf []byte // the record body for modeSSLv2 and modeOpen

	// Decryption.
	dec      *dirDecrypter // the opener when keys were found
	appBytes int           // decrypted application data handed on

	small  [8]byte // the first bytes of a plaintext alert or ChangeCipherSpec
	hdr    [5]byte // a record header split across Feed calls
	rechdr [5]byte // header of the current record
	typ    uint8   // current record: content type
	mode   uint8
	// phase is the direction's record-layer state, published in
	// Session.Dirs; records from the next header on are protected from
	// PhaseProtected on.
	phase     Phase
	firstApp  bool // the current record is the direction's Session.FirstAppDataAt
	ccsSeen   bool // a ChangeCipherSpec record was seen
	dropRest  bool // the rest of this handshake record is ignored
	ccsCompat bool // a ChangeCipherSpec taken as TLS 1.3 middlebox compatibility was seen
	hsStopped bool
	pooled    bool // recBuf is lent by ConnOptions.Buffers
	prot      bool // the current record is protected
	keysTried bool // the key source was asked for this direction
	appDone   bool // the application-data budget is spent
	appGone   bool // application data was lost: no more is handed on
	earlyNote bool // 0-RTT records were noted
}

// ConnOptions configures a Conn.
type ConnOptions struct {
	// Certs parses certificates once per distinct DER across connections;
	// nil parses every certificate.
	Certs *CertCache
	// Keys, when set, is asked for the session's secrets when the first
	// protected record of a direction starts; with them the handshake
	// messages, alerts and the first application data are decrypted (TLS
	// 1.3 and the AEAD and CBC suites of TLS 1.0–1.2). Missing or wrong keys
	// are noted, never fatal: decoding goes on as without keys.
	Keys KeySource
	// AppData, when set, receives the decrypted application data of each
	// direction in order, up to MaxAppData bytes per direction (0:
	// DefaultMaxAppData; negative: none). data is valid only during the
	// call; at is the packet that completed its record.
	AppData    func(dir Dir, data []byte, at wire.Ref)
	MaxAppData int
	// Buffers, when set, lends the record buffers of decryption and caps
	// them across Conns; nil gives each decrypted direction its own buffer
	// of at most one record.
	Buffers *RecordBuffers
	// Intern, when set, makes the hellos of many Conns share their lists.
	Intern *Interner
	// Session, when set, is the zeroed Session the Conn fills, for a
	// caller that allocates many together; nil allocates one.
	Session *Session
}

// Conn follows the TLS record layer (RFC 8446 §5.1, RFC 5246 §6.2) and the
// plaintext handshake (RFC 8446 §4, RFC 5246 §7.4) of one connection from
// its two in-order byte streams, and fills a [Session].
//
// Only plaintext handshake, alert and ChangeCipherSpec bodies are looked at.
// A direction counts as encrypted (RFC 8446 §2, RFC 5246 §7.1): in TLS 1.2
// and earlier after its ChangeCipherSpec; in TLS 1.3 for the server after
// its ServerHello, for the client from its first application_data record
// (its middlebox-compatibility ChangeCipherSpec, RFC 8446 Appendix D.4,
// changes nothing). Protected records are skipped by counting, without
// copying; the first of type application_data among the first
// MaxEncryptedRecords of each direction is described in Session.FirstAppDataAt.
//
// A Conn is not safe for concurrent use.
type Conn struct {
	opt      ConnOptions
	sess     *Session // kept apart so that a finished Conn can be freed while its Session lives on
	h        [2]half
	notTLS   bool
	done     bool
	keyNoted bool // why the session is not decrypted was noted
	// serverRandom is the Random of the ServerHello, which the TLS 1.2 key
	// block derives from: a ServerHello shared through the Interner does
	// not keep it.
	serverRandom [32]byte
}

// NewConn returns a Conn ready for the first bytes of both directions.
func NewConn(opt ConnOptions) *Conn {
	switch {
	case opt.MaxAppData == 0:
		opt.MaxAppData = DefaultMaxAppData
	case opt.MaxAppData < 0:
		opt.MaxAppData = 0
	}
	sess := opt.Session
	if sess == nil {
		sess = &Session{}
	}
	opt.Session = nil // the Conn holds it once, in sess
	c := &Conn{opt: opt, sess: sess}
	c.h[ClientToServer] = half{dir: ClientToServer, recIdx: -1}
	c.h[ServerToClient] = half{dir: ServerToClient, recIdx: -1}
	return c
}

// Session returns what was learned so far; later calls keep updating it.
func (c *Conn) Session() *Session { return c.sess }

// IsTLS reports whether the connection still looks like TLS: false once the
// client's first bytes were not a TLS record (nor an SSLv2 ClientHello).
// After that, Feed returns at once.
func (c *Conn) IsTLS() bool { return !c.notTLS }

func (c *Conn) note(dir Dir, at wire.Ref, format string, args ...any) {
	x := c.sess.extra()
	x.Notes = addNote(x.Notes, at.String()+" "+dir.String()+": "+fmt.Sprintf(format, args...))
}

func (c *Conn) fail(dir Dir, at wire.Ref, format string, args ...any) {
	x := c.sess.extra()
	x.Errors = addNote(x.Errors, at.String()+" "+dir.String()+": "+fmt.Sprintf(format, args...))
}

// stop gives up on a direction after a protocol error.
func (c *Conn) stop(h *half, at wire.Ref, format string, args ...any) {
	c.fail(h.dir, at, format, args...)
	c.markLost(h)
}

// Feed gives the next in-order bytes of one direction (RFC 8446 §5.1 records,
// any version). data is only read during the call; it may alias a packet.
// at is the packet the bytes came from.
func (c *Conn) Feed(dir Dir, data []byte, at wire.Ref) {
	if c.notTLS || c.done || len(data) == 0 || dir&^1 != 0 {
		return
	}
	h := &c.h[dir]
	if h.phase == PhaseLost {
		return
	}
	h.bytes += int64(len(data))
	if dir == ClientToServer && c.sess.ClientHello == nil && (at.Packet != h.lastPkt.Packet || at.Input != h.lastPkt.Input) {
		h.lastPkt = at
		h.pkts++
	}
	for len(data) > 0 {
		if h.remain > 0 {
			n := h.remain
			if n > len(data) {
				n = len(data)
			}
			if h.mode != modeSkip {
				c.body(h, data[:n], at)
			}
			h.remain -= n
			h.recOff += n
			data = data[n:]
			if h.remain == 0 {
				c.endRecord(h, at)
			}
			if h.phase == PhaseLost || c.notTLS {
				return
			}
			continue
		}
		if h.hdrN == 0 {
			h.recStart = at
			if len(data) >= 5 {
				c.startRecord(h, data[:5], at)
				data = data[5:]
			} else {
				h.hdrN = copy(h.hdr[:], data)
				return
			}
		} else {
			n := copy(h.hdr[h.hdrN:], data)
			h.hdrN += n
			data = data[n:]
			if h.hdrN < 5 {
				return
			}
			h.hdrN = 0
			c.startRecord(h, h.hdr[:], at)
		}
		if h.phase == PhaseLost || c.notTLS {
			return
		}
		if h.remain == 0 {
			c.endRecord(h, at)
		}
	}
}

// validHeader reports whether hdr is a plausible TLS record header: content
// type 20–24, protocol version 0x0300–0x0304, length at most MaxRecordLength
// (RFC 8446 §5.1, RFC 5246 §6.2.1).
func validHeader(hdr []byte) bool {
	return hdr[0] >= ContentChangeCipherSpec && hdr[0] <= ContentHeartbeat &&
		hdr[1] == 3 && hdr[2] <= 4 &&
		int(hdr[3])<<8|int(hdr[4]) <= MaxRecordLength
}

// looksLikeSSLv2Hello reports whether the first five bytes are the header of
// an SSLv2-format CLIENT-HELLO (RFC 5246 Appendix E.2): a two-byte length with
// the high bit set, msg_type 1, and version 0x0002 or 0x0300–0x0304.
func looksLikeSSLv2Hello(p []byte) bool {
	n := int(p[0]&0x7f)<<8 | int(p[1])
	v := uint16(p[3])<<8 | uint16(p[4])
	return p[0]&0x80 != 0 && p[2] == 1 && n >= 9 && (v == VersionSSL20 || v>>8 == 3 && v&0xff <= 4)
}

// LooksLikeTLS reports whether a stream's first bytes are a plausible TLS
// record header (content type 20–24, version 0x0300–0x0304, length 1 to
// MaxRecordLength) or the start of an SSLv2-format ClientHello. It needs at
// least five bytes.
func LooksLikeTLS(prefix []byte) bool {
	if len(prefix) < 5 {
		return false
	}
	if prefix[0]&0x80 != 0 {
		return looksLikeSSLv2Hello(prefix)
	}
	return validHeader(prefix) && (prefix[3] != 0 || prefix[4] != 0)
}

func (c *Conn) startRecord(h *half, hdr []byte, at wire.Ref) {
	typ := hdr[0]
	n := int(hdr[3])<<8 | int(hdr[4])
	h.recOff, h.recIdx, h.smallN, h.dropRest, h.firstApp = 0, -1, 0, false, false
	if h.phase == PhaseIdle {
		c.setPhase(h, PhasePlain)
		if hdr[0]&0x80 != 0 {
			c.startSSLv2(h, hdr, at)
			return
		}
		if !validHeader(hdr) {
			if h.dir == ClientToServer {
				c.notTLS = true
				c.note(h.dir, at, "not TLS: first bytes % x", hdr)
				return
			}
			c.stop(h, at, "not a TLS record: first bytes % x", hdr)
			return
		}
	}
	if !validHeader(hdr) {
		if n > MaxRecordLength && hdr[0] >= ContentChangeCipherSpec && hdr[0] <= ContentHeartbeat && hdr[1] == 3 {
			c.stop(h, at, "record_overflow: %s record of %d bytes exceeds %d", ContentTypeName(typ), n, MaxRecordLength)
			return
		}
		c.stop(h, at, "invalid record header % x after %d bytes", hdr, h.bytes)
		return
	}
	h.typ, h.recLen, h.remain = typ, n, n
	h.rechdr = [5]byte(hdr)
	h.prot = false
	h.hsFrom = len(c.sess.log)
	if h.hs != nil && len(h.hs) == 0 && h.phase == PhaseProtected && h.open == nil {
		putHandshakeBuffer(h.hs)
		h.hs = nil // nothing more to reassemble in clear
	}

	if h.phase != PhaseProtected {
		switch typ {
		case ContentHandshake:
			if n == 0 {
				c.note(h.dir, at, "zero-length handshake record")
			}
			switch {
			case h.hsStopped:
				h.mode = modeSkip
			case h.ccsCompat && c.sess.HelloRetry() == nil:
				// After its compatibility CCS a TLS 1.3 client sends plaintext
				// handshake only for a second ClientHello (the
				// HelloRetryRequest may be missing from the capture); anything
				// else is an encrypted flight whose ServerHello was missed.
				// The first body byte decides.
				h.mode = modeMaybeHandshake
			default:
				h.mode = modeHandshake
			}
			return
		case ContentAlert, ContentChangeCipherSpec:
			h.mode = modeSmall
			return
		case ContentHeartbeat:
			c.note(h.dir, at, "heartbeat record of %d bytes before encryption", n)
			h.mode = modeSkip
			return
		case ContentApplicationData:
			// application data before any ChangeCipherSpec: a TLS 1.3 client's
			// first protected record (its compatibility CCS is optional), 0-RTT
			// data, or the rest of a stream whose handshake was missed.
			c.setPhase(h, PhaseProtected)
		}
	} else if typ == ContentChangeCipherSpec && c.sess.TLS13() {
		h.mode = modeSmall // the compatibility CCS is never protected (RFC 8446 §5)
		return
	}

	c.protected(h)
}

// protected accounts for the record starting at h.recStart as protected.
func (c *Conn) protected(h *half) {
	n := h.recLen
	st := &c.sess.Dirs[h.dir]
	if st.ProtectedFrom.IsZero() {
		st.ProtectedFrom = h.recStart
	}
	if c.sess.EncryptedCount[h.dir] < math.MaxInt32 {
		c.sess.EncryptedCount[h.dir]++
	}
	if k := c.sess.EncryptedCount[h.dir]; k <= MaxEncryptedRecords {
		h.recIdx = int(k) - 1
		if h.typ == ContentApplicationData {
			if na := &c.sess.AppDataAmongFirst[h.dir]; *na == 0 {
				c.sess.FirstAppDataLength[h.dir] = int32(n)
				h.firstApp, *na = true, 1
			} else {
				*na = 2
			}
		}
	}
	h.prot = true
	h.mode = modeSkip
	if h.open == nil && !h.keysTried {
		c.setupKeys(h)
	}
	if h.open == nil {
		return
	}
	if !c.wantRecord(h) {
		if h.dec != nil && !h.dec.skip() {
			c.stopDecrypting(h)
		}
		return
	}
	if c.opt.Buffers != nil && !h.pooled {
		b := c.opt.Buffers.get()
		if b == nil {
			c.note(h.dir, h.recStart, "%s record of %d bytes not decrypted: the decryption buffer limit is reached", ContentTypeName(h.typ), n)
			c.appLost(h, h.recStart)
			if h.dec != nil && !h.dec.skip() {
				c.stopDecrypting(h)
			}
			return
		}
		h.recBuf, h.pooled = b, true
	}
	h.mode = modeOpen
	h.recBuf = h.recBuf[:0]
}

// wantRecord reports whether the protected record starting is worth
// decrypting: every record until the direction's application-data budget
// is spent; after it, only what may hold an alert or a key change (TLS 1.2
// records of other types than application_data, small TLS 1.3 records).
func (c *Conn) wantRecord(h *half) bool {
	if !h.appDone {
		return true
	}
	if c.sess.TLS13() {
		return h.recLen <= smallRecord
	}
	return h.typ != ContentApplicationData
}

// stopDecrypting gives up decryption of a direction; its records are
// skipped by length from then on.
func (c *Conn) stopDecrypting(h *half) {
	h.open, h.dec = nil, nil
	c.releaseBuf(h)
}

// releaseBuf returns a lent record buffer.
func (c *Conn) releaseBuf(h *half) {
	if h.pooled {
		c.opt.Buffers.put(h.recBuf)
		h.recBuf, h.pooled = nil, false
	}
}

func (c *Conn) startSSLv2(h *half, hdr []byte, at wire.Ref) {
	if h.dir == ServerToClient {
		c.stop(h, at, "SSLv2 record from the server (an SSL 2.0 SERVER-HELLO?)")
		return
	}
	if !looksLikeSSLv2Hello(hdr) {
		c.notTLS = true
		c.note(h.dir, at, "not TLS: first bytes % x", hdr)
		return
	}
	n := int(hdr[0]&0x7f)<<8 | int(hdr[1])
	h.typ, h.recLen = ContentHandshake, n
	h.mode = modeSSLv2
	h.recBuf = append(h.recBuf[:0], hdr[2:5]...)
	h.remain = n - 3
	h.recOff = 3
}

// body handles body bytes of a record that is not skipped.
func (c *Conn) body(h *half, data []byte, at wire.Ref) {
	switch h.mode {
	case modeMaybeHandshake:
		if data[0] != TypeClientHello {
			c.note(h.dir, at, "handshake record after ChangeCipherSpec taken as encrypted")
			c.setPhase(h, PhaseProtected)
			c.protected(h)
			if h.mode == modeOpen {
				h.recBuf = append(h.recBuf, data...)
			}
			return
		}
		h.mode = modeHandshake
		fallthrough
	case modeHandshake:
		if !h.dropRest {
			c.handshakeBytes(h, data, h.recOff, at)
		}
	case modeSmall:
		h.smallN += copy(h.small[h.smallN:], data)
	case modeSSLv2, modeOpen:
		if len(h.recBuf)+len(data) <= maxSSLv2Record+MaxRecordLength {
			h.recBuf = append(h.recBuf, data...)
		}
	}
}

func (c *Conn) endRecord(h *half, at wire.Ref) {
	mode := h.mode
	h.mode = modeNone
	if h.firstApp {
		c.sess.FirstAppDataAt[h.dir] = at
	}
	defer c.fixRefs(h, at)
	switch mode {
	case modeSkip:
		if h.recIdx >= 0 || h.phase == PhaseProtected {
			if h.typ == ContentAlert && !c.sess.TLS13() {
				c.addAlert(Alert{From: h.dir, Encrypted: true, At: at})
			}
		}
		if h.prot {
			c.inferRecord(h, at)
		}
	case modeSmall:
		c.smallRecord(h, at)
	case modeSSLv2:
		ch, err := ParseSSLv2ClientHello(h.recBuf)
		if err != nil {
			c.fail(h.dir, at, "%v", err)
		}
		if ch != nil {
			c.logMessage(h, Message{From: h.dir, Type: TypeClientHello, Length: int32(len(h.recBuf)), At: at, Value: ch, Err: err}, h.recStart)
		}
		h.recBuf = nil
	case modeOpen:
		inner, pt, err := h.open.open(h.rechdr[:], h.recBuf)
		if err != nil {
			c.openFailed(h, err, at)
			c.inferRecord(h, at)
		} else {
			c.sess.Decrypted = true
			if x := c.sess.extra(); x.DecryptedRecords[h.dir] < math.MaxInt32 {
				x.DecryptedRecords[h.dir]++
			}
			if h.dec != nil && h.dec.switched {
				h.dec.switched = false
				c.note(h.dir, at, "the %s's Finished was not seen: application traffic keys taken from here on", h.dir)
			}
			c.plaintext(h, inner, pt, at)
		}
		c.releaseBuf(h)
	}
}

// openFailed handles a protected record the keys did not open: 0-RTT data
// and handshake records without handshake secrets are skipped quietly;
// anything else means the keys are wrong, and the direction goes on
// without decryption.
func (c *Conn) openFailed(h *half, err error, at wire.Ref) {
	if h.typ == ContentAlert && !c.sess.TLS13() {
		c.addAlert(Alert{From: h.dir, Encrypted: true, At: at})
	}
	switch {
	case errors.Is(err, errEarlyData):
		if !h.earlyNote {
			h.earlyNote = true
			c.note(h.dir, at, "%s record of %d bytes not opened by the handshake keys: taken as 0-RTT early data (CLIENT_EARLY_TRAFFIC_SECRET not in the key log)", ContentTypeName(h.typ), h.recLen)
		}
		return
	case errors.Is(err, errNoHandshakeKeys):
		if !h.earlyNote {
			h.earlyNote = true
			c.note(h.dir, at, "the key log has no %s handshake traffic secret: the %s's handshake messages are not decrypted", h.dir, h.dir)
		}
		return
	case h.appDone:
		// A small record past the budget that does not open: a KeyUpdate in
		// the data that was skipped. Nothing is wrong with the keys.
		c.note(h.dir, at, "decryption stopped at a record the current keys do not open (a KeyUpdate in the skipped application data?)")
	case h.dec != nil && h.dec.ok > 0:
		c.appLost(h, at)
		c.fail(h.dir, at, "%s record of %d bytes does not decrypt (%v) although earlier ones did: damaged or reordered; going on without decryption",
			ContentTypeName(h.typ), h.recLen, err)
	default:
		c.appLost(h, at)
		c.sess.Keys = KeysWrong
		c.fail(h.dir, at, "the keys for this session do not decrypt its records (%v): the key log entry is wrong or belongs to another session; going on without decryption", err)
	}
	c.stopDecrypting(h)
}

// fixRefs moves the log entries of the record's messages, and the views
// that follow them, to at: the packet that completed the record.
func (c *Conn) fixRefs(h *half, at wire.Ref) {
	for i := h.hsFrom; i < len(c.sess.log); i++ {
		if e := &c.sess.log[i]; e.from() == h.dir {
			e.at = at
			c.sess.follow(e)
		}
	}
	h.hsFrom = len(c.sess.log)
}

// inferRecord accounts for a protected record that was not decrypted by
// its shape (see DirState.Finished and DirState.AppData): in TLS 1.3 the
// client's first protected application_data record long enough for a
// Finished holds it (unless the server asked for a certificate), the next
// ones its
// application data; in TLS 1.2 the first protected record after the
// ChangeCipherSpec holds Finished and application_data records are
// application data. The server's TLS 1.3 flight has no such shape.
func (c *Conn) inferRecord(h *half, at wire.Ref) {
	st := &c.sess.Dirs[h.dir]
	if c.sess.TLS13() {
		if h.typ != ContentApplicationData || h.dir != ClientToServer {
			return
		}
		if st.Finished.IsZero() {
			// A record too short for a Finished (RFC 8446 §4.4.4: a hash
			// of at least 32 bytes, the inner type and a 16-byte tag) is
			// not one: most likely the client's alert.
			if h.recLen >= 4+32+1+16 && !c.sess.logged(ServerToClient, TypeCertificateRequest) {
				st.Finished, st.FinishedInferred = at, true
			}
			return
		}
	} else {
		if h.typ == ContentHandshake && st.Finished.IsZero() && h.ccsSeen {
			st.Finished, st.FinishedInferred = at, true
			return
		}
		if h.typ != ContentApplicationData {
			return
		}
	}
	c.appRecord(st, at, true)
}

// appRecord counts a record of application data.
func (c *Conn) appRecord(st *DirState, at wire.Ref, inferred bool) {
	if st.AppData.IsZero() {
		st.AppData, st.AppDataInferred = at, inferred
	}
	if st.AppDataRecords < math.MaxInt32 {
		st.AppDataRecords++
	}
}

// setPhase moves a direction to phase p and publishes it.
func (c *Conn) setPhase(h *half, p Phase) {
	h.phase = p
	c.sess.Dirs[h.dir].Phase = p
	if p == PhaseLost {
		c.sess.Lost[h.dir] = true
	}
}

// plaintext dispatches the content of a decrypted record.
func (c *Conn) plaintext(h *half, typ uint8, data []byte, at wire.Ref) {
	switch typ {
	case ContentHandshake:
		h.recStart = at
		c.handshakeBytes(h, data, 0, at)
	case ContentAlert:
		if len(data) != 2 {
			c.note(h.dir, at, "decrypted alert record of %d bytes", len(data))
		}
		for len(data) >= 2 {
			c.addAlert(Alert{From: h.dir, Level: data[0], Description: data[1], Encrypted: true, At: at})
			data = data[2:]
		}
	case ContentApplicationData:
		c.appRecord(&c.sess.Dirs[h.dir], at, false)
		c.appData(h, data, at)
	}
}

// appLost tells the receiver of application data that some of the
// direction's data will be missing (AppData with nil data) and ends its
// application data: what follows a hole cannot be parsed as HTTP.
func (c *Conn) appLost(h *half, at wire.Ref) {
	if h.appDone || h.appGone || h.dec == nil && h.open == nil {
		return
	}
	h.appGone = true
	if c.opt.AppData != nil && h.appBytes > 0 {
		c.opt.AppData(h.dir, nil, at)
	}
}

// appData hands decrypted application data on, within the direction's
// budget.
func (c *Conn) appData(h *half, data []byte, at wire.Ref) {
	if h.appDone {
		return
	}
	n := min(len(data), c.opt.MaxAppData-h.appBytes)
	if n > 0 && c.opt.AppData != nil && !h.appGone {
		c.opt.AppData(h.dir, data[:n], at)
	}
	h.appBytes += n
	if h.appBytes >= c.opt.MaxAppData {
		h.appDone = true
	}
}

func (c *Conn) addAlert(a Alert) {
	if len(c.sess.Alerts) < maxAlerts {
		c.sess.Alerts = append(c.sess.Alerts, a)
	}
}

// smallRecord handles a complete plaintext alert or ChangeCipherSpec record.
func (c *Conn) smallRecord(h *half, at wire.Ref) {
	body := h.small[:h.smallN]
	switch h.typ {
	case ContentChangeCipherSpec:
		h.ccsSeen = true
		if h.recLen != 1 || body[0] != 1 {
			c.note(h.dir, at, "ChangeCipherSpec record of %d bytes starting % x", h.recLen, body)
		}
		if h.phase == PhaseProtected {
			return // the TLS 1.3 compatibility CCS after the ServerHello
		}
		if len(h.hs) > 0 {
			c.note(h.dir, at, "ChangeCipherSpec inside an unfinished %s message", HandshakeTypeName(h.hs[0]))
		}
		if c.ccsIsCompat(h.dir) {
			h.ccsCompat = true
			return
		}
		c.setPhase(h, PhaseProtected)
	case ContentAlert:
		if h.recLen == 2 {
			a, err := ParseAlert(body)
			a.From, a.At = h.dir, at
			if err != nil {
				c.note(h.dir, at, "%v", err)
			}
			c.addAlert(a)
			return
		}
		// An alert record of another size in clear is an encrypted alert
		// whose ChangeCipherSpec was missed, or junk.
		c.note(h.dir, at, "alert record of %d bytes before encryption: taken as encrypted", h.recLen)
		c.addAlert(Alert{From: h.dir, Encrypted: true, At: at})
	}
}

// ccsIsCompat reports whether a plaintext ChangeCipherSpec from dir is the
// TLS 1.3 middlebox-compatibility one (RFC 8446 Appendix D.4), after which
// the sender's records are not necessarily protected yet, rather than the
// TLS 1.2 one after which they are.
func (c *Conn) ccsIsCompat(dir Dir) bool {
	if v := c.sess.Version(); v != 0 {
		return isTLS13(v)
	}
	// No ServerHello seen: a client that offered TLS 1.3 sends its CCS before
	// its second flight or with 0-RTT; a TLS 1.2 client sends none before
	// the ServerHello.
	return dir == ClientToServer && c.sess.ClientHello != nil && c.sess.ClientHello.OffersTLS13()
}

// handshakeBytes reassembles handshake messages (RFC 8446 §4, §5.1: several
// per record, or one across records). off is the offset of data in its
// record body. Complete messages are parsed straight from data; only an
// incomplete one is copied.
func (c *Conn) handshakeBytes(h *half, data []byte, off int, at wire.Ref) {
	if h.hsStopped {
		return
	}
	if h.hsDiscard > 0 {
		n := min(h.hsDiscard, len(data))
		h.hsDiscard -= n
		data = data[n:]
		off += n
	}
	for len(data) > 0 {
		if h.dropRest {
			c.note(h.dir, at, "%d bytes of handshake data after the last plaintext message in its record (RFC 8446 §5.1)", len(data))
			return
		}
		if len(h.hs) == 0 {
			first := at
			if off == 0 {
				first = h.recStart
			}
			if len(data) >= 4 {
				n := int(data[1])<<16 | int(data[2])<<8 | int(data[3])
				if n > MaxHandshakeBuffer-4 {
					c.tooLarge(h, data[0], n, at)
					return
				}
				if len(data) >= 4+n {
					c.message(h, data[0], data[4:4+n], first, at)
					data = data[4+n:]
					off += 4 + n
					if h.hsStopped || h.phase == PhaseLost {
						return
					}
					continue
				}
			}
			h.hsFirstAt = first
		}
		// Copy into the reassembly buffer: first the header, then the body.
		if h.hs == nil {
			h.hs = getHandshakeBuffer()
		}
		if len(h.hs) < 4 {
			k := min(4-len(h.hs), len(data))
			h.hs = append(h.hs, data[:k]...)
			data = data[k:]
			off += k
			if len(h.hs) < 4 {
				return
			}
			if n := int(h.hs[1])<<16 | int(h.hs[2])<<8 | int(h.hs[3]); n > MaxHandshakeBuffer-4 {
				c.tooLarge(h, h.hs[0], n, at)
				return
			}
		}
		n := int(h.hs[1])<<16 | int(h.hs[2])<<8 | int(h.hs[3])
		k := min(4+n-len(h.hs), len(data))
		h.hs = append(h.hs, data[:k]...)
		data = data[k:]
		off += k
		if len(h.hs) == 4+n {
			c.message(h, h.hs[0], h.hs[4:], h.hsFirstAt, at)
			putHandshakeBuffer(h.hs)
			h.hs = nil
			if h.hsStopped || h.phase == PhaseLost {
				return
			}
		}
	}
}

func (c *Conn) tooLarge(h *half, typ uint8, n int, at wire.Ref) {
	c.fail(h.dir, at, "%s message of %d bytes exceeds the %d-byte reassembly limit; handshake parsing stopped",
		HandshakeTypeName(typ), n, MaxHandshakeBuffer)
	h.hsStopped = true
	putHandshakeBuffer(h.hs)
	h.hs = nil
}

// handshakeBuffers lends the buffers handshake messages split across
// records or segments are reassembled in: a message completes within a few
// packets, so a handful of buffers serve every connection of a capture.
var handshakeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

func getHandshakeBuffer() []byte { return (*handshakeBuffers.Get().(*[]byte))[:0] }

func putHandshakeBuffer(b []byte) {
	if b == nil || cap(b) > MaxHandshakeBuffer {
		return
	}
	handshakeBuffers.Put(&b)
}

// parseMessage is the one dispatch of handshake message parsing (in the
// manner of crypto/tls's unmarshalHandshakeMessage): it returns the parsed
// value of a message body, nil for the types that are only logged.
func (c *Conn) parseMessage(typ uint8, body []byte) (any, error) {
	switch typ {
	case TypeClientHello:
		ch, err := c.opt.Intern.ParseClientHello(body)
		if ch == nil {
			return nil, err
		}
		return ch, err
	case TypeServerHello:
		sh, err := c.opt.Intern.ParseServerHello(body)
		if sh == nil {
			return nil, err
		}
		if !sh.IsHelloRetryRequest && c.sess.ServerHello == nil {
			// A shared ServerHello has no Random: the parse read it here.
			copy(c.serverRandom[:], body[2:2+len(c.serverRandom)])
		}
		return c.ownServerHello(sh), err
	case TypeEncryptedExtensions:
		return ParseEncryptedExtensions(body)
	case TypeCertificate:
		cm, err := c.opt.Certs.ParseCertificate(body, c.sess.TLS13())
		return c.ownCertificates(cm), err
	case TypeCompressedCertificate:
		// RFC 8879 applies to TLS 1.3 only: the result is its Certificate.
		cm, err := c.opt.Certs.ParseCompressedCertificate(body, true)
		if cm == nil {
			return nil, err
		}
		cm.Certificate = c.ownCertificates(cm.Certificate)
		return cm, err
	case TypeServerKeyExchange:
		ske := &ServerKeyExchange{}
		// ECDHE ServerECDHParams start with curve_type named_curve (3) and
		// the group (RFC 8422 §5.4).
		if sh := c.sess.ServerHello; sh != nil && strings.Contains(CipherSuiteName(sh.CipherSuite), "_ECDHE_") &&
			len(body) >= 3 && body[0] == 3 {
			ske.Group = uint16(body[1])<<8 | uint16(body[2])
		}
		return ske, nil
	}
	return nil, nil
}

// ownServerHello returns sh, or a copy of it when sh, shared through the
// Interner, is already one of this session's hello views (see
// ownCertificates).
func (c *Conn) ownServerHello(sh *ServerHello) *ServerHello {
	if sh == c.sess.ServerHello || sh == c.sess.HelloRetry() {
		cp := *sh
		return &cp
	}
	return sh
}

// ownCertificates returns m, or a copy of it when m, shared through the
// CertCache, is already one of this session's certificate views: a view's
// packet follows the log entry holding the same pointer (Session.follow),
// so a repeated chain must not move it.
func (c *Conn) ownCertificates(m *CertificateMsg) *CertificateMsg {
	if m != nil && (m == c.sess.Certificates || m == c.sess.ClientCertificates()) {
		cp := *m
		return &cp
	}
	return m
}

// message handles one complete handshake message: it is parsed (see
// parseMessage), logged (see Session.Messages), and fills the Session's view
// of its kind when it is the first of it. body is only valid during the
// call.
func (c *Conn) message(h *half, typ uint8, body []byte, first, at wire.Ref) {
	s := c.sess
	if h.dec != nil && h.dec.tls13 {
		switch typ {
		case TypeFinished:
			// The sender's next record is protected with its application
			// traffic keys (RFC 8446 §7.3); the change falls on a record
			// boundary, so the record being read is not affected.
			h.dec.toApplication()
		case TypeKeyUpdate:
			if err := h.dec.keyUpdate(); err != nil {
				c.fail(h.dir, at, "KeyUpdate: %v", err)
			}
		}
	}
	m := Message{From: h.dir, Type: typ, Length: int32(len(body)), At: at, Protected: h.prot}
	switch {
	case wrongSide(h.dir, typ, s.TLS13()):
		c.note(h.dir, at, "%s message sent by the %s", HandshakeTypeName(typ), h.dir)
	case h.dir == ClientToServer && typ == TypeEncryptedExtensions:
		// A TLS 1.3 client sends one only with ALPS (Chrome's
		// application_settings), inside its encrypted flight: logged only.
	default:
		m.Value, m.Err = c.parseMessage(typ, body)
		if m.Err != nil {
			c.fail(h.dir, at, "%v", m.Err)
		}
	}
	c.logMessage(h, m, first)
}

// logMessage appends m to the log, making it a view when it is the first
// of its kind.
func (c *Conn) logMessage(h *half, m Message, first wire.Ref) {
	view := c.view(h, &m, first)
	if len(c.sess.log) < maxMessages || view != viewNone {
		if c.sess.log == nil {
			// The two hellos are the whole plaintext log of a TLS 1.3
			// session without keys.
			c.sess.log = make([]logEntry, 0, 2)
		}
		c.sess.log = append(c.sess.log, c.sess.entry(&m, view))
	}
}

// wrongSide reports a message type the sender's side never sends.
func wrongSide(dir Dir, typ uint8, tls13 bool) bool {
	if dir == ClientToServer {
		switch typ {
		case TypeServerHello, TypeServerHelloDone, TypeServerKeyExchange, TypeCertificateRequest:
			return true
		case TypeEncryptedExtensions:
			return !tls13
		}
		return false
	}
	return typ == TypeClientHello || typ == TypeClientKeyExchange
}

// view makes m the Session's view of its kind when it is the first of it
// and returns which view it filled (viewNone when none). The view's packet
// follows the log entry (see Session.follow).
func (c *Conn) view(h *half, m *Message, first wire.Ref) uint8 {
	s := c.sess
	switch v := m.Value.(type) {
	case *ClientHello:
		return c.setClientHello(h, v, first, m.At)
	case *ServerHello:
		switch {
		case v.IsHelloRetryRequest && s.HelloRetry() == nil && s.ServerHello == nil:
			x := s.extra()
			x.HelloRetry, x.HelloRetryAt = v, m.At
			return viewHelloRetry
		case v.IsHelloRetryRequest:
			c.note(h.dir, m.At, "another HelloRetryRequest")
			return viewNone
		case s.ServerHello == nil:
			s.ServerHello, s.ServerHelloAt = v, m.At
			if isTLS13(v.Version()) {
				// Everything after the ServerHello is protected (RFC 8446
				// §2); the key change falls on a record boundary (§5.1).
				c.setPhase(h, PhaseProtected)
				h.dropRest = true
			}
			return viewServerHello
		default:
			c.note(h.dir, m.At, "another ServerHello")
			return viewNone
		}
	case *CertificateMsg:
		return c.setCertificates(h.dir, v, m.At)
	case *CompressedCertificate:
		if v.Certificate == nil {
			return viewNone
		}
		return c.setCertificates(h.dir, v.Certificate, m.At)
	case *EncryptedExtensions:
		if s.EncryptedExtensions() == nil {
			x := s.extra()
			x.EncryptedExtensions, x.EncryptedExtensionsAt = v, m.At
			return viewEncryptedExtensions
		}
		return viewNone
	}
	switch m.Type {
	case TypeServerHelloDone:
		if m.Length != 0 {
			c.note(h.dir, m.At, "ServerHelloDone with a %d-byte body", m.Length)
		}
	case TypeFinished:
		s.Dirs[h.dir].Finished, s.Dirs[h.dir].FinishedInferred = m.At, false
	}
	return viewNone
}

// setCertificates makes msg the view of dir's certificates when it is the
// first, and returns the view it filled.
func (c *Conn) setCertificates(dir Dir, msg *CertificateMsg, at wire.Ref) uint8 {
	s := c.sess
	if dir == ClientToServer {
		if s.ClientCertificates() == nil {
			x := s.extra()
			x.ClientCertificates, x.ClientCertificatesAt = msg, at
			return viewClientCertificates
		}
		return viewNone
	}
	if s.Certificates == nil {
		s.Certificates, s.CertificatesAt = msg, at
		return viewCertificates
	}
	return viewNone
}

func (c *Conn) setClientHello(h *half, ch *ClientHello, first, at wire.Ref) uint8 {
	s := c.sess
	switch {
	case s.ClientHello == nil:
		s.ClientHello, s.ClientHelloAt, s.ClientHelloFirstAt = ch, at, first
		s.ClientHelloPackets = int32(min(h.pkts, math.MaxInt32))
		return viewClientHello
	case s.SecondClientHello() == nil && s.ServerHello == nil:
		// The answer to a HelloRetryRequest (RFC 8446 §4.1.2), which may be
		// missing from the capture.
		x := s.extra()
		x.SecondClientHello, x.SecondClientHelloAt = ch, at
		if s.HelloRetry() == nil {
			c.note(h.dir, at, "second ClientHello without a HelloRetryRequest seen")
		}
		return viewSecondClientHello
	}
	c.note(h.dir, at, "another ClientHello in clear (renegotiation or a new handshake on the same stream)")
	return viewNone
}

// Gap says that n bytes of one direction were lost (n < 0: an unknown
// number). Within an encrypted record the record layer resynchronises by
// counting; within a handshake message whose header was seen, that message
// is lost and the next one is parsed; otherwise the direction is marked lost
// (Session.Lost) and ignored from then on. Every gap is noted.
func (c *Conn) Gap(dir Dir, n int64, at wire.Ref) {
	if c.notTLS || c.done || dir&^1 != 0 || n == 0 {
		return
	}
	h := &c.h[dir]
	if h.phase == PhaseLost {
		return
	}
	if n < 0 {
		c.note(dir, at, "bytes of unknown number lost; direction abandoned")
		c.markLost(h)
		return
	}
	if h.hdrN > 0 || h.remain == 0 || n > int64(h.remain) {
		c.note(dir, at, "%d bytes lost; the gap crosses a record header; direction abandoned", n)
		c.markLost(h)
		return
	}
	k := int(n)
	if h.mode != modeSkip {
		// Inside a record skipped by counting a gap changes nothing (a
		// snap-length capture is full of them); elsewhere it costs content.
		c.note(dir, at, "%d bytes lost", n)
	}
	switch h.mode {
	case modeHandshake, modeMaybeHandshake:
		c.handshakeGap(h, k, at)
	case modeSmall:
		h.smallN = len(h.small)  // unknown content: keep what we have
		h.typ = ContentHeartbeat // nothing to interpret at the end
	case modeSSLv2:
		c.note(dir, at, "SSLv2 ClientHello lost")
		h.mode = modeSkip
	case modeOpen:
		h.mode = modeSkip
		c.releaseBuf(h)
		c.appLost(h, at)
		if h.dec != nil && !h.dec.skip() {
			c.stopDecrypting(h)
		}
	}
	h.remain -= k
	h.recOff += k
	if h.remain == 0 {
		c.endRecord(h, at)
	}
}

func (c *Conn) markLost(h *half) {
	c.appLost(h, h.recStart)
	c.setPhase(h, PhaseLost)
	c.releaseBuf(h)
	putHandshakeBuffer(h.hs)
	h.hs, h.recBuf = nil, nil
	h.open, h.dec = nil, nil
}

// handshakeGap drops a handshake message that lost k bytes, when its header
// was seen and the gap ends inside it; otherwise handshake parsing stops.
func (c *Conn) handshakeGap(h *half, k int, at wire.Ref) {
	if h.hsStopped {
		return
	}
	if h.dropRest {
		return
	}
	if len(h.hs) >= 4 {
		n := int(h.hs[1])<<16 | int(h.hs[2])<<8 | int(h.hs[3])
		if rest := 4 + n - len(h.hs); k <= rest && h.hsDiscard == 0 {
			c.note(h.dir, at, "%s message of %d bytes lost in a gap", HandshakeTypeName(h.hs[0]), n)
			h.hsDiscard = rest - k
			h.hs = h.hs[:0]
			return
		}
	}
	if h.hsDiscard >= k {
		h.hsDiscard -= k
		return
	}
	c.note(h.dir, at, "gap between handshake messages; handshake parsing stopped")
	h.hsStopped = true
	h.hs = nil
}

// Finish ends both streams (end of connection or of capture): a record or
// handshake message left incomplete is noted. Later Feed calls are ignored.
func (c *Conn) Finish() {
	if c.done {
		return
	}
	c.done = true
	if c.notTLS {
		return
	}
	for d := range c.h {
		h := &c.h[d]
		if h.phase != PhaseLost {
			at := h.recStart
			if h.hdrN > 0 {
				c.note(h.dir, at, "stream ends inside a record header (%d of 5 bytes)", h.hdrN)
			}
			if h.remain > 0 {
				c.note(h.dir, at, "stream ends %d bytes before the end of a %d-byte %s record",
					h.remain, h.recLen, ContentTypeName(h.typ))
			}
			if len(h.hs) > 0 && !h.hsStopped {
				total := -1
				if len(h.hs) >= 4 {
					total = 4 + (int(h.hs[1])<<16 | int(h.hs[2])<<8 | int(h.hs[3]))
				}
				c.note(h.dir, h.hsFirstAt, "stream ends inside a %s message (%d of %d bytes)",
					HandshakeTypeName(h.hs[0]), len(h.hs), total)
			}
		}
		c.releaseBuf(h)
		h.hs, h.recBuf = nil, nil
		h.open, h.dec = nil, nil
	}
	c.sess.clip()
}
