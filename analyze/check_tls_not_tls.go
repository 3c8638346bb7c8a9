package analyze

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// checkTLSNotTLS reports servers and proxies that answered a ClientHello
// with something that is not a TLS record (RFC 8446 §5.1).
var checkTLSNotTLS = &Check{ID: "tls-not-tls", Layer: "tls", Severity: Error,
	Title: "the server or proxy answered the ClientHello with something that is not TLS",
	Doc: "The first bytes back are not a TLS record: a plain HTTP response (its status line is quoted), an HTML " +
		"page, an SSH banner or HTTP/2 frames. Either HTTPS_PROXY says https:// for a proxy that speaks plain " +
		"HTTP (go: `proxyconnect tcp: tls: first record does not look like a TLS handshake`), or a transparent " +
		"proxy or captive portal answers on port 443 (go: `server gave HTTP response to HTTPS client`).",
	Role: RoleCause,
	GoErrors: []string{
		"proxyconnect tcp: tls: first record does not look like a TLS handshake",
		"tls: first record does not look like a TLS handshake",
		"http: server gave HTTP response to HTTPS client",
	},
	run: runTLSNotTLS}

func runTLSNotTLS(ctx *Context) []Finding {
	var out []Finding
	proxies := ctx.proxyEndpoints()
	for _, s := range ctx.Events.TLS {
		c := s.Conn
		if len(s.NotTLS()) == 0 || s.ClientHello == nil || c == nil || s.NotTLSAt().Packet < s.ClientHelloAt.Packet {
			continue // no ClientHello seen: the capture began inside the stream
		}
		what, quote := describeNotTLS(s.NotTLS())
		sni := strings.ToLower(s.ClientHello.ServerName)
		host := ctx.connHost(c)
		if s.Tunnel != nil {
			host = strings.ToLower(hostOnly(s.Tunnel.Target))
		}
		_, toProxy := proxies[c.Server]
		toProxy = toProxy && s.Tunnel == nil
		if s.Tunnel == nil && (ctx.httpsProxyNamed(sni) || proxyPort(c.Server.Port()) && bytes.HasPrefix(s.NotTLS(), []byte("HTTP/"))) {
			toProxy = true
		}
		ev := []Evidence{
			evidence(s.ClientHelloAt, "ClientHello for %q to %s", s.ClientHello.ServerName, c.Server),
			evidence(s.NotTLSAt(), "the server's first bytes: %s", quote),
		}
		for dir, fin := range c.FIN {
			if dir == 1 && !fin.IsZero() {
				ev = append(ev, evidence(fin, "FIN from %s", c.Server))
			}
		}
		f := Finding{
			Severity: Error, Host: host,
			Summary:  fmt.Sprintf("%s answered the TLS ClientHello with %s", c.Server, what),
			Expected: "a TLS ServerHello (a record starting 0x16 0x03)",
			Observed: fmt.Sprintf("%s: %s", what, quote),
			Evidence: ev,
		}
		switch {
		case toProxy:
			f.Summary = fmt.Sprintf("the proxy %s speaks plain HTTP, but the go command started TLS with it", c.Server)
			f.Hint = fmt.Sprintf("HTTPS_PROXY (or HTTP_PROXY/ALL_PROXY) says https:// for a proxy that speaks plain HTTP; "+
				"go says `proxyconnect tcp: tls: first record does not look like a TLS handshake`. Write the proxy URL "+
				"with http://, e.g. HTTPS_PROXY=http://%s — the tunnel to the module host is still TLS from end to end.", c.Server)
		case s.Tunnel != nil:
			f.Summary = fmt.Sprintf("inside the tunnel to %s, %s came back instead of TLS", s.Tunnel.Target, what)
			f.Hint = fmt.Sprintf("The proxy %s opened the tunnel but what answered inside it does not speak TLS: the "+
				"target port is wrong (GOPROXY must name an https:// URL on a TLS port), or the proxy itself "+
				"answers inside the tunnel (a block page). Check GOPROXY and ask the proxy's owners.", s.Tunnel.Proxy)
		case bytes.HasPrefix(s.NotTLS(), []byte("HTTP/")) || what == "an HTML page":
			f.Hint = fmt.Sprintf("Something on the path answers HTTPS connections to %s with plain HTTP: a captive portal "+
				"(log in to the network in a browser first) or a transparent proxy that intercepts port %d; go says "+
				"`server gave HTTP response to HTTPS client`. Use the proxy you are meant to use explicitly "+
				"(HTTPS_PROXY=http://proxy:port) or a GOPROXY mirror the network allows; if GOPROXY names this server, "+
				"its URL must start with http:// for a plain-HTTP mirror.", host, c.Server.Port())
		default:
			f.Hint = fmt.Sprintf("Port %d of %s is not a TLS server (%s): GOPROXY or the proxy settings name the wrong "+
				"host or port, or a port forward sends 443 elsewhere. Check `go env GOPROXY` and the proxy variables.",
				c.Server.Port(), c.Server.Addr(), what)
		}
		out = append(out, f)
	}
	return out
}

// httpsProxyNamed reports whether the recorded proxy variables name host
// with an https:// URL.
func (ctx *Context) httpsProxyNamed(host string) bool {
	m := ctx.Meta()
	if m == nil || host == "" {
		return false
	}
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"} {
		if u, err := url.Parse(m.Env[k]); err == nil && u.Scheme == "https" && strings.EqualFold(u.Hostname(), host) {
			return true
		}
	}
	return false
}

// describeNotTLS names what a server sent instead of TLS and quotes it.
func describeNotTLS(b []byte) (what, quote string) {
	line := b
	if i := bytes.IndexAny(line, "\r\n"); i >= 0 {
		line = line[:i]
	}
	lower := bytes.ToLower(b)
	switch {
	case bytes.HasPrefix(b, []byte("HTTP/")):
		return "a plain HTTP response", fmt.Sprintf("%q", printableText(line, 100))
	case bytes.HasPrefix(b, []byte("SSH-")):
		return "an SSH banner", fmt.Sprintf("%q", printableText(line, 100))
	case bytes.Contains(lower, []byte("<html")) || bytes.Contains(lower, []byte("<!doctype")):
		return "an HTML page", fmt.Sprintf("%q", printableText(line, 100))
	case len(b) >= 9 && b[3] == 0x04 && b[4]&^1 == 0 && b[5]&0x7f == 0 && b[6] == 0 && b[7] == 0 && b[8] == 0:
		return "HTTP/2 frames (SETTINGS) in clear", fmt.Sprintf("% x", b[:9])
	}
	n := min(len(b), 16)
	return "bytes that are not a TLS record", fmt.Sprintf("% x (%q)", b[:n], printableText(b[:n], 16))
}

// printableText returns at most n characters of b with control characters
// and invalid UTF-8 replaced by '.', so a quote stays on one line.
func printableText(b []byte, n int) string {
	var sb strings.Builder
	for i := 0; len(b) > 0 && i < n; i++ {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError || r < 0x20 || r == 0x7f {
			r = '.'
		}
		sb.WriteRune(r)
		b = b[size:]
	}
	return sb.String()
}

// proxyPort reports the ports HTTP proxies usually listen on (Squid, Privoxy,
// Clash, common corporate choices).
func proxyPort(p uint16) bool {
	switch p {
	case 3128, 3129, 8080, 8118, 8888, 7890, 9090:
		return true
	}
	return false
}
