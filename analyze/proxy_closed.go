package analyze

import (
	"fmt"
	"strings"

	"github.com/modsniff/modsniff/decode"
)

// proxyClosedSilently extends proxy-connect-failed to a proxy that
// accepted the connection and closed it (FIN or RST) without answering the
// tunnel request (RFC 9110 §9.3.6), or a SOCKS5 proxy (RFC 1928) that
// closed during the negotiation. The go command says `unexpected EOF`
// (Go 1.26) or `proxyconnect tcp: EOF` (older releases) for the first.
func proxyClosedSilently(ctx *Context, t *decode.Tunnel) (Finding, bool) {
	c := t.Conn
	if c == nil || !t.Response.IsZero() || c.RoleGuessed {
		return Finding{}, false
	}
	closeAt, rst, idle, ok := serverClose(c)
	if !ok || closeAt.Packet < t.Request.Packet || clientClosedBefore(c, closeAt) {
		return Finding{}, false
	}
	if t.Kind == "http-connect" && c.Payload[1] > 0 {
		return Finding{}, false // it said something, just not a status line we could read
	}
	how := "closed the connection (FIN)"
	if rst != nil {
		how = "reset the connection"
	}
	stage := "without any response to the CONNECT"
	switch {
	case t.Kind == "socks5" && t.Method < 0:
		stage = "right after the SOCKS5 greeting, before choosing an authentication method"
	case t.Kind == "socks5" && t.Target == "":
		stage = fmt.Sprintf("after choosing authentication method %d, before the CONNECT request", t.Method)
	case t.Kind != "http-connect":
		stage = "without replying to the " + t.Kind + " CONNECT request"
	}
	target := t.Target
	if target == "" {
		target = "(no target sent yet)"
	}
	host := strings.ToLower(hostOnly(t.Target))
	if host == "" {
		host = t.Proxy.String()
	}
	f := Finding{
		Severity: Error, Host: host,
		Summary:  fmt.Sprintf("the proxy %s %s %s", t.Proxy, how, stage),
		Expected: "200 Connection established",
		Observed: fmt.Sprintf("%s %s %s, %s after the request", t.Proxy, how, stage, duration(closeAt.Time().Sub(t.Request.Time()))),
		Evidence: []Evidence{evidence(t.Request, "%s request for %s to %s", t.Kind, target, t.Proxy),
			evidence(closeAt, "%s %s, %s after the previous packet", t.Proxy, how, duration(idle))},
		Hint: "The proxy accepted the TCP connection and hung up without answering (go 1.26: `unexpected EOF`; older " +
			"releases: `proxyconnect tcp: EOF`). Usually the scheme or port is wrong — HTTPS_PROXY=http://… pointing at a " +
			"SOCKS port, socks5://… at an HTTP proxy port, or a port that forwards elsewhere — or the proxy rejects this " +
			"client's address without saying so. Check the port and scheme in HTTPS_PROXY/ALL_PROXY and the proxy's log.",
	}
	if t.Kind != "http-connect" {
		f.Expected = "a SOCKS5 method choice and success reply"
	}
	return f, true
}
