package decode

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/http2/hpack"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// factsRun feeds a client and a server stream to an HTTP/1 or HTTP/2
// decoder in chunks of step bytes; with closed, the server's FIN ends the
// connection before the decoder finishes.
func factsRun(h2 bool, client, server []byte, step int, closed bool) []*HTTPExchange {
	d := New(0, Options{})
	c := &TCPConn{Client: netip.MustParseAddrPort("10.0.0.2:41000"), Server: netip.MustParseAddrPort("10.0.0.9:443")}
	var a streamApp = newHTTPApp(d, c, "")
	if h2 {
		a = newH2App(d, c, &TLSSession{Session: &tlswire.Session{}}, "goproxy.example")
	}
	n := 1
	for dir, p := range [][]byte{client, server} {
		for len(p) > 0 {
			k := min(step, len(p))
			a.data(dir, p[:k], capture.Ref{Packet: int32(n)})
			p = p[k:]
			n++
		}
	}
	if closed {
		c.FIN[1] = capture.Ref{Packet: int32(n)}
	}
	a.finish()
	return d.ev.HTTP
}

// h2Exchange is one GET on stream 1 and the server's frames after its
// HEADERS block (built from the response fields).
func h2Exchange(path string, respFields []string, frames ...[]byte) (client, server []byte) {
	var cb, sb bytes.Buffer
	cenc, senc := hpack.NewEncoder(&cb), hpack.NewEncoder(&sb)
	client = []byte(h2Preface)
	client = append(client, h2Frame(h2Settings, 0, 0, nil)...)
	client = append(client, h2Frame(h2Headers, h2FlagEndHeaders|h2FlagEndStream, 1,
		h2Block(cenc, &cb, ":method", "GET", ":scheme", "https", ":authority", "goproxy.example", ":path", path))...)
	server = h2Frame(h2Settings, 0, 0, nil)
	flags := uint8(h2FlagEndHeaders)
	if len(frames) == 0 {
		flags |= h2FlagEndStream
	}
	server = append(server, h2Frame(h2Headers, flags, 1, h2Block(senc, &sb, respFields...))...)
	for _, f := range frames {
		server = append(server, f...)
	}
	return client, server
}

