package lab

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// syncBuffer is a bytes.Buffer safe for the server's writes and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startTestGoproxy starts the lab GOPROXY on a random loopback port with
// a certificate for proxy.lab and 127.0.0.1, and returns it with its CA.
func startTestGoproxy(t *testing.T, mods []Module) (*Goproxy, *CA, *syncBuffer) {
	t.Helper()
	ca, err := NewCA("modsniff lab test CA")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("proxy.lab", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	keylog := &syncBuffer{}
	g, err := StartGoproxy("127.0.0.1:0", cert, mods, keylog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Error(err)
		}
	})
	return g, ca, keylog
}

func clientFor(ca *CA, h2 bool) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: h2}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func TestGoproxyServesProtocolOverHTTP2(t *testing.T) {
	mods := append(DefaultModules(), Module{Path: "example.com/Upper", Version: "v0.0.1-Pre",
		Files: map[string]string{"u.go": "package upper\n"}})
	g, ca, keylog := startTestGoproxy(t, mods)
	c := clientFor(ca, true)
	base := "https://" + g.Addr

	tests := []struct {
		path   string
		status int
		body   string // exact, unless empty
	}{
		{"/example.com/hello/@v/list", 200, "v1.0.0\nv1.1.0\n"},
		{"/example.com/hello/@v/v1.1.0.info", 200, `{"Version":"v1.1.0","Time":"2024-01-02T03:04:05Z"}` + "\n"},
		{"/example.com/hello/@latest", 200, `{"Version":"v1.1.0","Time":"2024-01-02T03:04:05Z"}` + "\n"},
		{"/example.com/greet/@v/v0.1.0.mod", 200, "module example.com/greet\n\ngo 1.21\n\nrequire example.com/hello v1.1.0\n"},
		{"/example.com/!upper/@v/list", 200, "v0.0.1-Pre\n"},
		{"/example.com/!upper/@v/v0.0.1-!pre.mod", 200, "module example.com/Upper\n"},
		{"/example.com/nosuch/@v/list", 404, ""},
		{"/example.com/nosuch/@latest", 404, ""},
		{"/example.com/hello/@v/v9.9.9.info", 410, ""},
		{"/example.com/hello/@v/v1.0.0.tar", 404, ""},
		{"/example.com/Upper/@v/list", 400, ""},
		{"/", 404, ""},
	}
	for _, tt := range tests {
		resp, err := c.Get(base + tt.path)
		if err != nil {
			t.Fatalf("GET %s: %v", tt.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Errorf("GET %s: protocol %s, want HTTP/2", tt.path, resp.Proto)
		}
		if resp.StatusCode != tt.status {
			t.Errorf("GET %s: status %d, want %d (%q)", tt.path, resp.StatusCode, tt.status, body)
		}
		if tt.body != "" && string(body) != tt.body {
			t.Errorf("GET %s: body %q, want %q", tt.path, body, tt.body)
		}
	}

	resp, err := c.Get(base + "/example.com/hello/@v/v1.1.0.zip")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("zip: %v", err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Name == "example.com/hello@v1.1.0/hello.go" {
			rc, _ := f.Open()
			src, _ := io.ReadAll(rc)
			rc.Close()
			if !strings.Contains(string(src), "func Greeting") {
				t.Errorf("hello.go in the zip: %q", src)
			}
		}
	}
	if want := []string{"example.com/hello@v1.1.0/go.mod", "example.com/hello@v1.1.0/hello.go"}; !slices.Equal(names, want) {
		t.Errorf("zip entries %q, want %q", names, want)
	}

	reqs := g.Requests()
	if len(reqs) != len(tests)+1 || reqs[0].Proto != "HTTP/2.0" || reqs[0].Status != 200 {
		t.Errorf("requests recorded: %+v", reqs)
	}
	for _, label := range []string{"CLIENT_HANDSHAKE_TRAFFIC_SECRET ", "SERVER_HANDSHAKE_TRAFFIC_SECRET ", "CLIENT_TRAFFIC_SECRET_0 ", "SERVER_TRAFFIC_SECRET_0 "} {
		if !strings.Contains(keylog.String(), label) {
			t.Errorf("key log lacks %s lines:\n%s", label, keylog)
		}
	}
}

func TestGoproxyServesHTTP1(t *testing.T) {
	g, ca, _ := startTestGoproxy(t, DefaultModules())
	resp, err := clientFor(ca, false).Get("https://" + g.Addr + "/example.com/hello/@v/list")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Proto != "HTTP/1.1" || resp.StatusCode != 200 {
		t.Errorf("got %s %d, want HTTP/1.1 200", resp.Proto, resp.StatusCode)
	}
}

func TestGoproxyRejectsUntrustingClient(t *testing.T) {
	g, _, _ := startTestGoproxy(t, DefaultModules())
	other, err := NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clientFor(other, true).Get("https://" + g.Addr + "/example.com/hello/@v/list"); err == nil {
		t.Fatal("a client trusting another CA connected")
	}
}

func TestResolverAnswers(t *testing.T) {
	r, err := StartResolver("127.0.0.1:0", map[string][]netip.Addr{
		"proxy.lab":         {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
		"V4only.Example.":   {netip.MustParseAddr("10.77.0.1")},
		"proxy.golang.org.": {netip.MustParseAddr("10.77.0.1")},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	}()
	tests := []struct {
		name  string
		qtype uint16
		rcode int
		want  []string // answer data
	}{
		{"proxy.lab.", dns.TypeA, dns.RcodeSuccess, []string{"127.0.0.1"}},
		{"PROXY.Lab.", dns.TypeAAAA, dns.RcodeSuccess, []string{"::1"}},
		{"v4only.example.", dns.TypeA, dns.RcodeSuccess, []string{"10.77.0.1"}},
		{"v4only.example.", dns.TypeAAAA, dns.RcodeSuccess, nil},
		{"proxy.golang.org.", dns.TypeTXT, dns.RcodeSuccess, nil},
		{"sum.golang.org.", dns.TypeA, dns.RcodeNameError, nil},
	}
	for _, transport := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: transport, Timeout: 5 * time.Second}
		for _, tt := range tests {
			q := new(dns.Msg)
			q.SetQuestion(tt.name, tt.qtype)
			resp, _, err := c.Exchange(q, r.Addr)
			if err != nil {
				t.Fatalf("%s %s %s: %v", transport, tt.name, dns.TypeToString[tt.qtype], err)
			}
			var got []string
			for _, rr := range resp.Answer {
				switch rr := rr.(type) {
				case *dns.A:
					got = append(got, rr.A.String())
				case *dns.AAAA:
					got = append(got, rr.AAAA.String())
				}
				if rr.Header().Name != tt.name {
					t.Errorf("%s %s: answer owner %q", transport, tt.name, rr.Header().Name)
				}
			}
			if resp.Rcode != tt.rcode || !slices.Equal(got, tt.want) || !resp.Authoritative {
				t.Errorf("%s %s %s: rcode %s answers %q aa=%v, want %s %q aa=true", transport, tt.name, dns.TypeToString[tt.qtype],
					dns.RcodeToString[resp.Rcode], got, resp.Authoritative, dns.RcodeToString[tt.rcode], tt.want)
			}
		}
	}
}

func TestEscapePath(t *testing.T) {
	for _, tt := range []struct{ in, esc string }{
		{"example.com/hello", "example.com/hello"},
		{"github.com/Azure/SDK", "github.com/!azure/!s!d!k"},
		{"v1.0.0-RC1", "v1.0.0-!r!c1"},
	} {
		if got := EscapePath(tt.in); got != tt.esc {
			t.Errorf("EscapePath(%q) = %q, want %q", tt.in, got, tt.esc)
		}
		if got, ok := UnescapePath(tt.esc); !ok || got != tt.in {
			t.Errorf("UnescapePath(%q) = %q, %v", tt.esc, got, ok)
		}
	}
	for _, bad := range []string{"Upper", "trailing!", "!1"} {
		if _, ok := UnescapePath(bad); ok {
			t.Errorf("UnescapePath(%q) accepted", bad)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	ordered := []string{"v0.1.0", "v0.9.0", "v0.10.0", "v1.0.0-pre", "v1.0.0", "v1.1.0", "v2.0.0+incompatible"}
	for i := range ordered {
		for j := range ordered {
			if got, want := compareVersions(ordered[i], ordered[j]), cmpInt(i, j); got != want {
				t.Errorf("compareVersions(%s, %s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestCAIssueAndLoad(t *testing.T) {
	ca, err := NewCA("round trip")
	if err != nil {
		t.Fatal(err)
	}
	key, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadCA(append(append([]byte{}, ca.PEM...), key...))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := loaded.Issue("proxy.golang.org", "10.77.0.1")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM)
	for _, name := range []string{"proxy.golang.org", "10.77.0.1"} {
		if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: name}); err != nil {
			t.Errorf("verify %s: %v", name, err)
		}
	}
	if _, err := LoadCA(ca.PEM); err == nil {
		t.Error("LoadCA without a key succeeded")
	}
}

// goModDownload runs `go mod download -json MODULE` with GoEnv and
// returns its JSON output decoded.
func goModDownload(t *testing.T, cmd *exec.Cmd, dir, proxyURL, caFile string) map[string]any {
	t.Helper()
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd.Dir = work
	cmd.Env = GoEnv(dir, proxyURL, caFile)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var got map[string]any
	if jerr := json.Unmarshal(stdout.Bytes(), &got); jerr != nil || err != nil || got["Error"] != nil {
		t.Fatalf("go mod download: %v\nstdout: %s\nstderr: %s", err, stdout.Bytes(), stderr.Bytes())
	}
	return got
}

// TestGoModDownloadOnLoopback runs the real go command against the lab
// GOPROXY on a loopback port: the module zip must satisfy it.
func TestGoModDownloadOnLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goBin, err := GoBinary()
	if err != nil {
		t.Skip(err)
	}
	g, ca, _ := startTestGoproxy(t, DefaultModules())
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel) // after the cleanups registered later, which stop processes
	got := goModDownload(t, exec.CommandContext(ctx, goBin, "mod", "download", "-json", "example.com/greet@v0.1.0"),
		dir, g.URL("127.0.0.1"), caFile)
	if got["Version"] != "v0.1.0" || got["Zip"] == nil {
		t.Errorf("go mod download said %v", got)
	}
	if !slices.ContainsFunc(g.Requests(), func(r Request) bool {
		return r.Path == "/example.com/greet/@v/v0.1.0.zip" && r.Status == 200
	}) {
		t.Errorf("the go command did not fetch the zip from the lab: %+v", g.Requests())
	}
}
