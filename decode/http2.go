package decode

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/http2/hpack"

	"github.com/modsniff/modsniff/capture"
)

// h2Preface is the client connection preface (RFC 9113 §3.4).
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// HTTP/2 frame types (RFC 9113 §6) and flags.
const (
	h2Data         = 0x0
	h2Headers      = 0x1
	h2RSTStream    = 0x3
	h2Settings     = 0x4
	h2PushPromise  = 0x5
	h2GoAway       = 0x7
	h2Continuation = 0x9

	h2FlagEndStream  = 0x1
	h2FlagEndHeaders = 0x4
	h2FlagPadded     = 0x8
	h2FlagPriority   = 0x20
	h2FlagAck        = 0x1
)

// Limits of the HTTP/2 decoder.
const (
	// maxH2Table caps the HPACK dynamic table a peer may make the decoder
	// keep (SETTINGS_HEADER_TABLE_SIZE above it is lowered to it); an
	// encoder that uses more makes decoding of its direction stop.
	maxH2Table = 64 << 10
	// maxH2String caps one header name or value.
	maxH2String = 16 << 10
	// maxH2Streams caps the requests awaiting their response per
	// connection.
	maxH2Streams = 1024
	// maxH2Notes caps the notes one connection adds to its TLS session.
	maxH2Notes = 8
)

// h2ErrorCodes names the HTTP/2 error codes (RFC 9113 §7).
var h2ErrorCodes = [...]string{
	"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
	"STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
	"CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
}

// H2ErrorCodeName returns the name of an HTTP/2 error code (RFC 9113 §7),
// or "0x…" for an unassigned one.
func H2ErrorCodeName(code uint32) string {
	if int(code) < len(h2ErrorCodes) {
		return h2ErrorCodes[code]
	}
	return fmt.Sprintf("0x%x", code)
}

// h2App decodes the HTTP/2 frames (RFC 9113) of a decrypted TLS
// connection: each request's HEADERS and the :status of its response
// become an HTTPExchange; GOAWAY and RST_STREAM are recorded. DATA is
// skipped by length. Header values other than the pseudo-header fields
// :method, :path, :authority and :status are decoded (HPACK keeps state)
// but never kept.
type h2App struct {
	d       *Decoder
	c       *TCPConn
	s       *TLSSession
	host    string // the SNI or tunnel target, when :authority is missing
	dirs    [2]h2Dir
	streams map[uint32]*HTTPExchange // requests awaiting their response
	open    map[uint32]*HTTPExchange // responses whose body has not ended
	all     []*HTTPExchange          // every exchange of the connection
	notes   int
	// gone is the server's GOAWAY with an error code, once sent: a request
	// that crosses it in flight is unanswered too.
	gone   string
	goneAt capture.Ref
}

// h2Dir is the frame reader of one direction.
type h2Dir struct {
	a      *h2App
	dir    int
	need   int // preface bytes still expected
	broken bool

	hdr    [9]byte
	hdrN   int
	typ    uint8
	flags  uint8
	stream uint32
	length int
	off    int // payload bytes consumed

	pre     [5]byte // pad length, priority or promised stream ID
	preWant int
	data    int // header block bytes in the frame
	small   [8]byte
	smallN  int

	dec     *hpack.Decoder
	block   bool // inside a header block (HEADERS or PUSH_PROMISE until END_HEADERS)
	blockOf uint8
	blockSt uint32
	blockES bool // the block's HEADERS frame carried END_STREAM
	fields  h2Fields
	dataPad int // padding of the DATA frame being read
}

// h2Fields are the pseudo-header fields of one header block.
type h2Fields struct {
	method, path, authority, status, host string
	// response fields the checks use (see HTTPExchange.responseField)
	response [][2]string
}

func newH2App(d *Decoder, c *TCPConn, s *TLSSession, host string) *h2App {
	a := &h2App{d: d, c: c, s: s, host: host, streams: make(map[uint32]*HTTPExchange), open: make(map[uint32]*HTTPExchange)}
	for dir := range a.dirs {
		h := &a.dirs[dir]
		h.a, h.dir = a, dir
		h.dec = hpack.NewDecoder(4096, h.emit)
		h.dec.SetMaxStringLength(maxH2String)
	}
	a.dirs[0].need = len(h2Preface)
	return a
}

func (h *h2Dir) emit(f hpack.HeaderField) {
	switch f.Name {
	case ":method":
		h.fields.method = f.Value
	case ":path":
		h.fields.path = f.Value
	case ":authority":
		h.fields.authority = f.Value
	case ":status":
		h.fields.status = f.Value
	case "host":
		h.fields.host = f.Value
	case "content-type", "content-length", "content-encoding", "retry-after", "location", "date":
		if h.dir == 1 && len(h.fields.response) < 8 {
			h.fields.response = append(h.fields.response, [2]string{f.Name, f.Value})
		}
	}
}

