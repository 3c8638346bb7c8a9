package tlswire

import (
	"errors"
	"fmt"
	"slices"

	"github.com/modsniff/modsniff/decode/wire"
)

// KeyState says what became of decryption for a session.
type KeyState uint8

// Key states, in the order they can happen.
const (
	// KeysNotWanted: no key source was given, or nothing was encrypted.
	KeysNotWanted KeyState = iota
	// KeysMissing: the key source holds nothing for the session's client
	// random (or too little for its version).
	KeysMissing
	// KeysUnusable: secrets were found but cannot be used: an unsupported
	// cipher suite or version, secrets of the wrong size, no ServerHello.
	KeysUnusable
	// KeysFound: secrets were found and records decrypted with them.
	KeysFound
	// KeysWrong: secrets were found but records did not authenticate.
	KeysWrong
)

var keyStateNames = [...]string{"not wanted", "missing", "unusable", "found", "wrong"}

func (k KeyState) String() string {
	if int(k) < len(keyStateNames) {
		return keyStateNames[k]
	}
	return fmt.Sprintf("KeyState(%d)", k)
}

// DefaultMaxAppData is how many bytes of decrypted application data per
// direction are handed to ConnOptions.AppData when MaxAppData is 0: enough
// for the HTTP requests and response headers of a go command's fetches.
const DefaultMaxAppData = 256 << 10

// smallRecord is the longest TLS 1.3 record still decrypted after the
// application-data budget of its direction is spent: alerts, KeyUpdate.
const smallRecord = 64

// maxEarlyRecords bounds the client records taken as 0-RTT data.
const maxEarlyRecords = 64

// errEarlyData is returned for a TLS 1.3 client record that no handshake
// or application key opens before any record was opened: 0-RTT data
// protected with keys the log did not hold.
var errEarlyData = errors.New("0-RTT early data")

// errNoHandshakeKeys is returned for a TLS 1.3 handshake record when the
// log held only application traffic secrets.
var errNoHandshakeKeys = errors.New("no handshake traffic secret")

// RecordBuffers lends the buffers protected records are decrypted in and
// caps the bytes lent at once across all the Conns that share it, so that
// many connections each inside a record cannot add up to much memory. A
// record that finds no buffer is skipped (and noted). Not safe for
// concurrent use.
type RecordBuffers struct {
	max, used int
	free      [][]byte
	refused   int
}

// NewRecordBuffers returns a pool that lends at most max bytes at once.
func NewRecordBuffers(max int) *RecordBuffers { return &RecordBuffers{max: max} }

// Refused returns how many records found no buffer.
func (p *RecordBuffers) Refused() int { return p.refused }

func (p *RecordBuffers) get() []byte {
	if p.used+MaxRecordLength > p.max {
		p.refused++
		return nil
	}
	p.used += MaxRecordLength
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b[:0]
	}
	return make([]byte, 0, MaxRecordLength)
}

func (p *RecordBuffers) put(b []byte) {
	if cap(b) < MaxRecordLength {
		return
	}
	p.used -= MaxRecordLength
	if len(p.free) < 16 {
		p.free = append(p.free, b[:0])
	}
}

// dirDecrypter is the opener of one direction with keys: the current
// record cipher and, in TLS 1.3, the ciphers that follow it.
type dirDecrypter struct {
	dir    Dir
	cur    *recordCipher
	next   *recordCipher // TLS 1.3: application traffic keys, after this side's Finished
	early  *recordCipher // TLS 1.3 client: 0-RTT keys
	tls13  bool
	hs     bool // TLS 1.3: still in the handshake epoch
	ok     int  // records opened
	early0 int  // client records taken as 0-RTT
	save   []byte
	// switched is set when a record of the handshake epoch opened only with
	// the application keys: this side's Finished was missed.
	switched bool
}

// open implements opener. In the TLS 1.3 handshake epoch a record that the
// handshake keys do not open is tried with the application keys (the
// Finished was lost) and, for a client that has sent nothing yet, with the
// 0-RTT keys.
func (d *dirDecrypter) open(hdr, body []byte) (uint8, []byte, error) {
	if !d.hs {
		typ, pt, err := d.cur.open(hdr, body)
		if err == nil {
			d.ok++
		}
		return typ, pt, err
	}
	d.save = append(d.save[:0], body...)
	var err error = errNoHandshakeKeys
	if d.cur != nil {
		var typ uint8
		var pt []byte
		if typ, pt, err = d.cur.open(hdr, body); err == nil {
			d.ok++
			return typ, pt, nil
		}
	}
	if d.next != nil {
		copy(body, d.save)
		if typ, pt, err2 := d.next.open(hdr, body); err2 == nil {
			d.toApplication()
			d.switched = true
			d.ok++
			return typ, pt, nil
		}
	}
	if d.dir == ClientToServer && d.ok == 0 {
		if d.early != nil {
			copy(body, d.save)
			if typ, pt, err2 := d.early.open(hdr, body); err2 == nil {
				return typ, pt, nil
			}
		}
		if d.early0 < maxEarlyRecords {
			d.early0++
			return 0, nil, errEarlyData
		}
	}
	if d.cur == nil && d.ok == 0 {
		return 0, nil, errNoHandshakeKeys
	}
	return 0, nil, err
}

// toApplication switches to the application traffic keys (RFC 8446 §7.3:
// after the sender's Finished).
func (d *dirDecrypter) toApplication() {
	if !d.hs || d.next == nil {
		return
	}
	d.cur, d.next, d.early, d.hs = d.next, nil, nil, false
	d.save = nil
}

