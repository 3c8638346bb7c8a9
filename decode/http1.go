package decode

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/modsniff/modsniff/capture"
)

// maxHTTPHead bounds one HTTP/1 header block; larger ones are not decoded.
const maxHTTPHead = 16 << 10

// httpHead is the start line and header fields of one HTTP/1.x message
// (RFC 9112 §2). Values are kept only while the message is decoded: they
// can carry credentials and are never reported.
type httpHead struct {
	line   string
	fields []httpField
}

type httpField struct{ name, value string }

// get returns the first value of a header field, matched case-insensitively.
func (h *httpHead) get(name string) (string, bool) {
	for _, f := range h.fields {
		if strings.EqualFold(f.name, name) {
			return f.value, true
		}
	}
	return "", false
}

// bodyMode says how the body after a header block is delimited.
type bodyMode int

const (
	bodyAuto   bodyMode = iota // Transfer-Encoding or Content-Length; a response without either runs to the close
	bodyNone                   // no body (HEAD responses, 1xx, 204, 304, requests without length)
	bodyTunnel                 // the connection becomes a tunnel (CONNECT 2xx, 101)
)

// httpReader decodes the HTTP/1.x messages of one direction (RFC 9112): it
// buffers header blocks (≤ maxHTTPHead) and skips bodies by counting, so a
// large download costs nothing.
type httpReader struct {
	request bool // requests (client side) or responses
	onHead  func(h *httpHead, at capture.Ref) bodyMode
	buf     []byte
	state   httpState
	remain  int64
	broken  string

	// onBody receives body bytes (p nil for n bytes missing from the
	// capture) and onEnd the end of a complete message; onH2 is told when
	// a response stream starts with HTTP/2 frames. All may be nil.
	onBody func(p []byte, n int64)
	onEnd  func()
	onH2   func(at capture.Ref)
	// onOversize is told when a header block outgrows maxHTTPHead and the
	// rest of the direction is given up. It may be nil.
	onOversize func(at capture.Ref)
}

type httpState int

const (
	stHead httpState = iota
	stBody
	stChunkSize
	stChunkData
	stChunkCRLF
	stTrailer
	stUntilClose
	stTunnel
	stBroken
)

// feed consumes the next bytes. Once a message turned the connection into
// a tunnel it returns the bytes after the header block, and everything fed
// afterwards, as tunnel bytes.
func (r *httpReader) feed(p []byte, at capture.Ref) (tunnel []byte) {
	for len(p) > 0 {
		switch r.state {
		case stTunnel:
			return p
		case stBroken, stUntilClose:
			return nil
		case stHead:
			p = r.head(p, at)
		case stBody, stChunkData:
			n := min(int64(len(p)), r.remain)
			r.body(p[:n], n)
			r.remain -= n
			p = p[n:]
			if r.remain == 0 {
				if r.state == stBody {
					r.state = stHead
					r.end()
				} else {
					r.state = stChunkCRLF
					r.remain = 2
				}
			}
		case stChunkCRLF:
			n := min(int64(len(p)), r.remain)
			r.remain -= n
			p = p[n:]
			if r.remain == 0 {
				r.state = stChunkSize
			}
		case stChunkSize, stTrailer:
			line, rest, ok := r.line(p)
			p = rest
			if !ok {
				continue
			}
			if r.state == stTrailer {
				if len(line) == 0 {
					r.state = stHead
					r.end()
				}
				continue
			}
			size := line
			if i := bytes.IndexByte(size, ';'); i >= 0 {
				size = size[:i]
			}
			n, err := strconv.ParseInt(strings.TrimSpace(string(size)), 16, 64)
			if err != nil || n < 0 {
				r.fail("bad chunk size")
				return nil
			}
			if n == 0 {
				r.state = stTrailer
			} else {
				r.state, r.remain = stChunkData, n
			}
		}
	}
	return nil
}

