package tlswire

// Decryption of real crypto/tls sessions with the key log their client
// wrote (tls.Config.KeyLogWriter), fed in every chunk pattern.

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modsniff/modsniff/capture"
)

// syncBuffer is a key log writer both ends may write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

func keyLogOf(t testing.TB, lines []byte) *capture.KeyLog {
	t.Helper()
	kl := capture.NewKeyLog()
	bad, err := kl.Read(bytes.NewReader(lines), "test")
	if err != nil || len(bad) != 0 {
		t.Fatalf("key log: %v %v", err, bad)
	}
	return kl
}

// decrypted is what a Conn with keys produced.
type decrypted struct {
	c   *Conn
	app [2][]byte
}

// feedKeys feeds a recording to a Conn with keys, cutting packets as
// pattern says, and collects the application data.
func feedKeys(rec *recorder, pattern []int, keys KeySource, opt ConnOptions) *decrypted {
	d := &decrypted{}
	opt.Keys = keys
	opt.AppData = func(dir Dir, data []byte, at capture.Ref) { d.app[dir] = append(d.app[dir], data...) }
	d.c = NewConn(opt)
	feedChunks(d.c, rec, pattern)
	return d
}

// decryptAllPatterns decodes the recording with keys in every chunk
// pattern, checks that they agree, and returns the whole-packet result.
func decryptAllPatterns(t *testing.T, rec *recorder, keys KeySource) *decrypted {
	t.Helper()
	var want string
	var first *decrypted
	for _, name := range []string{"whole", "bytes", "odd", "header"} {
		d := feedKeys(rec, chunkPatterns[name], keys, ConnOptions{Certs: NewCertCache(0)})
		s := d.c.Session()
		got := summary(s) + fmt.Sprintf(" dec=%v/%v keys=%v ee=%+v app=%x/%x", s.Decrypted, [2]int32{s.DecryptedRecords(0), s.DecryptedRecords(1)}, s.Keys,
			s.EncryptedExtensions(), sha(d.app[0]), sha(d.app[1]))
		if first == nil {
			want, first = got, d
			continue
		}
		if got != want {
			t.Errorf("feeding in %q chunks changes the result:\n got %s\nwant %s", name, got, want)
		}
	}
	return first
}

func sha(b []byte) []byte {
	return []byte(fmt.Sprintf("%d:%x", len(b), b[:min(len(b), 8)]))
}

// request is what the handshake helper's client sends.
const request = "GET /golang.org/x/crypto/@v/list HTTP/1.1\r\n\r\n"

// checkDecrypted checks what every successful session decrypts to.
func checkDecrypted(t *testing.T, d *decrypted, p *testPKI, respLen int) {
	t.Helper()
	s := d.c.Session()
	if !s.Decrypted || s.Keys != KeysFound || len(s.Errors()) != 0 || len(s.Notes()) != 0 {
		t.Errorf("decrypted %v keys %v errors %q notes %q", s.Decrypted, s.Keys, s.Errors(), s.Notes())
	}
	if s.ServerALPN() != "h2" {
		t.Errorf("server ALPN %q", s.ServerALPN())
	}
	m := s.Certificates
	if m == nil || len(m.Certificates) != 2 || m.Certificates[0].Subject != p.leafName || m.Certificates[1].Subject != p.interName {
		t.Fatalf("certificates %+v", m)
	}
	if string(d.app[0]) != request {
		t.Errorf("client application data %q", d.app[0])
	}
	if len(d.app[1]) != respLen {
		t.Errorf("server application data: %d bytes, want %d", len(d.app[1]), respLen)
	}
	var fin [2]bool
	for _, h := range s.Messages() {
		if h.Type == TypeFinished {
			fin[h.From] = true
		}
	}
	if fin != [2]bool{true, true} || !s.FinishedSeen(0) || !s.FinishedSeen(1) || s.Dirs[0].FinishedInferred || s.Dirs[1].FinishedInferred {
		t.Errorf("Finished seen: %v (handshakes %v, state %+v)", fin, logSummary(s), s.Dirs)
	}
	// The request was decrypted: the client's application data is read,
	// not inferred.
	if c := s.Dirs[0]; c.AppData.IsZero() || c.AppDataInferred || !s.ClientSentAppData() {
		t.Errorf("client application data %+v", c)
	}
}

