package decode

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/modsniff/modsniff/capture"
)

// maxPendingTunnel bounds the bytes a client may send into a tunnel before
// the proxy has answered (a pipelined ClientHello fits easily).
const maxPendingTunnel = 64 << 10

// addTunnel records a tunnel event unless the event limit is reached.
func (d *Decoder) addTunnel(t *Tunnel, at capture.Ref) {
	if len(d.ev.Proxy) >= d.lim.MaxEvents {
		d.noteLimit(at, "proxy", fmt.Sprintf("more than %d proxy tunnels: later ones are not analysed", d.lim.MaxEvents))
		return
	}
	d.ev.Proxy = append(d.ev.Proxy, t)
}

// tunnelSniffer returns the decoder for the bytes inside an established
// tunnel: TLS (the usual case) or plain HTTP.
func (d *Decoder) tunnelSniffer(c *TCPConn, t *Tunnel) *sniffer {
	return &sniffer{d: d, c: c, t: t}
}

// sniffTunnel chooses the decoder for the bytes inside the tunnel t, as
// sniff does for a connection's own stream.
func (d *Decoder) sniffTunnel(c *TCPConn, t *Tunnel, dir int, p []byte, force bool, at capture.Ref) (streamApp, bool) {
	switch {
	case looksLikeTLS(p):
		return d.newTLSApp(c, t, at), true
	case dir == 0 && len(p) < sniffLen && !force && couldBeHTTP(p):
		return nil, false
	case dir == 0 && looksLikeHTTPRequest(p):
		host, _, _ := strings.Cut(t.Target, ":")
		return newHTTPApp(d, c, host), true
	case len(p) < 3 && !force:
		return nil, false
	}
	return ignoreApp{}, true
}

// connectApp decodes an HTTP CONNECT exchange (RFC 9110 §9.3.6) and then
// the tunnel it opens. A client may retry with credentials on the same
// connection after a 407; each attempt is its own Tunnel.
type connectApp struct {
	d       *Decoder
	c       *TCPConn
	req     httpReader
	resp    httpReader
	t       *Tunnel
	inner   *sniffer
	pending []byte // client bytes sent before the proxy answered
}

func newConnectApp(d *Decoder, c *TCPConn) *connectApp {
	a := &connectApp{d: d, c: c}
	a.req = httpReader{request: true, onHead: a.request, onOversize: d.oversizeHead(c, true)}
	a.resp = httpReader{onHead: a.response, onOversize: d.oversizeHead(c, false)}
	return a
}

func (a *connectApp) request(h *httpHead, at capture.Ref) bodyMode {
	method, target, _, ok := parseRequestLine(h.line)
	if !ok || !strings.EqualFold(method, "CONNECT") {
		return bodyAuto // a forward-proxy request for a plain http:// URL
	}
	_, hasAuth := h.get("Proxy-Authorization")
	a.t = &Tunnel{Kind: "http-connect", Client: a.c.Client, Proxy: a.c.Server, Target: target,
		Request: at, ProxyAuthorization: hasAuth, Conn: a.c}
	a.c.SetTunnel(a.t)
	a.d.addTunnel(a.t, at)
	return bodyTunnel
}

func (a *connectApp) response(h *httpHead, at capture.Ref) bodyMode {
	_, status, ok := parseStatusLine(h.line)
	if !ok {
		a.resp.fail("not an HTTP status line")
		return bodyNone
	}
	if status >= 100 && status < 200 {
		return bodyNone
	}
	t := a.t
	if t == nil || !t.Response.IsZero() {
		return bodyAuto // an answer to no CONNECT we saw
	}
	t.Status = status
	t.StatusLine = h.line
	t.Response = at
	if v, ok := h.get("Proxy-Authenticate"); ok {
		t.AuthScheme, t.AuthRealm = parseChallenge(v)
	}
	if status >= 200 && status < 300 {
		t.Established = true
		a.inner = a.d.tunnelSniffer(a.c, t)
		if len(a.pending) > 0 {
			a.inner.data(0, a.pending, t.Request)
			a.pending = nil
		}
		return bodyTunnel
	}
	return bodyAuto
}

func (a *connectApp) data(dir int, p []byte, at capture.Ref) {
	if a.inner != nil {
		a.inner.data(dir, p, at)
		return
	}
	if dir == 1 {
		if rest := a.resp.feed(p, at); len(rest) > 0 && a.inner != nil {
			a.inner.data(1, rest, at)
		}
		return
	}
	// Client side: while the CONNECT is unanswered, its later bytes are
	// held (a pipelined ClientHello); after a refusal, a new CONNECT may
	// follow on the same connection.
	if a.req.state == stTunnel && a.t != nil && !a.t.Response.IsZero() && hasPrefixFold(p, "CONNECT ") {
		a.req.state = stHead
	}
	rest := a.req.feed(p, at)
	if len(rest) == 0 {
		return
	}
	if a.inner != nil {
		a.inner.data(0, rest, at)
		return
	}
	if a.t != nil && a.t.Response.IsZero() && len(a.pending)+len(rest) <= maxPendingTunnel {
		a.pending = append(a.pending, rest...)
	}
}