// line collects one CRLF-terminated line (≤ 1 KiB) across calls.
func (r *httpReader) line(p []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		if len(r.buf)+len(p) > 1024 {
			r.fail("line too long")
			return nil, nil, false
		}
		r.buf = append(r.buf, p...)
		return nil, nil, false
	}
	line = append(r.buf, p[:i]...)
	r.buf = r.buf[:0]
	return bytes.TrimSuffix(line, []byte("\r")), p[i+1:], true
}

// head collects a header block and decodes it once complete.
func (r *httpReader) head(p []byte, at capture.Ref) []byte {
	// An HTTP/2 server answering an HTTP/1.1 request starts with its
	// SETTINGS frame (RFC 9113 §3.4): the go command then says
	// `malformed HTTP response "\x00\x00\x12\x04…"`.
	// Skip the empty lines a client may send between messages (RFC 9112 §2.2).
	if len(r.buf) == 0 {
		p = bytes.TrimLeft(p, "\r\n")
		if len(p) == 0 {
			return nil
		}
	}
	start := max(0, len(r.buf)-3)
	r.buf = append(r.buf, p...)
	// An HTTP/2 server answering an HTTP/1.1 request starts with its
	// SETTINGS frame (RFC 9113 §3.4): the go command then says
	// `malformed HTTP response "\x00\x00\x12\x04…"`.
	if !r.request && len(r.buf) >= 9 && len(r.buf)-len(p) < 9 && looksLikeH2Settings(r.buf) {
		r.fail("HTTP/2 frames instead of an HTTP/1.x response")
		if r.onH2 != nil {
			r.onH2(at)
		}
		return nil
	}
	end := bytes.Index(r.buf[start:], []byte("\r\n\r\n"))
	sep := 4
	if end < 0 {
		if end = bytes.Index(r.buf[start:], []byte("\n\n")); end >= 0 {
			sep = 2
		}
	}
	if end < 0 {
		if len(r.buf) > maxHTTPHead {
			r.fail("header block larger than 16 KiB")
			if r.onOversize != nil {
				r.onOversize(at)
			}
		}
		return nil
	}
	end += start
	consumed := end + sep - (len(r.buf) - len(p))
	h := parseHTTPHead(r.buf[:end])
	r.buf = r.buf[:0]
	rest := p[consumed:]
	mode := r.onHead(h, at)
	switch mode {
	case bodyTunnel:
		r.state = stTunnel
		return rest // feed hands these back as tunnel bytes
	case bodyNone:
		r.state = stHead
		r.end()
		return rest
	}
	if te, ok := h.get("Transfer-Encoding"); ok && strings.Contains(strings.ToLower(te), "chunked") {
		r.state = stChunkSize
		return rest
	}
	if cl, ok := h.get("Content-Length"); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(cl), 10, 64)
		if err != nil || n < 0 {
			r.fail("bad Content-Length")
			return nil
		}
		if n > 0 {
			r.state, r.remain = stBody, n
		} else {
			r.end()
		}
		return rest
	}
	if !r.request {
		r.state = stUntilClose
	} else {
		r.end()
	}
	return rest
}

func (r *httpReader) body(p []byte, n int64) {
	if r.onBody != nil {
		r.onBody(p, n)
	}
}

func (r *httpReader) end() {
	if r.onEnd != nil {
		r.onEnd()
	}
}

// cutShort says how the message being read ended early when the stream
// closed now: "" when it was complete (or delimited by the close).
func (r *httpReader) cutShort(received int64) string {
	switch r.state {
	case stBody:
		return fmt.Sprintf("%d of %d bytes (Content-Length) received", received, received+r.remain)
	case stChunkSize, stChunkData, stChunkCRLF, stTrailer:
		return fmt.Sprintf("a chunked body without its last chunk (%d bytes received)", received)
	}
	return ""
}

func (r *httpReader) fail(why string) {
	r.state = stBroken
	r.broken = why
	r.buf = nil
}

