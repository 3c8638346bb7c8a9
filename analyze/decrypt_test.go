package analyze

// End to end with keys: real crypto/tls and net/http sessions recorded
// into pcapng files (keys in a Decryption Secrets Block, in a --keylog
// file, or none), read with decode/pipeline and analyzed.

import (
	"bytes"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/decodetest"
	"github.com/modsniff/modsniff/decode/pipeline"
)

// recorded is one recorded scenario written as capture files.
type recorded struct {
	withDSB, without, keylog string
}

func writeRecording(t *testing.T, rec *decodetest.Recorder) recorded {
	t.Helper()
	pkts, err := rec.Packets(decodetest.DefaultNetwork())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := recorded{filepath.Join(dir, "dsb.pcapng"), filepath.Join(dir, "plain.pcapng"), filepath.Join(dir, "keys.log")}
	for _, f := range []struct {
		path string
		keys []byte
	}{{r.withDSB, rec.KeyLogBytes()}, {r.without, nil}} {
		var b bytes.Buffer
		if err := decodetest.WritePcapng(&b, pkts, f.keys); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.path, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(r.keylog, rec.KeyLogBytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return r
}

// analyzeFile reads one capture (with the key log file keylog, if not "")
// and analyzes it.
func analyzeFile(t *testing.T, path, keylog string) *Report {
	t.Helper()
	opt := decode.Options{}
	if keylog != "" {
		kl := capture.NewKeyLog()
		if _, err := kl.ReadFile(keylog); err != nil {
			t.Fatal(err)
		}
		opt.Keys = kl
	}
	in, err := pipeline.Open(0, path, nil, opt)
	if err != nil {
		t.Fatal(err)
	}
	return Build([]*Input{in}, Options{})
}

func findingIDs(rep *Report) []string {
	var ids []string
	for _, f := range rep.Findings {
		ids = append(ids, f.ID+" "+f.Host+" "+f.Severity.String())
	}
	return ids
}

func finding(rep *Report, id string) *Finding {
	for i := range rep.Findings {
		if rep.Findings[i].ID == id {
			return &rep.Findings[i]
		}
	}
	return nil
}

// The go command meets mitmproxy over TLS 1.3 and rejects its certificate.
// With keys (from the file's DSB or from --keylog) the certificate and the
// alert are seen; without, only the shape of a rejection.
func TestKeysRevealInterception(t *testing.T) {
	p, err := decodetest.NewPKI(pkix.Name{CommonName: "mitmproxy", Organization: []string{"mitmproxy"}}, "proxy.golang.org")
	if err != nil {
		t.Fatal(err)
	}
	rec := &decodetest.Recorder{}
	if cerr, _ := rec.TLS(rec.ClientConfig("proxy.golang.org", nil), p.ServerConfig("h2", "http/1.1"), nil, nil); cerr == nil {
		t.Fatal("client accepted mitmproxy")
	}
	files := writeRecording(t, rec)
	for name, rep := range map[string]*Report{
		"dsb":    analyzeFile(t, files.withDSB, ""),
		"keylog": analyzeFile(t, files.without, files.keylog),
	} {
		t.Run(name, func(t *testing.T) {
			ids := findingIDs(rep)
			for _, want := range []string{"tls-foreign-issuer proxy.golang.org error", "tls-alert proxy.golang.org error"} {
				if !slices.Contains(ids, want) {
					t.Errorf("findings %q lack %q", ids, want)
				}
			}
			for _, absent := range []string{"tls-cert-hidden", "tls-client-rejected"} {
				if finding(rep, absent) != nil {
					t.Errorf("%s fired with keys: %q", absent, ids)
				}
			}
			if f := finding(rep, "tls-alert"); f != nil && !strings.Contains(f.Summary, "bad_certificate alert (decrypted)") {
				t.Errorf("tls-alert: %s", f.Summary)
			}
			if f := finding(rep, "tls-foreign-issuer"); f != nil && !strings.Contains(f.Summary, "mitmproxy") {
				t.Errorf("tls-foreign-issuer: %s", f.Summary)
			}
			tj := rep.Events.TLS[0]
			if !tj.Decrypted || tj.ServerALPN != "h2" || len(tj.Certificates) != 2 || len(tj.Alerts) != 1 ||
				!tj.Alerts[0].Encrypted || tj.Alerts[0].Description != "bad_certificate" || tj.Alerts[0].Level != "fatal" {
				t.Errorf("tls event %+v", tj)
			}
			if n := rep.Inputs[0].Notes; !slices.ContainsFunc(n, func(s string) bool { return strings.Contains(s, "1 of 1 encrypted sessions decrypted") }) {
				t.Errorf("input notes %q", n)
			}
			// The JSON contract: "decrypted": true.
			b, _ := json.Marshal(rep)
			if !bytes.Contains(b, []byte(`"decrypted":true`)) {
				t.Errorf("JSON lacks decrypted: true")
			}
		})
	}
	t.Run("without keys", func(t *testing.T) {
		rep := analyzeFile(t, files.without, "")
		ids := findingIDs(rep)
		for _, want := range []string{"tls-client-rejected proxy.golang.org error", "tls-cert-hidden proxy.golang.org info"} {
			if !slices.Contains(ids, want) {
				t.Errorf("findings %q lack %q", ids, want)
			}
		}
		if rep.Events.TLS[0].Decrypted || len(rep.Inputs[0].Notes) != 0 {
			t.Errorf("decrypted %v notes %q", rep.Events.TLS[0].Decrypted, rep.Inputs[0].Notes)
		}
	})
	t.Run("wrong keys", func(t *testing.T) {
		other := &decodetest.Recorder{}
		other.TLS(other.ClientConfig("proxy.golang.org", nil), p.ServerConfig("h2"), nil, nil)
		wrong := filepath.Join(t.TempDir(), "other.log")
		os.WriteFile(wrong, other.KeyLogBytes(), 0o600)
		rep := analyzeFile(t, files.without, wrong)
		if finding(rep, "tls-cert-hidden") == nil || rep.Events.TLS[0].Decrypted {
			t.Errorf("findings %q", findingIDs(rep))
		}
		if n := strings.Join(rep.Inputs[0].Notes, "\n"); !strings.Contains(n, "0 of 1 encrypted sessions decrypted") {
			t.Errorf("input notes %q", n)
		}
		if n := strings.Join(rep.Events.TLS[0].Notes, "\n"); !strings.Contains(n, "no keys for this session") {
			t.Errorf("session notes %q", n)
		}
	})
}

// A module proxy over decrypted HTTP/2 answers 404 and 410:
// http-error-status fires with its GOPROXY explanation.
func TestKeysRevealHTTPStatus(t *testing.T) {
	p, err := decodetest.NewPKI(pkix.Name{CommonName: "Example Corp Root CA", Organization: []string{"Example Corp"}}, "goproxy.example.com")
	if err != nil {
		t.Fatal(err)
	}
	rec := &decodetest.Recorder{}
	client, stop := rec.HTTP(p.ServerConfig("h2", "http/1.1"), rec.ClientConfig("goproxy.example.com", p.Roots), true,
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasSuffix(r.URL.Path, "/@v/list"):
				io.WriteString(w, "v1.0.0\n")
			case strings.HasPrefix(r.URL.Path, "/gone/"):
				http.Error(w, "gone", http.StatusGone)
			default:
				http.NotFound(w, r)
			}
		}))
	for _, path := range []string{"/example.com/m/@v/list", "/example.com/private/@v/v1.0.0.info", "/gone/@v/v1.0.0.mod"} {
		resp, err := client.Get("https://goproxy.example.com" + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	stop()
	files := writeRecording(t, rec)
	rep := analyzeFile(t, files.withDSB, "")
	var statuses []string
	for _, f := range rep.Findings {
		if f.ID == "http-error-status" {
			statuses = append(statuses, f.Summary)
			if !strings.Contains(f.Hint, "GOPROXY") || f.Host != "goproxy.example.com" {
				t.Errorf("finding %+v", f)
			}
		}
	}
	want := []string{
		"goproxy.example.com answered 404 to GET /example.com/private/@v/v1.0.0.info",
		"goproxy.example.com answered 410 to GET /gone/@v/v1.0.0.mod",
	}
	slices.Sort(statuses)
	if !slices.Equal(statuses, want) {
		t.Errorf("http-error-status findings %q, want %q (all: %q)", statuses, want, findingIDs(rep))
	}
	if len(rep.Events.HTTP) != 3 || rep.Events.HTTP[0].Proto != "h2" {
		t.Errorf("http events %+v", rep.Events.HTTP)
	}
	for _, h := range rep.Hosts {
		if h.Name == "goproxy.example.com" && h.Role != RoleGoproxy {
			t.Errorf("role of goproxy.example.com: %s", h.Role)
		}
	}
}

// A GOAWAY INADEQUATE_SECURITY on TLS 1.2 with a CBC suite: h2-goaway
// explains it with the ServerHello and the GOAWAY as evidence.
func TestH2GoAwayCheck(t *testing.T) {
	p, err := decodetest.NewPKI(pkix.Name{CommonName: "Example Corp Root CA"}, "proxy.golang.org")
	if err != nil {
		t.Fatal(err)
	}
	rec := &decodetest.Recorder{}
	ccfg := rec.ClientConfig("proxy.golang.org", p.Roots)
	ccfg.MaxVersion, ccfg.CipherSuites = tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}
	scfg := p.ServerConfig("h2", "http/1.1")
	scfg.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}
	client, stop := rec.HTTP(scfg, ccfg, true, http.NotFoundHandler())
	if _, err := client.Get("https://proxy.golang.org/golang.org/x/net/@v/list"); err == nil {
		t.Fatal("GET succeeded")
	}
	stop()
	files := writeRecording(t, rec)
	rep := analyzeFile(t, files.without, files.keylog)
	f := finding(rep, "h2-goaway")
	if f == nil {
		t.Fatalf("no h2-goaway in %q", findingIDs(rep))
	}
	if f.Severity != Error || f.Layer != "http" || f.Host != "proxy.golang.org" || !strings.Contains(f.Summary, "GOAWAY INADEQUATE_SECURITY") ||
		!strings.Contains(f.Observed, "TLS 1.2 with TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, which RFC 9113 Appendix A lists as prohibited") ||
		!strings.Contains(f.Hint, "http2client=0") {
		t.Errorf("finding %+v", f)
	}
	var details []string
	for _, e := range f.Evidence {
		details = append(details, e.Detail)
	}
	// The GOAWAY follows the ServerHello; a request that crossed it in
	// flight comes after it.
	if len(f.Evidence) < 2 || !strings.HasPrefix(details[0], "ServerHello: TLS 1.2 with TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, ALPN h2") ||
		!slices.ContainsFunc(details, func(d string) bool { return strings.HasPrefix(d, "GOAWAY INADEQUATE_SECURITY") }) {
		t.Errorf("evidence %q", details)
	}
	// Without keys the GOAWAY is invisible.
	if rep := analyzeFile(t, files.without, ""); finding(rep, "h2-goaway") != nil {
		t.Error("h2-goaway without keys")
	}
}

func TestGoAwayMeanings(t *testing.T) {
	for _, code := range []string{"INADEQUATE_SECURITY", "PROTOCOL_ERROR", "ENHANCE_YOUR_CALM", "HTTP_1_1_REQUIRED", "INTERNAL_ERROR", "0x1234"} {
		m, h := goAwayMeaning(code, "", false)
		if m == "" || h == "" {
			t.Errorf("%s: meaning %q hint %q", code, m, h)
		}
	}
}