func TestDecryptTLS13(t *testing.T) {
	p := getPKI(t)
	kl := &syncBuffer{}
	ccfg := goClientConfig(p)
	ccfg.KeyLogWriter = kl
	rec, cerr, serr := handshake(t, ccfg, serverConfig(p), 70000)
	if cerr != nil || serr != nil {
		t.Fatalf("handshake: client %v, server %v", cerr, serr)
	}
	d := decryptAllPatterns(t, rec, keyLogOf(t, kl.Bytes()))
	checkDecrypted(t, d, p, 70000)
	s := d.c.Session()
	if !s.Certificates.TLS13 || s.EncryptedExtensions() == nil || s.EncryptedExtensionsAt().IsZero() || s.CertificatesAt.IsZero() {
		t.Errorf("TLS 1.3 messages: certs %+v ee %v at %v", s.Certificates, s.EncryptedExtensions(), s.EncryptedExtensionsAt())
	}
	var cv bool
	for _, h := range s.Messages() {
		cv = cv || h.Type == TypeCertificateVerify && h.From == ServerToClient && h.Protected
	}
	if !cv {
		t.Errorf("no CertificateVerify in %v", logSummary(s))
	}
	if s.DecryptedRecords(0) != s.EncryptedCount[0] || s.DecryptedRecords(1) != s.EncryptedCount[1] {
		t.Errorf("decrypted %v of %v records", [2]int32{s.DecryptedRecords(0), s.DecryptedRecords(1)}, s.EncryptedCount)
	}
}

