package tlswire

// Real handshakes: a crypto/tls client configured like the go command
// (NextProtos h2, http/1.1; default curves, X25519MLKEM768 first) against a
// crypto/tls server over an in-memory pipe, with both directions recorded
// and fed to a Conn afterwards in odd-sized chunks.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode/decodetest"
)

// ---- a recording of both directions ----

type chunk struct {
	dir  Dir
	data []byte
}

// recorder keeps what both ends wrote, in order; each Write is one "packet".
type recorder struct {
	chunks []chunk
}

// fromRecorder takes the writes of the one connection a
// decodetest.Recorder recorded (its in-memory pipe is shared with the
// decoder's and analyzer's tests).
func fromRecorder(r *decodetest.Recorder) *recorder {
	rec := &recorder{}
	for _, c := range r.Chunks() {
		if !c.Close {
			rec.chunks = append(rec.chunks, chunk{Dir(c.Dir), c.Data})
		}
	}
	return rec
}

// ---- a test PKI ----

type testPKI struct {
	root, inter                   *x509.Certificate
	ecdsaChain, rsaChain          tls.Certificate
	roots                         *x509.CertPool
	rootName, interName, leafName string
}

var (
	pkiOnce sync.Once
	pki     testPKI
)

func mustCert(t testing.TB, tmpl, parent *x509.Certificate, pub any, signer crypto.Signer) *x509.Certificate {
	if parent == nil {
		parent = tmpl // self-signed
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func getPKI(t testing.TB) *testPKI {
	pkiOnce.Do(func() {
		notBefore := time.Now().Add(-time.Hour)
		notAfter := notBefore.Add(48 * time.Hour)
		rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		interKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		ca := func(serial int64, name pkix.Name) *x509.Certificate {
			return &x509.Certificate{
				SerialNumber: big.NewInt(serial), Subject: name, NotBefore: notBefore, NotAfter: notAfter,
				IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
			}
		}
		pki.root = mustCert(t, ca(1, pkix.Name{Country: []string{"US"}, Organization: []string{"modsniff test"}, CommonName: "modsniff test root"}), nil, rootKey.Public(), rootKey)
		rootTmpl := pki.root
		pki.inter = mustCert(t, ca(2, pkix.Name{Country: []string{"US"}, Organization: []string{"modsniff test"}, CommonName: "modsniff test issuing CA"}), rootTmpl, interKey.Public(), rootKey)
		leaf := func(serial int64, pub any) *x509.Certificate {
			return mustCert(t, &x509.Certificate{
				SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "proxy.golang.org"},
				DNSNames: []string{"proxy.golang.org", "sum.golang.org"}, NotBefore: notBefore, NotAfter: notAfter,
				KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			}, pki.inter, pub, interKey)
		}
		ecLeaf, rsaLeaf := leaf(3, leafKey.Public()), leaf(4, rsaKey.Public())
		pki.ecdsaChain = tls.Certificate{Certificate: [][]byte{ecLeaf.Raw, pki.inter.Raw}, PrivateKey: leafKey}
		pki.rsaChain = tls.Certificate{Certificate: [][]byte{rsaLeaf.Raw, pki.inter.Raw}, PrivateKey: rsaKey}
		pki.roots = x509.NewCertPool()
		pki.roots.AddCert(pki.root)
		pki.rootName = "C=US, O=modsniff test, CN=modsniff test root"
		pki.interName = "C=US, O=modsniff test, CN=modsniff test issuing CA"
		pki.leafName = "CN=proxy.golang.org"
	})
	if pki.root == nil {
		t.Fatal("test PKI setup failed")
	}
	return &pki
}

// goClientConfig is configured like the go command's fetches.
func goClientConfig(p *testPKI) *tls.Config {
	return &tls.Config{ServerName: "proxy.golang.org", NextProtos: []string{"h2", "http/1.1"}, RootCAs: p.roots}
}

func serverConfig(p *testPKI) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.ecdsaChain, p.rsaChain}, NextProtos: []string{"h2", "http/1.1"}}
}

