package tlswire

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
)

// Helpers to write messages by hand: hx decodes hex with spaces, the vecN
// functions prefix their concatenated arguments with an N-byte length.
func hx(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func vec8(parts ...[]byte) []byte {
	b := cat(parts...)
	return cat([]byte{byte(len(b))}, b)
}

func vec16(parts ...[]byte) []byte {
	b := cat(parts...)
	return cat([]byte{byte(len(b) >> 8), byte(len(b))}, b)
}

func vec24(parts ...[]byte) []byte {
	b := cat(parts...)
	return cat([]byte{byte(len(b) >> 16), byte(len(b) >> 8), byte(len(b))}, b)
}

// ext is one extension: type and length-prefixed data.
func ext(typ uint16, data ...[]byte) []byte {
	return cat([]byte{byte(typ >> 8), byte(typ)}, vec16(data...))
}

// msg prefixes a body with its handshake header.
func msg(typ uint8, body []byte) []byte { return cat([]byte{typ}, vec24(body)) }

// record wraps a fragment in a TLS 1.2 record header.
func record(typ uint8, fragment []byte) []byte { return cat([]byte{typ, 3, 3}, vec16(fragment)) }

var (
	random32 = bytes.Repeat([]byte{0x11}, 32)
	sid32    = bytes.Repeat([]byte{0x22}, 32)
)

// clientHello builds a ClientHello body around the given extensions.
func clientHello(exts ...[]byte) []byte {
	return cat(
		hx("0303"),                            // legacy_version: TLS 1.2
		random32,                              // random
		vec8(sid32),                           // legacy_session_id: 32 bytes
		vec16(hx("3a3a 1301 1302 c02b c02f")), // cipher_suites: GREASE, TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, ECDHE-ECDSA-AES128-GCM, ECDHE-RSA-AES128-GCM
		vec8(hx("00")),                        // legacy_compression_methods: null
		vec16(exts...),                        // extensions
	)
}

var (
	extGREASE   = ext(0x0a0a)                                                      // GREASE, empty
	extSNI      = ext(0x0000, vec16(hx("00"), vec16([]byte("proxy.golang.org"))))  // server_name: host_name "proxy.golang.org"
	extALPN     = ext(0x0010, vec16(vec8([]byte("h2")), vec8([]byte("http/1.1")))) // ALPN: h2, http/1.1
	extVersions = ext(0x002b, vec8(hx("2a2a 0304 0303")))                          // supported_versions: GREASE, TLS 1.3, TLS 1.2
	extGroups   = ext(0x000a, vec16(hx("11ec 001d 0017")))                         // supported_groups: X25519MLKEM768, x25519, secp256r1
	extKeyShare = ext(0x0033, vec16(
		hx("11ec"), vec16(make([]byte, 1216)), // key_share X25519MLKEM768: 1216 bytes
		hx("001d"), vec16(make([]byte, 32)), // key_share x25519: 32 bytes
	))
	extSigAlgs   = ext(0x000d, vec16(hx("0403 0804 0401")))                                   // signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256
	extPoints    = ext(0x000b, vec8(hx("00")))                                                // ec_point_formats: uncompressed
	extPSKModes  = ext(0x002d, vec8(hx("01")))                                                // psk_key_exchange_modes: psk_dhe_ke
	extEarly     = ext(0x002a)                                                                // early_data
	extECH       = ext(0xfe0d, hx("00 0001 0001 07"), vec16(hx("aa")), vec16(hx("bb")))       // encrypted_client_hello: outer, HKDF-SHA256/AES-128-GCM, config 7, enc, payload
	extPSK       = ext(0x0029, vec16(vec16(hx("01")), hx("00000000")), vec16(vec8(hx("02")))) // pre_shared_key: one identity, one binder
	extEMS       = ext(0x0017)                                                                // extended_master_secret
	browserHello = clientHello(extGREASE, extSNI, extALPN, extVersions, extGroups, extKeyShare, extSigAlgs, extPoints, extPSKModes, extEarly, extECH, extPSK)
)

func TestParseClientHello(t *testing.T) {
	ch, err := ParseClientHello(browserHello)
	if err != nil {
		t.Fatal(err)
	}
	// The session ID is read past, not kept: the cipher suites after it
	// are read right.
	if ch.LegacyVersion != VersionTLS12 || !bytes.Equal(ch.Random[:], random32) {
		t.Errorf("fixed fields %x %x", ch.LegacyVersion, ch.Random)
	}
	if !slices.Equal(ch.CipherSuites, []uint16{0x3a3a, 0x1301, 0x1302, 0xc02b, 0xc02f}) || !slices.Equal(ch.CompressionMethods, []uint8{0}) {
		t.Errorf("suites %x compression %x", ch.CipherSuites, ch.CompressionMethods)
	}
	wantExt := []uint16{0x0a0a, 0, 0x10, 0x2b, 0x0a, 0x33, 0x0d, 0x0b, 0x2d, 0x2a, 0xfe0d, 0x29}
	if !slices.Equal(ch.Extensions, wantExt) {
		t.Errorf("extensions %x", ch.Extensions)
	}
	if ch.ServerName != "proxy.golang.org" || !slices.Equal(ch.ALPN, []string{"h2", "http/1.1"}) {
		t.Errorf("sni %q alpn %q", ch.ServerName, ch.ALPN)
	}
	if !slices.Equal(ch.SupportedVersions, []uint16{0x2a2a, 0x0304, 0x0303}) || ch.MaxVersion() != VersionTLS13 || !ch.OffersTLS13() {
		t.Errorf("versions %x", ch.SupportedVersions)
	}
	if !slices.Equal(ch.SupportedGroups, []uint16{0x11ec, 29, 23}) || !slices.Equal(ch.KeyShareGroups, []uint16{0x11ec, 29}) ||
		!slices.Equal(ch.KeyShares, []KeyShare{{0x11ec, 1216}, {29, 32}}) || !ch.OffersPostQuantum() {
		t.Errorf("groups %x key shares %v", ch.SupportedGroups, ch.KeyShares)
	}
	if !slices.Equal(ch.SignatureAlgorithms, []uint16{0x0403, 0x0804, 0x0401}) || !slices.Equal(ch.ECPointFormats, []uint8{0}) ||
		!slices.Equal(ch.PSKModes, []uint8{1}) || !ch.EarlyData || !ch.HasECH || !ch.PreSharedKey {
		t.Errorf("other extensions: %+v", ch)
	}
	if len(ch.Notes) != 0 || ch.SSLv2 || int(ch.Length) != len(browserHello) {
		t.Errorf("notes %q sslv2 %v length %d", ch.Notes, ch.SSLv2, ch.Length)
	}
	// Nothing aliases the input.
	saved := slices.Clone(browserHello)
	for i := range browserHello {
		browserHello[i] ^= 0xff
	}
	if ch.ServerName != "proxy.golang.org" || !bytes.Equal(ch.Random[:], random32) {
		t.Error("ClientHello aliases its input")
	}
	copy(browserHello, saved)
}

func TestClientHelloNotes(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		note string
	}{
		{"duplicate extension", clientHello(extSNI, extEMS, extEMS), "duplicate extension 0x0017 (extended_master_secret)"},
		{"trailing data", cat(clientHello(extSNI), hx("0000")), "2 bytes of trailing data after extensions"},
		{"two host names", clientHello(ext(0, vec16(hx("00"), vec16([]byte("a.example")), hx("00"), vec16([]byte("b.example"))))), `server_name lists 2 host names: ["a.example" "b.example"]`},
		{"empty ALPN entry", clientHello(ext(0x10, vec16(vec8(), vec8([]byte("h2"))))), "empty ALPN protocol name"},
		{"trailing bytes in an extension", clientHello(ext(0x2b, vec8(hx("0304")), hx("ff"))), "1 bytes of trailing data in extension 0x002b (supported_versions)"},
		{"pre_shared_key not last", clientHello(extPSK, extSNI), "pre_shared_key is not the last extension"},
		{"key share of the wrong size", clientHello(ext(0x33, vec16(hx("001d"), vec16(make([]byte, 31))))), "key_share for x25519 has 31 bytes, expected 32"},
		{"long session ID", cat(hx("0303"), random32, vec8(make([]byte, 33)), vec16(hx("1301")), vec8(hx("00"))), "legacy_session_id of 33 bytes exceeds 32"},
		{"SNI with a trailing dot", clientHello(ext(0, vec16(hx("00"), vec16([]byte("proxy.golang.org."))))), `server_name "proxy.golang.org." ends with a dot`},
		{"SNI as an IP literal", clientHello(ext(0, vec16(hx("00"), vec16([]byte("192.0.2.1"))))), `server_name "192.0.2.1" is an IP literal`},
		{"SNI as an IPv6 literal", clientHello(ext(0, vec16(hx("00"), vec16([]byte("2001:db8::1"))))), `server_name "2001:db8::1" is an IP literal`},
		{"ECH inner", clientHello(ext(0xfe0d, hx("01"))), "encrypted_client_hello of type 1 (inner) in a ClientHello on the wire"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := ParseClientHello(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(ch.Notes, tc.note) {
				t.Errorf("notes %q, want %q", ch.Notes, tc.note)
			}
		})
	}
}

func TestClientHelloErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		want string
		is   error
	}{
		{"empty", nil, "tls: client hello: legacy_version: truncated", ErrTruncated},
		{"short random", hx("0303 1111"), "tls: client hello: random: truncated", ErrTruncated},
		{"odd cipher suites", cat(hx("0303"), random32, vec8(), vec16(hx("130113")), vec8(hx("00"))), "tls: client hello: cipher_suites: malformed: odd length 3", ErrMalformed},
		{"ALPN runs past its extension", clientHello(ext(0x10, hx("0005 02 6832"))), "tls: client hello: extension 0x0010 (application_layer_protocol_negotiation): truncated", ErrTruncated},
		{"extensions block longer than the message", cat(hx("0303"), random32, vec8(), vec16(hx("1301")), vec8(hx("00")), hx("0010 0000")), "tls: client hello: extensions: truncated", ErrTruncated},
		{"supported_versions odd", clientHello(ext(0x2b, vec8(hx("030403")))), "tls: client hello: extension 0x002b (supported_versions): malformed: odd length 3", ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseClientHello(tc.body)
			if err == nil || err.Error() != tc.want || !errors.Is(err, tc.is) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("%T is not a *ParseError", err)
			}
		})
	}
	// A malformed extension body does not hide the others.
	ch, err := ParseClientHello(clientHello(ext(0x2b, vec8(hx("030403"))), extSNI))
	if err == nil || ch == nil || ch.ServerName != "proxy.golang.org" {
		t.Errorf("partial hello %+v, %v", ch, err)
	}
	// Every prefix of a valid hello fails cleanly and keeps what it read,
	// except the one that ends before the (optional) extensions.
	noExt := len(clientHello()) - 2
	for i := range browserHello {
		ch, err := ParseClientHello(browserHello[:i])
		if i == noExt {
			if err != nil || len(ch.Extensions) != 0 {
				t.Fatalf("hello without extensions: %v", err)
			}
			continue
		}
		if err == nil {
			t.Fatalf("prefix %d parsed without error", i)
		}
		if !strings.HasPrefix(err.Error(), "tls: client hello: ") {
			t.Fatalf("prefix %d: %v", i, err)
		}
		if i >= 34 && ch == nil {
			t.Fatalf("prefix %d: no partial hello", i)
		}
	}
}