// note adds an HTTP/2 remark to the connection's TLS session.
func (a *h2App) note(at capture.Ref, dir int, format string, args ...any) {
	if a.notes >= maxH2Notes || a.s == nil {
		return
	}
	a.notes++
	who := "client"
	if dir == 1 {
		who = "server"
	}
	a.s.AddNote(at.String() + " " + who + ": HTTP/2: " + fmt.Sprintf(format, args...))
}

func (a *h2App) data(dir int, p []byte, at capture.Ref) {
	h := &a.dirs[dir]
	if p == nil {
		if !h.broken {
			h.broken = true
			a.note(at, dir, "decrypted data missing; frames of this direction are not read further")
		}
		return
	}
	h.feed(p, at)
}

func (a *h2App) gap(dir int, n int64, at capture.Ref) { a.data(dir, nil, at) }

// finish judges the responses still open when the stream ended: cut short
// when the server closed or reset the connection before their END_STREAM
// (the go command says `unexpected EOF`); nothing when the capture merely
// stopped or the server's frames could not be followed.
func (a *h2App) finish() {
	if len(a.open) == 0 || a.dirs[1].broken || !serverClosed(a.c) {
		return
	}
	ids := make([]uint32, 0, len(a.open))
	for id := range a.open {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		x := a.open[id]
		why := fmt.Sprintf("the connection closed after %d body bytes, before END_STREAM", x.BodyBytes)
		if x.ContentLength >= 0 {
			why = fmt.Sprintf("%d of %d bytes (content-length) received, then the connection closed before END_STREAM", x.BodyBytes, x.ContentLength)
		}
		x.bodyEnd(why)
		delete(a.open, id)
	}
}

// fail stops the direction after a framing or HPACK error.
func (h *h2Dir) fail(at capture.Ref, format string, args ...any) {
	h.broken = true
	h.a.note(at, h.dir, format+"; frames of this direction are not read further", args...)
}

// feed reads frames (RFC 9113 §4.1) from the next bytes of the direction.
func (h *h2Dir) feed(p []byte, at capture.Ref) {
	for len(p) > 0 && !h.broken {
		if h.need > 0 {
			off := len(h2Preface) - h.need
			n := min(h.need, len(p))
			if string(p[:n]) != h2Preface[off:off+n] {
				h.fail(at, "the client did not send the connection preface")
				return
			}
			h.need -= n
			p = p[n:]
			continue
		}
		if h.hdrN < 9 {
			n := copy(h.hdr[h.hdrN:], p)
			h.hdrN += n
			p = p[n:]
			if h.hdrN == 9 {
				h.startFrame(at)
			}
			continue
		}
		n := min(h.length-h.off, len(p))
		h.payload(p[:n], at)
		h.off += n
		p = p[n:]
		if h.off == h.length && !h.broken {
			h.endFrame(at)
		}
	}
}

func (h *h2Dir) startFrame(at capture.Ref) {
	b := h.hdr[:]
	h.length = int(b[0])<<16 | int(b[1])<<8 | int(b[2])
	h.typ, h.flags = b[3], b[4]
	h.stream = (uint32(b[5])<<24 | uint32(b[6])<<16 | uint32(b[7])<<8 | uint32(b[8])) & 0x7fffffff
	h.off, h.smallN, h.preWant, h.data, h.dataPad = 0, 0, 0, 0, 0
	if h.block && h.typ != h2Continuation {
		h.fail(at, "%s frame inside a header block (RFC 9113 §6.10)", h2FrameName(h.typ))
		return
	}
	switch h.typ {
	case h2Headers, h2PushPromise:
		if h.flags&h2FlagPadded != 0 {
			h.preWant++
		}
		if h.typ == h2Headers && h.flags&h2FlagPriority != 0 {
			h.preWant += 5
		}
		if h.typ == h2PushPromise {
			h.preWant += 4
		}
		h.block, h.blockOf, h.blockSt = true, h.typ, h.stream
		h.blockES = h.typ == h2Headers && h.flags&h2FlagEndStream != 0
		h.fields = h2Fields{}
		if h.preWant > h.length {
			h.fail(at, "%s frame of %d bytes too short for its flags", h2FrameName(h.typ), h.length)
			return
		}
		if h.preWant == 0 {
			h.data = h.length
		}
	case h2Continuation:
		if !h.block || h.stream != h.blockSt {
			h.fail(at, "CONTINUATION frame without a header block on stream %d", h.stream)
			return
		}
		h.data = h.length
	}
	if h.length == 0 {
		h.endFrame(at)
	}
}

