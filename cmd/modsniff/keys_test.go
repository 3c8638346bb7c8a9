package main

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode/decodetest"
)

// keyedCapture records two TLS 1.3 sessions of a go command meeting
// mitmproxy (one rejected, one accepted) and one unrelated session, and
// returns the packets of the first two and a key log of all three.
func keyedCapture(t *testing.T) (pkts []capture.Packet, keylog []byte) {
	t.Helper()
	p, err := decodetest.NewPKI(pkix.Name{CommonName: "mitmproxy", Organization: []string{"mitmproxy"}}, "proxy.golang.org")
	if err != nil {
		t.Fatal(err)
	}
	rec := &decodetest.Recorder{}
	rec.TLS(rec.ClientConfig("proxy.golang.org", nil), p.ServerConfig("h2", "http/1.1"), nil, nil)
	rec.TLS(rec.ClientConfig("proxy.golang.org", p.Roots), p.ServerConfig("h2", "http/1.1"), nil, nil)
	other := &decodetest.Recorder{}
	other.TLS(other.ClientConfig("proxy.golang.org", p.Roots), p.ServerConfig("h2"), nil, nil)
	pkts, err = rec.Packets(decodetest.DefaultNetwork())
	if err != nil {
		t.Fatal(err)
	}
	return pkts, append(rec.KeyLogBytes(), other.KeyLogBytes()...)
}

func writeFile(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readAll reads a capture: its packets (copied), the secrets blocks and
// how many packets came before the first one, its sections and interfaces.
type readBack struct {
	pkts          []capture.Packet
	secrets       []capture.Secrets
	secretsBefore []int // packets read before each secrets block
	sections      []capture.Section
	ifaces        []capture.Interface
}

func readCapture(t *testing.T, path string) readBack {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var rb readBack
	r.OnSecrets = func(s capture.Secrets) {
		rb.secrets = append(rb.secrets, s)
		rb.secretsBefore = append(rb.secretsBefore, len(rb.pkts))
	}
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		c := *p
		c.Data = bytes.Clone(p.Data)
		rb.pkts = append(rb.pkts, c)
	}
	if errs := r.Errors(); len(errs) != 0 {
		t.Errorf("%s: %v", path, errs)
	}
	rb.sections, rb.ifaces = r.Sections(), r.Interfaces()
	return rb
}

