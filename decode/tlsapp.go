package decode

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// looksLikeTLS reports whether a stream starts with a TLS record.
func looksLikeTLS(p []byte) bool { return tlswire.LooksLikeTLS(p) }

// tlsEvent is a TLS session event with the tlswire.Session it points to,
// allocated together (see slab).
type tlsEvent struct {
	s    TLSSession
	sess tlswire.Session
}

// tlsApp feeds a stream (or the inside of a tunnel) to the TLS decoder.
// With keys, the decrypted application data goes on to an HTTP/1 or
// HTTP/2 decoder chosen by ALPN or by its first bytes.
type tlsApp struct {
	conn *tlswire.Conn
	d    *Decoder
	c    *TCPConn
	s    *TLSSession
	host string    // the tunnel target's host, if any
	http streamApp // the decoder of the decrypted data, once chosen
	// fed counts the decrypted bytes per direction: at the decoder's
	// limit the rest is not delivered, and the HTTP decoder is told so
	// (a body cut by the limit is not a body cut by the server).
	fed [2]int
	// server is 0 until the server's first byte, then 1 when it starts a
	// TLS record, 2 while its first bytes are kept as NotTLS.
	server uint8
}

func (a *tlsApp) data(dir int, p []byte, at capture.Ref) {
	if dir == 1 && a.server != 1 {
		a.keepNotTLS(p, at)
	}
	a.conn.Feed(tlswire.Dir(dir), p, at)
}

// keepNotTLS keeps the first bytes of a server that does not answer with a
// TLS record: a content type of 20 to 24 (RFC 8446 §5.1) and major version
// 3 start every record a TLS server sends.
func (a *tlsApp) keepNotTLS(p []byte, at capture.Ref) {
	if len(p) == 0 {
		return
	}
	if a.server == 0 {
		if p[0] >= 20 && p[0] <= 24 && (len(p) < 2 || p[1] == 3) {
			a.server = 1
			return
		}
		a.server = 2
		a.s.notTLS = &notTLS{at: at}
	}
	if n := NotTLSMax - len(a.s.notTLS.b); n > 0 {
		a.s.notTLS.b = append(a.s.notTLS.b, p[:min(n, len(p))]...)
	}
}
func (a *tlsApp) gap(dir int, n int64, at capture.Ref) {
	if dir == 1 && a.server == 0 {
		a.server = 1 // the server's first bytes are missing: nothing to judge
	}
	a.conn.Gap(tlswire.Dir(dir), n, at)
}
func (a *tlsApp) finish() {
	a.conn.Finish()
	if a.http != nil {
		a.http.finish()
	}
}

// newTLSApp starts decoding TLS on connection c, inside tunnel t if set.
func (d *Decoder) newTLSApp(c *TCPConn, t *Tunnel, at capture.Ref) streamApp {
	if len(d.tls) >= d.lim.MaxEvents {
		d.noteLimit(at, "tls", fmt.Sprintf("more than %d TLS sessions: later ones are not analysed", d.lim.MaxEvents))
		return ignoreApp{}
	}
	a := &tlsApp{d: d, c: c}
	if t != nil {
		a.host, _, _ = strings.Cut(t.Target, ":")
	}
	ev := d.sessions.new()
	opt := tlswire.ConnOptions{Certs: d.certs, Intern: d.intern, Session: &ev.sess}
	if d.keys != nil {
		opt.Keys = d.keys
		opt.AppData = a.appData
		opt.MaxAppData = d.lim.AppData
		opt.Buffers = d.recBufs
	}
	a.conn = tlswire.NewConn(opt)
	a.s = &ev.s
	*a.s = TLSSession{Conn: c, Tunnel: t, Session: a.conn.Session()}
	c.TLS = a.s
	d.tls = append(d.tls, a.s)
	return a
}

// appData receives decrypted application data (nil: some is missing).
func (a *tlsApp) appData(dir tlswire.Dir, p []byte, at capture.Ref) {
	if a.http == nil {
		if p == nil {
			return
		}
		if a.http = a.chooseHTTP(int(dir), p); a.http == nil {
			return // not recognised yet: the other direction may tell
		}
	}
	if p == nil {
		a.http.gap(int(dir), -1, at)
		return
	}
	a.http.data(int(dir), p, at)
	if a.fed[dir] += len(p); a.fed[dir] >= a.d.lim.AppData {
		a.http.gap(int(dir), -1, at)
	}
}

// chooseHTTP picks the decoder of the decrypted data: HTTP/2 when the
// server chose h2 or the client sends the HTTP/2 preface, HTTP/1 when a
// request line or status line shows; nil when the first bytes do not tell.
// Data that is neither gets a decoder that ignores it.
func (a *tlsApp) chooseHTTP(dir int, p []byte) streamApp {
	host := a.host
	if host == "" && a.s.ClientHello != nil {
		host = a.s.ClientHello.ServerName
	}
	switch alpn := a.s.ServerALPN(); {
	case alpn == "h2",
		dir == 0 && len(p) >= 4 && bytes.HasPrefix(p, []byte(h2Preface[:min(len(p), len(h2Preface))])),
		dir == 1 && looksLikeH2Settings(p):
		return newH2App(a.d, a.c, a.s, host)
	case dir == 0 && (looksLikeHTTPRequest(p) || couldBeHTTP(p)),
		dir == 1 && bytes.HasPrefix(p, []byte("HTTP/")):
		return newHTTPApp(a.d, a.c, host)
	case alpn != "" && alpn != "http/1.1":
		return ignoreApp{} // another protocol
	case dir == 1:
		return nil
	}
	return ignoreApp{}
}

// finishTLS keeps the sessions in which a handshake message was seen: a
// stream picked up in the middle of its application data says nothing.
func (d *Decoder) finishTLS() {
	for _, s := range d.tls {
		if s.ClientHello != nil || s.ServerHello != nil || len(s.Alerts) > 0 {
			d.ev.TLS = append(d.ev.TLS, s)
		}
	}
	d.tls = nil
}
