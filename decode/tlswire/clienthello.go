package tlswire

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"golang.org/x/crypto/cryptobyte"
)

// maxALPN caps the ALPN protocol names (RFC 7301 §3.1) kept from one
// ClientHello: real clients offer two or three.
const maxALPN = 32

// ClientHello is a decoded ClientHello message (RFC 8446 §4.1.2, RFC 5246
// §7.4.1.2), or the SSLv2-compatible CLIENT-HELLO of RFC 5246 Appendix E.2
// (then SSLv2 is set). Lists keep the wire order and include GREASE values
// (RFC 8701); nothing in it aliases the parsed bytes. The
// legacy_session_id is read (and noted when oversized) but not kept:
// nothing reads it, a TLS 1.3 client fills it with 32 random bytes per
// connection, and every session keeps its hello until the analysis ends.
type ClientHello struct {
	// LegacyVersion is client_version (legacy_version in TLS 1.3).
	LegacyVersion uint16
	Random        [32]byte
	// Length is the length of the message body (at most 2^24-1; an int32
	// that fills the padding after Random, because every session keeps a
	// hello).
	Length int32
	// ServerName is the first host_name of server_name (RFC 6066 §3), "" if none.
	ServerName string
	// Notes records legal-but-odd and malformed-but-skippable details:
	// duplicate extensions, trailing bytes, an SNI with several names, an
	// empty ALPN entry, a key share of the wrong size …
	Notes []string
	// HelloProfile holds what the client offers. It is never nil; hellos
	// that offer the same may share it (see [Interner]), so it is read-only
	// once parsing returns.
	*HelloProfile
}

// HelloProfile is what a ClientHello offers beside its random, session ID
// and server name: the same for every connection a client makes with one
// configuration, which is why the hellos of a capture can share it.
type HelloProfile struct {
	CipherSuites []uint16
	// CompressionMethods are the legacy_compression_methods bytes.
	CompressionMethods []uint8
	// Extensions lists every extension type in wire order, duplicates
	// included: the raw material of JA4.
	Extensions []uint16

	// ALPN lists the protocol names of application_layer_protocol_negotiation
	// (RFC 7301 §3.1), byte strings that need not be printable.
	ALPN []string
	// ALPNOmitted counts the protocol names beyond the first maxALPN, which
	// are not kept (a hostile hello can list 20,000).
	ALPNOmitted int
	// SupportedVersions is supported_versions (RFC 8446 §4.2.1).
	SupportedVersions []uint16
	// SupportedGroups is supported_groups (RFC 8446 §4.2.7).
	SupportedGroups []uint16
	// KeyShares lists the key_share entries (RFC 8446 §4.2.8) with the
	// length of each key; KeyShareGroups holds just their groups.
	KeyShares      []KeyShare
	KeyShareGroups []uint16
	// SignatureAlgorithms is signature_algorithms (RFC 8446 §4.2.3), in order;
	// SignatureAlgorithmsCert is signature_algorithms_cert.
	SignatureAlgorithms     []uint16
	SignatureAlgorithmsCert []uint16
	// ECPointFormats is ec_point_formats (RFC 8422 §5.1.2).
	ECPointFormats []uint8
	// PSKModes is psk_key_exchange_modes (RFC 8446 §4.2.9).
	PSKModes []uint8
	// EarlyData is set when early_data is offered (RFC 8446 §4.2.10).
	EarlyData bool
	// PreSharedKey is set when pre_shared_key is offered (RFC 8446 §4.2.11).
	PreSharedKey bool
	// CertCompression lists the algorithms of compress_certificate (RFC
	// 8879 §3): the client accepts a CompressedCertificate.
	CertCompression []uint16
	// HasECH is set when encrypted_client_hello (0xfe0d) of the outer type is
	// present (draft-ietf-tls-esni §5): the real server name is hidden, or the
	// client sent a GREASE ECH, which looks the same.
	HasECH bool

	// SSLv2 marks a hello received in an SSLv2-format record; SSLv2CipherSpecs
	// then holds the three-byte specs that are not TLS cipher suites (first
	// byte non-zero), and Random holds the challenge, right-aligned.
	SSLv2            bool
	SSLv2CipherSpecs []uint32
}

// KeyShare is one KeyShareEntry of a ClientHello (RFC 8446 §4.2.8): its
// group and the length of its key_exchange value.
type KeyShare struct {
	Group  uint16
	Length int
}

