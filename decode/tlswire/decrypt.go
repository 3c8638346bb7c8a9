package tlswire

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// Decryption errors, wrapped in notes; test for them with errors.Is.
var (
	// ErrBadRecordMAC means a record did not authenticate with the keys
	// tried: the key log entry belongs to another session, is corrupt, or
	// the record was damaged.
	ErrBadRecordMAC = errors.New("bad record MAC")
	// ErrRecordShort means a protected record is too short for its cipher's
	// nonce, padding and tag.
	ErrRecordShort = errors.New("record too short for its cipher")
	// ErrNoContentType means a TLS 1.3 record decrypted to zeros only: no
	// inner content type (RFC 8446 §5.4).
	ErrNoContentType = errors.New("no inner content type")
)

// recordCipher removes the protection of one direction's records under one
// set of keys (RFC 8446 §5.2–5.3, RFC 5246 §6.2.3, RFC 5288, RFC 7905). It
// decrypts in place.
type recordCipher struct {
	s    suite
	prot uint8
	aead cipher.AEAD
	iv   [12]byte // TLS 1.3 and ChaCha20 IV; the 4-byte GCM salt in iv[:4]
	seq  uint64

	// CBC (RFC 5246 §6.2.3.2; RFC 7366 encrypt-then-MAC)
	block      cipher.Block
	mac        hash.Hash
	etm        bool
	explicitIV bool   // TLS 1.1 and later
	nextIV     []byte // TLS 1.0: the last ciphertext block of the previous record

	// secret is the TLS 1.3 traffic secret, for KeyUpdate (RFC 8446 §7.2).
	secret []byte

	nonce [12]byte
	aad   [13]byte
	sum   []byte
}

// newAEAD returns the AEAD of a suite's bulk cipher with key.
func newAEAD(bulk uint8, key []byte) (cipher.AEAD, error) {
	if bulk == bulkChaCha {
		return chacha20poly1305.New(key)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// newTLS13Cipher returns the record cipher of a TLS 1.3 traffic secret.
func newTLS13Cipher(s suite, secret []byte) (*recordCipher, error) {
	key, iv := tls13Keys(s, secret)
	a, err := newAEAD(s.bulk, key)
	if err != nil {
		return nil, err
	}
	rc := &recordCipher{s: s, prot: protTLS13, aead: a, secret: secret}
	copy(rc.iv[:], iv)
	return rc, nil
}

// newTLS12Cipher returns the record cipher of one direction of a TLS 1.0–1.2
// session from its key block.
func newTLS12Cipher(s suite, version uint16, etm bool, macKey, key, iv []byte) (*recordCipher, error) {
	rc := &recordCipher{s: s, prot: s.prot}
	switch s.prot {
	case protGCM12, protChaCha:
		a, err := newAEAD(s.bulk, key)
		if err != nil {
			return nil, err
		}
		rc.aead = a
		copy(rc.iv[:], iv)
	case protCBC:
		var err error
		if s.bulk == bulk3DES {
			rc.block, err = des.NewTripleDESCipher(key)
		} else {
			rc.block, err = aes.NewCipher(key)
		}
		if err != nil {
			return nil, err
		}
		rc.mac = hmac.New(hashFunc(s.mac), macKey)
		rc.etm = etm
		rc.explicitIV = version >= VersionTLS11
		if !rc.explicitIV {
			rc.nextIV = append([]byte(nil), iv...)
		}
	}
	return rc, nil
}

// overhead returns the fewest bytes a protected record adds to its
// plaintext.
func (rc *recordCipher) overhead() int {
	switch rc.prot {
	case protTLS13:
		return rc.aead.Overhead() + 1
	case protGCM12:
		return 8 + rc.aead.Overhead()
	case protChaCha:
		return rc.aead.Overhead()
	}
	return rc.s.macLen + 1 // the rest is checked by openCBC
}

// open removes the protection of one record: hdr is its 5-byte header and
// body its fragment, overwritten with the plaintext. It returns the content
// type (the inner one for TLS 1.3) and the plaintext, and advances the
// sequence number only on success.
func (rc *recordCipher) open(hdr, body []byte) (uint8, []byte, error) {
	if len(body) < rc.overhead() {
		return 0, nil, ErrRecordShort
	}
	switch rc.prot {
	case protTLS13:
		rc.seqNonce()
		pt, err := rc.aead.Open(body[:0], rc.nonce[:], body, hdr)
		if err != nil {
			return 0, nil, ErrBadRecordMAC
		}
		rc.seq++
		i := len(pt) - 1
		for i >= 0 && pt[i] == 0 {
			i--
		}
		if i < 0 {
			return 0, nil, ErrNoContentType
		}
		return pt[i], pt[:i], nil
	case protGCM12, protChaCha:
		ct := body
		if rc.prot == protGCM12 {
			copy(rc.nonce[:4], rc.iv[:4])
			copy(rc.nonce[4:], body[:8])
			ct = body[8:]
		} else {
			rc.seqNonce()
		}
		rc.additional(hdr, len(ct)-rc.aead.Overhead())
		pt, err := rc.aead.Open(ct[:0], rc.nonce[:], ct, rc.aad[:])
		if err != nil {
			return 0, nil, ErrBadRecordMAC
		}
		rc.seq++
		return hdr[0], pt, nil
	}
	pt, err := rc.openCBC(hdr, body)
	if err != nil {
		return 0, nil, err
	}
	rc.seq++
	return hdr[0], pt, nil
}

// seqNonce sets nonce to the IV XOR the sequence number, left-padded
// (RFC 8446 §5.3, RFC 7905 §2).
func (rc *recordCipher) seqNonce() {
	rc.nonce = rc.iv
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], rc.seq)
	for i, b := range seq {
		rc.nonce[4+i] ^= b
	}
}