// oversizeHead returns the note a connection's HTTP reader makes when a
// header block outgrows maxHTTPHead (capped per kind: a flood of 64 KiB
// heads makes 16 notes and a count).
func (d *Decoder) oversizeHead(c *TCPConn, request bool) func(at capture.Ref) {
	return func(at capture.Ref) {
		from, what := c.Client, "request"
		if !request {
			from, what = c.Server, "response"
		}
		d.noteKind(at, noteHTTPHead, fmt.Sprintf("HTTP %s header block from %s is larger than %d KiB: the rest of that direction is not decoded",
			what, from, maxHTTPHead>>10))
	}
}

// parseHTTPHead splits a header block into its start line and fields.
func parseHTTPHead(b []byte) *httpHead {
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	h := &httpHead{line: lines[0]}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		h.fields = append(h.fields, httpField{strings.TrimSpace(name), strings.TrimSpace(value)})
	}
	return h
}

// parseStatusLine reads "HTTP/1.1 407 Proxy Authentication Required".
func parseStatusLine(line string) (proto string, status int, ok bool) {
	proto, rest, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/") {
		return "", 0, false
	}
	code, _, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if err != nil || status < 100 || status > 999 {
		return "", 0, false
	}
	return proto, status, true
}

// parseRequestLine reads "GET /path HTTP/1.1".
func parseRequestLine(line string) (method, target, proto string, ok bool) {
	f := strings.Fields(line)
	if len(f) != 3 || !strings.HasPrefix(f[2], "HTTP/") {
		return "", "", "", false
	}
	return f[0], f[1], f[2], true
}