// An SSLv2-compatible CLIENT-HELLO (RFC 5246 Appendix E.2) as old OpenSSL
// sent it.
var sslv2Hello = cat(
	hx("80 2e"), // SSLv2 record header: 2-byte form, length 46
	hx("01"),    // msg_type: CLIENT-HELLO
	hx("0301"),  // version: TLS 1.0
	hx("0015"),  // cipher_spec_length: 21 (7 specs)
	hx("0000"),  // session_id_length: 0
	hx("0010"),  // challenge_length: 16
	hx("000039 000038 000035 000016 000013 00000a 0700c0"), // specs: six TLS suites, SSL2_DES_192_EDE3_CBC_WITH_MD5
	bytes.Repeat([]byte{0x33}, 16),                         // challenge
)

func TestSSLv2ClientHello(t *testing.T) {
	if !LooksLikeTLS(sslv2Hello) {
		t.Fatal("LooksLikeTLS rejects an SSLv2 ClientHello")
	}
	ch, err := ParseSSLv2ClientHello(sslv2Hello[2:])
	if err != nil {
		t.Fatal(err)
	}
	if !ch.SSLv2 || ch.LegacyVersion != VersionTLS10 || !slices.Equal(ch.CipherSuites, []uint16{0x39, 0x38, 0x35, 0x16, 0x13, 0x0a}) ||
		!slices.Equal(ch.SSLv2CipherSpecs, []uint32{0x0700c0}) || !bytes.Equal(ch.Random[16:], bytes.Repeat([]byte{0x33}, 16)) {
		t.Errorf("%+v", ch)
	}
	c := NewConn(ConnOptions{})
	for i := range sslv2Hello {
		c.Feed(ClientToServer, sslv2Hello[i:i+1], ref(1))
	}
	c.Feed(ServerToClient, record(ContentHandshake, msg(TypeServerHello, serverHello12)), ref(2))
	c.Finish()
	s := c.Session()
	if !c.IsTLS() || s.ClientHello == nil || !s.ClientHello.SSLv2 || s.ServerHello == nil || s.Version() != VersionTLS12 {
		t.Errorf("conn: tls %v %+v", c.IsTLS(), s)
	}
	if JA4(s.ClientHello, 't') != "t10i060000_"+string(appendJA4Hash(nil, []byte("000a,0013,0016,0035,0038,0039")))+"_000000000000" {
		t.Errorf("JA4 of an SSLv2 hello: %s", JA4(s.ClientHello, 't'))
	}
}