// payload handles payload bytes of the current frame.
func (h *h2Dir) payload(p []byte, at capture.Ref) {
	switch h.typ {
	case h2Headers, h2PushPromise, h2Continuation:
		off := h.off // payload offset of p[0]
		if off < h.preWant {
			k := min(h.preWant-off, len(p))
			copy(h.pre[off:], p[:k])
			p, off = p[k:], off+k
			if off == h.preWant {
				pad := 0
				if h.flags&h2FlagPadded != 0 {
					pad = int(h.pre[0])
				}
				if h.data = h.length - h.preWant - pad; h.data < 0 {
					h.fail(at, "%s frame with %d bytes of padding in %d", h2FrameName(h.typ), pad, h.length)
					return
				}
			}
		}
		// The header block fragment runs from preWant to preWant+data; the
		// rest of the payload is padding.
		if n := min(len(p), h.data-(off-h.preWant)); n > 0 {
			if _, err := h.dec.Write(p[:n]); err != nil {
				h.fail(at, "header block on stream %d cannot be decoded (%v)", h.blockSt, err)
			}
		}
	case h2GoAway, h2RSTStream:
		h.smallN += copy(h.small[h.smallN:], p)
	case h2Data:
		if h.dir != 1 || h.a.open[h.stream] == nil {
			return
		}
		off := h.off
		if h.flags&h2FlagPadded != 0 && off == 0 && len(p) > 0 {
			h.dataPad = int(p[0])
			p, off = p[1:], 1
		}
		// Padding ends the frame: only bytes before it are body.
		if n := min(len(p), h.length-h.dataPad-off); n > 0 {
			h.a.open[h.stream].bodyData(p[:n], int64(n))
		}
	case h2Settings:
		if h.flags&h2FlagAck != 0 {
			return
		}
		for len(p) > 0 {
			n := copy(h.small[h.smallN:6], p)
			h.smallN += n
			p = p[n:]
			if h.smallN == 6 {
				h.smallN = 0
				h.setting(uint16(h.small[0])<<8|uint16(h.small[1]),
					uint32(h.small[2])<<24|uint32(h.small[3])<<16|uint32(h.small[4])<<8|uint32(h.small[5]))
			}
		}
	}
}

// setting applies one setting the direction's sender announced.
func (h *h2Dir) setting(id uint16, v uint32) {
	if id == 1 { // SETTINGS_HEADER_TABLE_SIZE: the size the other side's encoder may use
		h.a.dirs[1-h.dir].dec.SetAllowedMaxDynamicTableSize(min(v, maxH2Table))
	}
}

func (h *h2Dir) endFrame(at capture.Ref) {
	h.hdrN = 0
	switch h.typ {
	case h2Headers, h2PushPromise, h2Continuation:
		if h.flags&h2FlagEndHeaders == 0 {
			return
		}
		h.block = false
		if err := h.dec.Close(); err != nil {
			h.fail(at, "header block on stream %d cannot be decoded (%v)", h.blockSt, err)
			return
		}
		if h.blockOf == h2Headers {
			h.a.headers(h.dir, h.blockSt, h.fields, at)
			if h.blockES && h.dir == 1 {
				h.a.endStream(h.blockSt)
			}
		}
	case h2Data:
		if h.dir == 1 && h.flags&h2FlagEndStream != 0 {
			h.a.endStream(h.stream)
		}
	case h2GoAway:
		if h.smallN < 8 {
			h.a.note(at, h.dir, "GOAWAY frame of %d bytes", h.length)
			return
		}
		b := h.small
		last := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) & 0x7fffffff
		code := uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7])
		h.a.goAway(h.dir, last, code, at)
	case h2RSTStream:
		if h.smallN == 4 {
			b := h.small
			h.a.reset(h.dir, h.stream, uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]), at)
		}
	}
}

