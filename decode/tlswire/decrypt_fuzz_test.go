package tlswire

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/modsniff/modsniff/capture"
)

// fuzzCipher builds a record cipher of one of eight kinds from fuzz bytes.
func fuzzCipher(kind uint8, key []byte) *recordCipher {
	material := func(n int) []byte {
		out := make([]byte, n)
		for i := range out {
			if len(key) > 0 {
				out[i] = key[i%len(key)] + byte(i)
			}
		}
		return out
	}
	switch kind % 8 {
	case 0, 1, 2:
		s, _ := suiteFor(0x1301+uint16(kind%8), VersionTLS13)
		rc, err := newTLS13Cipher(s, material(s.hash.Size()))
		if err != nil {
			panic(err)
		}
		return rc
	}
	id := map[uint8]uint16{
		3: tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 4: tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		5: tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, 6: tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, 7: tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
	}[kind%8]
	version := VersionTLS12
	if kind%8 == 7 {
		version = VersionTLS10
	}
	s, err := suiteFor(id, version)
	if err != nil {
		panic(err)
	}
	rc, err := newTLS12Cipher(s, version, kind&0x80 != 0, material(s.macLen), material(s.keyLen), material(s.ivLen))
	if err != nil {
		panic(err)
	}
	return rc
}

// FuzzRecordOpen opens random records with keys made from random bytes,
// for every kind of protection: nothing may panic, and a plaintext must lie
// within its record.
func FuzzRecordOpen(f *testing.F) {
	s, _ := suiteFor(0x1301, VersionTLS13)
	x := newSealer(f, s, bytes.Repeat([]byte{1}, 32))
	rec := x.seal(ContentHandshake, []byte("hello"), 3)
	f.Add(uint8(0), []byte{1}, rec[:5], rec[5:])
	f.Add(uint8(5), []byte("key"), []byte{23, 3, 3, 0, 64}, bytes.Repeat([]byte{7}, 64))
	f.Add(uint8(0x85), []byte("key"), []byte{21, 3, 3, 0, 48}, bytes.Repeat([]byte{7}, 48))
	f.Add(uint8(3), []byte{}, []byte{23, 3, 3, 0, 0}, []byte{})
	f.Fuzz(func(t *testing.T, kind uint8, key, hdr, body []byte) {
		if len(hdr) < 5 || len(body) > MaxRecordLength {
			return
		}
		rc := fuzzCipher(kind, key)
		for i := 0; i < 3 && len(body) > 0; i++ {
			b := bytes.Clone(body)
			if _, pt, err := rc.open(hdr[:5], b); err == nil && len(pt) > 0 {
				if off, ok := ptOffset(b, pt); !ok || off+len(pt) > len(b) {
					t.Fatalf("plaintext outside its record")
				}
			}
			body = body[1:]
		}
	})
}

// ptOffset is the offset of pt inside b, if pt aliases b.
func ptOffset(b, pt []byte) (int, bool) {
	for i := range b {
		if &b[i] == &pt[0] {
			return i, true
		}
	}
	return 0, false
}