var (
	// A TLS 1.2 ServerHello choosing ECDHE-RSA-AES128-GCM and h2.
	serverHello12 = cat(
		hx("0303"),  // legacy_version: TLS 1.2
		random32,    // random
		vec8(sid32), // session_id
		hx("c02f"),  // cipher_suite: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
		hx("00"),    // compression: null
		vec16(
			ext(0xff01, vec8()),                    // renegotiation_info: empty
			ext(0x0010, vec16(vec8([]byte("h2")))), // ALPN: h2
			ext(0x0017),                            // extended_master_secret
		),
	)
	// A TLS 1.3 ServerHello with an X25519MLKEM768 key share.
	serverHello13 = cat(
		hx("0303"), random32, vec8(sid32),
		hx("1301"), // TLS_AES_128_GCM_SHA256
		hx("00"),
		vec16(
			ext(0x002b, hx("0304")),                            // supported_versions: TLS 1.3
			ext(0x0033, hx("11ec"), vec16(make([]byte, 1120))), // key_share: X25519MLKEM768, 1120 bytes
		),
	)
	hrrRandom = sha256.Sum256([]byte("HelloRetryRequest"))
	// A HelloRetryRequest asking for secp384r1.
	helloRetry = cat(
		hx("0303"), hrrRandom[:], vec8(sid32), hx("1301"), hx("00"),
		vec16(
			ext(0x002b, hx("0304")), // supported_versions: TLS 1.3
			ext(0x0033, hx("0018")), // key_share: selected_group secp384r1
		),
	)
	// The draft-18 ServerHello of arkime/tls13.pcap's form: no session ID,
	// no compression method.
	serverHelloDraft18 = cat(hx("7f12"), random32, hx("1301"), vec16(ext(0x0033, hx("001d"), vec16(make([]byte, 32)))))
)

func TestParseServerHello(t *testing.T) {
	for _, tc := range []struct {
		name                string
		body                []byte
		version, suite, grp uint16
		alpn                string
		hrr                 bool
		exts                []uint16
	}{
		{"TLS 1.2", serverHello12, VersionTLS12, 0xc02f, 0, "h2", false, []uint16{0xff01, 0x10, 0x17}},
		{"TLS 1.3", serverHello13, VersionTLS13, 0x1301, 0x11ec, "", false, []uint16{0x2b, 0x33}},
		{"HelloRetryRequest", helloRetry, VersionTLS13, 0x1301, 24, "", true, []uint16{0x2b, 0x33}},
		{"draft 18", serverHelloDraft18, 0x7f12, 0x1301, 29, "", false, []uint16{0x33}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sh, err := ParseServerHello(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if sh.Version() != tc.version || sh.CipherSuite != tc.suite || sh.KeyShareGroup != tc.grp || sh.ALPN != tc.alpn ||
				sh.IsHelloRetryRequest != tc.hrr || !slices.Equal(sh.Extensions, tc.exts) || len(sh.Notes) != 0 {
				t.Errorf("%+v", sh)
			}
		})
	}
	for i := range serverHello13 {
		if i == 2+32+1+32+2+1 {
			continue // ends before the optional extensions
		}
		if _, err := ParseServerHello(serverHello13[:i]); err == nil || !strings.HasPrefix(err.Error(), "tls: server hello: ") {
			t.Fatalf("prefix %d: %v", i, err)
		}
	}
}