// handshake runs a client and a server to completion and returns what both
// wrote. After a successful handshake the client sends a request and the
// server answers with respLen bytes, then both close.
func handshake(t testing.TB, ccfg, scfg *tls.Config, respLen int) (rec *recorder, clientErr, serverErr error) {
	t.Helper()
	r := &decodetest.Recorder{}
	ce, se := r.Pipe()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		c := tls.Client(ce, ccfg)
		defer c.Close()
		if clientErr = c.Handshake(); clientErr != nil {
			return
		}
		if _, clientErr = c.Write([]byte("GET /golang.org/x/crypto/@v/list HTTP/1.1\r\n\r\n")); clientErr != nil {
			return
		}
		_, clientErr = io.ReadFull(c, make([]byte, respLen))
	}()
	go func() {
		defer wg.Done()
		s := tls.Server(se, scfg)
		defer s.Close()
		if serverErr = s.Handshake(); serverErr != nil {
			return
		}
		if _, serverErr = s.Read(make([]byte, 512)); serverErr != nil {
			return
		}
		_, serverErr = s.Write(make([]byte, respLen))
	}()
	wg.Wait()
	return fromRecorder(r), clientErr, serverErr
}

// feedPattern feeds the recording to a new Conn, cutting every packet into
// chunks of the sizes in pattern (cycled); nil feeds packets whole.
func feedPattern(rec *recorder, pattern []int, certs *CertCache) *Conn {
	c := NewConn(ConnOptions{Certs: certs})
	feedChunks(c, rec, pattern)
	return c
}

// feedChunks feeds the recording to c, one packet a millisecond, each cut
// into chunks of the sizes in pattern (cycled; nil: whole), then finishes c.
func feedChunks(c *Conn, rec *recorder, pattern []int) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	k := 0
	for i, ch := range rec.chunks {
		at := capture.NewRef(0, i+1, t0.Add(time.Duration(i)*time.Millisecond))
		data := ch.data
		for len(data) > 0 {
			n := len(data)
			if pattern != nil {
				n = min(pattern[k%len(pattern)], len(data))
				k++
			}
			c.Feed(ch.dir, data[:n], at)
			data = data[n:]
		}
	}
	c.Finish()
}

var chunkPatterns = map[string][]int{
	"whole":  nil,
	"bytes":  {1},
	"odd":    {1, 2, 3, 5, 7, 11, 13, 17, 1460, 4},
	"header": {5, 4, 3, 6, 100},
}

// summary renders the fields a chunking must not change.
func summary(s *Session) string {
	var b strings.Builder
	fmt.Fprintf(&b, "v=%x ch=%v/%v/%d sh=%v hrr=%v ch2=%v certs=%v enc=%v cnt=%v alerts=%v notes=%q errors=%q hs=%v",
		s.Version(), s.ClientHelloAt, s.ClientHelloFirstAt, s.ClientHelloPackets, s.ServerHelloAt, s.HelloRetryAt(), s.SecondClientHelloAt(),
		s.CertificatesAt, protectedFrom(s), s.EncryptedCount, s.Alerts, s.Notes(), s.Errors(), logSummary(s))
	fmt.Fprintf(&b, " dirs=%+v", s.Dirs)
	fmt.Fprintf(&b, " app=%v/%v/%v", s.FirstAppDataAt, s.FirstAppDataLength, s.AppDataAmongFirst)
	if s.ClientHello != nil {
		fmt.Fprintf(&b, " ja4=%s", JA4(s.ClientHello, 't'))
	}
	if s.Certificates != nil {
		for _, c := range s.Certificates.Certificates {
			fmt.Fprintf(&b, " cert=%x", c.SHA256[:4])
		}
	}
	return b.String()
}

// decodeAllPatterns feeds the recording with every chunk pattern, checks that
// they agree, and returns the session of whole-packet feeding.
func decodeAllPatterns(t *testing.T, rec *recorder) *Session {
	t.Helper()
	var want string
	var sess *Session
	for _, name := range []string{"whole", "bytes", "odd", "header"} {
		c := feedPattern(rec, chunkPatterns[name], NewCertCache(0))
		got := summary(c.Session())
		if sess == nil {
			want, sess = got, c.Session()
			continue
		}
		if got != want {
			t.Errorf("feeding in %q chunks changes the result:\n got %s\nwant %s", name, got, want)
		}
	}
	return sess
}

