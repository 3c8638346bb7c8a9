package main

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProbeWithoutCaptureReportsTheTLSStacksView runs probe in-process
// against a GOPROXY on loopback, without capturing: the report comes from
// the TLS stack and says so.
func TestProbeWithoutCaptureReportsTheTLSStacksView(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/@v/list"):
			fmt.Fprint(w, "v0.1.0\n")
		case strings.HasSuffix(r.URL.Path, ".info"):
			fmt.Fprint(w, `{"Version":"v0.1.0"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)
	for k, v := range map[string]string{"GOPROXY": srv.URL, "GOSUMDB": "off", "GONOPROXY": "", "GOPRIVATE": "", "GOFLAGS": "",
		"SSL_CERT_FILE": ca, "SSL_CERT_DIR": t.TempDir(), "HTTPS_PROXY": "", "https_proxy": "", "NO_PROXY": "", "GOENV": "off"} {
		t.Setenv(k, v)
	}
	status, out, errOut := runCLI(t, "", "probe", "--no-capture", "--timeout", "5s", "example.com/m")
	if status != exitOK {
		t.Fatalf("status %d\n%s%s", status, out, errOut)
	}
	for _, want := range []string{"example.com/m v0.1.0", "TLS 1.3", "h2", "the go command would get it", "not from packets"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The same proxy with an empty trust store: the chain is still shown.
	t.Setenv("SSL_CERT_FILE", filepath.Join(t.TempDir(), "missing.pem"))
	if status, _, errOut := runCLI(t, "", "probe", "--no-capture", "example.com/m"); status != exitUsage || !strings.Contains(errOut, "SSL_CERT_FILE") {
		t.Errorf("a missing SSL_CERT_FILE: status %d, stderr %q", status, errOut)
	}
	empty := filepath.Join(t.TempDir(), "empty.pem")
	os.WriteFile(empty, nil, 0o644)
	t.Setenv("SSL_CERT_FILE", empty)
	status, out, _ = runCLI(t, "", "probe", "--no-capture", "--timeout", "5s", "example.com/m")
	if status != exitFindings || !strings.Contains(out, "certificate signed by unknown authority") || !strings.Contains(out, "certificate:") {
		t.Errorf("untrusted: status %d\n%s", status, out)
	}
}