func TestHTTPResponseFacts(t *testing.T) {
	page := []byte("<!DOCTYPE html>\n<html><HEAD><Title>\n  Access   Denied \x07</title></head><body>secret body text</body></html>")
	type check func(t *testing.T, x *HTTPExchange)
	tests := []struct {
		name           string
		h2             bool
		client, server []byte
		closed         bool
		check          check
	}{
		{name: "h2: an HTML block page gives its title, not its body", h2: true, closed: true,
			client: nil, server: nil,
			check: func(t *testing.T, x *HTTPExchange) {
				if x.Title != "Access Denied" || x.ContentType != "text/html" || !x.BodyDone || x.Truncated != "" || x.BodyBytes != int64(len(page)) {
					t.Errorf("%+v", x)
				}
			}},
		{name: "h2: RST_STREAM INTERNAL_ERROR from the server mid-body", h2: true, closed: true,
			check: func(t *testing.T, x *HTTPExchange) {
				if x.Reset != "INTERNAL_ERROR" || x.ResetFromClient || x.StreamID != 1 || x.BodyDone || x.Truncated != "" || x.ResetAt.IsZero() {
					t.Errorf("%+v", x)
				}
			}},
		{name: "h2: the connection closes before END_STREAM", h2: true, closed: true,
			check: func(t *testing.T, x *HTTPExchange) {
				if !strings.Contains(x.Truncated, "40 of 100 bytes") || x.BodyDone {
					t.Errorf("%+v", x)
				}
			}},
		{name: "h2: a capture that stops mid-body judges nothing", h2: true, closed: false,
			check: func(t *testing.T, x *HTTPExchange) {
				if x.Truncated != "" || x.BodyDone || x.BodyBytes != 40 {
					t.Errorf("%+v", x)
				}
			}},
		{name: "h2: padding is not body", h2: true, closed: true,
			check: func(t *testing.T, x *HTTPExchange) {
				if x.BodyBytes != 5 || !x.BodyDone {
					t.Errorf("%+v", x)
				}
			}},
		{name: "h1: Content-Length not reached when the server closes", closed: true,
			client: []byte("GET /m/@v/v1.0.0.zip HTTP/1.1\r\nHost: goproxy.example\r\n\r\n"),
			server: []byte("HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nContent-Length: 100\r\n\r\n" + strings.Repeat("z", 40)),
			check: func(t *testing.T, x *HTTPExchange) {
				if x.Truncated != "40 of 100 bytes (Content-Length) received" || x.ContentLength != 100 || x.ContentType != "application/zip" {
					t.Errorf("%+v", x)
				}
			}},
		{name: "h1: a chunked body without its last chunk", closed: true,
			client: []byte("GET /m/@v/list HTTP/1.1\r\nHost: goproxy.example\r\n\r\n"),
			server: []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nv1.0.0\n\r\n"),
			check: func(t *testing.T, x *HTTPExchange) {
				if !strings.Contains(x.Truncated, "without its last chunk") {
					t.Errorf("%+v", x)
				}
			}},
		{name: "h1: a complete chunked body", closed: true,
			client: []byte("GET /m/@v/list HTTP/1.1\r\nHost: goproxy.example\r\n\r\n"),
			server: []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nv1.0.0\n\r\n0\r\n\r\n"),
			check: func(t *testing.T, x *HTTPExchange) {
				if x.Truncated != "" || !x.BodyDone || x.BodyBytes != 7 {
					t.Errorf("%+v", x)
				}
			}},
		{name: "h1: a body delimited by the close is complete", closed: true,
			client: []byte("GET /m/@v/list HTTP/1.1\r\nHost: goproxy.example\r\n\r\n"),
			server: []byte("HTTP/1.1 200 OK\r\n\r\nv1.0.0\n"),
			check: func(t *testing.T, x *HTTPExchange) {
				if x.Truncated != "" || !x.BodyDone {
					t.Errorf("%+v", x)
				}
			}},
		{name: "h1: 429 with Retry-After and the first line of its text", closed: true,
			client: []byte("GET /m/@v/list HTTP/1.1\r\nHost: goproxy.example\r\n\r\n"),
			server: []byte("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120\r\nContent-Type: text/plain\r\nContent-Length: 34\r\n\r\n\n  rate limit exceeded\nmore lines\n"),
			check: func(t *testing.T, x *HTTPExchange) {
				if x.RetryAfter != "120" || x.FirstLine != "rate limit exceeded" || x.Title != "" {
					t.Errorf("%+v", x)
				}
			}},
		{name: "h1: a redirect keeps only the Location's host", closed: true,
			client: []byte("GET /m/@v/v1.0.0.zip HTTP/1.1\r\nHost: goproxy.example\r\n\r\n"),
			server: []byte("HTTP/1.1 302 Found\r\nLocation: https://user:pw@Login.Portal.example:8443/sso?token=x\r\nContent-Length: 0\r\n\r\n"),
			check: func(t *testing.T, x *HTTPExchange) {
				if x.Location != "login.portal.example:8443" {
					t.Errorf("%+v", x)
				}
			}},
		{name: "h1: HTTP/2 frames answering an HTTP/1.1 request", closed: true,
			client: []byte("GET /m/@v/list HTTP/1.1\r\nHost: goproxy.example\r\n\r\n"),
			server: append(h2Frame(h2Settings, 0, 0, []byte{0, 3, 0, 0, 0, 100, 0, 4, 0, 1, 0, 0, 0, 6, 0, 1, 0, 0}), h2Frame(h2GoAway, 0, 0, make([]byte, 8))...),
			check: func(t *testing.T, x *HTTPExchange) {
				if x.Malformed != "HTTP/2 frames" || x.Response.IsZero() || x.Status != 0 {
					t.Errorf("%+v", x)
				}
			}},
		{name: "h1: a compressed body is not peeked at", closed: true,
			client: []byte("GET / HTTP/1.1\r\nHost: goproxy.example\r\n\r\n"),
			server: []byte("HTTP/1.1 403 Forbidden\r\nContent-Encoding: gzip\r\nContent-Type: text/html\r\nContent-Length: 20\r\n\r\n<title>x</title>abcd"),
			check: func(t *testing.T, x *HTTPExchange) {
				if x.Title != "" || x.FirstLine != "" {
					t.Errorf("%+v", x)
				}
			}},
	}
	// The HTTP/2 conversations.
	html := func() ([]byte, []byte) {
		return h2Exchange("/m/@v/list", []string{":status", "200", "content-type", "text/html; charset=utf-8"},
			h2Frame(h2Data, 0, 1, page[:30]), h2Frame(h2Data, h2FlagEndStream, 1, page[30:]))
	}
	reset := func() ([]byte, []byte) {
		return h2Exchange("/m/@v/v1.0.0.zip", []string{":status", "200", "content-type", "application/zip"},
			h2Frame(h2Data, 0, 1, []byte("PK\x03\x04")), h2Frame(h2RSTStream, 0, 1, []byte{0, 0, 0, 2}))
	}
	cut := func() ([]byte, []byte) {
		return h2Exchange("/m/@v/v1.0.0.zip", []string{":status", "200", "content-length", "100"},
			h2Frame(h2Data, 0, 1, bytes.Repeat([]byte("z"), 40)))
	}
	padded := func() ([]byte, []byte) {
		return h2Exchange("/m/@v/list", []string{":status", "200"},
			h2Frame(h2Data, h2FlagEndStream|h2FlagPadded, 1, append([]byte{3}, "v1.0\n\x00\x00\x00"...)))
	}
	tests[0].client, tests[0].server = html()
	tests[1].client, tests[1].server = reset()
	tests[2].client, tests[2].server = cut()
	tests[3].client, tests[3].server = cut()
	tests[4].client, tests[4].server = padded()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, step := range []int{1 << 20, 1, 5} {
				xs := factsRun(tt.h2, bytes.Clone(tt.client), bytes.Clone(tt.server), step, tt.closed)
				if len(xs) != 1 {
					t.Fatalf("%d exchanges", len(xs))
				}
				tt.check(t, xs[0])
				if strings.Contains(xs[0].Title+xs[0].FirstLine, "secret body") {
					t.Errorf("body text beyond the title was kept")
				}
			}
		})
	}
}