func TestRealHandshakeTLS13(t *testing.T) {
	p := getPKI(t)
	rec, cerr, serr := handshake(t, goClientConfig(p), serverConfig(p), 70000)
	if cerr != nil || serr != nil {
		t.Fatalf("handshake: client %v, server %v", cerr, serr)
	}
	s := decodeAllPatterns(t, rec)
	ch := s.ClientHello
	if ch == nil {
		t.Fatal("no ClientHello")
	}
	if ch.ServerName != "proxy.golang.org" || !slices.Equal(ch.ALPN, []string{"h2", "http/1.1"}) {
		t.Errorf("sni %q alpn %q", ch.ServerName, ch.ALPN)
	}
	if !slices.Equal(ch.SupportedVersions, []uint16{VersionTLS13, VersionTLS12}) {
		t.Errorf("supported_versions %x", ch.SupportedVersions)
	}
	if !slices.Contains(ch.KeyShareGroups, 0x11ec) || !slices.Contains(ch.KeyShareGroups, 29) || !ch.OffersPostQuantum() {
		t.Errorf("key shares %v: want X25519MLKEM768 and x25519", ch.KeyShares)
	}
	for _, ks := range ch.KeyShares {
		if want := keyShareLength[ks.Group]; ks.Length != want {
			t.Errorf("key share %s: %d bytes, want %d", GroupName(ks.Group), ks.Length, want)
		}
	}
	if len(ch.Notes) != 0 {
		t.Errorf("client hello notes: %q", ch.Notes)
	}
	if ja4 := JA4(ch, 't'); !strings.HasPrefix(ja4, "t13d") || ja4[8:10] != "h2" {
		t.Errorf("JA4 %s", ja4)
	}
	sh := s.ServerHello
	if sh == nil || sh.Version() != VersionTLS13 || sh.KeyShareGroup != 0x11ec || sh.KeyShareLength != 1088+32 {
		t.Fatalf("server hello %+v", sh)
	}
	if !strings.HasPrefix(CipherSuiteName(sh.CipherSuite), "TLS_AES_") && !strings.HasPrefix(CipherSuiteName(sh.CipherSuite), "TLS_CHACHA20") {
		t.Errorf("cipher %s", CipherSuiteName(sh.CipherSuite))
	}
	if s.Certificates != nil {
		t.Errorf("TLS 1.3 certificate read without keys")
	}
	if s.ClientHelloPackets != 1 || s.ClientHelloAt.Packet != 1 || s.ClientHelloFirstAt.Packet != 1 {
		t.Errorf("client hello at %v first %v packets %d", s.ClientHelloAt, s.ClientHelloFirstAt, s.ClientHelloPackets)
	}
	// The server's records after the ServerHello, and the client's after its
	// compatibility CCS, are protected.
	if s.Dirs[ServerToClient].ProtectedFrom.IsZero() || s.Dirs[ServerToClient].ProtectedFrom.Packet < s.ServerHelloAt.Packet {
		t.Errorf("server encrypted at %v, ServerHello at %v", s.Dirs[1].ProtectedFrom, s.ServerHelloAt)
	}
	fin := int32(4 + 32 + 1 + 16) // Finished of a SHA-256 suite + inner type + tag
	if sh.CipherSuite == tls.TLS_AES_256_GCM_SHA384 {
		fin = 4 + 48 + 1 + 16
	}
	// Every protected record of TLS 1.3 has the outer type
	// application_data, so the first of that type is the first of all.
	if n := s.FirstAppDataLength[ClientToServer]; s.AppDataAmongFirst[ClientToServer] == 0 || n != fin {
		t.Errorf("client's first protected record of %d bytes, want its %d-byte Finished", n, fin)
	}
	if s.EncryptedCount[ServerToClient] < 5 {
		t.Errorf("server protected %d records", s.EncryptedCount[1])
	}
	if len(s.Alerts) != 0 || len(s.Notes()) != 0 || len(s.Errors()) != 0 || s.Lost != [2]bool{} {
		t.Errorf("alerts %v notes %q errors %q lost %v", s.Alerts, s.Notes(), s.Errors(), s.Lost)
	}
}

