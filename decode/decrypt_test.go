package decode_test

// Real crypto/tls and net/http sessions, recorded, turned into packets and
// decoded by the whole decoder with the key log the client wrote.

import (
	"bytes"
	"crypto/tls"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/decodetest"
	"github.com/modsniff/modsniff/decode/pipeline"
	"github.com/modsniff/modsniff/decode/tlswire"
)

var (
	testPKIOnce sync.Once
	testPKI     *decodetest.PKI
)

func pki(t testing.TB) *decodetest.PKI {
	testPKIOnce.Do(func() {
		p, err := decodetest.NewPKI(pkix.Name{CommonName: "mitmproxy", Organization: []string{"mitmproxy"}}, "proxy.golang.org", "sum.golang.org")
		if err != nil {
			t.Fatal(err)
		}
		testPKI = p
	})
	return testPKI
}

// decodeRecording turns a recording into packets and decodes them with
// the given key log (nil: no keys).
func decodeRecording(t testing.TB, rec *decodetest.Recorder, keylog []byte) *decode.Events {
	t.Helper()
	pkts, err := rec.Packets(decodetest.DefaultNetwork())
	if err != nil {
		t.Fatal(err)
	}
	opt := decode.Options{}
	if keylog != nil {
		kl := capture.NewKeyLog()
		if bad, err := kl.Read(bytes.NewReader(keylog), "test"); err != nil || len(bad) != 0 {
			t.Fatalf("key log: %v %v", err, bad)
		}
		opt.Keys = kl
	}
	d := decode.New(0, opt)
	for i := range pkts {
		d.Packet(&pkts[i])
	}
	return d.Finish()
}

// moduleProxy answers like a GOPROXY: a version list for golang.org/x/net,
// 404 for private modules, 410 for a retracted path.
func moduleProxy() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/golang.org/x/net/@v/list":
			io.WriteString(w, "v0.62.0\n")
		case strings.HasPrefix(r.URL.Path, "/gone/"):
			http.Error(w, "gone", http.StatusGone)
		default:
			http.NotFound(w, r)
		}
	})
}