// HasExtension reports whether the hello carries an extension of type t.
func (ch *ClientHello) HasExtension(t uint16) bool { return slices.Contains(ch.Extensions, t) }

// OffersTLS13 reports whether supported_versions offers TLS 1.3 or one of
// its drafts (RFC 8446 §4.2.1).
func (ch *ClientHello) OffersTLS13() bool {
	return slices.ContainsFunc(ch.SupportedVersions, isTLS13)
}

// MaxVersion returns the highest version the client offers: the best
// non-GREASE entry of supported_versions (RFC 8446 §4.2.1, drafts ranked
// between TLS 1.2 and TLS 1.3), else the legacy version.
func (ch *ClientHello) MaxVersion() uint16 {
	best := uint16(0)
	for _, v := range ch.SupportedVersions {
		if !IsGREASE(v) && versionRank(v) > versionRank(best) {
			best = v
		}
	}
	if best == 0 {
		return ch.LegacyVersion
	}
	return best
}

func versionRank(v uint16) int {
	switch {
	case v == 0:
		return 0
	case v == VersionTLS13:
		return 3 << 16
	case isTLS13(v):
		return 2<<16 | int(v&0xff)
	case v>>8 == 3:
		return 1<<16 | int(v)
	}
	return 1
}

// OffersPostQuantum reports whether one of the key shares uses a
// post-quantum or hybrid group (see [IsPostQuantumGroup]).
func (ch *ClientHello) OffersPostQuantum() bool {
	return slices.ContainsFunc(ch.KeyShareGroups, IsPostQuantumGroup)
}

func (ch *ClientHello) note(format string, args ...any) {
	ch.Notes = addNote(ch.Notes, fmt.Sprintf(format, args...))
}

// ParseClientHello decodes the body of a ClientHello handshake message (RFC
// 8446 §4.1.2, RFC 5246 §7.4.1.2), without its four-byte handshake header.
//
// On error the returned ClientHello, when not nil, holds what was read before
// the damage: a hello cut short by the capture still names its server. A
// malformed extension body yields an error too, but the other extensions
// are still decoded (their framing is intact); the error is the first one.
func ParseClientHello(body []byte) (*ClientHello, error) { return parseClientHello(body, nil) }

// parseClientHello is ParseClientHello with the lists of the profile built
// in sc's arrays when sc is set (see helloScratch).
func parseClientHello(body []byte, sc *helloScratch) (*ClientHello, error) {
	s := cryptobyte.String(body)
	ch := &ClientHello{Length: int32(len(body))}
	if sc != nil {
		sc.prof = HelloProfile{}
		ch.HelloProfile = &sc.prof
	} else {
		ch.HelloProfile = &HelloProfile{}
	}
	if !s.ReadUint16(&ch.LegacyVersion) {
		return nil, perr(msgClientHello, "legacy_version", ErrTruncated)
	}
	if !s.CopyBytes(ch.Random[:]) {
		return nil, perr(msgClientHello, "random", ErrTruncated)
	}
	var sid cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&sid) {
		return ch, perr(msgClientHello, "legacy_session_id", ErrTruncated)
	}
	if len(sid) > 32 {
		ch.note("legacy_session_id of %d bytes exceeds 32", len(sid))
	}
	var err error
	if ch.CipherSuites, err = readUint16List(&s, 2, sc.u16(scSuites)); err != nil {
		return ch, listErr(msgClientHello, "cipher_suites", err)
	}
	if len(ch.CipherSuites) == 0 {
		ch.note("empty cipher_suites")
	}
	var comp cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&comp) {
		return ch, perr(msgClientHello, "legacy_compression_methods", ErrTruncated)
	}
	ch.CompressionMethods = sc.clone8(scCompression, comp)
	if len(comp) == 0 {
		ch.note("empty legacy_compression_methods")
	}
	if s.Empty() {
		return ch, nil // no extensions: legal before TLS 1.3
	}
	var exts cryptobyte.String
	var first error
	rest := s // a failed read consumes the length
	if !s.ReadUint16LengthPrefixed(&exts) {
		// The block's length runs past the message: read the extensions
		// that are there, as Wireshark does, so that a damaged hello still
		// names its server.
		first = perr(msgClientHello, "extensions", ErrTruncated)
		if len(rest) < 2 {
			return ch, first
		}
		exts = rest[2:]
		s = nil
	}
	if !s.Empty() {
		ch.note("%d bytes of trailing data after extensions", len(s))
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) {
			return ch, orFirst(first, perr(msgClientHello, "extensions", ErrTruncated))
		}
		if !exts.ReadUint16LengthPrefixed(&data) {
			return ch, orFirst(first, perr(msgClientHello, extField(typ), ErrTruncated))
		}
		if n := len(ch.Extensions); n > 0 && ch.Extensions[n-1] == ExtPreSharedKey {
			ch.note("pre_shared_key is not the last extension")
		}
		if ch.Extensions == nil {
			ch.Extensions = sc.u16(scExtensions)
		}
		ch.Extensions = append(ch.Extensions, typ)
		if err := ch.parseExtension(typ, data, sc); err != nil && first == nil {
			first = err
		}
	}
	noteDuplicates(ch.Extensions, ch.note)
	return ch, first
}