func TestParseCertificate(t *testing.T) {
	p := getPKI(t)
	leaf := p.ecdsaChain.Certificate[0]
	garbage := hx("3003 020101") // a SEQUENCE holding an INTEGER: no certificate
	// TLS 1.2 (RFC 5246 §7.4.2): certificate_list of ASN.1Cert.
	m, err := ParseCertificate(vec24(vec24(leaf), vec24(p.inter.Raw), vec24(garbage)), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Certificates) != 3 || m.TLS13 {
		t.Fatalf("%+v", m)
	}
	c0, c2 := m.Certificates[0], m.Certificates[2]
	if c0.Info == nil || c0.Subject != p.leafName || c0.Issuer != p.interName || c0.SHA256 != sha256.Sum256(leaf) || m.Leaf() != &m.Certificates[0] {
		t.Errorf("leaf %+v", c0)
	}
	if c2.Info != nil || c2.Err == nil || !bytes.Equal(c2.Raw, garbage) || c2.Subject != "" {
		t.Errorf("unparseable certificate %+v", c2)
	}
	// TLS 1.3 (RFC 8446 §4.4.2): context, then entries with extensions.
	m, err = ParseCertificate(cat(vec8(hx("abcd")), vec24(vec24(leaf), vec16(ext(0x0005, hx("01"))), vec24(p.inter.Raw), vec16())), true)
	if err != nil {
		t.Fatal(err)
	}
	if !m.TLS13 || !bytes.Equal(m.Context, hx("abcd")) || len(m.Certificates) != 2 || !slices.Equal(m.Certificates[0].Extensions, []uint16{5}) {
		t.Errorf("%+v", m)
	}
	// A cut message keeps the certificates before the cut.
	full := vec24(vec24(leaf), vec24(p.inter.Raw))
	m, err = ParseCertificate(full[:len(full)-10], false)
	if !errors.Is(err, ErrTruncated) || len(m.Certificates) != 0 {
		t.Errorf("%v %+v", err, m)
	}
	m, err = ParseCertificate(cat(vec24(vec24(leaf), hx("000100")), hx("")), false)
	if err == nil || err.Error() != "tls: certificate: certificate 1: truncated" || len(m.Certificates) != 1 {
		t.Errorf("%v %+v", err, m)
	}
}

func TestCertCache(t *testing.T) {
	p := getPKI(t)
	cc := NewCertCache(2)
	body := vec24(vec24(p.ecdsaChain.Certificate[0]), vec24(p.inter.Raw))
	for range 3 {
		if _, err := cc.ParseCertificate(body, false); err != nil {
			t.Fatal(err)
		}
	}
	if hits, misses := cc.Stats(); hits != 4 || misses != 2 || cc.Len() != 2 {
		t.Errorf("hits %d misses %d len %d", hits, misses, cc.Len())
	}
	a, _ := cc.ParseCertificate(body, false)
	b, _ := cc.ParseCertificate(body, false)
	if a.Certificates[0].CertData != b.Certificates[0].CertData {
		t.Error("the cache parsed a certificate twice")
	}
	// Bounded: a third certificate evicts the oldest.
	cc.Parse(p.root.Raw)
	cc.Parse(p.rsaChain.Certificate[0])
	if cc.Len() != 2 {
		t.Errorf("len %d after eviction", cc.Len())
	}
	var nilCache *CertCache
	if c := nilCache.Parse(p.root.Raw); c.Info == nil || nilCache.Len() != 0 {
		t.Error("a nil cache does not parse")
	}
}

