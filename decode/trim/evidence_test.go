package trim_test

import (
	"bytes"
	"encoding/json"
	"io"
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
	"github.com/modsniff/modsniff/decode/trim"
)

// TestTrimKeepsTheEvidence runs every sample and every capture of the
// shared corpus through the privacy rules of live capture and checks that
// the analysis does not change: the same findings, host verdicts, DNS
// transactions, TLS handshakes (certificates, alerts …) and proxy tunnels.
// Only the decoder's notes about missing bytes may differ.
func TestTrimKeepsTheEvidence(t *testing.T) {
	files, _ := filepath.Glob("../../samples/*.pcapng")
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
		t.Fatal("no samples and no corpus")
	}
	var before, after, cut int
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		full, _, err := rewrite(bytes.NewReader(data), false)
		if err != nil {
			continue // not a capture this test can rewrite (damaged on purpose)
		}
		trimmed, n, err := rewrite(bytes.NewReader(data), true)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		before += len(full)
		after += len(trimmed)
		cut += n
		a, b := evidence(t, full), evidence(t, trimmed)
		if a != b {
			t.Errorf("%s: %d packets cut, %d → %d bytes, and the analysis changed:\n%s", f, n, len(full), len(trimmed), diff(t, a, b))
		}
	}
	if cut == 0 {
		t.Error("nothing was cut: the samples hold application data")
	}
	t.Logf("%d captures: %d bytes, %d after trimming (%d packets cut)", len(files), before, after, cut)
}

// rewrite writes the capture src again as a live capture would have
// written it: with trimming, every packet through a Trimmer of its
// interface. Secrets blocks and comments are dropped. It returns the new
// file and the number of packets cut.
func rewrite(src io.Reader, trimming bool) ([]byte, int, error) {
	r, err := capture.NewReader(src, "src")
	if err != nil {
		return nil, 0, err
	}
	var out bytes.Buffer
	w, err := capture.NewWriter(&out, capture.Section{})
	if err != nil {
		return nil, 0, err
	}
	ids := make(map[int]int) // reader interface index → writer interface
	trims := make(map[int]*trim.Trimmer)
	cut := 0
	var buf []byte
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		ifaces := r.Interfaces()
		idx := 0
		if len(ifaces) > 0 {
			// the last interface of the current section with this ID
			sec := ifaces[len(ifaces)-1].Section
			n := 0
			for i, ifc := range ifaces {
				if ifc.Section == sec {
					if n == p.Interface {
						idx = i
					}
					n++
				}
			}
		}
		id, ok := ids[idx]
		if !ok {
			id, err = w.AddInterface(capture.Interface{LinkType: p.LinkType, SnapLen: 0})
			if err != nil {
				return nil, 0, err
			}
			ids[idx] = id
			trims[id] = trim.New()
		}
		buf = append(buf[:0], p.Data...)
		if trimming {
			buf = trims[id].Append(buf[:0], p.LinkType, p.Data, p.Time)
		}
		if len(buf) < len(p.Data) {
			cut++
		}
		if err := w.WritePacket(id, p.Time, buf, max(p.Length, len(p.Data))); err != nil {
			return nil, 0, err
		}
	}
	return out.Bytes(), cut, nil
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