// TestDecryptTLS13ChaCha20 runs the session in a child process with
// GODEBUG=cpu.aes=off: crypto/tls then believes the CPU has no AES
// instructions, the client lists TLS_CHACHA20_POLY1305_SHA256 first and the
// server follows it (TLS 1.3 suites cannot be chosen in tls.Config).
func TestDecryptTLS13ChaCha20(t *testing.T) {
	if os.Getenv("MODSNIFF_CHACHA_CHILD") != "" {
		return // the child's work is in TestChaChaChild
	}
	out := t.TempDir() + "/rec"
	cmd := exec.Command(os.Args[0], "-test.run=^TestChaChaChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GODEBUG=cpu.aes=off", "MODSNIFF_CHACHA_CHILD="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rec, keylog := decodeRecording(t, raw)
	d := decryptAllPatterns(t, rec, keyLogOf(t, keylog))
	if sh := d.c.Session().ServerHello; sh == nil || sh.CipherSuite != tls.TLS_CHACHA20_POLY1305_SHA256 {
		t.Fatalf("server hello %+v: the child did not negotiate ChaCha20", sh)
	}
	checkDecrypted(t, d, getPKI(t), 30000)
}

// TestChaChaChild is the child of TestDecryptTLS13ChaCha20: it records a
// session and writes it with its key log to the file the parent named.
func TestChaChaChild(t *testing.T) {
	out := os.Getenv("MODSNIFF_CHACHA_CHILD")
	if out == "" {
		t.Skip("run by TestDecryptTLS13ChaCha20")
	}
	// The child has its own PKI; the parent only checks names, which match.
	p := getPKI(t)
	kl := &syncBuffer{}
	ccfg := goClientConfig(p)
	ccfg.KeyLogWriter = kl
	rec, cerr, serr := handshake(t, ccfg, serverConfig(p), 30000)
	if cerr != nil || serr != nil {
		t.Fatalf("handshake: client %v, server %v", cerr, serr)
	}
	if err := os.WriteFile(out, encodeRecording(rec, kl.Bytes()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// encodeRecording serializes a recording and a key log: the key log's
// length, the key log, then per chunk its direction and length.
func encodeRecording(rec *recorder, keylog []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(keylog)))
	b = append(b, keylog...)
	for _, c := range rec.chunks {
		b = append(b, byte(c.dir))
		b = binary.BigEndian.AppendUint32(b, uint32(len(c.data)))
		b = append(b, c.data...)
	}
	return b
}

func decodeRecording(t *testing.T, b []byte) (*recorder, []byte) {
	n := int(binary.BigEndian.Uint32(b))
	keylog, b := b[4:4+n], b[4+n:]
	rec := &recorder{}
	for len(b) > 0 {
		n := int(binary.BigEndian.Uint32(b[1:]))
		rec.chunks = append(rec.chunks, chunk{Dir(b[0]), b[5 : 5+n]})
		b = b[5+n:]
	}
	return rec, keylog
}

func TestDecryptTLS12(t *testing.T) {
	p := getPKI(t)
	for _, tc := range []struct {
		suite uint16
		rsa   bool
		max   uint16
	}{
		{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, false, tls.VersionTLS12},
		{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, true, tls.VersionTLS12},
		{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, false, tls.VersionTLS12},
		{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, true, tls.VersionTLS12},
		{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, false, tls.VersionTLS12},
		{tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, true, tls.VersionTLS12},
		{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, false, tls.VersionTLS12},
		{tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, true, tls.VersionTLS12},
		{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, false, tls.VersionTLS11},
		{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, false, tls.VersionTLS10},
	} {
		t.Run(fmt.Sprintf("%s/%s", tls.VersionName(tc.max), tls.CipherSuiteName(tc.suite)), func(t *testing.T) {
			kl := &syncBuffer{}
			ccfg := goClientConfig(p)
			ccfg.KeyLogWriter = kl
			ccfg.MinVersion, ccfg.MaxVersion = tc.max, tc.max
			ccfg.CipherSuites = []uint16{tc.suite}
			scfg := serverConfig(p)
			scfg.MinVersion, scfg.MaxVersion = tc.max, tc.max
			scfg.CipherSuites = []uint16{tc.suite}
			if tc.rsa {
				scfg.Certificates = []tls.Certificate{p.rsaChain}
			}
			rec, cerr, serr := handshake(t, ccfg, scfg, 40000)
			if cerr != nil || serr != nil {
				t.Skipf("crypto/tls does not negotiate this (client %v, server %v)", cerr, serr)
			}
			d := decryptAllPatterns(t, rec, keyLogOf(t, kl.Bytes()))
			s := d.c.Session()
			if s.ServerHello.CipherSuite != tc.suite || s.Version() != tc.max {
				t.Fatalf("negotiated %x %x", s.Version(), s.ServerHello.CipherSuite)
			}
			checkDecrypted(t, d, p, 40000)
			// Both close with a close_notify, now readable.
			var notify int
			for _, a := range s.Alerts {
				if a.Encrypted && a.Known() && a.Name() == "close_notify" && a.Level == AlertLevelWarning {
					notify++
				}
			}
			if notify == 0 {
				t.Errorf("alerts %v", s.Alerts)
			}
		})
	}
}

// The client rejects the certificate: its bad_certificate alert, encrypted
// under its handshake keys in TLS 1.3, is read.
func TestDecryptClientRejects(t *testing.T) {
	p := getPKI(t)
	for _, max := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		t.Run(tls.VersionName(max), func(t *testing.T) {
			kl := &syncBuffer{}
			ccfg := goClientConfig(p)
			ccfg.RootCAs = x509.NewCertPool()
			ccfg.KeyLogWriter = kl
			scfg := serverConfig(p)
			scfg.MaxVersion = max
			rec, cerr, _ := handshake(t, ccfg, scfg, 1)
			if cerr == nil {
				t.Fatal("client accepted an unknown CA")
			}
			d := decryptAllPatterns(t, rec, keyLogOf(t, kl.Bytes()))
			s := d.c.Session()
			var found bool
			for _, a := range s.Alerts {
				if a.From == ClientToServer && a.Fatal() && a.Name() == "bad_certificate" {
					found = a.Encrypted == (max == tls.VersionTLS13)
				}
			}
			if !found {
				t.Errorf("alerts %v: want the client's fatal bad_certificate (encrypted in TLS 1.3)", s.Alerts)
			}
			if s.Certificates == nil || s.Certificates.Certificates[0].Subject != p.leafName {
				t.Errorf("certificates %+v", s.Certificates)
			}
			if max == tls.VersionTLS13 && (!s.Decrypted || s.ServerALPN() != "h2" || len(s.Errors()) != 0) {
				t.Errorf("decrypted %v alpn %q errors %q notes %q", s.Decrypted, s.ServerALPN(), s.Errors(), s.Notes())
			}
		})
	}
}

// A HelloRetryRequest: the client's first key share is for a group the
// server does not accept. Keys apply after the real ServerHello.
func TestDecryptHelloRetryRequest(t *testing.T) {
	p := getPKI(t)
	kl := &syncBuffer{}
	ccfg := goClientConfig(p)
	ccfg.KeyLogWriter = kl
	ccfg.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
	scfg := serverConfig(p)
	scfg.CurvePreferences = []tls.CurveID{tls.CurveP256}
	rec, cerr, serr := handshake(t, ccfg, scfg, 5000)
	if cerr != nil || serr != nil {
		t.Fatalf("handshake: client %v, server %v", cerr, serr)
	}
	d := decryptAllPatterns(t, rec, keyLogOf(t, kl.Bytes()))
	if s := d.c.Session(); s.HelloRetry() == nil || s.SecondClientHello() == nil {
		t.Fatalf("no HelloRetryRequest: %+v", s.HelloRetry())
	}
	checkDecrypted(t, d, p, 5000)
}

// Wrong and missing keys are reported and decoding goes on as without keys.
func TestDecryptWrongKeys(t *testing.T) {
	p := getPKI(t)
	record := func(max uint16) (*recorder, []byte) {
		kl := &syncBuffer{}
		ccfg := goClientConfig(p)
		ccfg.KeyLogWriter = kl
		scfg := serverConfig(p)
		scfg.MaxVersion = max
		rec, cerr, serr := handshake(t, ccfg, scfg, 3000)
		if cerr != nil || serr != nil {
			t.Fatalf("handshake: client %v, server %v", cerr, serr)
		}
		return rec, kl.Bytes()
	}
	for _, max := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		rec, keys := record(max)
		_, other := record(max)
		without := feedPattern(rec, nil, NewCertCache(0)).Session()
		corrupt := bytes.Clone(keys)
		// Flip a digit of every secret (the last hex digit before each newline).
		for i := range corrupt {
			if i+1 < len(corrupt) && corrupt[i+1] == '\n' {
				corrupt[i] = "1032547698badcfe"[strings.IndexByte("0123456789abcdef", corrupt[i])]
			}
		}
		for _, tc := range []struct {
			name  string
			keys  []byte
			state KeyState
			msg   string
		}{
			{"another session's keys", other, KeysMissing, "no keys for this session"},
			{"corrupted secrets", corrupt, KeysWrong, "do not decrypt its records (bad record MAC)"},
			// An empty key log is no key log: nothing to say about it.
			{"an empty key log", nil, KeysNotWanted, ""},
		} {
			t.Run(tls.VersionName(max)+"/"+tc.name, func(t *testing.T) {
				d := feedKeys(rec, nil, keyLogOf(t, tc.keys), ConnOptions{})
				s := d.c.Session()
				if s.Keys != tc.state || s.Decrypted || s.EncryptedExtensions() != nil {
					t.Errorf("keys %v decrypted %v ee %v", s.Keys, s.Decrypted, s.EncryptedExtensions())
				}
				all := strings.Join(append(slices.Clone(s.Notes()), s.Errors()...), "\n")
				if !strings.Contains(all, tc.msg) || tc.msg == "" && all != "" {
					t.Errorf("notes %q errors %q: want %q", s.Notes(), s.Errors(), tc.msg)
				}
				if len(d.app[0])+len(d.app[1]) != 0 {
					t.Errorf("application data from wrong keys")
				}
				// Everything else is as without keys.
				if s.EncryptedCount != without.EncryptedCount || s.FirstAppDataLength != without.FirstAppDataLength ||
					len(s.Alerts) != len(without.Alerts) || s.Lost != without.Lost || (s.Certificates == nil) != (without.Certificates == nil) {
					t.Errorf("with wrong keys: %s\nwithout keys: %s", summary(s), summary(without))
				}
			})
		}
	}
}