func TestRealHandshakeTLS12(t *testing.T) {
	p := getPKI(t)
	for _, tc := range []struct {
		suite uint16
		rsa   bool
	}{
		{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, false},
		{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, true},
		{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, false},
		{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, true},
	} {
		t.Run(tls.CipherSuiteName(tc.suite), func(t *testing.T) {
			scfg := serverConfig(p)
			scfg.MaxVersion = tls.VersionTLS12
			scfg.CipherSuites = []uint16{tc.suite}
			if tc.rsa {
				scfg.Certificates = []tls.Certificate{p.rsaChain}
			}
			rec, cerr, serr := handshake(t, goClientConfig(p), scfg, 40000)
			if cerr != nil || serr != nil {
				t.Fatalf("handshake: client %v, server %v", cerr, serr)
			}
			s := decodeAllPatterns(t, rec)
			sh := s.ServerHello
			if sh == nil || sh.Version() != VersionTLS12 || sh.CipherSuite != tc.suite || sh.ALPN != "h2" || s.ServerALPN() != "h2" {
				t.Fatalf("server hello %+v", sh)
			}
			if sh.DowngradeSentinel != 0 {
				t.Errorf("downgrade sentinel %x from a server whose maximum is TLS 1.2", sh.DowngradeSentinel)
			}
			m := s.Certificates
			if m == nil || len(m.Certificates) != 2 {
				t.Fatalf("certificates %+v", m)
			}
			leaf, inter := m.Certificates[0], m.Certificates[1]
			if leaf.Info == nil || leaf.Err != nil || !slices.Equal(leaf.Info.DNSNames, []string{"proxy.golang.org", "sum.golang.org"}) {
				t.Errorf("leaf %+v", leaf)
			}
			if leaf.Subject != p.leafName || leaf.Issuer != p.interName || inter.Subject != p.interName || inter.Issuer != p.rootName {
				t.Errorf("names: leaf %q / %q, intermediate %q / %q", leaf.Subject, leaf.Issuer, inter.Subject, inter.Issuer)
			}
			if skeGroup(s) != 29 || s.Message(ServerToClient, TypeServerHelloDone) == nil || s.Message(ClientToServer, TypeClientKeyExchange) == nil {
				t.Errorf("ske group %s, messages %v", GroupName(skeGroup(s)), logSummary(s))
			}
			for d := range 2 {
				if st := s.Dirs[d]; st.ProtectedFrom.IsZero() || st.ProtectedFrom.Packet < s.ServerHelloAt.Packet {
					t.Errorf("%v: encrypted %v, ServerHello %v", Dir(d), st.ProtectedFrom, s.ServerHelloAt)
				}
			}
			// The first protected record of each side is its Finished, with
			// its outer type handshake: taken as Finished by its shape, and
			// not as application data.
			for d := range 2 {
				if st := s.Dirs[d]; !st.FinishedInferred || st.Finished.IsZero() || st.Finished == s.FirstAppDataAt[d] {
					t.Errorf("%v Finished %v (inferred %v), first application data %v", Dir(d), st.Finished, st.FinishedInferred, s.FirstAppDataAt[d])
				}
			}
			// Both sides close with an (encrypted) close_notify.
			var enc int
			for _, a := range s.Alerts {
				if a.Encrypted && !a.Known() {
					enc++
				}
			}
			if enc == 0 || len(s.Errors()) != 0 || len(s.Notes()) != 0 {
				t.Errorf("alerts %v errors %q notes %q", s.Alerts, s.Errors(), s.Notes())
			}
		})
	}
}

