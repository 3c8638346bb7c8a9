package analyze

import (
	"bytes"
	"encoding/xml"
	"github.com/modsniff/modsniff/capture"
	"strings"
	"testing"
)

// ciReport is a report whose capture text carries the characters the CI
// formats must escape.
func ciReport() *Report {
	return &Report{Schema: Schema, Inputs: []InputInfo{{Path: "x.pcapng", Packets: 3}},
		Findings: []Finding{
			{ID: "tls-foreign-issuer", Severity: Error, Layer: "tls", Host: "proxy.golang.org",
				Summary: "100% forged,\r\nby: evil", Expected: "a public root", Observed: "issuer CN=a,b:c\n::error::injected",
				Evidence: []Evidence{{At: capture.Ref{Packet: 7}, Detail: "certificate\n::set-output name=x::y"}}, Hint: "set SSL_CERT_FILE"},
			{ID: "dns-search-suffix", Severity: Info, Layer: "dns", Host: "proxy.golang.org", Summary: "suffix \x00\x01 appended"},
			{ID: "input-damaged", Severity: Warning, Layer: "input", Host: "", Summary: "truncated <b>&"},
		},
		Hosts: []Host{{Name: "proxy.golang.org", Role: "goproxy"}}}
}

// TestGitHubFormatEscapes checks the workflow-command syntax: % CR LF
// escaped in messages, also : and , in properties, and no capture text
// starting a line of its own as a command.
func TestGitHubFormatEscapes(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, ciReport(), "github", RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"::error title=modsniff tls-foreign-issuer proxy.golang.org::100%25 forged,%0D%0Aby: evil%0AFix: set SSL_CERT_FILE\n",
		"::notice title=modsniff dns-search-suffix proxy.golang.org::suffix",
		"::warning title=modsniff input-damaged::truncated <b>&\n",
		"::group::Evidence: tls-foreign-issuer proxy.golang.org\n",
		"::endgroup::\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var cmds []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "::") {
			cmds = append(cmds, strings.FieldsFunc(line[2:], func(r rune) bool { return r == ' ' || r == ':' })[0])
		}
	}
	if got := strings.Join(cmds, " "); got != "error group endgroup notice group endgroup warning group endgroup" {
		t.Errorf("workflow commands %q", got)
	}
	for _, c := range cmds {
		if c == "set-output" {
			t.Errorf("capture text became a workflow command: %q", c)
		}
	}
	if strings.Contains(out, "\x00") {
		t.Error("a NUL reached the log")
	}
}

// TestGitHubPropertyEscaping pins the property escape table.
func TestGitHubPropertyEscaping(t *testing.T) {
	if got := ghProperty("a%b\rc\nd:e,f"); got != "a%25b%0Dc%0Ad%3Ae%2Cf" {
		t.Errorf("ghProperty = %q", got)
	}
	if got := ghData("a%b\rc\nd:e,f"); got != "a%25b%0Dc%0Ad:e,f" {
		t.Errorf("ghData = %q", got)
	}
}

// TestJUnitFormat: one test case per host, a failure per warning or error
// finding, information in system-out, and a well-formed document whatever
// the capture text holds.
func TestJUnitFormat(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, ciReport(), "junit", RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, b.String())
	}
	if doc.Tests != 2 || doc.Failures != 2 || len(doc.Suites) != 1 {
		t.Fatalf("tests %d failures %d suites %d", doc.Tests, doc.Failures, len(doc.Suites))
	}
	cases := doc.Suites[0].Cases
	if cases[0].Name != "proxy.golang.org" || cases[0].Classname != "modsniff.goproxy" || len(cases[0].Failures) != 1 {
		t.Errorf("first case %+v", cases[0])
	}
	f := cases[0].Failures[0]
	if f.Type != "error tls-foreign-issuer" || !strings.Contains(f.Text, "Observed: issuer CN=a,b:c") || !strings.Contains(f.Text, "#7") {
		t.Errorf("failure %+v", f)
	}
	if !strings.Contains(cases[0].SystemOut, "dns-search-suffix: suffix \ufffd\ufffd appended") {
		t.Errorf("system-out %q", cases[0].SystemOut)
	}
	if cases[1].Name != "capture" || len(cases[1].Failures) != 1 || cases[1].Failures[0].Message != "truncated <b>&" {
		t.Errorf("case for findings without a host %+v", cases[1])
	}
}
