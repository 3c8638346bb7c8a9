package analyze

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestTextAndMarkdownFoldQuietHosts: a capture naming thousands of hosts
// without findings reads as a page, not one block per host; hosts with a
// finding or a module-protocol role are always listed.
func TestTextAndMarkdownFoldQuietHosts(t *testing.T) {
	rep := &Report{Schema: Schema, Inputs: []InputInfo{{Path: "x.pcapng"}}}
	for i := range 20000 {
		rep.Hosts = append(rep.Hosts, Host{Name: fmt.Sprintf("q%05d.example.com", i), Role: "other"})
	}
	rep.Hosts = append(rep.Hosts, Host{Name: "proxy.golang.org", Role: "goproxy"}, Host{Name: "z.example.com", Role: "other"})
	rep.Findings = []Finding{{ID: "dns-timeout", Severity: Error, Layer: "dns", Host: "z.example.com", Summary: "no answer"}}
	for _, format := range []string{"text", "markdown"} {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := Render(&b, rep, format, RenderOptions{}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if n := strings.Count(out, ".example.com"); n > maxQuietHosts+4 {
				t.Errorf("%d host mentions: the quiet hosts were not folded", n)
			}
			for _, want := range []string{"proxy.golang.org", "z.example.com", "q00011.example.com", "19,988 more hosts with no finding"} {
				if !strings.Contains(out, want) {
					t.Errorf("the report lacks %q", want)
				}
			}
			if strings.Contains(out, "q00012.example.com") {
				t.Errorf("the 13th quiet host is listed")
			}
			if lines := strings.Count(out, "\n"); lines > 120 {
				t.Errorf("%d lines for one finding and 20,002 hosts", lines)
			}
		})
	}
}
