package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const demoSample = "../../samples/interception-mitmproxy-tls12.pcapng"

// TestReportFormatsAreStable pins the report of one sample in every format:
// a change in wording or structure shows up in review as a golden diff.
func TestReportFormatsAreStable(t *testing.T) {
	for _, format := range []string{"text", "json", "markdown", "html"} {
		t.Run(format, func(t *testing.T) {
			status, out, errOut := runCLI(t, "", "analyze", "--format", format, demoSample)
			if status != exitFindings || errOut != "" {
				t.Fatalf("status %d (want 1: errors found), stderr %q", status, errOut)
			}
			golden(t, "demo."+format, out)
		})
	}
}

// TestJSONContract checks the fields DESIGN §3 promises, by name, so that a
// rename cannot pass unnoticed.
func TestJSONContract(t *testing.T) {
	_, out, _ := runCLI(t, "", "analyze", "--format", "json", demoSample)
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	has := func(m map[string]any, keys ...string) {
		t.Helper()
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("missing field %q in %v", k, m)
			}
		}
	}
	has(rep, "schema", "inputs", "findings", "hosts", "events")
	if rep["schema"].(float64) != 1 {
		t.Errorf("schema = %v", rep["schema"])
	}
	has(rep["inputs"].([]any)[0].(map[string]any), "path", "packets", "link_types", "errors")
	f := rep["findings"].([]any)[0].(map[string]any)
	has(f, "id", "severity", "layer", "host", "summary", "expected", "observed", "evidence", "wireshark_filter", "hint")
	has(f["evidence"].([]any)[0].(map[string]any), "input", "packet", "time", "detail")
	has(rep["hosts"].([]any)[0].(map[string]any), "name", "role", "verdict")
	ev := rep["events"].(map[string]any)
	has(ev, "dns", "tls")
	tls := ev["tls"].([]any)[0].(map[string]any)
	has(tls, "input", "packet", "client", "server", "sni", "client_versions", "client_alpn", "ja4", "version", "cipher",
		"server_alpn", "decrypted", "certificates", "alerts")
	has(tls["certificates"].([]any)[0].(map[string]any), "subject", "issuer", "dns_names", "not_before", "not_after", "sha256")
	has(tls["alerts"].([]any)[0].(map[string]any), "from", "level", "description", "encrypted")

	_, out, _ = runCLI(t, "", "analyze", "--format", "json", "../../samples/dns-injected-race.pcapng")
	rep = nil
	json.Unmarshal([]byte(out), &rep)
	d := rep["events"].(map[string]any)["dns"].([]any)[0].(map[string]any)
	has(d, "input", "packet", "client", "server", "transport", "id", "name", "type", "responses")
	r := d["responses"].([]any)[0].(map[string]any)
	has(r, "packet", "rcode", "answers")
	has(r["answers"].([]any)[0].(map[string]any), "name", "type", "ttl", "data")
}

func TestInputsFromStdinAndGzip(t *testing.T) {
	raw, err := os.ReadFile(demoSample)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	// A gzip file whose name says nothing: detected by its magic bytes.
	path := filepath.Join(t.TempDir(), "capture.bin")
	os.WriteFile(path, gz.Bytes(), 0o644)
	for name, run := range map[string]func() (int, string, string){
		"stdin":      func() (int, string, string) { return runCLI(t, string(raw), "analyze", "--format", "json", "-") },
		"gzip":       func() (int, string, string) { return runCLI(t, "", "analyze", "--format", "json", path) },
		"gzip stdin": func() (int, string, string) { return runCLI(t, gz.String(), "analyze", "--format", "json", "-") },
	} {
		t.Run(name, func(t *testing.T) {
			status, out, errOut := run()
			if status != exitFindings || !strings.Contains(out, `"tls-foreign-issuer"`) {
				t.Errorf("status %d, stderr %q", status, errOut)
			}
		})
	}
}

func TestExitStatusFollowsFailOnAndDamage(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		status int
	}{
		{"errors found", []string{"analyze", demoSample}, exitFindings},
		{"--fail-on never", []string{"analyze", "--fail-on", "never", demoSample}, exitOK},
		{"healthy capture", []string{"analyze", "../../samples/healthy-direct-tls13.pcapng"}, exitOK},
		{"healthy capture, --fail-on info", []string{"analyze", "--fail-on", "info", "../../samples/healthy-direct-tls13.pcapng"}, exitFindings},
		{"damaged capture is still at least 1", []string{"analyze", "--fail-on", "never", "../../samples/input-truncated.pcapng"}, exitFindings},
		{"a missing file", []string{"analyze", "/nonexistent/x.pcapng"}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, _, errOut := runCLI(t, "", tt.args...); status != tt.status {
				t.Errorf("status %d, want %d (stderr %q)", status, tt.status, errOut)
			}
		})
	}
}

func TestDamagedInputReportsWhereAndKeepsWhatWasRead(t *testing.T) {
	_, out, _ := runCLI(t, "", "analyze", "--format", "json", "../../samples/input-truncated.pcapng")
	var rep struct {
		Inputs []struct {
			Packets int
			Errors  []struct {
				Offset  int64
				Packet  int
				Message string
			}
		}
		Findings []struct{ ID string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	in := rep.Inputs[0]
	if in.Packets == 0 || len(in.Errors) == 0 || in.Errors[0].Offset == 0 || in.Errors[0].Packet == 0 || in.Errors[0].Message == "" {
		t.Fatalf("input = %+v", in)
	}
	found := false
	for _, f := range rep.Findings {
		found = found || f.ID == "input-damaged"
	}
	if !found {
		t.Error("no input-damaged finding")
	}
}

// TestOutputFileIsStandardOutput checks that a report written with -o
// (rendered straight into the file) has the bytes standard output gets,
// that an existing longer file is replaced whole, and that a file that
// cannot be created is an error naming the report.
func TestOutputFileIsStandardOutput(t *testing.T) {
	sample := demoSample
	dir := t.TempDir()
	for _, format := range []string{"json", "text", "markdown"} {
		path := filepath.Join(dir, "report."+format)
		if err := os.WriteFile(path, bytes.Repeat([]byte("stale "), 100000), 0o600); err != nil {
			t.Fatal(err)
		}
		st1, stdout, _ := runCLI(t, "", "analyze", "--format", format, sample)
		st2, _, stderr := runCLI(t, "", "analyze", "--format", format, "-o", path, sample)
		if st1 != st2 {
			t.Errorf("%s: exit status %d with -o, %d without (%s)", format, st2, st1, stderr)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != stdout {
			t.Errorf("%s: -o wrote %d bytes, standard output got %d", format, len(got), len(stdout))
		}
	}
	st, _, stderr := runCLI(t, "", "analyze", "--format", "json", "-o", filepath.Join(dir, "missing", "r.json"), sample)
	if st != exitUsage || !strings.Contains(stderr, "writing the report") {
		t.Errorf("an uncreatable -o file: status %d, %q", st, stderr)
	}
}