func TestKeysInject(t *testing.T) {
	pkts, keylog := keyedCapture(t)
	dir := t.TempDir()
	var pcap bytes.Buffer
	if err := decodetest.WritePcap(&pcap, pkts); err != nil {
		t.Fatal(err)
	}
	in := writeFile(t, filepath.Join(dir, "in.pcap"), pcap.Bytes())
	keys := writeFile(t, filepath.Join(dir, "keys.log"), append([]byte("# SSLKEYLOGFILE\r\n\r\nbogus line\r\n"), keylog...))
	out := filepath.Join(dir, "out.pcapng")

	status, stdout, stderr := runCLI(t, "", "keys", "inject", "-o", out, "--keylog", keys, in)
	if status != exitOK || !strings.Contains(stdout, "keys for 2 of 2 TLS sessions (6 key log lines)") {
		t.Fatalf("status %d\nstdout %s\nstderr %s", status, stdout, stderr)
	}
	if !strings.Contains(stderr, "keys.log:3: want LABEL CLIENT_RANDOM SECRET") {
		t.Errorf("stderr %q: want the malformed line reported with its number", stderr)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("output mode: %v %v", st.Mode(), err)
	}

	got, orig := readCapture(t, out), readCapture(t, in)
	if len(got.pkts) != len(orig.pkts) {
		t.Fatalf("%d packets, want %d", len(got.pkts), len(orig.pkts))
	}
	for i := range got.pkts {
		g, o := got.pkts[i], orig.pkts[i]
		if !g.Time.Equal(o.Time) || !bytes.Equal(g.Data, o.Data) || g.Length != o.Length || g.LinkType != o.LinkType {
			t.Fatalf("packet %d differs: %v/%v %d/%d", i+1, g.Time, o.Time, len(g.Data), len(o.Data))
		}
	}
	if len(got.secrets) != 1 || got.secretsBefore[0] != 0 || got.secrets[0].Type != capture.SecretsTLSKeyLog {
		t.Fatalf("secrets blocks %d, before packet %v", len(got.secrets), got.secretsBefore)
	}
	// Only the two sessions of the capture, not the unrelated one.
	kl := capture.NewKeyLog()
	if bad := kl.AddSecrets(got.secrets[0]); len(bad) != 0 || kl.Len() != 2 {
		t.Errorf("embedded key log: %d sessions, errors %v:\n%s", kl.Len(), bad, got.secrets[0].Data)
	}

	// The copy decrypts by itself.
	status, stdout, _ = runCLI(t, "", "analyze", "--format", "json", "--fail-on", "never", out)
	var rep struct {
		Events struct {
			TLS []struct {
				Decrypted    bool `json:"decrypted"`
				Certificates []struct {
					Issuer string `json:"issuer"`
				} `json:"certificates"`
			} `json:"tls"`
		} `json:"events"`
		Findings []struct {
			ID string `json:"id"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || status != exitOK {
		t.Fatalf("analyze: status %d, %v", status, err)
	}
	if len(rep.Events.TLS) != 2 {
		t.Fatalf("%d TLS sessions", len(rep.Events.TLS))
	}
	for i, s := range rep.Events.TLS {
		if !s.Decrypted || len(s.Certificates) == 0 || s.Certificates[0].Issuer != "O=mitmproxy, CN=mitmproxy" {
			t.Errorf("session %d: %+v", i, s)
		}
	}

	t.Run("tshark", func(t *testing.T) {
		tshark, err := exec.LookPath("tshark")
		if err != nil {
			t.Skip("tshark not installed")
		}
		frames := func(path string) string {
			cmd := exec.Command(tshark, "-n", "-r", path, "-Y", "tls.handshake.type == 11", "-T", "fields", "-e", "frame.number")
			cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+t.TempDir())
			b, err := cmd.Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			return strings.Join(strings.Fields(string(b)), " ")
		}
		if f := frames(in); f != "" {
			t.Fatalf("tshark sees a TLS 1.3 Certificate without keys: frames %s", f)
		}
		f := frames(out)
		if len(strings.Fields(f)) != 2 {
			t.Errorf("tshark sees the Certificate in frames %q of the copy, want both sessions'", f)
		}
		t.Logf("tshark decrypts the copy: Certificate in frames %s", f)
	})
}

// A pcapng input keeps its section comments, interfaces (names, link
// types) and packet comments.
func TestKeysInjectKeepsPcapngMetadata(t *testing.T) {
	pkts, keylog := keyedCapture(t)
	var b bytes.Buffer
	w, err := capture.NewWriter(&b, capture.Section{Comments: []string{"recorded for issue 6"}, OS: "Linux", UserAppl: "dumpcap"})
	if err != nil {
		t.Fatal(err)
	}
	w.AddInterface(capture.Interface{LinkType: layers.LinkTypeEthernet, Name: "eth0", SnapLen: 262144})
	w.AddInterface(capture.Interface{LinkType: layers.LinkTypeEthernet, Name: "eth1", SnapLen: 262144, Comments: []string{"uplink"}})
	for i, p := range pkts {
		comment := ""
		if i == 3 {
			comment = "ClientHello"
		}
		if err := w.WritePacketComment(i%2, p.Time, p.Data, p.Length, comment); err != nil {
			t.Fatal(err)
		}
	}
	w.WriteStats(1, capture.InterfaceStats{Time: pkts[len(pkts)-1].Time, Dropped: 3, Present: capture.StatDropped})
	dir := t.TempDir()
	in := writeFile(t, filepath.Join(dir, "in.pcapng"), b.Bytes())
	keys := writeFile(t, filepath.Join(dir, "keys.log"), keylog)
	out := filepath.Join(dir, "out.pcapng")
	if status, _, stderr := runCLI(t, "", "keys", "inject", "-o", out, "--keylog", keys, in); status != exitOK {
		t.Fatalf("status %d: %s", status, stderr)
	}
	got := readCapture(t, out)
	if len(got.sections) != 1 || fmt.Sprint(got.sections[0].Comments) != "[recorded for issue 6]" || got.sections[0].UserAppl != "dumpcap" {
		t.Errorf("sections %+v", got.sections)
	}
	if len(got.ifaces) != 2 || got.ifaces[0].Name != "eth0" || got.ifaces[1].Name != "eth1" || fmt.Sprint(got.ifaces[1].Comments) != "[uplink]" ||
		got.ifaces[1].Stats == nil || got.ifaces[1].Stats.Dropped != 3 {
		t.Errorf("interfaces %+v", got.ifaces)
	}
	for i, p := range got.pkts {
		if p.Interface != i%2 || (i == 3) != (len(p.Comments) == 1) {
			t.Errorf("packet %d: interface %d comments %q", i+1, p.Interface, p.Comments)
		}
	}
	if !got.pkts[0].Time.Equal(pkts[0].Time.Truncate(time.Nanosecond)) {
		t.Errorf("time %v, want %v", got.pkts[0].Time, pkts[0].Time)
	}
}

func TestKeysInjectErrors(t *testing.T) {
	pkts, _ := keyedCapture(t)
	dir := t.TempDir()
	var pcap bytes.Buffer
	decodetest.WritePcap(&pcap, pkts)
	in := writeFile(t, filepath.Join(dir, "in.pcap"), pcap.Bytes())
	unrelated := &decodetest.Recorder{}
	p, _ := decodetest.NewPKI(pkix.Name{CommonName: "x"}, "x.example")
	unrelated.TLS(unrelated.ClientConfig("x.example", p.Roots), p.ServerConfig(), nil, nil)
	other := writeFile(t, filepath.Join(dir, "other.log"), unrelated.KeyLogBytes())
	out := filepath.Join(dir, "out.pcapng")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no matching keys", []string{"inject", "-o", out, "--keylog", other, in}, "no keys match any of the 2 TLS sessions"},
		{"no output", []string{"inject", "--keylog", other, in}, "-o OUT.pcapng is required"},
		{"no key log", []string{"inject", "-o", out, in}, "--keylog FILE is required"},
		{"missing key log", []string{"inject", "-o", out, "--keylog", filepath.Join(dir, "nope"), in}, "no such file"},
		{"output is input", []string{"inject", "-o", in, "--keylog", other, in}, "is the input"},
		{"two inputs", []string{"inject", "-o", out, "--keylog", other, in, in}, "exactly one input"},
		{"no subcommand", nil, "no subcommand"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, stderr := runCLI(t, "", append([]string{"keys"}, tc.args...)...)
			if status != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("status %d stderr %q, want 2 and %q", status, stderr, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s written", out)
			}
		})
	}
}

// Standard input works too (spooled to read it twice).
func TestKeysInjectStdin(t *testing.T) {
	pkts, keylog := keyedCapture(t)
	var pcap bytes.Buffer
	decodetest.WritePcap(&pcap, pkts)
	dir := t.TempDir()
	keys := writeFile(t, filepath.Join(dir, "keys.log"), keylog)
	out := filepath.Join(dir, "out.pcapng")
	var stdout, stderr bytes.Buffer
	if status := run([]string{"keys", "inject", "-o", out, "--keylog", keys, "-"}, io.Reader(&pcap), &stdout, &stderr); status != exitOK {
		t.Fatalf("status %d: %s", status, stderr.String())
	}
	if got := readCapture(t, out); len(got.pkts) != len(pkts) || len(got.secrets) != 1 {
		t.Errorf("%d packets, %d secrets blocks", len(got.pkts), len(got.secrets))
	}
}

// --keylog on analyze, and on replay through an expectation's flags with
// the key log found beside the expectation.
func TestKeylogFlag(t *testing.T) {
	pkts, keylog := keyedCapture(t)
	dir := t.TempDir()
	var b bytes.Buffer
	decodetest.WritePcapng(&b, pkts, nil)
	capPath := writeFile(t, filepath.Join(dir, "mitm.pcapng"), b.Bytes())
	writeFile(t, filepath.Join(dir, "mitm.keys"), keylog)
	status, stdout, _ := runCLI(t, "", "analyze", "--format", "json", "--keylog", filepath.Join(dir, "mitm.keys"), capPath)
	if status != exitFindings || !strings.Contains(stdout, `"decrypted": true`) || strings.Contains(stdout, `"tls-cert-hidden"`) {
		t.Errorf("analyze --keylog: status %d\n%s", status, stdout)
	}
	writeFile(t, filepath.Join(dir, "mitm.expect.json"), []byte(`{"findings": [{"id": "tls-alert", "host": "proxy.golang.org"},
  {"id": "tls-foreign-issuer", "host": "proxy.golang.org", "severity": "error"}],
 "absent": ["tls-cert-hidden", "tls-client-rejected"], "flags": ["--keylog", "elsewhere/mitm.keys"]}`))
	status, stdout, stderr := runCLI(t, "", "replay", dir)
	if status != exitOK || !strings.Contains(stdout, "1 passed, 0 failed") {
		t.Errorf("replay: status %d\n%s%s", status, stdout, stderr)
	}
	status, _, stderr = runCLI(t, "", "analyze", "--keylog", filepath.Join(dir, "nope.keys"), capPath)
	if status != exitUsage || !strings.Contains(stderr, "--keylog") {
		t.Errorf("missing key log: status %d %q", status, stderr)
	}
}

// TestKeysStripLeavesTheKeysOut injects keys into a capture, strips them
// from a copy: the copy has every packet and no secrets block, and its
// sessions are no longer decrypted.
func TestKeysStripLeavesTheKeysOut(t *testing.T) {
	pkts, keylog := keyedCapture(t)
	dir := t.TempDir()
	var pcap bytes.Buffer
	if err := decodetest.WritePcap(&pcap, pkts); err != nil {
		t.Fatal(err)
	}
	in := writeFile(t, filepath.Join(dir, "in.pcap"), pcap.Bytes())
	keys := writeFile(t, filepath.Join(dir, "keys.log"), keylog)
	keyed := filepath.Join(dir, "keyed.pcapng")
	if status, _, stderr := runCLI(t, "", "keys", "inject", "-o", keyed, "--keylog", keys, in); status != exitOK {
		t.Fatalf("inject: %s", stderr)
	}
	out := filepath.Join(dir, "shared.pcapng")
	status, stdout, stderr := runCLI(t, "", "keys", "strip", "-o", out, keyed)
	if status != exitOK || !strings.Contains(stdout, "1 decryption secrets blocks left out") {
		t.Fatalf("strip: status %d\n%s%s", status, stdout, stderr)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("output mode: %v %v", st.Mode(), err)
	}
	got, orig := readCapture(t, out), readCapture(t, keyed)
	if len(got.secrets) != 0 || len(got.pkts) != len(orig.pkts) || len(orig.secrets) != 1 {
		t.Errorf("stripped: %d secrets blocks, %d packets of %d", len(got.secrets), len(got.pkts), len(orig.pkts))
	}
	for i := range got.pkts {
		if !bytes.Equal(got.pkts[i].Data, orig.pkts[i].Data) {
			t.Fatalf("packet %d differs", i+1)
		}
	}
	for _, path := range []string{keyed, out} {
		_, stdout, _ = runCLI(t, "", "analyze", "--format", "json", "--fail-on", "never", path)
		decrypted := strings.Count(stdout, `"decrypted": true`)
		if (path == keyed) != (decrypted > 0) {
			t.Errorf("%s: %d sessions decrypted", filepath.Base(path), decrypted)
		}
	}
	if status, _, _ := runCLI(t, "", "keys", "strip", keyed); status != exitUsage {
		t.Errorf("without -o: status %d", status)
	}
}
