package tlswire

import (
	"crypto/tls"
	"fmt"
	"strconv"
)

// Protocol versions (RFC 8446 §4.2.1, RFC 5246 Appendix E, RFC 6101).
const (
	VersionSSL20 uint16 = 0x0002 // the version an SSLv2 CLIENT-HELLO carries for SSL 2.0
	VersionSSL30 uint16 = 0x0300
	VersionTLS10 uint16 = 0x0301
	VersionTLS11 uint16 = 0x0302
	VersionTLS12 uint16 = 0x0303
	VersionTLS13 uint16 = 0x0304
)

// Record content types (RFC 8446 §5.1, RFC 6520 §3).
const (
	ContentChangeCipherSpec uint8 = 20
	ContentAlert            uint8 = 21
	ContentHandshake        uint8 = 22
	ContentApplicationData  uint8 = 23
	ContentHeartbeat        uint8 = 24
)

// Handshake message types (RFC 8446 §4, RFC 5246 §7.4, RFC 8879 §4).
const (
	TypeHelloRequest          uint8 = 0
	TypeClientHello           uint8 = 1
	TypeServerHello           uint8 = 2
	TypeNewSessionTicket      uint8 = 4
	TypeEndOfEarlyData        uint8 = 5
	TypeEncryptedExtensions   uint8 = 8
	TypeCertificate           uint8 = 11
	TypeServerKeyExchange     uint8 = 12
	TypeCertificateRequest    uint8 = 13
	TypeServerHelloDone       uint8 = 14
	TypeCertificateVerify     uint8 = 15
	TypeClientKeyExchange     uint8 = 16
	TypeFinished              uint8 = 20
	TypeCertificateStatus     uint8 = 22
	TypeKeyUpdate             uint8 = 24
	TypeCompressedCertificate uint8 = 25
	TypeMessageHash           uint8 = 254
)

// Extension types used by the parsers (IANA TLS ExtensionType Values).
const (
	ExtServerName              uint16 = 0x0000
	ExtStatusRequest           uint16 = 0x0005
	ExtSupportedGroups         uint16 = 0x000a
	ExtECPointFormats          uint16 = 0x000b
	ExtSignatureAlgorithms     uint16 = 0x000d
	ExtALPN                    uint16 = 0x0010
	ExtSCT                     uint16 = 0x0012
	ExtPadding                 uint16 = 0x0015
	ExtExtendedMasterSecret    uint16 = 0x0017
	ExtCompressCertificate     uint16 = 0x001b
	ExtSessionTicket           uint16 = 0x0023
	ExtPreSharedKey            uint16 = 0x0029
	ExtEarlyData               uint16 = 0x002a
	ExtSupportedVersions       uint16 = 0x002b
	ExtCookie                  uint16 = 0x002c
	ExtPSKKeyExchangeModes     uint16 = 0x002d
	ExtSignatureAlgorithmsCert uint16 = 0x0032
	ExtKeyShare                uint16 = 0x0033
	ExtQUICTransportParameters uint16 = 0x0039
	ExtEncryptedClientHello    uint16 = 0xfe0d
	ExtRenegotiationInfo       uint16 = 0xff01
)

// IsGREASE reports whether v is one of the sixteen reserved GREASE values
// 0x0a0a, 0x1a1a … 0xfafa (RFC 8701 §2) used for cipher suites, extensions,
// named groups, signature algorithms and versions.
func IsGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// isTLS13 reports whether v is TLS 1.3 or one of its drafts (0x7fxx, RFC 8446
// §4.2.1 drafts; 0xfbxx, the experimental versions of Facebook's fizz), for
// which everything after the ServerHello is encrypted.
func isTLS13(v uint16) bool {
	return v == VersionTLS13 || v>>8 == 0x7f || v>>8 == 0xfb
}

