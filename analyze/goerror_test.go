package analyze

import (
	"strings"
	"testing"

	"github.com/modsniff/modsniff/capture"
)

func TestGoErrorSummary(t *testing.T) {
	failed, ok := 1, 0
	dnsFinding := Finding{ID: "dns-unreachable", Severity: Error, Host: "proxy.golang.org", Summary: "the resolver 127.0.0.53 is not there"}
	otherFinding := Finding{ID: "tls-foreign-issuer", Severity: Warning, Host: "sum.golang.org", Summary: "sum.golang.org presented a certificate from Zscaler"}
	withPackets := func(fs ...Finding) *Report {
		return &Report{Inputs: []InputInfo{{Packets: 10}}, Findings: fs}
	}
	tail := "go: downloading example.com/m v1.0.0\n" +
		`go: example.com/m@v1.0.0: Get "https://proxy.golang.org/example.com/m/@v/v1.0.0.info": dial tcp: lookup proxy.golang.org on 127.0.0.53:53: read udp 127.0.0.1:3->127.0.0.53:53: read: connection refused` + "\n"
	for _, tc := range []struct {
		name string
		m    *capture.Metadata
		rep  *Report
		want []string // substrings; none when empty
	}{
		{"no metadata", nil, withPackets(dnsFinding), nil},
		{"succeeded", &capture.Metadata{ExitStatus: &ok, StderrTail: tail}, withPackets(dnsFinding), nil},
		{"no command", &capture.Metadata{}, withPackets(dnsFinding), nil},
		{"dns failure joined to its finding", &capture.Metadata{Command: []string{"/usr/local/go/bin/go", "mod", "download"}, ExitStatus: &failed, StderrTail: tail},
			withPackets(otherFinding, dnsFinding),
			[]string{"go said: go: example.com/m@v1.0.0: Get", "lookup proxy.golang.org", "; the capture shows: error dns-unreachable: the resolver 127.0.0.53 is not there"}},
		{"another host's finding when none for the host", &capture.Metadata{ExitStatus: &failed, StderrTail: tail},
			withPackets(otherFinding), []string{"the capture shows: warning tls-foreign-issuer"}},
		{"nothing on the wire", &capture.Metadata{ExitStatus: &failed, StderrTail: "go: example.com/m@v9: reading https://proxy.golang.org/example.com/m/@v/v9.info: 404 Not Found"},
			withPackets(), []string{"404 Not Found", "no DNS, TCP or TLS failure for proxy.golang.org", "above the wire"}},
		{"certificate rejected", &capture.Metadata{ExitStatus: &failed, StderrTail: `go: Get "https://proxy.golang.org/x": tls: failed to verify certificate: x509: certificate signed by unknown authority`},
			withPackets(), []string{"x509", "modsniff probe"}},
		{"no packets", &capture.Metadata{ExitStatus: &failed, StderrTail: tail}, &Report{Inputs: []InputInfo{{}}},
			[]string{"no packets at all"}},
		{"silent failure", &capture.Metadata{Command: []string{"sh"}, ExitStatus: &failed}, withPackets(),
			[]string{"sh said: nothing on standard error (exit status 1)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := GoErrorSummary(tc.m, tc.rep)
			if len(tc.want) == 0 {
				if got != "" {
					t.Errorf("got %q, want nothing", got)
				}
				return
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("got %q\nwant it to contain %q", got, w)
				}
			}
		})
	}
}

func TestGoErrLine(t *testing.T) {
	long := "go: " + strings.Repeat("x", 400) + " dial tcp: i/o timeout"
	if got := goErrLine(long); len(got) > 300 || !strings.HasSuffix(got, "i/o timeout") {
		t.Errorf("long line shortened to %q", got)
	}
	if got := goErrLine("go: downloading a v1\nsomething odd\n"); got != "go: downloading a v1" {
		t.Errorf("fallback to the last go: line: %q", got)
	}
	for line, host := range map[string]string{
		`Get "https://Proxy.Corp:8443/x": EOF`:           "proxy.corp",
		`dial tcp 142.250.1.1:443: i/o timeout`:          "142.250.1.1",
		`dial tcp [2001:db8::1]:443: connect: refused`:   "2001:db8::1",
		`lookup sum.golang.org. on 10.0.0.1:53: no such`: "sum.golang.org",
		`verifying module: checksum mismatch`:            "",
	} {
		if got := goErrHost(line); got != host {
			t.Errorf("goErrHost(%q) = %q, want %q", line, got, host)
		}
	}
}