// additional sets the TLS 1.2 additional data / MAC header: seq_num, type,
// version, length (RFC 5246 §6.2.3.3).
func (rc *recordCipher) additional(hdr []byte, n int) {
	binary.BigEndian.PutUint64(rc.aad[:8], rc.seq)
	rc.aad[8], rc.aad[9], rc.aad[10] = hdr[0], hdr[1], hdr[2]
	binary.BigEndian.PutUint16(rc.aad[11:], uint16(n))
}

// checkMAC compares the HMAC of the MAC header and data with want.
func (rc *recordCipher) checkMAC(hdr []byte, data, want []byte) bool {
	rc.additional(hdr, len(data))
	rc.mac.Reset()
	rc.mac.Write(rc.aad[:])
	rc.mac.Write(data)
	rc.sum = rc.mac.Sum(rc.sum[:0])
	return hmac.Equal(rc.sum, want)
}

// openCBC removes block-cipher protection: MAC-then-encrypt (RFC 5246
// §6.2.3.2) or, when negotiated, encrypt-then-MAC (RFC 7366).
func (rc *recordCipher) openCBC(hdr, body []byte) ([]byte, error) {
	bs, ml := rc.block.BlockSize(), rc.s.macLen
	if rc.etm {
		data, tag := body[:len(body)-ml], body[len(body)-ml:]
		if !rc.checkMAC(hdr, data, tag) {
			return nil, ErrBadRecordMAC
		}
		body = data
	}
	iv := rc.nextIV
	if rc.explicitIV {
		if len(body) < bs {
			return nil, ErrRecordShort
		}
		iv, body = body[:bs], body[bs:]
	}
	if len(body) == 0 || len(body)%bs != 0 {
		return nil, ErrRecordShort
	}
	var last [16]byte
	copy(last[:], body[len(body)-bs:])
	cipher.NewCBCDecrypter(rc.block, iv).CryptBlocks(body, body)
	if !rc.explicitIV {
		rc.nextIV = append(rc.nextIV[:0], last[:bs]...)
	}
	pad := int(body[len(body)-1])
	tail := pad + 1
	if !rc.etm {
		tail += ml
	}
	if tail > len(body) {
		return nil, ErrBadRecordMAC
	}
	for _, b := range body[len(body)-pad-1:] {
		if int(b) != pad {
			return nil, ErrBadRecordMAC
		}
	}
	pt := body[:len(body)-tail]
	if !rc.etm && !rc.checkMAC(hdr, pt, body[len(pt):len(pt)+ml]) {
		return nil, ErrBadRecordMAC
	}
	return pt, nil
}

// skip accounts for a record that was not decrypted. It reports false when
// the cipher cannot go on without it (TLS 1.0 CBC chains the IV through
// every record).
func (rc *recordCipher) skip() bool {
	rc.seq++
	return rc.prot != protCBC || rc.explicitIV
}

// update replaces the keys by those of the next traffic secret (RFC 8446
// §7.2) after a KeyUpdate.
func (rc *recordCipher) update() error {
	next, err := newTLS13Cipher(rc.s, nextTrafficSecret(rc.s, rc.secret))
	if err != nil {
		return err
	}
	*rc = *next
	return nil
}