// A client capped at TLS 1.2 talking to a TLS 1.3 server: the server marks
// its random with the downgrade sentinel (RFC 8446 §4.1.3).
func TestRealHandshakeDowngradeSentinel(t *testing.T) {
	p := getPKI(t)
	ccfg := goClientConfig(p)
	ccfg.MaxVersion = tls.VersionTLS12
	rec, cerr, serr := handshake(t, ccfg, serverConfig(p), 100)
	if cerr != nil || serr != nil {
		t.Fatalf("handshake: client %v, server %v", cerr, serr)
	}
	s := decodeAllPatterns(t, rec)
	if s.ClientHello.OffersTLS13() || s.ClientHello.MaxVersion() != VersionTLS12 {
		t.Errorf("client offers %x", s.ClientHello.SupportedVersions)
	}
	if sh := s.ServerHello; sh == nil || sh.Version() != VersionTLS12 || sh.DowngradeSentinel != VersionTLS12 {
		t.Errorf("server hello %+v", sh)
	}
}

func TestRealHandshakeClientRejects(t *testing.T) {
	p := getPKI(t)
	untrusting := goClientConfig(p)
	untrusting.RootCAs = x509.NewCertPool()

	t.Run("TLS1.2", func(t *testing.T) {
		scfg := serverConfig(p)
		scfg.MaxVersion = tls.VersionTLS12
		rec, cerr, _ := handshake(t, untrusting, scfg, 1)
		var uae x509.UnknownAuthorityError
		if !errors.As(cerr, &uae) {
			t.Fatalf("client error %v, want unknown authority", cerr)
		}
		s := decodeAllPatterns(t, rec)
		if len(s.Alerts) != 1 {
			t.Fatalf("alerts %v", s.Alerts)
		}
		a := s.Alerts[0]
		if a.From != ClientToServer || a.Encrypted || !a.Fatal() || a.Name() != "bad_certificate" {
			t.Errorf("alert %+v (%s), want a plaintext fatal bad_certificate from the client", a, a.Name())
		}
		if !s.Dirs[ClientToServer].ProtectedFrom.IsZero() || s.Certificates == nil {
			t.Errorf("client encrypted at %v; certificates %v", s.Dirs[0].ProtectedFrom, s.Certificates)
		}
	})
	t.Run("TLS1.3", func(t *testing.T) {
		rec, cerr, _ := handshake(t, untrusting, serverConfig(p), 1)
		if cerr == nil {
			t.Fatal("client accepted an unknown authority")
		}
		s := decodeAllPatterns(t, rec)
		// CCS, then one short protected record (the alert), then close.
		r, ok := s.SoleAppDataRecord(ClientToServer)
		if s.Dirs[ClientToServer].ProtectedFrom.IsZero() || s.EncryptedCount[ClientToServer] != 1 || !ok ||
			r.Type != ContentApplicationData || r.Length != 2+1+16 || r.At != s.FirstAppDataAt[ClientToServer] {
			t.Errorf("client: encrypted at %v, protected records %+v", s.Dirs[0].ProtectedFrom, r)
		}
		if len(s.Alerts) != 0 {
			t.Errorf("alerts %v: a TLS 1.3 alert cannot be read without keys", s.Alerts)
		}
	})
}