// httpMethods are the request methods the sniffer recognises.
var httpMethods = []string{"GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "TRACE ", "CONNECT "}

// looksLikeHTTPRequest reports whether p starts with an HTTP method.
func looksLikeHTTPRequest(p []byte) bool {
	for _, m := range httpMethods {
		if hasPrefixFold(p, m) {
			return true
		}
	}
	return false
}

// couldBeHTTP reports whether p is a prefix of an HTTP method.
func couldBeHTTP(p []byte) bool {
	for _, m := range httpMethods {
		if len(p) <= len(m) && strings.EqualFold(string(p), m[:len(p)]) {
			return true
		}
	}
	return false
}

// hasPrefixFold is bytes.HasPrefix ignoring ASCII case.
func hasPrefixFold(p []byte, prefix string) bool {
	return len(p) >= len(prefix) && strings.EqualFold(string(p[:len(prefix)]), prefix)
}

// httpApp decodes plain HTTP/1.x: each request and its response become an
// HTTPExchange. Bodies are skipped by length.
type httpApp struct {
	d       *Decoder
	c       *TCPConn
	host    string // the tunnel target when inside a proxy tunnel
	req     httpReader
	resp    httpReader
	waiting []*HTTPExchange // requests awaiting their response, oldest first
	cur     *HTTPExchange   // the exchange whose response body is being read
}

func newHTTPApp(d *Decoder, c *TCPConn, host string) *httpApp {
	a := &httpApp{d: d, c: c, host: host}
	a.req = httpReader{request: true, onHead: a.request, onOversize: d.oversizeHead(c, true)}
	a.resp = httpReader{onHead: a.response, onBody: a.respBody, onEnd: a.respEnd, onH2: a.respH2, onOversize: d.oversizeHead(c, false)}
	return a
}

func (a *httpApp) request(h *httpHead, at capture.Ref) bodyMode {
	method, target, proto, ok := parseRequestLine(h.line)
	if !ok {
		a.req.fail("not an HTTP request line")
		return bodyNone
	}
	host, _ := h.get("Host")
	if host == "" {
		host = a.host
	}
	x := &HTTPExchange{Client: a.c.Client, Server: a.c.Server, Host: host, Method: method,
		Path: redactQuery(target), Proto: proto, Request: at, Conn: a.c, ContentLength: -1}
	if len(a.d.ev.HTTP) < a.d.lim.MaxEvents {
		a.d.ev.HTTP = append(a.d.ev.HTTP, x)
	}
	if len(a.waiting) < 64 {
		a.waiting = append(a.waiting, x)
	}
	if _, ok := h.get("Content-Length"); ok {
		return bodyAuto
	}
	if _, ok := h.get("Transfer-Encoding"); ok {
		return bodyAuto
	}
	return bodyNone
}

func (a *httpApp) response(h *httpHead, at capture.Ref) bodyMode {
	_, status, ok := parseStatusLine(h.line)
	if !ok {
		a.resp.fail("not an HTTP status line")
		return bodyNone
	}
	if status >= 100 && status < 200 && status != 101 {
		return bodyNone // interim response; the final one follows
	}
	var x *HTTPExchange
	if len(a.waiting) > 0 {
		x, a.waiting = a.waiting[0], a.waiting[1:]
		x.Status = status
		x.Response = at
		x.startResponse()
		for _, f := range h.fields {
			x.responseField(f.name, f.value)
		}
	}
	a.cur = x
	switch {
	case status == 101:
		return bodyTunnel
	case status == 204 || status == 304 || (x != nil && x.Method == "HEAD"):
		return bodyNone
	}
	return bodyAuto
}

func (a *httpApp) data(dir int, p []byte, at capture.Ref) {
	if dir == 0 {
		a.req.feed(p, at)
	} else {
		a.resp.feed(p, at)
	}
}

func (a *httpApp) gap(dir int, n int64, at capture.Ref) {
	if dir == 0 {
		a.req.gap(n)
	} else {
		a.resp.gap(n)
	}
}

// gap steps over n missing bytes when they fall inside a body of known
// length (a privacy-trimmed or snap-length capture cuts bodies, not
// heads); anywhere else the framing is lost.
func (r *httpReader) gap(n int64) {
	switch {
	case r.state == stTunnel || r.state == stUntilClose || r.state == stBroken:
	case (r.state == stBody || r.state == stChunkData) && n > 0 && n <= r.remain:
		r.body(nil, n)
		r.remain -= n
		if r.remain == 0 {
			if r.state == stBody {
				r.state = stHead
				r.end()
			} else {
				r.state, r.remain = stChunkCRLF, 2
			}
		}
	default:
		r.fail("bytes missing")
	}
}

func (a *httpApp) respH2(at capture.Ref) {
	if len(a.waiting) > 0 {
		x := a.waiting[0]
		a.waiting = a.waiting[1:]
		x.Malformed, x.Response = "HTTP/2 frames", at
	}
}

func (a *httpApp) respBody(p []byte, n int64) {
	if a.cur != nil {
		a.cur.bodyData(p, n)
	}
}

func (a *httpApp) respEnd() {
	if a.cur != nil {
		a.cur.bodyEnd("")
		a.cur = nil
	}
}

// finish judges the response still being read when the stream ended: cut
// short when the server closed (or reset) the connection inside its
// framing, complete when the close delimits it; the capture merely
// stopping judges nothing.
func (a *httpApp) finish() {
	if a.cur == nil || !serverClosed(a.c) {
		return
	}
	if a.resp.state == stUntilClose {
		a.respEnd()
		return
	}
	if why := a.resp.cutShort(a.cur.BodyBytes); why != "" {
		a.cur.bodyEnd(why)
		a.cur = nil
	}
}

// redactQuery drops the query string of a request target: module paths are
// useful evidence, query parameters may carry tokens.
func redactQuery(target string) string {
	if i := strings.IndexByte(target, '?'); i >= 0 {
		if target[i+1:] == "go-get=1" {
			return target // the go command's VCS discovery: nothing secret
		}
		return target[:i] + "?…"
	}
	return target
}