func orFirst(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// noteDuplicates records each extension type that occurs more than once.
func noteDuplicates(types []uint16, note func(string, ...any)) {
	if len(types) < 2 {
		return
	}
	sorted := slices.Clone(types)
	slices.Sort(sorted)
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] && (i == 1 || sorted[i-2] != sorted[i]) {
			note("duplicate %s", extField(sorted[i]))
		}
	}
}

// readUint16List reads a vector of 16-bit values whose length prefix has
// prefix bytes (1 or 2), into dst when it is not nil.
func readUint16List(s *cryptobyte.String, prefix int, dst []uint16) ([]uint16, error) {
	var v cryptobyte.String
	ok := false
	if prefix == 1 {
		ok = s.ReadUint8LengthPrefixed(&v)
	} else {
		ok = s.ReadUint16LengthPrefixed(&v)
	}
	if !ok {
		return nil, ErrTruncated
	}
	if len(v)%2 != 0 {
		return nil, fmt.Errorf("%w: odd length %d", ErrMalformed, len(v))
	}
	list := dst[:0]
	if list == nil || cap(list) < len(v)/2 {
		list = make([]uint16, 0, len(v)/2) // bounded by the bytes present
	}
	for !v.Empty() {
		var x uint16
		v.ReadUint16(&x)
		list = append(list, x)
	}
	return list, nil
}

// listErr turns an error of readUint16List into a ParseError.
func listErr(msg, field string, err error) error {
	if err == ErrTruncated {
		return perr(msg, field, ErrTruncated)
	}
	return perrd(msg, field, ErrMalformed, strings.TrimPrefix(err.Error(), ErrMalformed.Error()+": "))
}

