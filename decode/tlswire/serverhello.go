package tlswire

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
)

// helloRetryRequestRandom is the Random of a HelloRetryRequest:
// SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3).
var helloRetryRequestRandom = sha256.Sum256([]byte("HelloRetryRequest"))

// Downgrade sentinels in the last eight bytes of a ServerHello.random (RFC
// 8446 §4.1.3).
var (
	downgradeTLS12 = []byte("DOWNGRD\x01")
	downgradeTLS11 = []byte("DOWNGRD\x00")
)

// ServerHello is a decoded ServerHello or HelloRetryRequest message (RFC 8446
// §4.1.3, §4.1.4; RFC 5246 §7.4.1.3). Nothing in it aliases the parsed bytes.
// The sessions of a Conn with an Interner share equal ServerHellos, which
// then have a zero Random and no SessionID (see [Interner.ServerHello]); a
// shared one is read-only.
type ServerHello struct {
	// The fixed-size fields come first, packed: a ServerHello is kept for
	// the whole analysis, and this order keeps it at 144 bytes.
	LegacyVersion     uint16
	CipherSuite       uint16
	CompressionMethod uint8
	Random            [32]byte
	// SupportedVersion is the supported_versions selection (RFC 8446
	// §4.2.1), 0 if absent.
	SupportedVersion uint16
	// KeyShareGroup is the group of the server's key_share (RFC 8446 §4.2.8);
	// in a HelloRetryRequest it is the selected_group the client must use.
	// KeyShareLength (below) is the length of the server's key (0 in a
	// HelloRetryRequest).
	KeyShareGroup uint16
	// DowngradeSentinel is the version the server says it downgraded to with
	// the last eight bytes of Random (RFC 8446 §4.1.3): VersionTLS12 for
	// "DOWNGRD\x01", VersionTLS11 for "DOWNGRD\x00" (TLS 1.1 or below), else 0.
	DowngradeSentinel uint16
	// IsHelloRetryRequest is set when Random is SHA-256("HelloRetryRequest")
	// (RFC 8446 §4.1.3).
	IsHelloRetryRequest bool
	KeyShareLength      int32
	// Length is the length of the message body (at most 2^24-1).
	Length    int32
	SessionID []byte
	// Extensions lists the extension types in wire order.
	Extensions []uint16
	// ALPN is the protocol chosen with application_layer_protocol_negotiation
	// (RFC 7301 §3.1; TLS 1.3 servers send it in EncryptedExtensions), "" if none.
	ALPN string
	// Notes records legal-but-odd details (see ClientHello.Notes).
	Notes []string
}

// Version returns the negotiated version: supported_versions when present
// (RFC 8446 §4.2.1), else the legacy version.
func (sh *ServerHello) Version() uint16 {
	if sh.SupportedVersion != 0 {
		return sh.SupportedVersion
	}
	return sh.LegacyVersion
}

// HasExtension reports whether the hello carries an extension of type t.
func (sh *ServerHello) HasExtension(t uint16) bool { return slices.Contains(sh.Extensions, t) }

func (sh *ServerHello) note(format string, args ...any) {
	sh.Notes = addNote(sh.Notes, fmt.Sprintf(format, args...))
}

// ParseServerHello decodes the body of a ServerHello handshake message (RFC
// 8446 §4.1.3, RFC 5246 §7.4.1.3), without its four-byte handshake header,
// recognising a HelloRetryRequest by its Random and the shorter form of the
// TLS 1.3 drafts before 22. On error the returned
// ServerHello, when not nil, holds what was read before the damage.
func ParseServerHello(body []byte) (*ServerHello, error) {
	sh := &ServerHello{}
	err := parseServerHello(body, sh, nil)
	if sh.Length < 0 {
		return nil, err
	}
	return sh, err
}

