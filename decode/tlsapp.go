package decode

import (
	"fmt"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// looksLikeTLS reports whether a stream starts with a TLS record.
func looksLikeTLS(p []byte) bool { return tlswire.LooksLikeTLS(p) }

// tlsApp feeds a stream (or the inside of a tunnel) to the TLS decoder.
type tlsApp struct{ conn *tlswire.Conn }

func (a *tlsApp) data(dir int, p []byte, at capture.Ref) { a.conn.Feed(tlswire.Dir(dir), p, at) }
func (a *tlsApp) gap(dir int, n int64, at capture.Ref)   { a.conn.Gap(tlswire.Dir(dir), n, at) }
func (a *tlsApp) finish()                                { a.conn.Finish() }

// newTLSApp starts decoding TLS on connection c, inside tunnel t if set.
func (d *Decoder) newTLSApp(c *TCPConn, t *Tunnel, at capture.Ref) streamApp {
	if len(d.tls) >= d.lim.MaxEvents {
		d.noteLimit(at, "tls", fmt.Sprintf("more than %d TLS sessions: later ones are not analysed", d.lim.MaxEvents))
		return ignoreApp{}
	}
	conn := tlswire.NewConn(tlswire.ConnOptions{Certs: d.certs})
	s := &TLSSession{Client: c.Client, Server: c.Server, Conn: c, Tunnel: t, Session: conn.Session()}
	c.TLS = s
	d.tls = append(d.tls, s)
	return &tlsApp{conn: conn}
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