func (ch *ClientHello) parseExtension(typ uint16, data cryptobyte.String, sc *helloScratch) error {
	trunc := func() error { return perr(msgClientHello, extField(typ), ErrTruncated) }
	var err error
	switch typ {
	case ExtServerName:
		if data.Empty() {
			ch.note("empty server_name extension")
			return nil
		}
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) {
			return trunc()
		}
		if list.Empty() {
			ch.note("server_name with an empty name list")
		}
		var names []string // kept only when there are several
		n := 0
		for !list.Empty() {
			var nt uint8
			var name cryptobyte.String
			if !list.ReadUint8(&nt) || !list.ReadUint16LengthPrefixed(&name) {
				return trunc()
			}
			if nt != 0 {
				ch.note("server_name entry of unknown name_type %d", nt)
				continue
			}
			n++
			if n == 1 {
				ch.ServerName = string(name)
				ch.checkHostName(ch.ServerName)
				continue
			}
			if len(names) == 0 {
				names = append(names, ch.ServerName)
			}
			if len(names) < 8 {
				names = append(names, string(name))
			}
		}
		if len(names) > 1 {
			ch.note("server_name lists %d host names: %q", len(names), names)
		}
	case ExtALPN:
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) {
			return trunc()
		}
		if list.Empty() {
			ch.note("application_layer_protocol_negotiation with an empty protocol list")
		}
		empty := false
		for !list.Empty() {
			var p cryptobyte.String
			if !list.ReadUint8LengthPrefixed(&p) {
				return trunc()
			}
			if len(p) == 0 && !empty {
				empty = true
				ch.note("empty ALPN protocol name")
			}
			if len(ch.ALPN) == maxALPN {
				ch.ALPNOmitted++
				continue
			}
			if ch.ALPN == nil {
				ch.ALPN = sc.names()
			}
			ch.ALPN = append(ch.ALPN, sc.name(len(ch.ALPN), p))
		}
		if ch.ALPNOmitted > 0 {
			ch.note("application_layer_protocol_negotiation lists %d protocol names: the first %d are kept", maxALPN+ch.ALPNOmitted, maxALPN)
		}
	case ExtSupportedVersions:
		if ch.SupportedVersions, err = readUint16List(&data, 1, sc.u16(scVersions)); err != nil {
			return listErr(msgClientHello, extField(typ), err)
		}
		if len(ch.SupportedVersions) == 0 {
			ch.note("empty supported_versions")
		}
	case ExtSupportedGroups:
		if ch.SupportedGroups, err = readUint16List(&data, 2, sc.u16(scGroups)); err != nil {
			return listErr(msgClientHello, extField(typ), err)
		}
	case ExtSignatureAlgorithms:
		if ch.SignatureAlgorithms, err = readUint16List(&data, 2, sc.u16(scSigs)); err != nil {
			return listErr(msgClientHello, extField(typ), err)
		}
	case ExtSignatureAlgorithmsCert:
		if ch.SignatureAlgorithmsCert, err = readUint16List(&data, 2, sc.u16(scSigsCert)); err != nil {
			return listErr(msgClientHello, extField(typ), err)
		}
	case ExtKeyShare:
		var list cryptobyte.String
		if !data.ReadUint16LengthPrefixed(&list) {
			return trunc()
		}
		for !list.Empty() {
			var g uint16
			var key cryptobyte.String
			if !list.ReadUint16(&g) || !list.ReadUint16LengthPrefixed(&key) {
				return trunc()
			}
			if slices.Contains(ch.KeyShareGroups, g) {
				ch.note("key_share lists group %s twice", GroupName(g))
			}
			if want, ok := keyShareLength[g]; ok && want != len(key) {
				ch.note("key_share for %s has %d bytes, expected %d", GroupName(g), len(key), want)
			}
			if ch.KeyShares == nil {
				ch.KeyShares, ch.KeyShareGroups = sc.keyShares(), sc.u16(scKeyShareGroups)
			}
			ch.KeyShares = append(ch.KeyShares, KeyShare{Group: g, Length: len(key)})
			ch.KeyShareGroups = append(ch.KeyShareGroups, g)
		}
	case ExtECPointFormats:
		var v cryptobyte.String
		if !data.ReadUint8LengthPrefixed(&v) {
			return trunc()
		}
		ch.ECPointFormats = sc.clone8(scECPointFormats, v)
	case ExtPSKKeyExchangeModes:
		var v cryptobyte.String
		if !data.ReadUint8LengthPrefixed(&v) {
			return trunc()
		}
		ch.PSKModes = sc.clone8(scPSKModes, v)
	case ExtCompressCertificate:
		var v cryptobyte.String
		if !data.ReadUint8LengthPrefixed(&v) {
			return trunc()
		}
		if len(v) == 0 || len(v)%2 != 0 {
			// algorithms<2..2^8-2>: at least one two-byte value.
			return perrd(msgClientHello, extField(typ), ErrMalformed, fmt.Sprintf("algorithm list of %d bytes", len(v)))
		}
		if ch.CertCompression == nil {
			ch.CertCompression = sc.u16(scCertCompression)
		}
		for !v.Empty() {
			var a uint16
			v.ReadUint16(&a)
			ch.CertCompression = append(ch.CertCompression, a)
		}
	case ExtEarlyData:
		ch.EarlyData = true
		return nil // empty in a ClientHello; any content is only noted below
	case ExtPreSharedKey:
		ch.PreSharedKey = true
		return nil // identities and binders are opaque here
	case ExtEncryptedClientHello:
		var kind uint8
		if !data.ReadUint8(&kind) {
			return trunc()
		}
		if kind == 0 {
			ch.HasECH = true
		} else {
			ch.note("encrypted_client_hello of type %d (inner) in a ClientHello on the wire", kind)
		}
		return nil // the rest is opaque
	default:
		return nil
	}
	if !data.Empty() {
		ch.note("%d bytes of trailing data in %s", len(data), extField(typ))
	}
	return nil
}

