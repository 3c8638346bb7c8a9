package tlswire

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/modsniff/modsniff/capture/capturetest"
)

// seedMessages returns handshake messages (header included) from real
// crypto/tls handshakes and, when the corpus is present, from its captures;
// and recorded streams for FuzzConn.
func seedMessages(f *testing.F) (msgs [][]byte, streams [][2][]byte) {
	msgs, streams = realSeeds(f)
	if dir, ok := capturetest.FindCorpus(); ok {
		caps, _ := filepath.Glob(filepath.Join(dir, "*", "*.facts.json"))
		for _, c := range caps {
			res := decodeCapture(f, c[:len(c)-len(".facts.json")], nil)
			for _, tc := range res.conns {
				for d := range tc.raw {
					msgs = append(msgs, plaintextMessages(tc.raw[d])...)
				}
				if len(streams) < 40 && tc.conn.Session().ClientHello != nil {
					streams = append(streams, [2][]byte{cut(tc.raw[0], 8<<10), cut(tc.raw[1], 8<<10)})
				}
			}
		}
	}
	return msgs, streams
}

func cut(b []byte, n int) []byte { return b[:min(len(b), n)] }

func checkParseError(t *testing.T, err error) {
	var pe *ParseError
	if err != nil && !errors.As(err, &pe) {
		t.Fatalf("%T %v is not a *ParseError", err, err)
	}
}

func FuzzParseClientHello(f *testing.F) {
	f.Add(browserHello)
	f.Add(sslv2Hello[2:])
	msgs, _ := seedMessages(f)
	for _, m := range msgs {
		if m[0] == TypeClientHello {
			f.Add(m[4:])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ch, err := ParseClientHello(b)
		checkParseError(t, err)
		if err == nil && ch == nil {
			t.Fatal("nil hello without error")
		}
		if ch != nil {
			if len(ch.KeyShares) != len(ch.KeyShareGroups) || len(ch.Notes) > maxNotes || int(ch.Length) != len(b) {
				t.Fatalf("inconsistent hello %+v", ch)
			}
			for _, s := range []string{JA4(ch, 't'), JA4Raw(ch, 'q'), JA4Original(ch, 'd'), JA4RawOriginal(ch, 't')} {
				if len(s) < 10 {
					t.Fatalf("JA4 %q", s)
				}
			}
			// The hashed form is the raw form's prefix and the hashes of
			// its two lists, however long they are.
			if raw, hashed := JA4Raw(ch, 't'), JA4(ch, 't'); hashed != ja4OfRaw(raw) {
				t.Fatalf("JA4 %q is not the hash of JA4_r %q", hashed, raw)
			}
			ch.MaxVersion()
			// Interning changes nothing a reader sees but the session ID
			// it drops, however odd the hello, and a second equal hello
			// gets the first one's profile.
			in := NewInterner(8)
			first, _ := ParseClientHello(b)
			in.Hello(first)
			second, _ := ParseClientHello(b)
			in.Hello(second)
			if !reflect.DeepEqual(first, ch) || !reflect.DeepEqual(second, ch) {
				t.Fatalf("interned hello differs:\n%+v\n%+v", first, ch)
			}
			// So does the Interner's own parse, whose arrays are reused
			// from hello to hello: after another hello, and again.
			in = NewInterner(8)
			in.ParseClientHello(browserHello)
			for range 2 {
				got, gerr := in.ParseClientHello(b)
				if !reflect.DeepEqual(got, ch) || fmt.Sprint(gerr) != fmt.Sprint(err) {
					t.Fatalf("hello parsed by the Interner differs:\n%+v (%v)\n%+v (%v)", got, gerr, ch, err)
				}
			}
		}
		ch, err = ParseSSLv2ClientHello(b)
		checkParseError(t, err)
		if ch != nil {
			JA4(ch, 't')
		}
	})
}

func FuzzParseServerHello(f *testing.F) {
	for _, b := range [][]byte{serverHello12, serverHello13, helloRetry, serverHelloDraft18} {
		f.Add(b)
	}
	msgs, _ := seedMessages(f)
	for _, m := range msgs {
		if m[0] == TypeServerHello || m[0] == TypeEncryptedExtensions {
			f.Add(m[4:])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sh, err := ParseServerHello(b)
		checkParseError(t, err)
		if sh != nil {
			sh.Version()
			if len(sh.Notes) > maxNotes {
				t.Fatal("notes unbounded")
			}
			// Interning keeps everything a reader sees but the Random and
			// the session ID, and equal hellos share one value.
			in := NewInterner(8)
			first, _ := ParseServerHello(b)
			first = in.ServerHello(first)
			second, _ := ParseServerHello(b)
			second = in.ServerHello(second)
			want := *sh
			if len(sh.Notes) == 0 && len(sh.Extensions) <= maxProfileKey/2 {
				want.Random, want.SessionID = [32]byte{}, nil
				if first != second {
					t.Fatal("equal ServerHellos not shared")
				}
			}
			if !reflect.DeepEqual(*first, want) || !reflect.DeepEqual(*second, want) {
				t.Fatalf("interned ServerHello differs:\n%+v\n%+v", first, want)
			}
			// So does the Interner's own parse, whose array is reused from
			// hello to hello: after another hello, and again. A damaged
			// ServerHello is not shared.
			if err != nil {
				want = *sh
			}
			in = NewInterner(8)
			in.ParseServerHello(serverHello13)
			for range 2 {
				got, gerr := in.ParseServerHello(b)
				if got == nil || !reflect.DeepEqual(*got, want) || fmt.Sprint(gerr) != fmt.Sprint(err) {
					t.Fatalf("ServerHello parsed by the Interner differs:\n%+v (%v)\n%+v (%v)", got, gerr, want, err)
				}
			}
		}
		_, err = ParseEncryptedExtensions(b)
		checkParseError(t, err)
		_, err = ParseAlert(b)
		checkParseError(t, err)
	})
}