// VersionName returns the name used in reports for a protocol version:
// "TLS 1.0" … "TLS 1.3", "SSL 3.0" for 0x0300, "TLS 1.3 draft 18" for 0x7f12
// (RFC 8446 §4.2.1 draft versions), "GREASE" for a GREASE value (RFC 8701),
// else "0x%04x".
func VersionName(v uint16) string {
	switch v {
	case VersionSSL20:
		return "SSL 2.0"
	case VersionSSL30:
		return "SSL 3.0"
	case VersionTLS10:
		return "TLS 1.0"
	case VersionTLS11:
		return "TLS 1.1"
	case VersionTLS12:
		return "TLS 1.2"
	case VersionTLS13:
		return "TLS 1.3"
	case 0xfeff:
		return "DTLS 1.0"
	case 0xfefd:
		return "DTLS 1.2"
	case 0xfefc:
		return "DTLS 1.3"
	}
	if IsGREASE(v) {
		return "GREASE"
	}
	if v>>8 == 0x7f {
		return "TLS 1.3 draft " + strconv.Itoa(int(v&0xff))
	}
	return hex16(v)
}

func hex16(v uint16) string { return fmt.Sprintf("0x%04x", v) }

// goCipherSuites holds the names crypto/tls knows (tls.CipherSuiteName),
// preferred over the registry table.
var goCipherSuites = func() map[uint16]string {
	m := make(map[uint16]string)
	for _, cs := range tls.CipherSuites() {
		m[cs.ID] = cs.Name
	}
	for _, cs := range tls.InsecureCipherSuites() {
		m[cs.ID] = cs.Name
	}
	return m
}()

// CipherSuiteName returns the IANA name of a cipher suite (RFC 8446 §B.4,
// RFC 5246 Appendix A.5 and the IANA TLS Cipher Suites registry): the name
// crypto/tls uses when it knows the suite, else the registry's, "GREASE" for a
// GREASE value, else "0x%04x".
func CipherSuiteName(id uint16) string {
	if n, ok := goCipherSuites[id]; ok {
		return n
	}
	if n, ok := ianaCipherSuites[id]; ok {
		return n
	}
	if IsGREASE(id) {
		return "GREASE"
	}
	return hex16(id)
}

// Alert levels (RFC 5246 §7.2).
const (
	AlertLevelWarning uint8 = 1
	AlertLevelFatal   uint8 = 2
)

// AlertLevelName returns "warning" or "fatal" (RFC 5246 §7.2), "unknown" for
// the zero level of an alert that could not be read, else the number.
func AlertLevelName(level uint8) string {
	switch level {
	case 0:
		return "unknown"
	case AlertLevelWarning:
		return "warning"
	case AlertLevelFatal:
		return "fatal"
	}
	return strconv.Itoa(int(level))
}

// AlertName returns the snake_case name of an alert description (RFC 8446 §6,
// RFC 5246 §7.2, RFC 6066 §9, RFC 7301 §3.2, RFC 8701, the IANA TLS Alerts
// registry): "bad_certificate", "unknown_ca", "handshake_failure" …, else
// "0x%02x".
func AlertName(desc uint8) string {
	if n, ok := alertNames[desc]; ok {
		return n
	}
	return fmt.Sprintf("0x%02x", desc)
}

// GroupName returns the IANA name of a named group (RFC 8446 §4.2.7, RFC 8422
// §5.1.1, RFC 7919, draft-ietf-tls-ecdhe-mlkem, draft-tls-westerbaan-xyber768d00):
// "x25519", "secp256r1", "X25519MLKEM768" …, "GREASE", else "0x%04x".
func GroupName(g uint16) string {
	if n, ok := groupNames[g]; ok {
		return n
	}
	if IsGREASE(g) {
		return "GREASE"
	}
	return hex16(g)
}