func (a *connectApp) gap(dir int, n int64, at capture.Ref) {
	if a.inner != nil {
		a.inner.gap(dir, n, at)
		return
	}
	if dir == 0 {
		a.req.fail("bytes missing")
	} else {
		a.resp.fail("bytes missing")
	}
}

func (a *connectApp) finish() {
	if a.inner != nil {
		a.inner.finish()
	}
}

// parseChallenge extracts the scheme and realm of a Proxy-Authenticate
// challenge (RFC 9110 §11.6.1), e.g. `Basic realm="corp proxy"`.
func parseChallenge(v string) (scheme, realm string) {
	scheme, params, _ := strings.Cut(strings.TrimSpace(v), " ")
	for _, p := range strings.Split(params, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "realm") {
			realm = strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	return scheme, realm
}

// looksLikeSOCKS5 reports whether p starts like a SOCKS5 greeting (RFC 1928
// §3): version 5, 1–32 method codes from the assigned ranges.
func looksLikeSOCKS5(p []byte) bool {
	if len(p) < 2 || p[0] != 5 || p[1] == 0 || p[1] > 32 {
		return false
	}
	methods := p[2:min(len(p), 2+int(p[1]))]
	for _, m := range methods {
		if m > 0x09 && m < 0x80 {
			return false
		}
	}
	return true
}

// looksLikeSOCKS4 reports whether p starts like a SOCKS4 request: version
// 4, command CONNECT or BIND.
func looksLikeSOCKS4(p []byte) bool {
	return len(p) >= 2 && p[0] == 4 && (p[1] == 1 || p[1] == 2)
}

// socksApp decodes a SOCKS5 (RFC 1928, RFC 1929 for username/password) or
// SOCKS4/4a negotiation and then the tunnel. Credentials are skipped, never
// kept.
type socksApp struct {
	d       *Decoder
	c       *TCPConn
	version int
	buf     [2][]byte
	step    [2]int
	t       *Tunnel
	inner   *sniffer
	broken  bool
}

func newSOCKSApp(d *Decoder, c *TCPConn, version int) *socksApp {
	return &socksApp{d: d, c: c, version: version}
}

func (a *socksApp) data(dir int, p []byte, at capture.Ref) {
	if a.inner != nil {
		a.inner.data(dir, p, at)
		return
	}
	if a.broken {
		return
	}
	if len(a.buf[dir])+len(p) > 1024 {
		a.broken = true
		return
	}
	a.buf[dir] = append(a.buf[dir], p...)
	for a.inner == nil && !a.broken {
		n := a.message(dir, a.buf[dir], at)
		if n == 0 {
			return
		}
		a.buf[dir] = a.buf[dir][n:]
	}
	if a.inner != nil {
		// Bytes after the negotiation already belong to the tunnel.
		for d := range 2 {
			if len(a.buf[d]) > 0 {
				a.inner.data(d, a.buf[d], at)
			}
			a.buf[d] = nil
		}
	}
}

// message decodes the next negotiation message of one direction from b and
// returns its length, or 0 when b does not hold a whole one yet.
func (a *socksApp) message(dir int, b []byte, at capture.Ref) int {
	if a.version == 4 {
		return a.socks4(dir, b, at)
	}
	if len(b) < 2 {
		return 0
	}
	switch {
	case dir == 0 && a.step[0] == 0: // greeting: VER NMETHODS METHODS
		n := 2 + int(b[1])
		if len(b) < n {
			return 0
		}
		a.t = &Tunnel{Kind: "socks5", Client: a.c.Client, Proxy: a.c.Server, Request: at,
			Methods: append([]byte(nil), b[2:n]...), Method: -1, Conn: a.c}
		a.c.SetTunnel(a.t)
		a.d.addTunnel(a.t, at)
		a.step[0]++
		return n
	case dir == 0 && b[0] == 1: // RFC 1929: VER ULEN UNAME PLEN PASSWD
		if len(b) < 2 || len(b) < 3+int(b[1]) || len(b) < 3+int(b[1])+int(b[2+int(b[1])]) {
			return 0
		}
		if a.t != nil {
			a.t.ProxyAuthorization = true
		}
		return 3 + int(b[1]) + int(b[2+int(b[1])])
	case dir == 0 && b[0] == 5: // request: VER CMD RSV ATYP DST.ADDR DST.PORT
		host, n := socksAddr(b, 3)
		if n == 0 {
			return 0
		}
		if a.t != nil {
			a.t.Target = host
			a.t.Request = at
		}
		return n
	case dir == 1 && a.step[1] == 0: // method selection: VER METHOD
		if a.t != nil {
			a.t.Method = int(b[1])
			if b[1] == 0xff {
				a.t.Response = at
				a.t.Status = 0xff
				a.t.StatusLine = "no acceptable authentication method (0xff)"
			}
		}
		a.step[1]++
		return 2
	case dir == 1 && b[0] == 1: // RFC 1929 status: VER STATUS
		if b[1] != 0 && a.t != nil {
			a.t.Response = at
			a.t.Status = int(b[1])
			a.t.StatusLine = fmt.Sprintf("username/password authentication failed (status %d)", b[1])
		}
		return 2
	case dir == 1 && b[0] == 5: // reply: VER REP RSV ATYP BND.ADDR BND.PORT
		_, n := socksAddr(b, 3)
		if n == 0 {
			return 0
		}
		if a.t != nil {
			a.t.Response = at
			a.t.Status = int(b[1])
			a.t.StatusLine = socks5Reply(b[1])
			if b[1] == 0 {
				a.t.Established = true
				a.inner = a.d.tunnelSniffer(a.c, a.t)
			}
		}
		return n
	}
	a.broken = true
	return 0
}

// socks4 decodes SOCKS4 and SOCKS4a messages.
func (a *socksApp) socks4(dir int, b []byte, at capture.Ref) int {
	if dir == 0 {
		// VER CMD DSTPORT DSTIP USERID 0 [HOST 0]
		if len(b) < 9 {
			return 0
		}
		end := bytes.IndexByte(b[8:], 0)
		if end < 0 {
			return 0
		}
		n := 8 + end + 1
		port := binary.BigEndian.Uint16(b[2:4])
		ip := netip.AddrFrom4([4]byte(b[4:8]))
		host := ip.String()
		if b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] != 0 { // SOCKS4a: the name follows
			e := bytes.IndexByte(b[n:], 0)
			if e < 0 {
				return 0
			}
			host = string(b[n : n+e])
			n += e + 1
		}
		a.t = &Tunnel{Kind: "socks4", Client: a.c.Client, Proxy: a.c.Server, Request: at,
			Target: net.JoinHostPort(host, strconv.Itoa(int(port))), Method: -1, Conn: a.c}
		a.c.SetTunnel(a.t)
		a.d.addTunnel(a.t, at)
		return n
	}
	// VN CD DSTPORT DSTIP
	if len(b) < 8 {
		return 0
	}
	if a.t != nil {
		a.t.Response = at
		a.t.Status = int(b[1])
		a.t.StatusLine = socks4Reply(b[1])
		if b[1] == 0x5a {
			a.t.Established = true
			a.inner = a.d.tunnelSniffer(a.c, a.t)
		}
	}
	return 8
}