func get(t testing.TB, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// exchanges renders the HTTP events for comparison.
func exchanges(ev *decode.Events) []string {
	var out []string
	for _, h := range ev.HTTP {
		out = append(out, fmt.Sprintf("%s %s %s %s %d %s", h.Proto, h.Host, h.Method, h.Path, h.Status, h.GoAway))
	}
	return out
}

func TestDecryptHTTP2OverTLS13(t *testing.T) {
	p := pki(t)
	rec := &decodetest.Recorder{}
	client, stop := rec.HTTP(p.ServerConfig("h2", "http/1.1"), rec.ClientConfig("proxy.golang.org", p.Roots), true, moduleProxy())
	for _, c := range []struct {
		path string
		want int
	}{{"/golang.org/x/net/@v/list", 200}, {"/example.com/private/@v/v1.0.0.info?token=secret", 404}, {"/golang.org/x/net?go-get=1", 404}} {
		if got := get(t, client, "https://proxy.golang.org"+c.path); got != c.want {
			t.Fatalf("GET %s: %d, want %d", c.path, got, c.want)
		}
	}
	stop()
	ev := decodeRecording(t, rec, rec.KeyLogBytes())
	if len(ev.TLS) != 1 {
		t.Fatalf("%d TLS sessions", len(ev.TLS))
	}
	s := ev.TLS[0]
	if !s.Decrypted || s.ServerALPN() != "h2" || s.Certificates == nil || s.Certificates.Certificates[0].Subject != p.LeafName {
		t.Errorf("decrypted %v alpn %q certs %+v notes %q errors %q", s.Decrypted, s.ServerALPN(), s.Certificates, s.Notes(), s.Errors())
	}
	want := []string{
		"h2 proxy.golang.org GET /golang.org/x/net/@v/list 200 ",
		"h2 proxy.golang.org GET /example.com/private/@v/v1.0.0.info?… 404 ",
		"h2 proxy.golang.org GET /golang.org/x/net?go-get=1 404 ",
	}
	if got := exchanges(ev); !slices.Equal(got, want) {
		t.Errorf("exchanges:\n got %q\nwant %q", got, want)
	}
	for _, h := range ev.HTTP {
		if h.Request.IsZero() || h.Response.IsZero() || h.Response.Packet <= h.Request.Packet || h.Conn != ev.TCP[0] {
			t.Errorf("exchange %+v", h)
		}
	}

	// Without keys: the same session, nothing decrypted, nothing noted.
	ev = decodeRecording(t, rec, nil)
	if s := ev.TLS[0]; s.Decrypted || s.Certificates != nil || len(ev.HTTP) != 0 || len(s.Notes()) != 0 {
		t.Errorf("without keys: decrypted %v certs %v http %v notes %q", s.Decrypted, s.Certificates, ev.HTTP, s.Notes())
	}
}

func TestDecryptHTTP1OverTLS12(t *testing.T) {
	p := pki(t)
	for _, suite := range []uint16{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256} {
		t.Run(tls.CipherSuiteName(suite), func(t *testing.T) {
			rec := &decodetest.Recorder{}
			ccfg := rec.ClientConfig("proxy.golang.org", p.Roots)
			ccfg.MaxVersion, ccfg.CipherSuites = tls.VersionTLS12, []uint16{suite}
			client, stop := rec.HTTP(p.ServerConfig("http/1.1"), ccfg, false, moduleProxy())
			get(t, client, "https://proxy.golang.org/golang.org/x/net/@v/list")
			get(t, client, "https://proxy.golang.org/gone/@v/v1.0.0.mod")
			stop()
			ev := decodeRecording(t, rec, rec.KeyLogBytes())
			s := ev.TLS[0]
			if s.ServerHello.CipherSuite != suite || !s.Decrypted || s.ServerALPN() != "http/1.1" {
				t.Fatalf("suite %x decrypted %v alpn %q", s.ServerHello.CipherSuite, s.Decrypted, s.ServerALPN())
			}
			want := []string{
				"HTTP/1.1 proxy.golang.org GET /golang.org/x/net/@v/list 200 ",
				"HTTP/1.1 proxy.golang.org GET /gone/@v/v1.0.0.mod 410 ",
			}
			if got := exchanges(ev); !slices.Equal(got, want) {
				t.Errorf("exchanges:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// An HTTP/2 server on a TLS 1.2 connection with a CBC suite (RFC 9113
// §9.2.2 prohibits it) answers with GOAWAY INADEQUATE_SECURITY; net/http's
// server does exactly that.
func TestDecryptGoAwayInadequateSecurity(t *testing.T) {
	p := pki(t)
	rec := &decodetest.Recorder{}
	ccfg := rec.ClientConfig("proxy.golang.org", p.Roots)
	ccfg.MaxVersion, ccfg.CipherSuites = tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}
	scfg := p.ServerConfig("h2", "http/1.1")
	scfg.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	client, stop := rec.HTTP(scfg, ccfg, true, moduleProxy())
	_, err := client.Get("https://proxy.golang.org/golang.org/x/net/@v/list")
	stop()
	// net/http's client reports "http2: client conn could not be
	// established" (the GOAWAY came before the server's SETTINGS).
	if err == nil {
		t.Fatal("GET succeeded over a prohibited cipher suite")
	}
	ev := decodeRecording(t, rec, rec.KeyLogBytes())
	var goaway []*decode.HTTPExchange
	for _, h := range ev.HTTP {
		if h.GoAway == "INADEQUATE_SECURITY" && h.Proto == "h2" && !h.Response.IsZero() {
			goaway = append(goaway, h)
		}
	}
	if len(goaway) == 0 {
		t.Fatalf("no GOAWAY INADEQUATE_SECURITY in %q (notes %q)", exchanges(ev), ev.TLS[0].Notes())
	}
	if s := ev.TLS[0]; !s.Decrypted || s.ServerHello.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA {
		t.Errorf("session %+v", s.ServerHello)
	}
}

// The client rejects the interceptor's certificate: the decrypted TLS 1.3
// flight shows the chain, and the client's alert its reason.
func TestDecryptRejectedCertificate(t *testing.T) {
	p := pki(t)
	rec := &decodetest.Recorder{}
	cerr, _ := rec.TLS(rec.ClientConfig("proxy.golang.org", nil), p.ServerConfig("h2", "http/1.1"), nil, nil)
	if cerr == nil {
		t.Fatal("the client accepted an unknown CA")
	}
	ev := decodeRecording(t, rec, rec.KeyLogBytes())
	s := ev.TLS[0]
	if !s.Decrypted || s.Certificates == nil || s.Certificates.Certificates[0].Issuer != "O=mitmproxy, CN=mitmproxy" {
		t.Fatalf("decrypted %v certs %+v", s.Decrypted, s.Certificates)
	}
	if len(s.Alerts) != 1 || !s.Alerts[0].Encrypted || s.Alerts[0].Name() != "bad_certificate" || !s.Alerts[0].Fatal() ||
		s.Alerts[0].From != tlswire.ClientToServer {
		t.Errorf("alerts %+v", s.Alerts)
	}
}

// Keys in a Decryption Secrets Block reach the sessions that follow it,
// through the capture reader's OnSecrets.
func TestDecryptWithSecretsBlock(t *testing.T) {
	p := pki(t)
	rec := &decodetest.Recorder{}
	if cerr, serr := rec.TLS(rec.ClientConfig("proxy.golang.org", p.Roots), p.ServerConfig("h2"), nil, nil); cerr != nil || serr != nil {
		t.Fatal(cerr, serr)
	}
	pkts, err := rec.Packets(decodetest.DefaultNetwork())
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if err := decodetest.WritePcapng(&file, pkts, rec.KeyLogBytes()); err != nil {
		t.Fatal(err)
	}
	in, err := pipeline.Open(0, "-", &file, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := in.Events.TLS[0]; !s.Decrypted || s.ServerALPN() != "h2" || in.SecretsBlocks != 1 {
		t.Errorf("decrypted %v alpn %q secrets blocks %d notes %q", s.Decrypted, s.ServerALPN(), in.SecretsBlocks, s.Notes())
	}
}
