package tlswire

import (
	"bytes"
	"compress/zlib"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/modsniff/modsniff/decode/decodetest"
)

var certAlgorithms = []uint16{CertCompressionZlib, CertCompressionBrotli, CertCompressionZstd}

// tls13CertBody is the body of a TLS 1.3 Certificate message carrying the
// test chain (RFC 8446 §4.4.2: empty context, entries without extensions).
func tls13CertBody(t testing.TB) []byte {
	p := getPKI(t)
	return cat(vec8(), vec24(vec24(p.ecdsaChain.Certificate[0]), vec16(), vec24(p.inter.Raw), vec16()))
}

// compressedMsg is a hand-built CompressedCertificate body (RFC 8879 §4):
// algorithm, uncompressed_length as announced, compressed bytes.
func compressedMsg(alg uint16, announced int, comp []byte) []byte {
	return cat([]byte{byte(alg >> 8), byte(alg)}, []byte{byte(announced >> 16), byte(announced >> 8), byte(announced)}, vec24(comp))
}

func mustCompress(t testing.TB, alg uint16, b []byte) []byte {
	c, err := decodetest.Compress(alg, b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseCompressedCertificate(t *testing.T) {
	p := getPKI(t)
	body := tls13CertBody(t)
	for _, alg := range certAlgorithms {
		t.Run(CertCompressionName(alg), func(t *testing.T) {
			m, err := NewCertCache(0).ParseCompressedCertificate(compressedMsg(alg, len(body), mustCompress(t, alg, body)), true)
			if err != nil {
				t.Fatal(err)
			}
			if m.Algorithm != alg || m.UncompressedLength != len(body) || m.Certificate == nil || len(m.Certificate.Certificates) != 2 ||
				m.Certificate.Certificates[0].Subject != p.leafName || m.Certificate.Certificates[1].Subject != p.interName {
				t.Errorf("message %+v", m)
			}
		})
	}
}

// A decompression bomb, a length that lies either way, an announced length
// past the cap, an unknown algorithm and damaged streams are errors that
// name the field; none allocates more than the announced length.
func TestCompressedCertificateErrors(t *testing.T) {
	body := tls13CertBody(t)
	bomb := make([]byte, 1<<20) // a megabyte of zeros: a few hundred bytes compressed
	for _, alg := range certAlgorithms {
		comp := mustCompress(t, alg, body)
		for _, tc := range []struct {
			name string
			msg  []byte
			want string
		}{
			{"bomb", compressedMsg(alg, 1000, mustCompress(t, alg, bomb)), "more than the 1000 bytes announced"},
			{"announces less", compressedMsg(alg, len(body)-1, comp), "more than the"},
			{"announces more", compressedMsg(alg, len(body)+1, comp), "announced"},
			{"announces past the cap", compressedMsg(alg, MaxUncompressedCertificate+1, comp), "uncompressed_length: malformed: 65537 bytes exceeds the 65536-byte limit"},
			{"announces zero", compressedMsg(alg, 0, comp), "uncompressed_length: malformed: 0"},
			{"damaged stream", compressedMsg(alg, len(body), comp[:len(comp)/2]), "compressed_certificate_message: malformed"},
			{"empty stream", compressedMsg(alg, len(body), nil), "empty (at least 1 byte)"},
			{"trailing bytes", append(compressedMsg(alg, len(body), comp), 0), "trailing data"},
			{"truncated", compressedMsg(alg, len(body), comp)[:7], "compressed_certificate_message: truncated"},
		} {
			t.Run(CertCompressionName(alg)+"/"+tc.name, func(t *testing.T) {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				_, out, err := DecompressCertificate(tc.msg)
				runtime.ReadMemStats(&after)
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "tls: compressed certificate: ") {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				var pe *ParseError
				if !errors.As(err, &pe) || out != nil {
					t.Errorf("error %T, output %d bytes", err, len(out))
				}
				// The bomb inflates to a megabyte; what is allocated stays
				// below (the decoders' own tables included). Brotli's
				// decoder sizes its ring buffer from the metablock length
				// the stream declares, up to the window (at most 16 MiB by
				// RFC 7932): that is its bound, not the output's.
				limit := uint64(512 << 10)
				if alg == CertCompressionBrotli {
					limit = 2 << 20
				}
				if grew := after.TotalAlloc - before.TotalAlloc; tc.name == "bomb" && grew > limit {
					t.Errorf("decompressing the bomb allocated %d bytes", grew)
				}
			})
		}
	}
	if _, _, err := DecompressCertificate(compressedMsg(7, 10, []byte{1})); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown algorithm: %v", err)
	}
}

// A Conn takes a CompressedCertificate as the server's certificates; one
// that does not decompress is an error with its packet, and the session
// goes on.
func TestConnCompressedCertificate(t *testing.T) {
	body := tls13CertBody(t)
	p := getPKI(t)
	for _, tc := range []struct {
		name  string
		msg   []byte
		certs int
		err   string
	}{
		{"brotli", compressedMsg(CertCompressionBrotli, len(body), mustCompress(t, CertCompressionBrotli, body)), 2, ""},
		{"lying length", compressedMsg(CertCompressionZlib, len(body)+10, mustCompress(t, CertCompressionZlib, body)), 0,
			"#2 server: tls: compressed certificate: compressed_certificate_message: malformed: length differs from uncompressed_length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConn(ConnOptions{})
			c.Feed(ClientToServer, record(ContentHandshake, msg(TypeClientHello, browserHello)), ref(1))
			// A TLS 1.2 ServerHello keeps the flight in clear, so the
			// message can be fed without keys.
			c.Feed(ServerToClient, record(ContentHandshake, cat(msg(TypeServerHello, serverHello12), msg(TypeCompressedCertificate, tc.msg))), ref(2))
			c.Finish()
			s := c.Session()
			got := 0
			if s.Certificates != nil {
				got = len(s.Certificates.Certificates)
			}
			m := s.Message(ServerToClient, TypeCompressedCertificate)
			if got != tc.certs || m == nil || m.At != ref(2) {
				t.Fatalf("certificates %d, message %+v", got, m)
			}
			if tc.certs > 0 && (s.Certificates.Certificates[0].Subject != p.leafName || s.CertificatesAt != ref(2) ||
				s.CertCompression() == nil || s.CertCompression().Algorithm != CertCompressionBrotli) {
				t.Errorf("certificates %+v at %v", s.Certificates, s.CertificatesAt)
			}
			if tc.err != "" && (len(s.Errors()) != 1 || !strings.HasPrefix(s.Errors()[0], tc.err) || m.Err == nil ||
				len(s.MessageErrors()) != 1) {
				t.Errorf("errors %q, message error %v", s.Errors(), m.Err)
			}
		})
	}
}

