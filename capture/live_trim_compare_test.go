package capture_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/capture/capturetest"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/pipeline"
)

// TestTrimKeepsTheEvidence runs every sample and every capture of the
// shared corpus through the privacy rules of live capture and checks that
// the analysis does not change: the same findings, host verdicts, DNS
// transactions, TLS handshakes (certificates, alerts …) and proxy tunnels.
// Only the decoder's notes about missing bytes may differ.
func TestTrimKeepsTheEvidence(t *testing.T) {
	files, _ := filepath.Glob("../samples/*.pcapng")
	if dir, ok := capturetest.FindCorpus(); ok {
		corpus, err := capturetest.CapturesIn(dir)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, corpus...)
	} else {
		t.Logf("capture corpus not found at %s: only the samples are checked", dir)
	}
	if len(files) == 0 {
		t.Skip("no samples and no corpus")
	}
	var before, after int
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		full, _, err := capture.TrimCapture(bytes.NewReader(data), true)
		if err != nil {
			continue // not a capture this test can rewrite (damaged on purpose)
		}
		trimmed, cut, err := capture.TrimCapture(bytes.NewReader(data), false)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		before += len(full)
		after += len(trimmed)
		a, b := evidence(t, full), evidence(t, trimmed)
		if a != b {
			t.Errorf("%s: %d packets cut, %d → %d bytes, and the analysis changed:\n%s", f, cut, len(full), len(trimmed), diff(t, a, b))
		}
	}
	t.Logf("%d captures: %d bytes, %d after trimming", len(files), before, after)
}

// evidence is what the analysis of a capture concludes, as JSON.
func evidence(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.pcapng")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := pipeline.Open(0, p, nil, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep := analyze.Build([]*analyze.Input{in}, analyze.Options{})
	for i := range rep.Events.TLS {
		rep.Events.TLS[i].Notes = nil // "N bytes lost": the cut, seen by the decoder
		slices.SortFunc(rep.Events.TLS[i].Alerts, func(a, b analyze.AlertJSON) int { return a.Packet - b.Packet })
	}
	type finding struct{ ID, Host, Severity string }
	var fs []finding
	for _, f := range rep.Findings {
		fs = append(fs, finding{f.ID, f.Host, f.Severity.String()})
	}
	js, err := json.MarshalIndent(struct {
		Findings []finding
		Hosts    []analyze.Host
		DNS      []analyze.DNSJSON
		TLS      []analyze.TLSJSON
		Proxy    []analyze.TunnelJSON
	}{fs, rep.Hosts, rep.Events.DNS, rep.Events.TLS, rep.Events.Proxy}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}

// diff shows two texts' differences (diff(1) when there is one).
func diff(t *testing.T, a, b string) string {
	d := t.TempDir()
	pa, pb := filepath.Join(d, "full"), filepath.Join(d, "trimmed")
	os.WriteFile(pa, []byte(a), 0o600)
	os.WriteFile(pb, []byte(b), 0o600)
	out, err := exec.Command("diff", "-u", pa, pb).CombinedOutput()
	if err != nil && len(out) == 0 {
		return "full:\n" + a + "\ntrimmed:\n" + b
	}
	return string(out)
}