// checkHostName notes a server name that RFC 6066 §3 does not allow.
func (ch *ClientHello) checkHostName(name string) {
	switch {
	case name == "":
		ch.note("empty server_name host name")
	case strings.HasSuffix(name, "."):
		ch.note("server_name %q ends with a dot", name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f {
			ch.note("server_name %q contains byte 0x%02x", name, c)
			break
		}
	}
	// Without a colon only digits and dots can parse (netip.ParseAddr):
	// a host name is ruled out before ParseAddr allocates its error.
	if !strings.Contains(name, ":") && strings.Trim(name, "0123456789.") != "" {
		return
	}
	if _, err := netip.ParseAddr(name); err == nil {
		ch.note("server_name %q is an IP literal", name)
	}
}

// ParseSSLv2ClientHello decodes an SSLv2-format CLIENT-HELLO (RFC 5246
// Appendix E.2, RFC 6101 Appendix E): msg is the record body after the
// two-byte SSLv2 record header, beginning with msg_type 1. Such hellos come
// from very old clients, or from tools that want to reach SSLv2 servers;
// the result has SSLv2 set, CipherSuites holds the specs that are TLS cipher
// suites (first byte zero), the challenge is right-aligned in Random, and
// the note "SSLv2-compatible ClientHello" is always recorded.
func ParseSSLv2ClientHello(msg []byte) (*ClientHello, error) {
	s := cryptobyte.String(msg)
	ch := &ClientHello{Length: int32(len(msg)), HelloProfile: &HelloProfile{SSLv2: true}}
	ch.note("SSLv2-compatible ClientHello (RFC 5246 Appendix E.2)")
	var typ uint8
	if !s.ReadUint8(&typ) {
		return nil, perr(msgSSLv2ClientHello, "msg_type", ErrTruncated)
	}
	if typ != 1 {
		return nil, perrd(msgSSLv2ClientHello, "msg_type", ErrUnsupported, fmt.Sprintf("type %d is not CLIENT-HELLO", typ))
	}
	var specLen, sidLen, chalLen uint16
	if !s.ReadUint16(&ch.LegacyVersion) {
		return nil, perr(msgSSLv2ClientHello, "version", ErrTruncated)
	}
	if !s.ReadUint16(&specLen) || !s.ReadUint16(&sidLen) || !s.ReadUint16(&chalLen) {
		return ch, perr(msgSSLv2ClientHello, "lengths", ErrTruncated)
	}
	if specLen%3 != 0 {
		return ch, perrd(msgSSLv2ClientHello, "cipher_specs", ErrMalformed, fmt.Sprintf("length %d is not a multiple of 3", specLen))
	}
	var specs, sid, chal cryptobyte.String
	if !s.ReadBytes((*[]byte)(&specs), int(specLen)) {
		return ch, perr(msgSSLv2ClientHello, "cipher_specs", ErrTruncated)
	}
	for !specs.Empty() {
		var spec uint32
		specs.ReadUint24(&spec)
		if spec>>16 == 0 {
			ch.CipherSuites = append(ch.CipherSuites, uint16(spec))
		} else {
			ch.SSLv2CipherSpecs = append(ch.SSLv2CipherSpecs, spec)
		}
	}
	if !s.ReadBytes((*[]byte)(&sid), int(sidLen)) {
		return ch, perr(msgSSLv2ClientHello, "session_id", ErrTruncated)
	}
	if !s.ReadBytes((*[]byte)(&chal), int(chalLen)) {
		return ch, perr(msgSSLv2ClientHello, "challenge", ErrTruncated)
	}
	if len(chal) < 16 || len(chal) > 32 {
		ch.note("SSLv2 challenge of %d bytes (16 to 32 expected)", len(chal))
	}
	if len(chal) <= 32 {
		copy(ch.Random[32-len(chal):], chal)
	} else {
		copy(ch.Random[:], chal[len(chal)-32:])
	}
	if !s.Empty() {
		ch.note("%d bytes of trailing data after the SSLv2 challenge", len(s))
	}
	return ch, nil
}

// helloScratch lends the lists of the hellos an Interner parses their
// arrays: most hellos of a capture offer what an earlier one did, take its
// shared profile and drop what they parsed, so that building their lists
// in arrays reused from hello to hello spares the allocations. A profile
// parsed in it is only valid until the next parse (see
// Interner.ParseClientHello). Its methods on a nil helloScratch give what
// ParseClientHello allocates.
type helloScratch struct {
	prof   HelloProfile
	lists  [scLists][]uint16
	bytes  [scBytes][]uint8
	shares []KeyShare
	alpn   []string
}

// The lists and byte strings of a helloScratch.
const (
	scSuites = iota
	scExtensions
	scVersions
	scGroups
	scKeyShareGroups
	scSigs
	scSigsCert
	scCertCompression
	scLists
)

const (
	scCompression = iota
	scECPointFormats
	scPSKModes
	scBytes
)

// u16 returns the empty list to append list i to: nil (a new list) without
// scratch.
func (sc *helloScratch) u16(i int) []uint16 {
	if sc == nil {
		return nil
	}
	if sc.lists[i] == nil {
		sc.lists[i] = make([]uint16, 0, 32)
	}
	return sc.lists[i][:0]
}

// clone8 returns a copy of b, in byte string i of the scratch.
func (sc *helloScratch) clone8(i int, b []byte) []byte {
	if sc == nil {
		return slices.Clone(b)
	}
	if sc.bytes[i] == nil {
		sc.bytes[i] = make([]byte, 0, 8)
	}
	return append(sc.bytes[i][:0], b...)
}

// keyShares returns the empty list of key shares to append to.
func (sc *helloScratch) keyShares() []KeyShare {
	if sc == nil {
		return nil
	}
	if sc.shares == nil {
		sc.shares = make([]KeyShare, 0, 4)
	}
	return sc.shares[:0]
}

// names returns the empty list of ALPN names to append to.
func (sc *helloScratch) names() []string {
	if sc == nil {
		return nil
	}
	if sc.alpn == nil {
		sc.alpn = make([]string, 0, 4)
	}
	return sc.alpn[:0]
}

// name returns p as the i-th ALPN name: the previous hello's i-th name
// when it is the same, which costs no allocation.
func (sc *helloScratch) name(i int, p []byte) string {
	if sc != nil {
		if old := sc.alpn[:cap(sc.alpn)]; i < len(old) && old[i] == string(p) {
			return old[i]
		}
	}
	return string(p)
}

// keep takes the arrays that the lists of p outgrew in place of the
// scratch's, for the next hellos.
func (sc *helloScratch) keep(p *HelloProfile) {
	grow := func(dst *[]uint16, l []uint16) {
		if cap(l) > cap(*dst) {
			*dst = l[:0]
		}
	}
	grow(&sc.lists[scSuites], p.CipherSuites)
	grow(&sc.lists[scExtensions], p.Extensions)
	grow(&sc.lists[scVersions], p.SupportedVersions)
	grow(&sc.lists[scGroups], p.SupportedGroups)
	grow(&sc.lists[scKeyShareGroups], p.KeyShareGroups)
	grow(&sc.lists[scSigs], p.SignatureAlgorithms)
	grow(&sc.lists[scSigsCert], p.SignatureAlgorithmsCert)
	grow(&sc.lists[scCertCompression], p.CertCompression)
	if cap(p.KeyShares) > cap(sc.shares) {
		sc.shares = p.KeyShares[:0]
	}
	if cap(p.ALPN) > cap(sc.alpn) {
		sc.alpn = p.ALPN[:0]
	}
	for i, b := range [scBytes][]uint8{p.CompressionMethods, p.ECPointFormats, p.PSKModes} {
		if cap(b) > cap(sc.bytes[i]) {
			sc.bytes[i] = b[:0]
		}
	}
}

// clone returns a copy of p that shares nothing with it, nil lists kept
// nil.
func (p *HelloProfile) clone() *HelloProfile {
	cp := *p
	cp.CipherSuites = cloneList(p.CipherSuites)
	cp.CompressionMethods = cloneList(p.CompressionMethods)
	cp.Extensions = cloneList(p.Extensions)
	cp.ALPN = cloneList(p.ALPN)
	cp.SupportedVersions = cloneList(p.SupportedVersions)
	cp.SupportedGroups = cloneList(p.SupportedGroups)
	cp.KeyShares = cloneList(p.KeyShares)
	cp.KeyShareGroups = cloneList(p.KeyShareGroups)
	cp.SignatureAlgorithms = cloneList(p.SignatureAlgorithms)
	cp.SignatureAlgorithmsCert = cloneList(p.SignatureAlgorithmsCert)
	cp.ECPointFormats = cloneList(p.ECPointFormats)
	cp.PSKModes = cloneList(p.PSKModes)
	cp.CertCompression = cloneList(p.CertCompression)
	cp.SSLv2CipherSpecs = cloneList(p.SSLv2CipherSpecs)
	return &cp
}

// cloneList returns a copy of l: nil for nil, an empty list for an empty
// one.
func cloneList[T any](l []T) []T {
	if l == nil {
		return nil
	}
	return append(make([]T, 0, len(l)), l...)
}