// FuzzConnKeys feeds real sessions, mutated, to a Conn with their keys.
// The input carries its own key log (a 16-bit length, the lines, then a
// FuzzConn program), so saved inputs stay meaningful across runs.
func FuzzConnKeys(f *testing.F) {
	p := getPKI(f)
	for _, cfg := range []struct {
		max   uint16
		suite uint16
		hrr   bool
	}{{tls.VersionTLS13, 0, false}, {tls.VersionTLS13, 0, true}, {tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, false},
		{tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, false}, {tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, false}} {
		kl := &syncBuffer{}
		ccfg := goClientConfig(p)
		ccfg.KeyLogWriter = kl
		scfg := serverConfig(p)
		scfg.MaxVersion = cfg.max
		if cfg.suite != 0 {
			ccfg.CipherSuites = []uint16{cfg.suite}
			scfg.CipherSuites = []uint16{cfg.suite}
		}
		if cfg.hrr {
			ccfg.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
			scfg.CurvePreferences = []tls.CurveID{tls.CurveP256}
		}
		rec, _, _ := handshake(f, ccfg, scfg, 3000)
		keys := kl.Bytes()
		in := binary.BigEndian.AppendUint16(nil, uint16(len(keys)))
		f.Add(append(append(in, keys...), encodeFeeds([2][]byte{rec.stream(ClientToServer), rec.stream(ServerToClient)})...))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 2 {
			return
		}
		n := min(int(binary.BigEndian.Uint16(in)), len(in)-2)
		keys, prog := in[2:2+n], in[2+n:]
		kl := capture.NewKeyLog()
		kl.Read(bytes.NewReader(keys), "fuzz")
		var app [2]int
		c := NewConn(ConnOptions{Certs: NewCertCache(8), Keys: kl, MaxAppData: 4096, Buffers: NewRecordBuffers(1 << 20),
			AppData: func(dir Dir, data []byte, at capture.Ref) { app[dir] += len(data) }})
		runFeeds(c, prog)
		s := c.Session()
		if app[0] > 4096 || app[1] > 4096 {
			t.Fatalf("application data %v beyond the budget", app)
		}
		for d := range 2 {
			if s.DecryptedRecords(Dir(d)) > s.EncryptedCount[d] {
				t.Fatalf("decrypted %v of %v records", [2]int32{s.DecryptedRecords(0), s.DecryptedRecords(1)}, s.EncryptedCount)
			}
		}
		if len(s.Notes()) > maxNotes || len(s.Errors()) > maxNotes || len(s.Alerts) > maxAlerts || len(s.Messages()) > maxMessages+8 {
			t.Fatal("unbounded session lists")
		}
		if c.opt.Buffers.used != 0 {
			t.Fatalf("%d buffer bytes still lent after Finish", c.opt.Buffers.used)
		}
	})
}

// benchRecord seals one 16 KiB application_data record for a cipher kind
// at sequence number 0 and returns the cipher that opens it.
func benchRecord(b *testing.B, name string) (rc *recordCipher, hdr, body []byte) {
	plain := bytes.Repeat([]byte("GET /golang.org/x/net/@v/list "), 1<<14/30)
	key, iv, mac := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 16), bytes.Repeat([]byte{3}, 20)
	switch name {
	case "TLS13-AES-128-GCM", "TLS13-AES-256-GCM", "TLS13-CHACHA20-POLY1305":
		id := map[string]uint16{"TLS13-AES-128-GCM": 0x1301, "TLS13-AES-256-GCM": 0x1302, "TLS13-CHACHA20-POLY1305": 0x1303}[name]
		s, _ := suiteFor(id, VersionTLS13)
		secret := bytes.Repeat([]byte{9}, s.hash.Size())
		rec := newSealer(b, s, secret).seal(ContentApplicationData, plain, 0)
		rc, _ = newTLS13Cipher(s, secret)
		return rc, rec[:5], rec[5:]
	case "TLS12-AES-128-GCM", "TLS12-CHACHA20-POLY1305":
		id := uint16(tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
		if name == "TLS12-CHACHA20-POLY1305" {
			id = tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
		}
		s, _ := suiteFor(id, VersionTLS12)
		rc, _ = newTLS12Cipher(s, VersionTLS12, false, nil, key[:s.keyLen], iv[:s.ivLen])
		seal, _ := newTLS12Cipher(s, VersionTLS12, false, nil, key[:s.keyLen], iv[:s.ivLen])
		n := len(plain) + seal.aead.Overhead()
		explicit := []byte{}
		if s.prot == protGCM12 {
			explicit = make([]byte, 8)
			n += 8
			copy(seal.nonce[:4], seal.iv[:4])
		} else {
			seal.seqNonce()
		}
		hdr = []byte{ContentApplicationData, 3, 3, byte(n >> 8), byte(n)}
		seal.additional(hdr, len(plain))
		body = append(explicit, seal.aead.Seal(nil, seal.nonce[:], plain, seal.aad[:])...)
		return rc, hdr, body
	case "TLS12-AES-128-CBC-SHA":
		s, _ := suiteFor(tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, VersionTLS12)
		rc, _ = newTLS12Cipher(s, VersionTLS12, false, mac, key[:16], iv)
		hdr, body = sealCBC(key[:16], mac, iv, VersionTLS12, false)(0, ContentApplicationData, plain)
		return rc, hdr, body
	}
	b.Fatalf("unknown %s", name)
	return nil, nil, nil
}