func TestParseAlertAndEncryptedExtensions(t *testing.T) {
	a, err := ParseAlert(hx("022a")) // fatal, bad_certificate
	if err != nil || a.Level != AlertLevelFatal || a.Name() != "bad_certificate" || !a.Fatal() {
		t.Errorf("%+v %v", a, err)
	}
	if _, err := ParseAlert(hx("02")); !errors.Is(err, ErrTruncated) {
		t.Errorf("short alert: %v", err)
	}
	if _, err := ParseAlert(hx("0930")); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad level: %v", err)
	}
	ee, err := ParseEncryptedExtensions(vec16(ext(0x0000), ext(0x0010, vec16(vec8([]byte("h2")))), ext(0x002a)))
	if err != nil || ee.ALPN != "h2" || !ee.EarlyData || !slices.Equal(ee.Extensions, []uint16{0, 0x10, 0x2a}) {
		t.Errorf("%+v %v", ee, err)
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{VersionName(0x0300), "SSL 3.0"},
		{VersionName(0x0301), "TLS 1.0"},
		{VersionName(0x0303), "TLS 1.2"},
		{VersionName(0x0304), "TLS 1.3"},
		{VersionName(0x7f12), "TLS 1.3 draft 18"},
		{VersionName(0x7a7a), "GREASE"},
		{VersionName(0x1234), "0x1234"},
		{CipherSuiteName(0x1301), "TLS_AES_128_GCM_SHA256"},
		{CipherSuiteName(0xc02f), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
		{CipherSuiteName(0x0039), "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
		{CipherSuiteName(0x00ff), "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"},
		{CipherSuiteName(0x1a1a), "GREASE"},
		{CipherSuiteName(0x4242), "0x4242"},
		{AlertName(42), "bad_certificate"},
		{AlertName(48), "unknown_ca"},
		{AlertName(45), "certificate_expired"},
		{AlertName(40), "handshake_failure"},
		{AlertName(70), "protocol_version"},
		{AlertName(120), "no_application_protocol"},
		{AlertName(116), "certificate_required"},
		{AlertName(200), "0xc8"},
		{GroupName(29), "x25519"},
		{GroupName(23), "secp256r1"},
		{GroupName(0x11ec), "X25519MLKEM768"},
		{GroupName(0x11eb), "SecP256r1MLKEM768"},
		{GroupName(0x11ed), "SecP384r1MLKEM1024"},
		{GroupName(0x6399), "X25519Kyber768Draft00"},
		{GroupName(0x0201), "MLKEM768"},
		{GroupName(256), "ffdhe2048"},
		{GroupName(0xbaba), "GREASE"},
		{ExtensionName(0x10), "application_layer_protocol_negotiation"},
		{ExtensionName(0xfe0d), "encrypted_client_hello"},
		{ExtensionName(0x9999), "0x9999"},
		{SignatureSchemeName(0x0804), "rsa_pss_rsae_sha256"},
		{SignatureSchemeName(0x0807), "ed25519"},
		{SignatureSchemeName(0x0402), "dsa_sha256"},
		{SignatureSchemeName(0x0905), "mldsa65"},
		{HandshakeTypeName(11), "certificate"},
		{ContentTypeName(23), "application_data"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	for v := 0; v < 1<<16; v++ {
		want := v&0x0f0f == 0x0a0a && v>>8 == v&0xff
		if IsGREASE(uint16(v)) != want {
			t.Fatalf("IsGREASE(%#04x)", v)
		}
	}
	for _, g := range []uint16{0x11ec, 0x11eb, 0x11ed, 0x6399, 0x0200, 0x0201, 0x0202} {
		if !IsPostQuantumGroup(g) {
			t.Errorf("%s is post-quantum", GroupName(g))
		}
	}
	for _, g := range []uint16{29, 23, 24, 25, 30, 256} {
		if IsPostQuantumGroup(g) {
			t.Errorf("%s is classical", GroupName(g))
		}
	}
}

func TestFormatName(t *testing.T) {
	oid := func(s string) []byte { return hx(s) }
	atv := func(oidDER []byte, tag byte, val []byte) []byte {
		return cat([]byte{0x30}, derLen(len(oidDER)+2+len(val)), oidDER, []byte{tag, byte(len(val))}, val)
	}
	set := func(atvs ...[]byte) []byte { b := cat(atvs...); return cat([]byte{0x31}, derLen(len(b)), b) }
	name := func(rdns ...[]byte) []byte { b := cat(rdns...); return cat([]byte{0x30}, derLen(len(b)), b) }
	var (
		c     = oid("0603 550406")             // 2.5.4.6 countryName
		o     = oid("0603 55040a")             // 2.5.4.10 organizationName
		cn    = oid("0603 550403")             // 2.5.4.3 commonName
		email = oid("0609 2a864886f70d010901") // 1.2.840.113549.1.9.1 emailAddress
		odd   = oid("0603 2a0304")             // 1.2.3.4, no short name
	)
	for _, tc := range []struct {
		name string
		der  []byte
		want string
	}{
		{"Let's Encrypt R3", name(set(atv(c, 0x13, []byte("US"))), set(atv(o, 0x13, []byte("Let's Encrypt"))), set(atv(cn, 0x13, []byte("R3")))), "C=US, O=Let's Encrypt, CN=R3"},
		{"unknown attribute as OID, email", name(set(atv(odd, 0x0c, []byte("x"))), set(atv(email, 0x16, []byte("a@b")))), "1.2.3.4=x, emailAddress=a@b"},
		{"multi-valued RDN flattened", name(set(atv(cn, 0x0c, []byte("a")), atv(o, 0x0c, []byte("b")))), "CN=a, O=b"},
		{"BMPString", name(set(atv(cn, 0x1e, hx("00e9 0074 00e9")))), "CN=été"},
		{"embedded NUL kept", name(set(atv(cn, 0x0c, []byte("evil.com\x00.good.com")))), "CN=evil.com\x00.good.com"},
		{"TeletexString as Latin-1", name(set(atv(cn, 0x14, hx("e9")))), "CN=é"},
		{"commas unescaped", name(set(atv(o, 0x0c, []byte("TOBU RAILWAY Co.,Ltd.")))), "O=TOBU RAILWAY Co.,Ltd."},
		{"empty name", name(), ""},
	} {
		got, err := FormatName(tc.der)
		if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := FormatName(hx("3005 3103 3001")); err == nil {
		t.Error("malformed name accepted")
	}
}

func derLen(n int) []byte {
	if n < 0x80 {
		return []byte{byte(n)}
	}
	return []byte{0x81, byte(n)}
}

func TestJA4(t *testing.T) {
	// The example of the JA4 specification (FoxIO technical details).
	spec := &ClientHello{
		LegacyVersion: VersionTLS12,
		HelloProfile: &HelloProfile{
			CipherSuites:        []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
			Extensions:          []uint16{0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015},
			SupportedVersions:   []uint16{0x0304, 0x0303},
			ALPN:                []string{"h2", "http/1.1"},
			SignatureAlgorithms: []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601},
		},
	}
	greasedProfile := *spec.HelloProfile
	greased := *spec
	greased.HelloProfile = &greasedProfile
	greased.CipherSuites = append([]uint16{0x0a0a}, spec.CipherSuites...)
	greased.Extensions = append([]uint16{0x1a1a}, append(slices.Clone(spec.Extensions), 0x2a2a)...)
	greased.SupportedVersions = append([]uint16{0x3a3a}, spec.SupportedVersions...)
	for _, ch := range []*ClientHello{spec, &greased} {
		if got := JA4(ch, 't'); got != "t13d1516h2_8daaf6152771_e5627efa2ab1" {
			t.Errorf("JA4 %s", got)
		}
		if got := JA4Raw(ch, 't'); got != "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601" {
			t.Errorf("JA4_r %s", got)
		}
		if got := JA4Original(ch, 't'); got != "t13d1516h2_acb858a92679_18f69afefd3d" {
			t.Errorf("JA4_o %s", got)
		}
	}
	if got := JA4(spec, 'q'); got[0] != 'q' {
		t.Errorf("QUIC JA4 %s", got)
	}
	// ALPN edge cases from the specification.
	for _, tc := range []struct {
		alpn []string
		want string
	}{
		{nil, "00"}, {[]string{""}, "00"}, {[]string{"h"}, "hh"}, {[]string{"http/1.1"}, "h1"},
		{[]string{"\xab"}, "ab"}, {[]string{"\xab\xcd"}, "ad"}, {[]string{"\x30\xab"}, "3b"},
		{[]string{"\x30\x31\xab\xcd"}, "3d"}, {[]string{"\x30\xab\xcd\x31"}, "01"},
	} {
		if got := string(appendJA4ALPN(nil, tc.alpn)); got != tc.want {
			t.Errorf("ALPN %q: %q, want %q", tc.alpn, got, tc.want)
		}
	}
	// No ciphers, no extensions, more than 99 ciphers.
	if got := JA4(&ClientHello{LegacyVersion: VersionTLS10, HelloProfile: &HelloProfile{}}, 't'); got != "t10i000000_000000000000_000000000000" {
		t.Errorf("empty hello %s", got)
	}
	many := &ClientHello{LegacyVersion: 0x0303, HelloProfile: &HelloProfile{CipherSuites: make([]uint16, 150)}}
	for i := range many.CipherSuites {
		many.CipherSuites[i] = uint16(i + 1)
	}
	if got := JA4(many, 't'); got[4:6] != "99" {
		t.Errorf("150 ciphers: %s", got)
	}
}