// A real crypto/tls TLS 1.3 session, recorded with its key log, whose
// server Certificate is rewritten into a CompressedCertificate before it is
// sealed again: decrypted, it yields the whole chain, in every chunking.
func TestDecryptCompressedCertificate(t *testing.T) {
	p := getPKI(t)
	for _, alg := range certAlgorithms {
		t.Run(CertCompressionName(alg), func(t *testing.T) {
			kl := &syncBuffer{}
			ccfg := goClientConfig(p)
			ccfg.KeyLogWriter = kl
			rec, cerr, serr := handshake(t, ccfg, serverConfig(p), 3000)
			if cerr != nil || serr != nil {
				t.Fatalf("handshake: client %v, server %v", cerr, serr)
			}
			var server [][]byte
			var idx []int
			for i, ch := range rec.chunks {
				if ch.dir == ServerToClient {
					server = append(server, ch.data)
					idx = append(idx, i)
				}
			}
			if err := decodetest.CompressServerCertificate(rec.chunks[0].data, server, kl.Bytes(), alg); err != nil {
				t.Fatal(err)
			}
			for j, i := range idx {
				rec.chunks[i].data = server[j]
			}
			d := decryptAllPatterns(t, rec, keyLogOf(t, kl.Bytes()))
			checkDecrypted(t, d, p, 3000)
			s := d.c.Session()
			cc := s.CertCompression()
			if cc == nil || cc.Algorithm != alg || cc.Certificate != s.Certificates || s.Message(ServerToClient, TypeCertificate) != nil {
				t.Errorf("compressed certificate %+v; log %s", cc, logSummary(s))
			}
		})
	}
}