func TestRealHandshakeHelloRetry(t *testing.T) {
	p := getPKI(t)
	// crypto/tls sends a key share for P-256 only (it orders curves
	// itself); a server that accepts only P-384 asks again.
	ccfg := goClientConfig(p)
	ccfg.CurvePreferences = []tls.CurveID{tls.CurveP256, tls.CurveP384}
	scfg := serverConfig(p)
	scfg.CurvePreferences = []tls.CurveID{tls.CurveP384}
	rec, cerr, serr := handshake(t, ccfg, scfg, 100)
	if cerr != nil || serr != nil {
		t.Fatalf("handshake: client %v, server %v", cerr, serr)
	}
	s := decodeAllPatterns(t, rec)
	if s.HelloRetry() == nil || !s.HelloRetry().IsHelloRetryRequest || s.HelloRetry().KeyShareGroup != 24 {
		t.Fatalf("hello retry %+v", s.HelloRetry())
	}
	if s.ClientHello == nil || !slices.Equal(s.ClientHello.KeyShareGroups, []uint16{23}) {
		t.Errorf("first hello key shares %+v", s.ClientHello)
	}
	if s.SecondClientHello() == nil || !slices.Equal(s.SecondClientHello().KeyShareGroups, []uint16{24}) || s.SecondClientHelloAt().Packet <= s.HelloRetryAt().Packet {
		t.Errorf("second hello %+v at %v", s.SecondClientHello(), s.SecondClientHelloAt())
	}
	if s.ServerHello == nil || s.ServerHello.IsHelloRetryRequest || s.ServerHello.KeyShareGroup != 24 || s.Version() != VersionTLS13 {
		t.Errorf("server hello %+v", s.ServerHello)
	}
	if len(s.Notes()) != 0 || len(s.Errors()) != 0 {
		t.Errorf("notes %q errors %q", s.Notes(), s.Errors())
	}
}

// plaintextMessages splits the handshake messages of one direction's stream
// up to its first non-handshake record: the seeds for fuzzing.
func plaintextMessages(stream []byte) (msgs [][]byte) {
	var hs []byte
	for len(stream) >= 5 && stream[0] == ContentHandshake {
		n := int(stream[3])<<8 | int(stream[4])
		if len(stream) < 5+n {
			break
		}
		hs = append(hs, stream[5:5+n]...)
		stream = stream[5+n:]
	}
	for len(hs) >= 4 {
		n := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
		if len(hs) < 4+n {
			break
		}
		msgs = append(msgs, hs[:4+n])
		hs = hs[4+n:]
	}
	return msgs
}

func (r *recorder) stream(d Dir) []byte {
	var b []byte
	for _, c := range r.chunks {
		if c.dir == d {
			b = append(b, c.data...)
		}
	}
	return b
}

// realSeeds returns handshake messages (with their 4-byte header) from real
// TLS 1.3 and TLS 1.2 handshakes, and the two recorded streams of each.
func realSeeds(t testing.TB) (msgs [][]byte, streams [][2][]byte) {
	p := getPKI(t)
	s12 := serverConfig(p)
	s12.MaxVersion = tls.VersionTLS12
	hrrC := goClientConfig(p)
	hrrC.CurvePreferences = []tls.CurveID{tls.CurveP256, tls.CurveP384}
	hrrS := serverConfig(p)
	hrrS.CurvePreferences = []tls.CurveID{tls.CurveP384}
	for _, cfg := range [][2]*tls.Config{{goClientConfig(p), serverConfig(p)}, {goClientConfig(p), s12}, {hrrC, hrrS}} {
		rec, _, _ := handshake(t, cfg[0], cfg[1], 2000)
		for _, d := range []Dir{ClientToServer, ServerToClient} {
			msgs = append(msgs, plaintextMessages(rec.stream(d))...)
		}
		streams = append(streams, [2][]byte{rec.stream(ClientToServer), rec.stream(ServerToClient)})
	}
	return msgs, streams
}

// ---- views of the record-layer state for comparisons ----

func protectedFrom(s *Session) [2]capture.Ref {
	return [2]capture.Ref{s.Dirs[0].ProtectedFrom, s.Dirs[1].ProtectedFrom}
}

// skeGroup returns the group of the server's ServerKeyExchange, 0 if none.
func skeGroup(s *Session) uint16 {
	if m := s.Message(ServerToClient, TypeServerKeyExchange); m != nil {
		if ske, ok := m.Value.(*ServerKeyExchange); ok {
			return ske.Group
		}
	}
	return 0
}

// logSummary renders the message log without the parsed values (whose
// pointers differ between runs): sender, type, length, packet, error.
func logSummary(s *Session) string {
	var b strings.Builder
	for _, m := range s.Messages() {
		fmt.Fprintf(&b, "[%v %s %d %v p=%v err=%v]", m.From, HandshakeTypeName(m.Type), m.Length, m.At, m.Protected, m.Err)
	}
	return b.String()
}