// IsPostQuantumGroup reports whether g is a post-quantum or hybrid key
// exchange (ML-KEM, the hybrid X25519MLKEM768 family of
// draft-ietf-tls-ecdhe-mlkem, and the earlier Kyber drafts). A key share of
// such a group makes the ClientHello larger than one TCP segment.
func IsPostQuantumGroup(g uint16) bool {
	switch g {
	case 0x0200, 0x0201, 0x0202, 0x11eb, 0x11ec, 0x11ed, 0x6399, 0x639a, 0xfe30, 0xfe31, 0xfe32:
		return true
	}
	return false
}

// keyShareLength gives the length of a well-formed key_exchange value for
// the groups whose encoding has a fixed size in the ClientHello (RFC 8446
// §4.2.8.2, RFC 7748, FIPS 203 encapsulation keys).
var keyShareLength = map[uint16]int{
	23: 65, 24: 97, 25: 133, 29: 32, 30: 56,
	0x0200: 800, 0x0201: 1184, 0x0202: 1568,
	0x11eb: 65 + 1184, 0x11ec: 1184 + 32, 0x11ed: 97 + 1568,
	0x6399: 32 + 1184, 0x639a: 65 + 1184,
}

// ExtensionName returns the IANA name of an extension type (IANA TLS
// ExtensionType Values registry, RFC 8446 §4.2): "server_name",
// "application_layer_protocol_negotiation", "key_share", "encrypted_client_hello"
// …, "GREASE", else "0x%04x".
func ExtensionName(t uint16) string {
	if n, ok := extensionNames[t]; ok {
		return n
	}
	if IsGREASE(t) {
		return "GREASE"
	}
	return hex16(t)
}

// SignatureSchemeName returns the name of a signature scheme (RFC 8446
// §4.2.3, IANA TLS SignatureScheme registry): "ecdsa_secp256r1_sha256",
// "rsa_pss_rsae_sha256", "ed25519" …; a TLS 1.2 hash/signature pair the
// registry does not name (RFC 5246 §7.4.1.4.1) as "<signature>_<hash>"
// ("dsa_sha256"); "GREASE"; else "0x%04x".
func SignatureSchemeName(s uint16) string {
	if n, ok := signatureSchemeNames[s]; ok {
		return n
	}
	if IsGREASE(s) {
		return "GREASE"
	}
	if h, g := s>>8, s&0xff; h >= 1 && h <= 6 && g >= 1 && g <= 3 {
		return legacySigNames[g] + "_" + legacyHashNames[h]
	}
	return hex16(s)
}

// The TLS 1.2 SignatureAndHashAlgorithm components (RFC 5246 §7.4.1.4.1).
var (
	legacyHashNames = [...]string{1: "md5", 2: "sha1", 3: "sha224", 4: "sha256", 5: "sha384", 6: "sha512"}
	legacySigNames  = [...]string{1: "rsa", 2: "dsa", 3: "ecdsa"}
)

// HandshakeTypeName returns the name of a handshake message type (RFC 8446
// §4, IANA TLS HandshakeType registry): "client_hello", "certificate" …, else
// "0x%02x".
func HandshakeTypeName(t uint8) string {
	if n, ok := handshakeTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("0x%02x", t)
}

// ContentTypeName returns the name of a record content type (RFC 8446 §5.1,
// RFC 6520): "change_cipher_spec", "alert", "handshake", "application_data",
// "heartbeat", else "0x%02x".
func ContentTypeName(t uint8) string {
	switch t {
	case ContentChangeCipherSpec:
		return "change_cipher_spec"
	case ContentAlert:
		return "alert"
	case ContentHandshake:
		return "handshake"
	case ContentApplicationData:
		return "application_data"
	case ContentHeartbeat:
		return "heartbeat"
	}
	return fmt.Sprintf("0x%02x", t)
}

// extField names an extension in errors and notes: "extension 0x0010
// (application_layer_protocol_negotiation)".
func extField(t uint16) string {
	return fmt.Sprintf("extension 0x%04x (%s)", t, ExtensionName(t))
}