func TestClientHelloCertCompression(t *testing.T) {
	ch, err := ParseClientHello(clientHello(extSNI, ext(ExtCompressCertificate, vec8(hx("0002 0003")))))
	if err != nil || !bytesEqual16(ch.CertCompression, []uint16{CertCompressionBrotli, CertCompressionZstd}) {
		t.Errorf("algorithms %v, %v", ch.CertCompression, err)
	}
	// algorithms<2..2^8-2>: an empty list is malformed, the hello is kept.
	ch, err = ParseClientHello(clientHello(extSNI, ext(ExtCompressCertificate, vec8())))
	if err == nil || !strings.Contains(err.Error(), "extension 0x001b (compress_certificate): malformed") || ch == nil || ch.ServerName != "proxy.golang.org" {
		t.Errorf("hello %+v, %v", ch, err)
	}
}

func bytesEqual16(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzDecompressCertificate runs the decompressors over arbitrary streams
// and announced lengths: never a panic, never more output than announced.
func FuzzDecompressCertificate(f *testing.F) {
	body := tls13CertBody(f)
	bomb := make([]byte, 256<<10)
	for _, alg := range certAlgorithms {
		comp := mustCompress(f, alg, body)
		f.Add(compressedMsg(alg, len(body), comp))
		f.Add(compressedMsg(alg, len(body)-1, comp))                         // lies low
		f.Add(compressedMsg(alg, len(body)+1, comp))                         // lies high
		f.Add(compressedMsg(alg, 100, mustCompress(f, alg, bomb)))           // a bomb
		f.Add(compressedMsg(alg, MaxUncompressedCertificate+1, comp))        // past the cap
		f.Add(compressedMsg(alg, len(body), comp[:len(comp)-3]))             // cut short
		f.Add(compressedMsg(alg, len(body), bytes.Repeat([]byte{0xff}, 40))) // garbage
	}
	// Raw streams from the libraries' writers, with headers the helpers
	// above do not make: a zlib stream with a preset dictionary flag, a
	// brotli stream with a large window, a zstd frame with a checksum.
	f.Add(compressedMsg(CertCompressionZlib, 10, hx("78bb 00000000 0300")))
	var bw bytes.Buffer
	w := brotli.NewWriterOptions(&bw, brotli.WriterOptions{Quality: 1, LGWin: 24})
	w.Write(bomb)
	w.Close()
	f.Add(compressedMsg(CertCompressionBrotli, 1000, bw.Bytes()))
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderCRC(true), zstd.WithWindowSize(8<<20))
	f.Add(compressedMsg(CertCompressionZstd, 1000, enc.EncodeAll(bomb, nil)))
	enc.Close()
	var zw bytes.Buffer
	z := zlib.NewWriter(&zw)
	z.Write(bomb)
	z.Close()
	f.Add(compressedMsg(CertCompressionZlib, 1000, zw.Bytes()))
	cache := NewCertCache(16)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, out, err := DecompressCertificate(b)
		checkParseError(t, err)
		if err == nil && (m == nil || len(out) != m.UncompressedLength || len(out) > MaxUncompressedCertificate) {
			t.Fatalf("output of %d bytes for %+v", len(out), m)
		}
		if err != nil && out != nil {
			t.Fatal("output with an error")
		}
		cm, err := cache.ParseCompressedCertificate(b, true)
		checkParseError(t, err)
		if cm != nil && cm.Certificate != nil && err == nil && len(cm.Certificate.Certificates) > MaxUncompressedCertificate/3 {
			t.Fatal("more certificates than bytes")
		}
	})
}