// The application-data budget: past it records are skipped, except small
// TLS 1.3 records (the close_notify at the end).
func TestDecryptAppDataBudget(t *testing.T) {
	p := getPKI(t)
	kl := &syncBuffer{}
	ccfg := goClientConfig(p)
	ccfg.KeyLogWriter = kl
	rec, cerr, serr := handshake(t, ccfg, serverConfig(p), 100000)
	if cerr != nil || serr != nil {
		t.Fatalf("handshake: client %v, server %v", cerr, serr)
	}
	buffers := NewRecordBuffers(1 << 20)
	d := feedKeys(rec, chunkPatterns["odd"], keyLogOf(t, kl.Bytes()), ConnOptions{MaxAppData: 20000, Buffers: buffers})
	s := d.c.Session()
	if len(d.app[1]) != 20000 || string(d.app[0]) != request {
		t.Errorf("application data %d/%d bytes", len(d.app[0]), len(d.app[1]))
	}
	if s.DecryptedRecords(1) >= s.EncryptedCount[1] || len(s.Errors()) != 0 || len(s.Notes()) != 0 {
		t.Errorf("decrypted %v of %v; errors %q notes %q", [2]int32{s.DecryptedRecords(0), s.DecryptedRecords(1)}, s.EncryptedCount, s.Errors(), s.Notes())
	}
	if buffers.used != 0 || buffers.Refused() != 0 {
		t.Errorf("buffers: %d bytes still lent, %d refused", buffers.used, buffers.Refused())
	}
	// A pool too small for one record: nothing decrypted, noted.
	d = feedKeys(rec, nil, keyLogOf(t, kl.Bytes()), ConnOptions{Buffers: NewRecordBuffers(100)})
	if s := d.c.Session(); s.Decrypted || !strings.Contains(strings.Join(s.Notes(), "\n"), "buffer limit") {
		t.Errorf("decrypted %v notes %q", s.Decrypted, s.Notes())
	}
}