func TestHTMLTitleBounds(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<title>Blocked</title>", "Blocked"},
		{"<TITLE lang=en>Zscaler\tBlock\r\nPage</TITLE>", "Zscaler Block Page"},
		{"<title>" + strings.Repeat("é", 200), strings.Repeat("é", 80) + "…"},
		{"no title here", ""},
		{"<title", ""},
		{"<title>İİ</title>", "İİ"},
	}
	for _, tt := range tests {
		got := htmlTitle([]byte(tt.in))
		if got != tt.want || !utf8.ValidString(got) {
			t.Errorf("htmlTitle(%.30q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzBodyFacts: whatever a body holds, its title and first line are
// bounded, valid UTF-8 and free of control characters.
func FuzzBodyFacts(f *testing.F) {
	f.Add([]byte("<html><title>Access Denied</title>"), "text/html")
	f.Add([]byte("\n\nrate limited\n"), "text/plain")
	f.Add([]byte("<title>\xff\xfe\x00"), "")
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		x := &HTTPExchange{Status: 403}
		x.startResponse()
		x.responseField("content-type", ct)
		x.bodyData(body, int64(len(body)))
		x.bodyEnd("")
		for _, s := range []string{x.Title, x.FirstLine, x.ContentType} {
			if len(s) > maxFactText+len("…") || !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\r\n\x07") {
				t.Fatalf("unsafe fact %q", s)
			}
		}
		if len(x.body) != 0 {
			t.Fatal("body bytes kept after the end")
		}
	})
}