// parseServerHello is ParseServerHello into sh, whose Length is -1 when
// ParseServerHello returns no ServerHello. With exts set (an empty list),
// the extension types are appended to it and SessionID aliases body (see
// Interner.ParseServerHello).
func parseServerHello(body []byte, sh *ServerHello, exts []uint16) error {
	s := cryptobyte.String(body)
	*sh = ServerHello{Length: -1}
	if !s.ReadUint16(&sh.LegacyVersion) {
		return perr(msgServerHello, "legacy_version", ErrTruncated)
	}
	if !s.CopyBytes(sh.Random[:]) {
		return perr(msgServerHello, "random", ErrTruncated)
	}
	sh.Length = int32(len(body))
	sh.IsHelloRetryRequest = sh.Random == helloRetryRequestRandom
	switch tail := sh.Random[24:]; {
	case bytes.Equal(tail, downgradeTLS12):
		sh.DowngradeSentinel = VersionTLS12
	case bytes.Equal(tail, downgradeTLS11):
		sh.DowngradeSentinel = VersionTLS11
	}
	// TLS 1.3 drafts before 22 (version 0x7f00+n, n < 22) had neither
	// session ID nor compression method (draft-ietf-tls-tls13-21 §4.1.3).
	draft := sh.LegacyVersion>>8 == 0x7f && sh.LegacyVersion&0xff < 22
	if !draft {
		var sid cryptobyte.String
		if !s.ReadUint8LengthPrefixed(&sid) {
			return perr(msgServerHello, "legacy_session_id", ErrTruncated)
		}
		if len(sid) > 32 {
			sh.note("legacy_session_id of %d bytes exceeds 32", len(sid))
		}
		if exts != nil {
			sh.SessionID = sid
		} else {
			sh.SessionID = slices.Clone([]byte(sid))
		}
	}
	if !s.ReadUint16(&sh.CipherSuite) {
		return perr(msgServerHello, "cipher_suite", ErrTruncated)
	}
	if !draft && !s.ReadUint8(&sh.CompressionMethod) {
		return perr(msgServerHello, "legacy_compression_method", ErrTruncated)
	}
	if s.Empty() {
		return nil
	}
	var list cryptobyte.String
	var first error
	rest := s // a failed read consumes the length
	if !s.ReadUint16LengthPrefixed(&list) {
		// Read the extensions that are there (see ParseClientHello).
		first = perr(msgServerHello, "extensions", ErrTruncated)
		if len(rest) < 2 {
			return first
		}
		list = rest[2:]
		s = nil
	}
	if !s.Empty() {
		sh.note("%d bytes of trailing data after extensions", len(s))
	}
	for !list.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !list.ReadUint16(&typ) {
			return orFirst(first, perr(msgServerHello, "extensions", ErrTruncated))
		}
		if !list.ReadUint16LengthPrefixed(&data) {
			return orFirst(first, perr(msgServerHello, extField(typ), ErrTruncated))
		}
		if sh.Extensions == nil {
			sh.Extensions = exts
		}
		sh.Extensions = append(sh.Extensions, typ)
		if err := sh.parseExtension(typ, data); err != nil && first == nil {
			first = err
		}
	}
	noteDuplicates(sh.Extensions, sh.note)
	return first
}

func (sh *ServerHello) parseExtension(typ uint16, data cryptobyte.String) error {
	trunc := func() error { return perr(msgServerHello, extField(typ), ErrTruncated) }
	switch typ {
	case ExtSupportedVersions:
		if !data.ReadUint16(&sh.SupportedVersion) {
			return trunc()
		}
	case ExtALPN:
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) {
			return trunc()
		}
		n := 0
		for !list.Empty() {
			var p cryptobyte.String
			if !list.ReadUint8LengthPrefixed(&p) {
				return trunc()
			}
			if n == 0 {
				sh.ALPN = string(p)
				if len(p) == 0 {
					sh.note("empty ALPN protocol name")
				}
			}
			n++
		}
		if n != 1 {
			sh.note("application_layer_protocol_negotiation selects %d protocols, not 1", n)
		}
	case ExtKeyShare:
		if !data.ReadUint16(&sh.KeyShareGroup) {
			return trunc()
		}
		if !sh.IsHelloRetryRequest {
			var key cryptobyte.String
			if !data.ReadUint16LengthPrefixed(&key) {
				return trunc()
			}
			sh.KeyShareLength = int32(len(key))
		}
	default:
		return nil
	}
	if !data.Empty() {
		sh.note("%d bytes of trailing data in %s", len(data), extField(typ))
	}
	return nil
}

// EncryptedExtensions is a decoded EncryptedExtensions message (RFC 8446
// §4.3.1): in TLS 1.3 it carries the server's ALPN choice, so it is readable
// only once the handshake is decrypted.
type EncryptedExtensions struct {
	// Extensions lists the extension types in wire order.
	Extensions []uint16
	// ALPN is the protocol the server chose (RFC 7301 §3.1), "" if none.
	ALPN string
	// EarlyData is set when the server accepted 0-RTT data (RFC 8446 §4.2.10).
	EarlyData bool
	// Notes records legal-but-odd details.
	Notes []string
}

// ParseEncryptedExtensions decodes the body of an EncryptedExtensions
// handshake message (RFC 8446 §4.3.1), without its handshake header.
func ParseEncryptedExtensions(body []byte) (*EncryptedExtensions, error) {
	s := cryptobyte.String(body)
	ee := &EncryptedExtensions{}
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) {
		return ee, perr(msgEncryptedExtensions, "extensions", ErrTruncated)
	}
	note := func(format string, args ...any) {
		ee.Notes = addNote(ee.Notes, fmt.Sprintf(format, args...))
	}
	if !s.Empty() {
		note("%d bytes of trailing data after extensions", len(s))
	}
	var first error
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) {
			return ee, orFirst(first, perr(msgEncryptedExtensions, "extensions", ErrTruncated))
		}
		if !exts.ReadUint16LengthPrefixed(&data) {
			return ee, orFirst(first, perr(msgEncryptedExtensions, extField(typ), ErrTruncated))
		}
		ee.Extensions = append(ee.Extensions, typ)
		switch typ {
		case ExtALPN:
			var list, p cryptobyte.String
			if !data.ReadUint16LengthPrefixed(&list) || !list.ReadUint8LengthPrefixed(&p) {
				if first == nil {
					first = perr(msgEncryptedExtensions, extField(typ), ErrTruncated)
				}
				continue
			}
			ee.ALPN = string(p)
			if !list.Empty() {
				note("application_layer_protocol_negotiation selects more than one protocol")
			}
		case ExtEarlyData:
			ee.EarlyData = true
		}
	}
	noteDuplicates(ee.Extensions, note)
	return ee, first
}
