package main

import (
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modsniff/modsniff/analyze"
)

// TestCertsRoundTrip is the README's round trip: find the interception CA
// in a capture, export it with --issuers, feed it back with --trust: the
// foreign issuer disappears and the rejection becomes the client's store.
func TestCertsRoundTrip(t *testing.T) {
	const sample = "../../samples/interception-mitmproxy-tls12.pcapng"
	pemPath := filepath.Join(t.TempDir(), "mitm.pem")
	if err := os.WriteFile(pemPath, []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	status, out, errOut := runCLI(t, "", "certs", "--issuers", "-o", pemPath, sample)
	if status != exitOK || out != "" || errOut != "" {
		t.Fatalf("certs: status %d, stdout %q, stderr %q", status, out, errOut)
	}
	st, err := os.Stat(pemPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the PEM file must be mode 0600: %v %v", st.Mode(), err)
	}
	data, _ := os.ReadFile(pemPath)
	var blocks []*pem.Block
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		blocks = append(blocks, b)
	}
	if len(blocks) != 1 || blocks[0].Type != "CERTIFICATE" || !strings.Contains(string(data), "# chain verdict: issued by mitmproxy") {
		t.Fatalf("want the one mitmproxy CA with its verdict, got %d blocks:\n%s", len(blocks), data)
	}

	ids := func(args ...string) []string {
		status, out, errOut := runCLI(t, "", append([]string{"analyze", "--format", "json", "--fail-on", "never"}, args...)...)
		if status != exitOK {
			t.Fatalf("analyze: status %d: %s", status, errOut)
		}
		var rep analyze.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, f := range rep.Findings {
			ids = append(ids, f.ID+"/"+f.Severity.String())
		}
		return ids
	}
	before := strings.Join(ids(sample), " ")
	after := strings.Join(ids("--trust", pemPath, sample), " ")
	if !strings.Contains(before, "tls-foreign-issuer/error") || strings.Contains(before, "tls-client-trust-store") {
		t.Errorf("before --trust: %s", before)
	}
	if strings.Contains(after, "tls-foreign-issuer") || !strings.Contains(after, "tls-client-trust-store/error") {
		t.Errorf("after --trust: %s", after)
	}
}

func TestCertsOutput(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		status int
		want   []string // phrases of stdout (or stderr for usage errors)
		blocks int
	}{
		{name: "every chain, leaf to root, with host, packet and verdict",
			args: []string{"certs", "../../samples/interception-mitmproxy-tls12.pcapng"}, blocks: 2,
			want: []string{"# proxy.golang.org, certificate 1 of 2 (leaf), seen at ../../samples/interception-mitmproxy-tls12.pcapng packet 10",
				"# chain verdict: issued by mitmproxy", "certificate 2 of 2 (root)"}},
		{name: "TLS 1.3 without keys shows no certificate and says why",
			args: []string{"certs", "../../samples/healthy-direct-tls13.pcapng"}, want: []string{"pass --keylog"}},
		{name: "with the key log the TLS 1.3 chain is visible",
			args:   []string{"certs", "--keylog", "../../samples/interception-tls13-with-keys.keys", "../../samples/interception-tls13-with-keys.pcapng"},
			blocks: 3, want: []string{"Zscaler"}},
		{name: "a trusted chain has no issuers to export",
			args: []string{"certs", "--issuers", "--trust", "../../samples/synthetic-public-ca.pem", "--keylog",
				"../../samples/healthy-connect-proxy.keys", "../../samples/healthy-connect-proxy.pcapng"},
			want: []string{"no untrusted root or intermediate"}},
		{name: "--chain and --issuers exclude each other", args: []string{"certs", "--chain", "--issuers", "x.pcapng"},
			status: exitUsage, want: []string{"exclude each other"}},
		{name: "no capture is a usage error", args: []string{"certs"}, status: exitUsage, want: []string{"no capture given"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out, errOut := runCLI(t, "", tt.args...)
			if status != tt.status {
				t.Fatalf("status %d, want %d; stderr %q", status, tt.status, errOut)
			}
			text := out + errOut
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
			if n := strings.Count(out, "-----BEGIN CERTIFICATE-----"); n != tt.blocks {
				t.Errorf("%d certificates written, want %d", n, tt.blocks)
			}
			if strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, "CLIENT_RANDOM") || strings.Contains(out, "TRAFFIC_SECRET") {
				t.Errorf("certs wrote a key or a secret:\n%s", out)
			}
		})
	}
}

// TestInterceptorsFlag: a user table names a product the built-in one does
// not know, `checks --interceptor-table` lists it first, and a broken file
// is refused with its line number.
func TestInterceptorsFlag(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "ic.txt")
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(good, []byte("# our gateway\nExample Corp Inspection | corporate gateway | Example Corp Issuing CA\n"), 0o600)
	os.WriteFile(bad, []byte("\nAcme | firewall | Acme CA\n"), 0o600)
	const sample = "../../samples/tls-expired-internal.pcapng"
	status, out, errOut := runCLI(t, "", "analyze", "--fail-on", "never", "--interceptors", good, sample)
	if status != exitOK || !strings.Contains(out, "the CA of Example Corp Inspection (corporate gateway)") {
		t.Errorf("status %d, stderr %q; the user's product is not named:\n%s", status, errOut, out)
	}
	status, out, _ = runCLI(t, "", "checks", "--interceptor-table", "--interceptors", good)
	if first := strings.Split(out, "\n")[1]; status != exitOK || !strings.HasPrefix(first, "Example Corp Inspection") {
		t.Errorf("status %d; the table should list the user's entry first:\n%s", status, out)
	}
	for _, args := range [][]string{{"analyze", "--interceptors", bad, sample}, {"checks", "--interceptor-table", "--interceptors", bad}} {
		status, _, errOut = runCLI(t, "", args...)
		if status != exitUsage || !strings.Contains(errOut, "bad.txt:2: kind \"firewall\"") {
			t.Errorf("%v: status %d, stderr %q", args, status, errOut)
		}
	}
}