// skip accounts for a record not decrypted; false when decryption cannot
// go on.
func (d *dirDecrypter) skip() bool {
	if d.cur == nil {
		return !d.hs || d.next != nil
	}
	return d.cur.skip()
}

// keyUpdate moves to the next application traffic secret (RFC 8446 §4.6.3).
func (d *dirDecrypter) keyUpdate() error {
	if !d.tls13 || d.hs || d.cur == nil {
		return nil
	}
	return d.cur.update()
}

// clientRandom returns the random the session's keys are filed under.
func (c *Conn) clientRandom() ([32]byte, bool) {
	switch {
	case c.sess.ClientHello != nil:
		return c.sess.ClientHello.Random, true
	case c.sess.SecondClientHello() != nil:
		return c.sess.SecondClientHello().Random, true
	}
	return [32]byte{}, false
}

// setupKeys looks up the session's secrets when a direction's first
// protected record starts and, when they fit the session, makes the
// direction's decrypter.
func (c *Conn) setupKeys(h *half) {
	h.keysTried = true
	if c.opt.Keys == nil {
		return
	}
	if n, ok := c.opt.Keys.(interface{ Len() int }); ok && n.Len() == 0 {
		return // an empty key log: as without keys, nothing to note
	}
	random, ok := c.clientRandom()
	if !ok {
		c.keyNote(h, KeysMissing, "no ClientHello seen: keys cannot be matched to this session")
		return
	}
	sec, ok := c.opt.Keys.Lookup(random)
	if !ok {
		c.keyNote(h, KeysMissing, "no keys for this session (client random %x…) in the key log: its encrypted records are not decrypted", random[:6])
		return
	}
	sh := c.sess.ServerHello
	if sh == nil {
		c.keyNote(h, KeysUnusable, "keys found but no ServerHello seen: the cipher suite is unknown")
		return
	}
	v := sh.Version()
	s, err := suiteFor(sh.CipherSuite, v)
	if err == nil && isTLS13(v) && v != VersionTLS13 {
		err = fmt.Errorf("%s records are not decrypted", VersionName(v))
	}
	if err != nil {
		c.keyNote(h, KeysUnusable, "keys found but %v", err)
		return
	}
	var d *dirDecrypter
	if s.prot == protTLS13 {
		d, err = c.tls13Decrypter(h.dir, s, sec)
	} else {
		d, err = c.tls12Decrypter(h.dir, s, v, sec)
	}
	if err != nil {
		c.keyNote(h, KeysUnusable, "%v", err)
		return
	}
	if d == nil {
		return
	}
	h.dec, h.open = d, d
	if c.sess.Keys < KeysFound {
		c.sess.Keys = KeysFound
	}
}

// keyNote records why a direction is not decrypted, once per session.
func (c *Conn) keyNote(h *half, st KeyState, format string, args ...any) {
	c.sess.Keys = max(c.sess.Keys, st)
	if c.keyNoted {
		return
	}
	c.keyNoted = true
	c.note(h.dir, h.recStart, format, args...)
}

func (c *Conn) tls13Decrypter(dir Dir, s suite, sec wire.TLSSecrets) (*dirDecrypter, error) {
	hs, app := sec.ServerHandshakeTraffic, sec.ServerTraffic0
	if dir == ClientToServer {
		hs, app = sec.ClientHandshakeTraffic, sec.ClientTraffic0
	}
	if hs == nil && app == nil {
		if sec.MasterSecret != nil {
			return nil, errors.New("the key log has a TLS 1.2 master secret (CLIENT_RANDOM) for this TLS 1.3 session")
		}
		return nil, fmt.Errorf("the key log has no %s traffic secrets for this session", dir)
	}
	d := &dirDecrypter{dir: dir, tls13: true, hs: true}
	for _, x := range []struct {
		secret []byte
		dst    **recordCipher
	}{{hs, &d.cur}, {app, &d.next}, {sec.ClientEarlyTraffic, &d.early}} {
		if x.secret == nil || x.dst == &d.early && dir != ClientToServer {
			continue
		}
		if len(x.secret) != s.hash.Size() {
			return nil, fmt.Errorf("key log secret of %d bytes for %s, whose hash gives %d", len(x.secret), CipherSuiteName(s.id), s.hash.Size())
		}
		rc, err := newTLS13Cipher(s, x.secret)
		if err != nil {
			return nil, err
		}
		*x.dst = rc
	}
	return d, nil
}

func (c *Conn) tls12Decrypter(dir Dir, s suite, v uint16, sec wire.TLSSecrets) (*dirDecrypter, error) {
	if sec.MasterSecret == nil {
		return nil, errors.New("the key log has TLS 1.3 secrets but no master secret (CLIENT_RANDOM) for this TLS 1.2 session")
	}
	random, _ := c.clientRandom()
	kb := deriveKeyBlock(s, v, sec.MasterSecret, random, c.serverRandom)
	etm := s.prot == protCBC && slices.Contains(c.sess.ServerHello.Extensions, 22) // encrypt_then_mac (RFC 7366)
	rc, err := newTLS12Cipher(s, v, etm, kb.macKey[dir], kb.key[dir], kb.iv[dir])
	if err != nil {
		return nil, err
	}
	return &dirDecrypter{dir: dir, cur: rc}, nil
}
