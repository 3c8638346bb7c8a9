package analyze

import (
	"strings"
	"testing"

	"github.com/modsniff/modsniff/decode"
)

func TestGoproxyPrivatePath(t *testing.T) {
	privateDNS := exchange(1, client, router, "git.example.com", "A", response(2, "NOERROR", 64, "git.example.com", "A 10.4.0.7"))
	publicDNS := exchange(1, client, router, "git.example.org", "A", response(2, "NOERROR", 64, "git.example.org", "A 93.184.216.34"))
	tests := []struct {
		name string
		dns  []*decode.DNSExchange
		xs   []*decode.HTTPExchange
		want []want
		hint string
	}{
		{name: "410 whose body says git needed a password",
			xs: []*decode.HTTPExchange{hx(3, modHost, "/github.com/acme/widgets/@v/v1.4.0.info", 410, func(h *decode.HTTPExchange) {
				h.FirstLine = "not found: github.com/acme/widgets@v1.4.0: invalid version: git ls-remote -q origin in /tmp: exit status 128:"
				h.ErrorBody = h.FirstLine + " fatal: could not read Username for 'https://github.com': terminal prompts disabled"
			})},
			want: []want{{modHost, "error", "terminal prompts disabled"}}, hint: "go env -w GOPRIVATE=github.com/acme`"},
		{name: "404 for a module under an internal name",
			xs:   []*decode.HTTPExchange{hx(3, modHost, "/git.corp.internal/team/lib/@v/list", 404, nil)},
			want: []want{{modHost, "error", "internal name"}}, hint: "GOPRIVATE=git.corp.internal/*"},
		{name: "404 for a module whose host resolves only to private addresses", dns: []*decode.DNSExchange{privateDNS},
			xs:   []*decode.HTTPExchange{hx(3, modHost, "/git.example.com/!team/lib/@latest", 404, nil)},
			want: []want{{modHost, "error", "git.example.com/Team/lib"}}},
		{name: "the checksum database's 410 for a private module",
			xs:   []*decode.HTTPExchange{hx(3, "sum.golang.org", "/lookup/git.corp.internal/team/lib@v1.0.0", 410, nil)},
			want: []want{{"sum.golang.org", "error", "git.corp.internal/team/lib"}}, hint: "GONOSUMDB"},
		{name: "a 404 for a public path with nothing private about it is a typo, not this", dns: []*decode.DNSExchange{publicDNS},
			xs: []*decode.HTTPExchange{
				hx(3, modHost, "/github.com/rsc/quoet/@v/list", 404, func(h *decode.HTTPExchange) { h.FirstLine = "not found: github.com/rsc/quoet: 404" }),
				hx(5, modHost, "/git.example.org/x/@v/list", 404, nil),
			}},
		{name: "an internal proxy's 404 is http-error-status's",
			xs: []*decode.HTTPExchange{hx(3, "goproxy.corp.internal", "/git.corp.internal/team/lib/@v/list", 404, nil)}},
		{name: "a 200 is not a finding",
			xs: []*decode.HTTPExchange{hx(3, modHost, "/git.corp.internal/team/lib/@v/list", 200, nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runCheck(t, "goproxy-private-path", ctxFor(&decode.Events{DNS: tt.dns, HTTP: tt.xs}, 100, Options{}))
			expectFindings(t, got, tt.want...)
			if tt.hint != "" && len(got) > 0 && !strings.Contains(got[0].Hint, tt.hint) {
				t.Errorf("hint lacks %q: %s", tt.hint, got[0].Hint)
			}
		})
	}
}

func TestModulePath(t *testing.T) {
	for path, want := range map[string]string{
		"/github.com/!azure/azure-sdk/@v/v1.0.0.zip": "github.com/Azure/azure-sdk",
		"/rsc.io/quote/@latest":                      "rsc.io/quote",
		"/lookup/rsc.io/quote@v1.5.2":                "rsc.io/quote",
		"/sumdb/sum.golang.org/lookup/x.io/y@v1.0.0": "x.io/y",
		"/":               "",
		"/x/@v/list?…":    "x",
		"/!/@v/list":      "!",
		"/a!b!/@v/v1.mod": "aB!",
	} {
		if got := modulePath(path); got != want {
			t.Errorf("modulePath(%q) = %q, want %q", path, got, want)
		}
	}
}