// ---- synthetic TLS 1.3 records: KeyUpdate and AES-256-GCM ----

// sealer protects TLS 1.3 records like a sender would.
type sealer struct {
	s      suite
	aead   cipher.AEAD
	iv     []byte
	seq    uint64
	secret []byte
}

func newSealer(t testing.TB, s suite, secret []byte) *sealer {
	key, iv := tls13Keys(s, secret)
	a, err := newAEAD(s.bulk, key)
	if err != nil {
		t.Fatal(err)
	}
	return &sealer{s: s, aead: a, iv: iv, secret: secret}
}

func (x *sealer) seal(typ uint8, content []byte, pad int) []byte {
	inner := append(append(bytes.Clone(content), typ), make([]byte, pad)...)
	n := len(inner) + x.aead.Overhead()
	hdr := []byte{ContentApplicationData, 3, 3, byte(n >> 8), byte(n)}
	nonce := bytes.Clone(x.iv)
	for i := range 8 {
		nonce[4+i] ^= byte(x.seq >> (56 - 8*i))
	}
	x.seq++
	return x.aead.Seal(hdr, nonce, inner, hdr)
}

func (x *sealer) update(t testing.TB) {
	*x = *newSealer(t, x.s, nextTrafficSecret(x.s, x.secret))
}

