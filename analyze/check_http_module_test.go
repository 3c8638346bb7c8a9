package analyze

import (
	"strings"
	"testing"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
)

// hx builds an HTTP exchange at packets req and req+1; edit fills in the
// response facts.
func hx(req int, host, path string, status int, edit func(h *decode.HTTPExchange)) *decode.HTTPExchange {
	h := &decode.HTTPExchange{Client: addrPortOf(client), Server: addrPortOf("142.250.1.1:443"), Host: host, Method: "GET",
		Path: path, Proto: "h2", Request: at(req), Status: status, Response: at(req + 1), StreamID: 1, ContentLength: -1}
	if edit != nil {
		edit(h)
	}
	return h
}

func TestModuleHTTPChecks(t *testing.T) {
	closedConn := &decode.TCPConn{FIN: [2]capture.Ref{{}, at(9)}}
	tests := []struct {
		name, check string
		xs          []*decode.HTTPExchange
		want        []want
		hint        string
	}{
		{name: "the server resets a .zip stream with INTERNAL_ERROR", check: "h2-stream-reset",
			xs: []*decode.HTTPExchange{hx(3, modHost, "/rsc.io/quote/@v/v1.5.2.zip", 200, func(h *decode.HTTPExchange) {
				h.Reset, h.ResetAt, h.BodyBytes, h.StreamID = "INTERNAL_ERROR", at(7), 4096, 7
			})},
			want: []want{{modHost, "error", "stream ID 7; INTERNAL_ERROR"}}, hint: "GODEBUG=http2client=0"},
		{name: "two resets with one code make one finding", check: "h2-stream-reset",
			xs: []*decode.HTTPExchange{
				hx(3, modHost, "/a/@v/list", 0, func(h *decode.HTTPExchange) { h.Reset, h.ResetAt = "REFUSED_STREAM", at(5) }),
				hx(6, modHost, "/b/@v/list", 0, func(h *decode.HTTPExchange) { h.Reset, h.ResetAt, h.StreamID = "REFUSED_STREAM", at(8), 3 }),
			},
			want: []want{{modHost, "error", "/b/@v/list (stream 3)"}}, hint: "safe to retry"},
		{name: "the client's CANCEL is not a finding", check: "h2-stream-reset",
			xs: []*decode.HTTPExchange{hx(3, modHost, "/a/@v/list", 0, func(h *decode.HTTPExchange) {
				h.Reset, h.ResetAt, h.ResetFromClient = "CANCEL", at(5), true
			})}},
		{name: "a reset on a non-module host is not a finding", check: "h2-stream-reset",
			xs: []*decode.HTTPExchange{hx(3, "www.example.com", "/index.html", 0, func(h *decode.HTTPExchange) {
				h.Reset, h.ResetAt = "INTERNAL_ERROR", at(5)
			})}},
		{name: "a .zip cut short by the server's close", check: "http-body-truncated",
			xs: []*decode.HTTPExchange{hx(3, modHost, "/rsc.io/quote/@v/v1.5.2.zip", 200, func(h *decode.HTTPExchange) {
				h.Truncated, h.Conn = "40 of 100 bytes (Content-Length) received", closedConn
			})},
			want: []want{{modHost, "error", "40 of 100 bytes"}}, hint: "unexpected EOF"},
		{name: "a complete body, or one the capture stopped in, is not truncated", check: "http-body-truncated",
			xs: []*decode.HTTPExchange{
				hx(3, modHost, "/a/@v/v1.0.0.zip", 200, func(h *decode.HTTPExchange) { h.BodyDone = true }),
				hx(5, modHost, "/b/@v/v1.0.0.zip", 200, func(h *decode.HTTPExchange) { h.BodyBytes = 10 }),
			}},
		{name: "HTML where the version list should be, with its title", check: "http-not-module-content",
			xs: []*decode.HTTPExchange{hx(3, "artifactory.corp.internal", "/example.com/m/@v/list", 200, func(h *decode.HTTPExchange) {
				h.ContentType, h.Title = "text/html", "JFrog Artifactory"
			})},
			want: []want{{"artifactory.corp.internal", "error", `titled "JFrog Artifactory"`}}, hint: "api/go/REPO"},
		{name: "a .zip redirected to a login host", check: "http-not-module-content",
			xs:   []*decode.HTTPExchange{hx(3, modHost, "/m/@v/v1.0.0.zip", 302, func(h *decode.HTTPExchange) { h.Location = "login.corp.example" })},
			want: []want{{modHost, "error", "login or portal host"}}},
		{name: "HTTP/2 frames on an HTTP/1.1 connection", check: "http-not-module-content",
			xs: []*decode.HTTPExchange{hx(3, "goproxy.corp.internal", "/m/@v/list", 0, func(h *decode.HTTPExchange) {
				h.Proto, h.Malformed = "HTTP/1.1", "HTTP/2 frames"
			})},
			want: []want{{"goproxy.corp.internal", "error", "malformed HTTP response"}}, hint: "prior knowledge"},
		{name: "proxy.golang.org's redirect to its storage host is module content", check: "http-not-module-content",
			xs: []*decode.HTTPExchange{hx(3, modHost, "/m/@v/v1.0.0.zip", 302, func(h *decode.HTTPExchange) { h.Location = "storage.googleapis.com" })}},
		{name: "plain text and JSON are module content; HTML off the module protocol is not judged", check: "http-not-module-content",
			xs: []*decode.HTTPExchange{
				hx(3, modHost, "/m/@v/list", 200, func(h *decode.HTTPExchange) { h.ContentType = "text/plain" }),
				hx(5, modHost, "/m/@v/v1.0.0.info", 200, func(h *decode.HTTPExchange) { h.ContentType = "application/json" }),
				hx(7, "pkg.go.dev", "/rsc.io/quote", 200, func(h *decode.HTTPExchange) { h.ContentType = "text/html" }),
			}},
		{name: "an HTML error is http-error-status's, not this", check: "http-not-module-content",
			xs: []*decode.HTTPExchange{hx(3, modHost, "/m/@v/list", 403, func(h *decode.HTTPExchange) { h.ContentType, h.Title = "text/html", "Blocked" })}},
		{name: "403 quotes the block page's title", check: "http-error-status",
			xs: []*decode.HTTPExchange{hx(3, modHost, "/m/@v/list", 403, func(h *decode.HTTPExchange) {
				h.ContentType, h.Title = "text/html", "Web Page Blocked - Zscaler"
			})},
			want: []want{{modHost, "error", `page title "Web Page Blocked - Zscaler"`}}, hint: "VPC Service Controls"},
		{name: "429 quotes Retry-After and the body's first line", check: "http-error-status",
			xs: []*decode.HTTPExchange{hx(3, modHost, "/m/@v/list", 429, func(h *decode.HTTPExchange) {
				h.RetryAfter, h.FirstLine = "120", "rate limit exceeded"
			})},
			want: []want{{modHost, "error", `Retry-After: 120`}}, hint: "wait 120"},
		{name: "451 names the legal block", check: "http-error-status",
			xs:   []*decode.HTTPExchange{hx(3, modHost, "/m/@v/list", 451, nil)},
			want: []want{{modHost, "error", "451"}}, hint: "Legal Reasons"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runCheck(t, tt.check, ctxFor(&decode.Events{HTTP: tt.xs}, 100, Options{}))
			expectFindings(t, got, tt.want...)
			if tt.hint != "" && len(got) > 0 && !strings.Contains(got[0].Hint+got[0].Observed, tt.hint) {
				t.Errorf("hint/observed lacks %q: %s / %s", tt.hint, got[0].Observed, got[0].Hint)
			}
		})
	}
}

func TestModuleRequestKind(t *testing.T) {
	for path, want := range map[string]string{
		"/rsc.io/quote/@v/list": "list", "/rsc.io/quote/@v/v1.5.2.info": "info", "/rsc.io/quote/@v/v1.5.2.mod": "mod",
		"/rsc.io/quote/@v/v1.5.2.zip": "zip", "/rsc.io/quote/@latest": "latest", "/lookup/rsc.io/quote@v1.5.2": "lookup",
		"/tile/8/0/x123/456": "tile", "/sumdb/sum.golang.org/lookup/rsc.io/quote@v1.5.2": "lookup",
		"/": "", "/index.html": "", "/rsc.io/quote?go-get=1": "",
	} {
		if got := moduleRequestKind(path); got != want {
			t.Errorf("moduleRequestKind(%q) = %q, want %q", path, got, want)
		}
	}
}
