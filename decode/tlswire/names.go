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

var alertNames = map[uint8]string{
	0:   "close_notify",
	10:  "unexpected_message",
	20:  "bad_record_mac",
	21:  "decryption_failed",
	22:  "record_overflow",
	30:  "decompression_failure",
	40:  "handshake_failure",
	41:  "no_certificate",
	42:  "bad_certificate",
	43:  "unsupported_certificate",
	44:  "certificate_revoked",
	45:  "certificate_expired",
	46:  "certificate_unknown",
	47:  "illegal_parameter",
	48:  "unknown_ca",
	49:  "access_denied",
	50:  "decode_error",
	51:  "decrypt_error",
	52:  "too_many_cids_requested",
	60:  "export_restriction",
	70:  "protocol_version",
	71:  "insufficient_security",
	80:  "internal_error",
	86:  "inappropriate_fallback",
	90:  "user_canceled",
	100: "no_renegotiation",
	109: "missing_extension",
	110: "unsupported_extension",
	111: "certificate_unobtainable",
	112: "unrecognized_name",
	113: "bad_certificate_status_response",
	114: "bad_certificate_hash_value",
	115: "unknown_psk_identity",
	116: "certificate_required",
	117: "general_error",
	120: "no_application_protocol",
	121: "ech_required",
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

var groupNames = map[uint16]string{
	1: "sect163k1", 2: "sect163r1", 3: "sect163r2", 4: "sect193r1", 5: "sect193r2",
	6: "sect233k1", 7: "sect233r1", 8: "sect239k1", 9: "sect283k1", 10: "sect283r1",
	11: "sect409k1", 12: "sect409r1", 13: "sect571k1", 14: "sect571r1", 15: "secp160k1",
	16: "secp160r1", 17: "secp160r2", 18: "secp192k1", 19: "secp192r1", 20: "secp224k1",
	21: "secp224r1", 22: "secp256k1", 23: "secp256r1", 24: "secp384r1", 25: "secp521r1",
	26: "brainpoolP256r1", 27: "brainpoolP384r1", 28: "brainpoolP512r1",
	29: "x25519", 30: "x448",
	31: "brainpoolP256r1tls13", 32: "brainpoolP384r1tls13", 33: "brainpoolP512r1tls13",
	34: "GC256A", 35: "GC256B", 36: "GC256C", 37: "GC256D", 38: "GC512A", 39: "GC512B", 40: "GC512C",
	41:  "curveSM2",
	256: "ffdhe2048", 257: "ffdhe3072", 258: "ffdhe4096", 259: "ffdhe6144", 260: "ffdhe8192",
	0x0200: "MLKEM512", 0x0201: "MLKEM768", 0x0202: "MLKEM1024",
	0x11eb: "SecP256r1MLKEM768", 0x11ec: "X25519MLKEM768", 0x11ed: "SecP384r1MLKEM1024",
	0x6399: "X25519Kyber768Draft00", 0x639a: "SecP256r1Kyber768Draft00",
	// Pre-standard code points of Cloudflare's and Google's experiments.
	0xfe30: "X25519Kyber512Draft00", 0xfe31: "X25519Kyber768Draft00Old", 0xfe32: "P256Kyber768Draft00",
	0xff01: "arbitrary_explicit_prime_curves", 0xff02: "arbitrary_explicit_char2_curves",
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

var extensionNames = map[uint16]string{
	0: "server_name", 1: "max_fragment_length", 2: "client_certificate_url", 3: "trusted_ca_keys",
	4: "truncated_hmac", 5: "status_request", 6: "user_mapping", 7: "client_authz",
	8: "server_authz", 9: "cert_type", 10: "supported_groups", 11: "ec_point_formats",
	12: "srp", 13: "signature_algorithms", 14: "use_srtp", 15: "heartbeat",
	16: "application_layer_protocol_negotiation", 17: "status_request_v2",
	18: "signed_certificate_timestamp", 19: "client_certificate_type", 20: "server_certificate_type",
	21: "padding", 22: "encrypt_then_mac", 23: "extended_master_secret", 24: "token_binding",
	25: "cached_info", 26: "tls_lts", 27: "compress_certificate", 28: "record_size_limit",
	29: "pwd_protect", 30: "pwd_clear", 31: "password_salt", 32: "ticket_pinning",
	33: "tls_cert_with_extern_psk", 34: "delegated_credential", 35: "session_ticket",
	36: "TLMSP", 37: "TLMSP_proxying", 38: "TLMSP_delegate", 39: "supported_ekt_ciphers",
	41: "pre_shared_key", 42: "early_data", 43: "supported_versions", 44: "cookie",
	45: "psk_key_exchange_modes", 47: "certificate_authorities", 48: "oid_filters",
	49: "post_handshake_auth", 50: "signature_algorithms_cert", 51: "key_share",
	52: "transparency_info", 53: "connection_id_deprecated", 54: "connection_id",
	55: "external_id_hash", 56: "external_session_id", 57: "quic_transport_parameters",
	58: "ticket_request", 59: "dnssec_chain", 60: "sequence_number_encryption_algorithms",
	61:     "rrc",
	0x3374: "next_protocol_negotiation", 0x4469: "application_settings_old",
	0x44cd: "application_settings", 0x754f: "channel_id_old", 0x7550: "channel_id",
	0xfd00: "ech_outer_extensions", 0xfe0d: "encrypted_client_hello",
	0xff01: "renegotiation_info", 0xffa5: "quic_transport_parameters_draft",
	0xffce: "encrypted_server_name",
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

var signatureSchemeNames = map[uint16]string{
	0x0201: "rsa_pkcs1_sha1", 0x0203: "ecdsa_sha1",
	0x0401: "rsa_pkcs1_sha256", 0x0403: "ecdsa_secp256r1_sha256", 0x0420: "rsa_pkcs1_sha256_legacy",
	0x0501: "rsa_pkcs1_sha384", 0x0503: "ecdsa_secp384r1_sha384", 0x0520: "rsa_pkcs1_sha384_legacy",
	0x0601: "rsa_pkcs1_sha512", 0x0603: "ecdsa_secp521r1_sha512", 0x0620: "rsa_pkcs1_sha512_legacy",
	0x0704: "eccsi_sha256", 0x0705: "iso_ibs1", 0x0706: "iso_ibs2", 0x0707: "iso_chinese_ibs",
	0x0708: "sm2sig_sm3", 0x0709: "gostr34102012_256a", 0x070a: "gostr34102012_256b",
	0x070b: "gostr34102012_256c", 0x070c: "gostr34102012_256d", 0x070d: "gostr34102012_512a",
	0x070e: "gostr34102012_512b", 0x070f: "gostr34102012_512c",
	0x0804: "rsa_pss_rsae_sha256", 0x0805: "rsa_pss_rsae_sha384", 0x0806: "rsa_pss_rsae_sha512",
	0x0807: "ed25519", 0x0808: "ed448",
	0x0809: "rsa_pss_pss_sha256", 0x080a: "rsa_pss_pss_sha384", 0x080b: "rsa_pss_pss_sha512",
	0x081a: "ecdsa_brainpoolP256r1tls13_sha256", 0x081b: "ecdsa_brainpoolP384r1tls13_sha384",
	0x081c: "ecdsa_brainpoolP512r1tls13_sha512",
	0x0904: "mldsa44", 0x0905: "mldsa65", 0x0906: "mldsa87",
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

var handshakeTypeNames = map[uint8]string{
	0: "hello_request", 1: "client_hello", 2: "server_hello", 3: "hello_verify_request",
	4: "new_session_ticket", 5: "end_of_early_data", 6: "hello_retry_request",
	8: "encrypted_extensions", 9: "request_connection_id", 10: "new_connection_id",
	11: "certificate", 12: "server_key_exchange", 13: "certificate_request",
	14: "server_hello_done", 15: "certificate_verify", 16: "client_key_exchange",
	17: "client_certificate_request", 20: "finished", 21: "certificate_url",
	22: "certificate_status", 23: "supplemental_data", 24: "key_update",
	25: "compressed_certificate", 26: "ekt_key", 254: "message_hash",
}

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
