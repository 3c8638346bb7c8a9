package decodetest

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"
)

// Certificate compression algorithms (RFC 8879 §3).
const (
	CertZlib   uint16 = 1
	CertBrotli uint16 = 2
	CertZstd   uint16 = 3
)

// Compress compresses b with a certificate compression algorithm (RFC
// 8879 §3).
func Compress(alg uint16, b []byte) ([]byte, error) {
	var out bytes.Buffer
	switch alg {
	case CertZlib:
		w := zlib.NewWriter(&out)
		if _, err := w.Write(b); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
	case CertBrotli:
		w := brotli.NewWriter(&out)
		if _, err := w.Write(b); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
	case CertZstd:
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		defer enc.Close()
		return enc.EncodeAll(b, nil), nil
	default:
		return nil, fmt.Errorf("unknown certificate compression algorithm %d", alg)
	}
	return out.Bytes(), nil
}

// CompressedCertificate returns a CompressedCertificate handshake message
// (RFC 8879 §4), header included, holding certBody (the body of a
// Certificate message) compressed with alg.
func CompressedCertificate(alg uint16, certBody []byte) ([]byte, error) {
	comp, err := Compress(alg, certBody)
	if err != nil {
		return nil, err
	}
	body := binary.BigEndian.AppendUint16(nil, alg)
	body = appendUint24(body, len(certBody))
	body = appendUint24(body, len(comp))
	body = append(body, comp...)
	return append(appendUint24([]byte{25}, len(body)), body...), nil
}

func appendUint24(b []byte, n int) []byte { return append(b, byte(n>>16), byte(n>>8), byte(n)) }

// CompressServerCertificate rewrites a recorded TLS 1.3 session as if its
// server had compressed its certificate (RFC 8879): the protected record
// holding the server's Certificate message is opened with the server's
// handshake traffic secret from keylog (an NSS key log), its message is
// replaced by a CompressedCertificate of the same certificates, and the
// record is sealed again with the same key and sequence number. client is
// the client's first bytes (its ClientHello record); server holds the
// server's writes in order, one of which is replaced. The session's
// Finished MACs no longer match the rewritten transcript, which a passive
// decoder does not check. crypto/tls servers write each handshake message
// in its own record, which this relies on.
func CompressServerCertificate(client []byte, server [][]byte, keylog []byte, alg uint16) error {
	if len(client) < 5+4+2+32 || client[0] != 22 || client[5] != 1 {
		return errors.New("the client's first bytes are not a ClientHello record")
	}
	random := hex.EncodeToString(client[11:43])
	var secret []byte
	sc := bufio.NewScanner(bytes.NewReader(keylog))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "SERVER_HANDSHAKE_TRAFFIC_SECRET" && strings.EqualFold(f[1], random) {
			secret, _ = hex.DecodeString(f[2])
		}
	}
	if secret == nil {
		return errors.New("no SERVER_HANDSHAKE_TRAFFIC_SECRET for the session in the key log")
	}
	var aead cipher.AEAD
	var iv []byte
	seq := uint64(0)
	for w, data := range server {
		for off := 0; off+5 <= len(data); {
			n := int(binary.BigEndian.Uint16(data[off+3:]))
			if off+5+n > len(data) {
				return fmt.Errorf("server write %d: a record crosses writes", w)
			}
			hdr, body := data[off:off+5], data[off+5:off+5+n]
			switch {
			case hdr[0] == 22 && aead == nil && len(body) > 4 && body[0] == 2:
				var err error
				if aead, iv, err = handshakeKeys(body[4:], secret); err != nil {
					return err
				}
			case hdr[0] == 23 && aead != nil:
				nonce := xorNonce(iv, seq)
				pt, err := aead.Open(nil, nonce, body, hdr)
				if err != nil {
					return fmt.Errorf("server record %d does not open with the key log's secret: %w", seq, err)
				}
				seq++
				inner := bytes.TrimRight(pt, "\x00")
				if len(inner) < 5 || inner[len(inner)-1] != 22 || inner[0] != 11 {
					break
				}
				cc, err := CompressedCertificate(alg, inner[4:len(inner)-1])
				if err != nil {
					return err
				}
				sealedLen := len(cc) + 1 + aead.Overhead()
				newHdr := []byte{23, 3, 3, byte(sealedLen >> 8), byte(sealedLen)}
				rec := aead.Seal(newHdr, nonce, append(cc, 22), newHdr)
				server[w] = append(append(bytes.Clone(data[:off]), rec...), data[off+5+n:]...)
				return nil
			}
			off += 5 + n
		}
	}
	return errors.New("no protected Certificate message from the server")
}

// handshakeKeys derives the server's handshake record key and IV (RFC 8446
// §7.3) for the cipher suite of a ServerHello body.
func handshakeKeys(sh, secret []byte) (cipher.AEAD, []byte, error) {
	if len(sh) < 2+32+1 || len(sh) < 2+32+1+int(sh[34])+2 {
		return nil, nil, errors.New("short ServerHello")
	}
	suite := binary.BigEndian.Uint16(sh[35+int(sh[34]):])
	var h func() hash.Hash
	keyLen := 16
	switch suite {
	case 0x1301:
		h = sha256.New
	case 0x1302:
		h, keyLen = sha512.New384, 32
	case 0x1303:
		h, keyLen = sha256.New, 32
	default:
		return nil, nil, fmt.Errorf("cipher suite %#04x is not a TLS 1.3 suite", suite)
	}
	key, iv := expandLabel(h, secret, "key", keyLen), expandLabel(h, secret, "iv", 12)
	if suite == 0x1303 {
		a, err := chacha20poly1305.New(key)
		return a, iv, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, nil, err
	}
	a, err := cipher.NewGCM(block)
	return a, iv, err
}

// expandLabel is HKDF-Expand-Label with an empty context (RFC 8446 §7.1).
func expandLabel(h func() hash.Hash, secret []byte, label string, n int) []byte {
	l := "tls13 " + label
	info := append([]byte{byte(n >> 8), byte(n), byte(len(l))}, l...)
	info = append(info, 0)
	out := make([]byte, n)
	if _, err := hkdf.Expand(h, secret, info).Read(out); err != nil {
		panic(err) // n is far below HKDF's limit
	}
	return out
}

func xorNonce(iv []byte, seq uint64) []byte {
	nonce := bytes.Clone(iv)
	for i := range 8 {
		nonce[len(nonce)-8+i] ^= byte(seq >> (56 - 8*i))
	}
	return nonce
}