func FuzzParseCertificate(f *testing.F) {
	msgs, _ := seedMessages(f)
	for _, m := range msgs {
		if m[0] == TypeCertificate {
			f.Add(m[4:], false)
			// The same chain in the TLS 1.3 form.
			f.Add(append([]byte{0}, m[4:]...), true)
		}
	}
	f.Add(vec24(vec24(hx("3003020101"))), false)
	cache := NewCertCache(16)
	f.Fuzz(func(t *testing.T, b []byte, tls13 bool) {
		m, err := cache.ParseCertificate(b, tls13)
		checkParseError(t, err)
		if m == nil {
			t.Fatal("nil message")
		}
		for _, c := range m.Certificates {
			if (c.Info == nil) == (c.Err == nil) {
				t.Fatalf("certificate with both or neither of Info and Err: %+v", c)
			}
		}
		// Only a message that parsed without error is shared.
		again, err2 := cache.ParseCertificate(b, tls13)
		if (err == nil) != (err2 == nil) || (again == m) != (err == nil && len(b) <= defaultCertCacheBytes) {
			t.Fatalf("parsed again: %v then %v, shared %v", err, err2, again == m)
		}
		FormatName(b)
		if cache.Len() > 16 {
			t.Fatal("cache unbounded")
		}
	})
}

// FuzzConn feeds arbitrary bytes to both directions. The input is a program:
// a control byte c, then (c>>2)+1 bytes for direction c&1; c&2 with c>=0xf0
// declares a gap of the next byte's size instead.
func FuzzConn(f *testing.F) {
	_, streams := seedMessages(f)
	for _, s := range streams {
		f.Add(encodeFeeds(s))
	}
	f.Add(encodeFeeds([2][]byte{sslv2Hello, nil}))
	f.Fuzz(func(t *testing.T, prog []byte) {
		c := NewConn(ConnOptions{Certs: NewCertCache(8)})
		runFeeds(c, prog)
		s := c.Session()
		for d := range 2 {
			if n := s.AppDataAmongFirst[d]; n > 2 || int32(n) > s.EncryptedCount[d] || n == 0 && (!s.FirstAppDataAt[d].IsZero() || s.FirstAppDataLength[d] != 0) {
				t.Fatalf("application data records %d (at %v, %d bytes) / %d", n, s.FirstAppDataAt[d], s.FirstAppDataLength[d], s.EncryptedCount[d])
			}
		}
		if len(s.Notes()) > maxNotes || len(s.Errors()) > maxNotes || len(s.Alerts) > maxAlerts || len(s.Messages()) > maxMessages+8 {
			t.Fatal("unbounded session lists")
		}
		summary(s)
	})
}

// encodeFeeds turns two streams into a FuzzConn program, alternating
// directions in chunks of up to 64 bytes.
func encodeFeeds(s [2][]byte) []byte {
	var prog []byte
	for len(s[0])+len(s[1]) > 0 {
		for d := range 2 {
			n := min(len(s[d]), 64)
			if n == 0 {
				continue
			}
			prog = append(prog, byte((n-1)<<2|d))
			prog = append(prog, s[d][:n]...)
			s[d] = s[d][n:]
		}
	}
	return prog
}

// runFeeds plays a fuzz program on a Conn: each op byte chooses the
// direction (bit 0) and either a gap (0xf0 and up with bit 1: the next byte
// is its size plus one) or a Feed of the next (op>>2)+1 bytes, each in its
// own packet; then it finishes the Conn.
func runFeeds(c *Conn, prog []byte) {
	for pkt := 1; len(prog) > 0; pkt++ {
		op := prog[0]
		prog = prog[1:]
		dir := Dir(op & 1)
		if op >= 0xf0 && op&2 != 0 && len(prog) > 0 {
			c.Gap(dir, int64(prog[0])-1, ref(pkt))
			prog = prog[1:]
			continue
		}
		n := min(int(op>>2)+1, len(prog))
		c.Feed(dir, prog[:n], ref(pkt))
		prog = prog[n:]
	}
	c.Finish()
}

// ja4OfRaw hashes the two lists of a raw JA4 ("a_ciphers_exts[_sigs]") the
// way JA4 does.
func ja4OfRaw(raw string) string {
	a, rest, _ := strings.Cut(raw, "_")
	ciphers, exts, _ := strings.Cut(rest, "_")
	hash := func(list string) string {
		if list == "" {
			return "000000000000"
		}
		sum := sha256.Sum256([]byte(list))
		return hex.EncodeToString(sum[:6])
	}
	return a + "_" + hash(ciphers) + "_" + hash(exts)
}