// headers handles a complete header block: a request from the client, a
// response (or interim response, or trailers) from the server.
func (a *h2App) headers(dir int, stream uint32, f h2Fields, at capture.Ref) {
	if dir == 0 {
		if f.method == "" {
			return // trailers
		}
		if len(a.streams) >= maxH2Streams {
			a.note(at, dir, "more than %d requests awaiting a response; stream %d not followed", maxH2Streams, stream)
			return
		}
		host := f.authority
		if host == "" {
			host = f.host
		}
		if i := strings.LastIndexByte(host, '@'); i >= 0 {
			host = host[i+1:] // userinfo is not allowed in :authority (RFC 9113 §8.3.1); never keep it
		}
		if host == "" {
			host = a.host
		}
		x := &HTTPExchange{Client: a.c.Client, Server: a.c.Server, Host: host, Method: f.method,
			Path: redactQuery(f.path), Proto: "h2", Request: at, Conn: a.c, StreamID: stream, ContentLength: -1}
		if a.gone != "" {
			// The server had already sent GOAWAY: this request crossed it.
			x.GoAway, x.Response = a.gone, a.goneAt
			a.add(x, at)
			return
		}
		if a.add(x, at) {
			a.streams[stream] = x
		}
		return
	}
	code, err := strconv.Atoi(f.status)
	if f.status == "" || err != nil || code < 100 || code > 999 {
		return // trailers or a malformed status
	}
	if code < 200 {
		return // interim response
	}
	if x := a.streams[stream]; x != nil {
		x.Status, x.Response = code, at
		x.startResponse()
		for _, kv := range f.response {
			x.responseField(kv[0], kv[1])
		}
		delete(a.streams, stream)
		if len(a.open) < maxH2Streams {
			a.open[stream] = x
		}
	}
}

// endStream ends the body of the response on stream (END_STREAM, RFC 9113
// §8.1).
func (a *h2App) endStream(stream uint32) {
	if x := a.open[stream]; x != nil {
		x.bodyEnd("")
		delete(a.open, stream)
	}
}

// add keeps an exchange within the decoder's event limit.
func (a *h2App) add(x *HTTPExchange, at capture.Ref) bool {
	if len(a.d.ev.HTTP) >= a.d.lim.MaxEvents {
		a.d.noteLimit(at, "http", fmt.Sprintf("more than %d HTTP exchanges: later ones are not analysed", a.d.lim.MaxEvents))
		return false
	}
	a.d.ev.HTTP = append(a.d.ev.HTTP, x)
	a.all = append(a.all, x)
	return true
}

// goAway records a GOAWAY (RFC 9113 §6.8): its error code goes on the
// requests it leaves unanswered — those above the last stream processed,
// and with an error code every request still waiting — with the GOAWAY as
// their response. A GOAWAY with an error code that leaves no request
// unanswered gets an exchange of its own: Proto "h2", no method or path,
// Request and Response both the GOAWAY's packet.
func (a *h2App) goAway(dir int, last, code uint32, at capture.Ref) {
	name := H2ErrorCodeName(code)
	ids := make([]uint32, 0, len(a.streams))
	for id := range a.streams {
		if code != 0 || id > last {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		x := a.streams[id]
		x.GoAway, x.Response, x.GoAwayFromClient = name, at, dir == 0
		delete(a.streams, id)
	}
	if code != 0 {
		who := "server"
		if dir == 0 {
			who = "client"
		} else if a.gone == "" {
			a.gone, a.goneAt = name, at
		}
		a.note(at, dir, "the %s sent GOAWAY %s (last stream %d)", who, name, last)
		if len(ids) == 0 {
			a.add(&HTTPExchange{Client: a.c.Client, Server: a.c.Server, Host: a.host, Proto: "h2",
				Request: at, Response: at, GoAway: name, GoAwayFromClient: dir == 0, Conn: a.c}, at)
		}
	}
}

// reset records an RST_STREAM (RFC 9113 §6.4) other than the client's
// CANCEL: on the exchange it ends, and as a note on the session.
func (a *h2App) reset(dir int, stream, code uint32, at capture.Ref) {
	if code == 8 && dir == 0 || code == 0 {
		return
	}
	who := "server"
	if dir == 0 {
		who = "client"
	}
	what := ""
	x := a.streams[stream]
	if x == nil {
		x = a.open[stream]
	}
	if x != nil {
		what = " (" + x.Method + " " + x.Path + ")"
		x.Reset, x.ResetFromClient, x.ResetAt = H2ErrorCodeName(code), dir == 0, at
		if x.Response.IsZero() {
			x.Response = at
		}
		delete(a.streams, stream)
		delete(a.open, stream)
	}
	a.note(at, dir, "the %s reset stream %d%s: %s", who, stream, what, H2ErrorCodeName(code))
}

// h2FrameName names a frame type.
func h2FrameName(t uint8) string {
	names := [...]string{"DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"}
	if int(t) < len(names) {
		return names[t]
	}
	return fmt.Sprintf("frame type 0x%x", t)
}

// looksLikeH2Settings reports whether p starts with the frame header of a
// SETTINGS frame on stream 0: how a server's HTTP/2 data begins.
func looksLikeH2Settings(p []byte) bool {
	return len(p) >= 9 && p[3] == h2Settings && p[5]|p[6]|p[7]|p[8] == 0 && (int(p[0])<<16|int(p[1])<<8|int(p[2]))%6 == 0
}