func TestDecryptSyntheticKeyUpdate(t *testing.T) {
	for _, id := range []uint16{0x1301, 0x1302, 0x1303} {
		t.Run(CipherSuiteName(id), func(t *testing.T) {
			s, err := suiteFor(id, VersionTLS13)
			if err != nil {
				t.Fatal(err)
			}
			secret := func(b byte) []byte { return bytes.Repeat([]byte{b}, s.hash.Size()) }
			var random [32]byte
			random[0] = 7
			kl := capture.NewKeyLog()
			lines := fmt.Sprintf("SERVER_HANDSHAKE_TRAFFIC_SECRET %x %x\nSERVER_TRAFFIC_SECRET_0 %x %x\n",
				random, secret(1), random, secret(2))
			if bad, _ := kl.Read(strings.NewReader(lines), "t"); len(bad) != 0 {
				t.Fatal(bad)
			}
			c := NewConn(ConnOptions{Keys: kl, AppData: func(dir Dir, data []byte, at capture.Ref) {}})
			hello := bytes.Clone(browserHello)
			copy(hello[2:34], random[:]) // legacy_version, then random
			c.Feed(ClientToServer, record(ContentHandshake, msg(TypeClientHello, hello)), ref(1))
			sh := bytes.Clone(serverHello13)
			binary.BigEndian.PutUint16(sh[2+32+1+32:], id) // version, random, session id (32), cipher suite
			c.Feed(ServerToClient, record(ContentHandshake, msg(TypeServerHello, sh)), ref(2))
			if got := c.Session().ServerHello.CipherSuite; got != id {
				t.Fatalf("test ServerHello has suite %x", got)
			}
			hs := newSealer(t, s, secret(1))
			app := newSealer(t, s, secret(2))
			ee := msg(TypeEncryptedExtensions, vec16(ext(0x0010, vec16(vec8([]byte("h2"))))))
			fin := msg(TypeFinished, make([]byte, s.hash.Size()))
			stream := cat(
				record(ContentChangeCipherSpec, hx("01")),
				hs.seal(ContentHandshake, ee, 10),
				hs.seal(ContentHandshake, fin, 0),
				app.seal(ContentApplicationData, []byte("before"), 0),
				app.seal(ContentHandshake, msg(TypeKeyUpdate, []byte{0}), 3),
			)
			app.update(t)
			stream = cat(stream, app.seal(ContentApplicationData, []byte("after"), 0), app.seal(ContentAlert, hx("0230"), 0))
			c.Feed(ServerToClient, stream, ref(3))
			c.Finish()
			se := c.Session()
			if !se.Decrypted || se.ServerALPN() != "h2" || se.DecryptedRecords(1) != 6 || len(se.Errors()) != 0 {
				t.Errorf("decrypted %v alpn %q records %v errors %q notes %q", se.Decrypted, se.ServerALPN(), [2]int32{se.DecryptedRecords(0), se.DecryptedRecords(1)}, se.Errors(), se.Notes())
			}
			if len(se.Alerts) != 1 || se.Alerts[0].Name() != "unknown_ca" || !se.Alerts[0].Encrypted {
				t.Errorf("alerts %v", se.Alerts)
			}
		})
	}
}