// BenchmarkRecordOpen measures raw record decryption, per cipher.
func BenchmarkRecordOpen(b *testing.B) {
	for _, name := range []string{"TLS13-AES-128-GCM", "TLS13-AES-256-GCM", "TLS13-CHACHA20-POLY1305",
		"TLS12-AES-128-GCM", "TLS12-CHACHA20-POLY1305", "TLS12-AES-128-CBC-SHA"} {
		b.Run(name, func(b *testing.B) {
			rc, hdr, body := benchRecord(b, name)
			buf := make([]byte, len(body))
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				copy(buf, body)
				rc.seq = 0
				if _, _, err := rc.open(hdr, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkConnDecrypt measures a Conn decrypting a TLS 1.3 server's
// application data fed in 1460-byte segments: record reassembly, buffer,
// AEAD and hand-off, per suite.
func BenchmarkConnDecrypt(b *testing.B) {
	for _, id := range []uint16{0x1301, 0x1302, 0x1303} {
		b.Run(CipherSuiteName(id), func(b *testing.B) {
			s, _ := suiteFor(id, VersionTLS13)
			secret := func(x byte) []byte { return bytes.Repeat([]byte{x}, s.hash.Size()) }
			var random [32]byte
			kl := capture.NewKeyLog()
			kl.Read(bytes.NewReader([]byte(fmt.Sprintf("SERVER_HANDSHAKE_TRAFFIC_SECRET %x %x\nSERVER_TRAFFIC_SECRET_0 %x %x\n",
				random, secret(1), random, secret(2)))), "bench")
			hello := bytes.Clone(browserHello)
			copy(hello[2:34], random[:])
			sh := bytes.Clone(serverHello13)
			binary.BigEndian.PutUint16(sh[2+32+1+32:], id)
			hs, app := newSealer(b, s, secret(1)), newSealer(b, s, secret(2))
			flight := cat(record(ContentHandshake, msg(TypeServerHello, sh)),
				hs.seal(ContentHandshake, msg(TypeEncryptedExtensions, vec16()), 0),
				hs.seal(ContentHandshake, msg(TypeFinished, make([]byte, s.hash.Size())), 0))
			chunk := bytes.Repeat([]byte("x"), 1<<14-1)
			var data []byte
			for len(data) < 1<<20 {
				data = append(data, app.seal(ContentApplicationData, chunk, 0)...)
			}
			clientHello := record(ContentHandshake, msg(TypeClientHello, hello))
			got := 0
			opt := ConnOptions{Keys: kl, MaxAppData: 1 << 40, AppData: func(dir Dir, p []byte, at capture.Ref) { got += len(p) }}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				c := NewConn(opt)
				c.Feed(ClientToServer, clientHello, ref(1))
				c.Feed(ServerToClient, flight, ref(2))
				for off := 0; off < len(data); off += 1460 {
					c.Feed(ServerToClient, data[off:min(off+1460, len(data))], ref(3))
				}
				if s := c.Session(); s.DecryptedRecords(1) != s.EncryptedCount[1] || len(s.Errors()) != 0 {
					b.Fatalf("decrypted %v of %v: %q", [2]int32{s.DecryptedRecords(0), s.DecryptedRecords(1)}, s.EncryptedCount, s.Errors())
				}
			}
		})
	}
}