// socksAddr reads ATYP DST.ADDR DST.PORT at off (RFC 1928 §4) and returns
// host:port and the end offset, or 0 when b is too short or malformed.
func socksAddr(b []byte, off int) (string, int) {
	if len(b) < off+1 {
		return "", 0
	}
	var host string
	p := off + 1
	switch b[off] {
	case 1:
		if len(b) < p+4 {
			return "", 0
		}
		host = netip.AddrFrom4([4]byte(b[p : p+4])).String()
		p += 4
	case 3:
		if len(b) < p+1 || len(b) < p+1+int(b[p]) {
			return "", 0
		}
		host = string(b[p+1 : p+1+int(b[p])])
		p += 1 + int(b[p])
	case 4:
		if len(b) < p+16 {
			return "", 0
		}
		host = netip.AddrFrom16([16]byte(b[p : p+16])).String()
		p += 16
	default:
		return "", 0
	}
	if len(b) < p+2 {
		return "", 0
	}
	port := binary.BigEndian.Uint16(b[p : p+2])
	return net.JoinHostPort(host, strconv.Itoa(int(port))), p + 2
}

// socks5Reply names a SOCKS5 reply code (RFC 1928 §6).
func socks5Reply(rep byte) string {
	switch rep {
	case 0:
		return "succeeded"
	case 1:
		return "general SOCKS server failure (1)"
	case 2:
		return "connection not allowed by ruleset (2)"
	case 3:
		return "network unreachable (3)"
	case 4:
		return "host unreachable (4)"
	case 5:
		return "connection refused (5)"
	case 6:
		return "TTL expired (6)"
	case 7:
		return "command not supported (7)"
	case 8:
		return "address type not supported (8)"
	}
	return fmt.Sprintf("unassigned reply code %d", rep)
}

// socks4Reply names a SOCKS4 reply code.
func socks4Reply(cd byte) string {
	switch cd {
	case 0x5a:
		return "request granted (90)"
	case 0x5b:
		return "request rejected or failed (91)"
	case 0x5c:
		return "rejected: cannot reach the client's identd (92)"
	case 0x5d:
		return "rejected: identd reports a different user (93)"
	}
	return fmt.Sprintf("unassigned reply code %d", cd)
}

func (a *socksApp) gap(dir int, n int64, at capture.Ref) {
	if a.inner != nil {
		a.inner.gap(dir, n, at)
		return
	}
	a.broken = true
}

func (a *socksApp) finish() {
	if a.inner != nil {
		a.inner.finish()
	}
}
