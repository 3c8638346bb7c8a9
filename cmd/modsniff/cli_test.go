package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// runCLI runs the command line in-process and returns its status and
// output streams.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	status := run(args, strings.NewReader(stdin), &out, &errb)
	return status, out.String(), errb.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/modsniff -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run with -update and review the diff):\n--- got\n%s", name, got)
	}
}

func TestHelpTexts(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"help.txt", []string{"help"}},
		{"analyze-help.txt", []string{"analyze", "--help"}},
		{"replay-help.txt", []string{"replay", "--help"}},
		{"explain-help.txt", []string{"explain", "--help"}},
		{"keys-inject-help.txt", []string{"keys", "inject", "--help"}},
		{"certs-help.txt", []string{"certs", "--help"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			status, out, errOut := runCLI(t, "", tt.args...)
			if status != exitOK || errOut != "" {
				t.Fatalf("status %d, stderr %q", status, errOut)
			}
			golden(t, tt.golden, out)
		})
	}
}

func TestChecksListing(t *testing.T) {
	status, out, _ := runCLI(t, "", "checks", "--format", "json")
	if status != exitOK {
		t.Fatalf("status %d", status)
	}
	golden(t, "checks.json", out)
	status, out, _ = runCLI(t, "", "checks")
	if status != exitOK || !strings.Contains(out, "dns-injected-answer") {
		t.Fatalf("status %d, output %q", status, out)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "Usage"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"analyze without files", []string{"analyze"}, "no capture given"},
		{"unknown flag", []string{"analyze", "--nope", "x"}, "unknown flag"},
		{"bad format", []string{"analyze", "--format", "xml", "x"}, "unknown format"},
		{"bad fail-on", []string{"analyze", "--fail-on", "sometimes", "x"}, "--fail-on"},
		{"bad allow-addr", []string{"analyze", "--allow-addr", "not-a-cidr", "x"}, "--allow-addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, errOut := runCLI(t, "", tt.args...)
			if status != exitUsage || !strings.Contains(errOut, tt.want) {
				t.Errorf("status %d, stderr %q; want 2 and %q", status, errOut, tt.want)
			}
		})
	}
}

func TestNotACaptureExitsTwoAndSaysSo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(path, []byte("Hello world, not a capture\n"), 0o644)
	status, _, errOut := runCLI(t, "", "analyze", path)
	if status != exitUsage || !strings.Contains(errOut, "not a capture") {
		t.Errorf("status %d, stderr %q", status, errOut)
	}
}

func TestExplainCommand(t *testing.T) {
	status, out, _ := runCLI(t, "", "explain", "x509: certificate signed by unknown authority")
	if status != exitOK || !strings.Contains(out, "tls-foreign-issuer") {
		t.Errorf("status %d, output %q", status, out)
	}
	status, out, _ = runCLI(t, "dial tcp: lookup proxy.golang.org: no such host\n", "explain", "-")
	if status != exitOK || !strings.Contains(out, "NXDOMAIN") {
		t.Errorf("status %d, output %q", status, out)
	}
	status, _, _ = runCLI(t, "", "explain", "all is well")
	if status != exitFindings {
		t.Errorf("unrecognised text: status %d, want 1", status)
	}
}
