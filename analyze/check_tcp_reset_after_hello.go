package analyze

import (
	"fmt"

	"github.com/modsniff/modsniff/decode"
)

var checkTCPResetAfterHello = &Check{ID: "tcp-reset-after-hello", Layer: "tcp", Severity: Error,
	Title: "the connection was reset right after the ClientHello",
	Doc: "A reset arrived from the server's side after the ClientHello and before any ServerHello: the mark of " +
		"SNI-based filtering. An IP TTL or IP ID unlike the server's SYN-ACK shows the reset was injected. " +
		"Resets the client sends (the go command closes the losers of its parallel dials), and resets that answer the " +
		"client's own close after it gave up waiting, are never reported.",
	Role: RoleCause,
	GoErrors: []string{
		"read tcp 10.0.0.2:51234->142.250.74.113:443: read: connection reset by peer",
		"net/http: TLS handshake timeout",
	},
	run: runTCPResetAfterHello}

func runTCPResetAfterHello(ctx *Context) []Finding {
	var out []Finding
	for _, s := range ctx.Events.TLS {
		c := s.Conn
		if s.ClientHello == nil || c == nil || s.Tunnel != nil {
			continue
		}
		var rst *decode.TCPReset
		for i := range c.Resets() {
			r := &c.Resets()[i]
			if r.FromClient || r.At.Packet < s.ClientHelloAt.Packet {
				continue
			}
			if s.ServerHello != nil && s.ServerHelloAt.Packet < r.At.Packet {
				continue
			}
			if fin := c.FIN[0]; !fin.IsZero() && fin.Packet < r.At.Packet {
				continue // the client closed first (it gave up waiting): the reset answers its FIN
			}
			rst = r
			break
		}
		if rst == nil {
			continue
		}
		host := ctx.connHost(c)
		ev := []Evidence{
			evidence(s.ClientHelloAt, "ClientHello for %q", s.ClientHello.ServerName),
			evidence(rst.At, "RST from %s, %s after the ClientHello (IP TTL %d, IP ID 0x%04x)", c.Server,
				duration(rst.At.Time().Sub(s.ClientHelloAt.Time())), rst.IP.TTL, rst.IP.ID),
		}
		observed := fmt.Sprintf("a reset from %s's side %s after the ClientHello", c.Server.Addr(), duration(rst.At.Time().Sub(s.ClientHelloAt.Time())))
		if !c.SYNACK.IsZero() {
			ev = append(ev, evidence(c.SYNACK, "SYN-ACK from %s (IP TTL %d, IP ID 0x%04x)", c.Server, c.SYNACKIP.TTL, c.SYNACKIP.ID))
			if c.SYNACKIP.TTL != rst.IP.TTL {
				observed += fmt.Sprintf("; its IP TTL %d differs from the server's SYN-ACK (%d): it came from a different hop — injected", rst.IP.TTL, c.SYNACKIP.TTL)
			} else {
				observed += fmt.Sprintf("; its IP TTL matches the server's SYN-ACK (%d)", c.SYNACKIP.TTL)
			}
		}
		if s.ServerHello != nil {
			ev = append(ev, evidence(s.ServerHelloAt, "ServerHello after the reset: the real server went on"))
			observed += "; the real ServerHello arrived afterwards"
		}
		out = append(out, Finding{
			Severity: Error, Host: host,
			Summary:  fmt.Sprintf("the connection to %s was reset right after the ClientHello named %s", c.Server, s.ClientHello.ServerName),
			Expected: "a ServerHello",
			Observed: observed,
			Evidence: ev,
			Hint: "Something on the path inspects the server name in the ClientHello and tears the connection down " +
				"(a censoring or corporate firewall). Use a module proxy that is allowed on this network (GOPROXY=" +
				"https://goproxy.cn,direct in mainland China, or your company's mirror), or go through the proxy you " +
				"are meant to use (HTTPS_PROXY).",
		})
	}
	return out
}
