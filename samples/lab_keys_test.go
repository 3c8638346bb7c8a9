package samples

import (
	"bytes"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/pipeline"
)

// labDerived lists the lab samples derived from a recording rather than
// recorded: the file, its source recording and the key log injected.
var labDerived = []struct {
	name, source, keys, issuer string
}{
	{"lab-mitmproxy-tls13-dsb", "lab-mitmproxy-tls13", "lab-mitmproxy-tls13.keys", "mitmproxy"},
}

// reinject is the command that derives a sample; README.md documents it.
func reinject(name, source, keys string) string {
	return "go run ./cmd/modsniff keys inject -o samples/" + name + ".pcapng --keylog samples/" + keys +
		" samples/" + source + ".pcapng"
}

// TestLabKeysInjected checks the lab samples derived with `modsniff keys
// inject`: the same packets as their recording (else the recording was
// re-made and the copy is stale), keys that are the recording's key log
// lines for the sessions in the capture, every session decrypted from the
// file alone, and the interceptor named.
func TestLabKeysInjected(t *testing.T) {
	for _, d := range labDerived {
		t.Run(d.name, func(t *testing.T) {
			redo := "re-derive it: " + reinject(d.name, d.source, d.keys)
			if readme, err := os.ReadFile("README.md"); err != nil || !strings.Contains(string(readme), reinject(d.name, d.source, d.keys)) {
				t.Errorf("README.md: the lab table must give %s's command: %s", d.name, reinject(d.name, d.source, d.keys))
			}
			want, _ := readPackets(t, d.source+".pcapng")
			got, secrets := readPackets(t, d.name+".pcapng")
			if !slices.EqualFunc(want, got, bytes.Equal) {
				t.Errorf("%s: its packets differ from %s.pcapng's; %s", d.name, d.source, redo)
			}
			var embedded []string
			for _, s := range secrets {
				embedded = append(embedded, strings.Split(strings.TrimSpace(string(s.Data)), "\n")...)
			}
			if len(embedded) == 0 {
				t.Fatalf("%s: no Decryption Secrets Block; %s", d.name, redo)
			}
			logged, err := readLines(d.keys)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range embedded {
				if !slices.Contains(logged, l) {
					t.Errorf("%s: embedded key log line %.40s… is not in %s; %s", d.name, l, d.keys, redo)
				}
			}

			in, err := pipeline.Open(0, d.name+".pcapng", nil, decode.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range in.Events.TLS {
				if s.EncryptedCount[0]+s.EncryptedCount[1] > 0 && !s.Decrypted {
					t.Errorf("%s: the TLS session to %s is not decrypted by the embedded keys", d.name, s.Server())
				}
			}
			rep := analyze.Build([]*analyze.Input{in}, analyze.Options{})
			if !slices.ContainsFunc(rep.Findings, func(f analyze.Finding) bool {
				return f.ID == "tls-foreign-issuer" && strings.Contains(f.Summary, d.issuer)
			}) {
				t.Errorf("%s: no tls-foreign-issuer finding names %s:\n%s", d.name, d.issuer, describe(rep))
			}
		})
	}
}

// readPackets returns the packet bytes of a capture and its Decryption
// Secrets Blocks.
func readPackets(t *testing.T, path string) ([][]byte, []capture.Secrets) {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var secrets []capture.Secrets
	r.OnSecrets = func(s capture.Secrets) { secrets = append(secrets, s) }
	var out [][]byte
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, bytes.Clone(p.Data))
	}
	return out, secrets
}

// readLines returns a text file's lines.
func readLines(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n"), nil
}