// AES-CBC records checked against an independent construction, with and
// without encrypt-then-MAC and for the TLS 1.0 chained IV.
func TestOpenCBC(t *testing.T) {
	s, err := suiteFor(tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, VersionTLS12)
	if err != nil {
		t.Fatal(err)
	}
	key, macKey, iv := bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 20), bytes.Repeat([]byte{3}, 16)
	for _, tc := range []struct {
		version uint16
		etm     bool
	}{{VersionTLS12, false}, {VersionTLS12, true}, {VersionTLS10, false}} {
		t.Run(fmt.Sprintf("%x/etm=%v", tc.version, tc.etm), func(t *testing.T) {
			rc, err := newTLS12Cipher(s, tc.version, tc.etm, macKey, key, iv)
			if err != nil {
				t.Fatal(err)
			}
			seal := sealCBC(key, macKey, iv, tc.version, tc.etm)
			for i, pt := range []string{"hello", "", strings.Repeat("x", 100)} {
				hdr, body := seal(uint64(i), ContentApplicationData, []byte(pt))
				typ, got, err := rc.open(hdr, body)
				if err != nil || typ != ContentApplicationData || string(got) != pt {
					t.Fatalf("record %d: %v %q %v", i, typ, got, err)
				}
			}
			hdr, body := seal(3, ContentAlert, hx("0100"))
			body[len(body)-1] ^= 1
			if _, _, err := rc.open(hdr, body); err == nil {
				t.Error("a damaged record opened")
			}
		})
	}
}

// sealCBC returns a function protecting records as RFC 5246 §6.2.3.2 (or
// RFC 7366) says, for TLS 1.0 chaining the IV.
func sealCBC(key, macKey, iv []byte, version uint16, etm bool) func(seq uint64, typ uint8, pt []byte) (hdr, body []byte) {
	block, _ := aes.NewCipher(key)
	next := bytes.Clone(iv)
	mac := func(seq uint64, hdr, data []byte) []byte {
		m := hmacSHA1(macKey)
		m.Write(binary.BigEndian.AppendUint64(nil, seq))
		m.Write(hdr[:3])
		m.Write(binary.BigEndian.AppendUint16(nil, uint16(len(data))))
		m.Write(data)
		return m.Sum(nil)
	}
	return func(seq uint64, typ uint8, pt []byte) ([]byte, []byte) {
		hdr := []byte{typ, byte(version >> 8), byte(version), 0, 0}
		data := bytes.Clone(pt)
		if !etm {
			data = append(data, mac(seq, hdr, pt)...)
		}
		pad := 16 - (len(data)+1)%16
		for range pad + 1 {
			data = append(data, byte(pad))
		}
		recIV := next
		if version >= VersionTLS11 {
			recIV = bytes.Repeat([]byte{byte(seq) + 9}, 16)
		}
		ct := make([]byte, len(data))
		cipher.NewCBCEncrypter(block, recIV).CryptBlocks(ct, data)
		body := ct
		if version >= VersionTLS11 {
			body = append(bytes.Clone(recIV), ct...)
		} else {
			next = bytes.Clone(ct[len(ct)-16:])
		}
		if etm {
			body = append(body, mac(seq, hdr, body)...)
		}
		binary.BigEndian.PutUint16(hdr[3:], uint16(len(body)))
		return hdr, body
	}
}

func TestHKDFExpandLabel(t *testing.T) {
	// RFC 8448 §3: the server handshake traffic secret of the simple 1-RTT
	// handshake and the write key and IV derived from it.
	secret, _ := hex.DecodeString("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
	s, _ := suiteFor(0x1301, VersionTLS13)
	key, iv := tls13Keys(s, secret)
	if hex.EncodeToString(key) != "3fce516009c21727d0f2e4e86ee403bc" || hex.EncodeToString(iv) != "5d313eb2671276ee13000b30" {
		t.Errorf("key %x iv %x", key, iv)
	}
}

func TestPRF12(t *testing.T) {
	// The TLS 1.2 PRF test vector with SHA-256 published on the IETF TLS
	// list (secret, label "test label", 100 bytes).
	secret, _ := hex.DecodeString("9bbe436ba940f017b17652849a71db35")
	seed, _ := hex.DecodeString("a0ba9f936cda311827a6f796ffd5198c")
	want := "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66"
	if got := hex.EncodeToString(prf(VersionTLS12, s256, secret, "test label", seed, 100)); got != want {
		t.Errorf("PRF\n got %s\nwant %s", got, want)
	}
}

var s256 = crypto.SHA256

func hmacSHA1(key []byte) hash.Hash { return hmac.New(sha1.New, key) }
