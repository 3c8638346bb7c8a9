package analyze

import (
	"fmt"
	"time"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
)

// checkTCPResetMidTransfer reports established connections that the
// server's side ended (RST, or FIN) while the client still waited for its
// response (RFC 9293 §3.10.7.4, §3.6).
var checkTCPResetMidTransfer = &Check{ID: "tcp-reset-mid-transfer", Layer: "tcp", Severity: Error,
	Title: "an established connection was reset or closed from the server's side before the response completed",
	Doc: "After the handshake and a request, a RST (or a FIN) came from the server's side while the client was " +
		"still waiting: with keys, an HTTP request on it has no response; without keys, the client's request " +
		"record was the last data and the client had not closed first — or a RST cut the server's data flow. " +
		"An IP TTL unlike the server's SYN-ACK and data marks an injected reset; a long silence before it an idle " +
		"timeout. The go command says `connection reset by peer` or `unexpected EOF`. Resets the client sends " +
		"(the go command resets its finished connections at exit) are never reported.",
	Role: RoleCause,
	GoErrors: []string{
		"read: connection reset by peer",
		"unexpected EOF",
	},
	run: runTCPResetMidTransfer}

// midFlowGap is how recent the server's last data must be for a reset to
// cut a transfer in progress.
const midFlowGap = time.Second

// idleTimeoutGap is the silence before a close that reads as an idle
// timeout.
const idleTimeoutGap = 30 * time.Second

func runTCPResetMidTransfer(ctx *Context) []Finding {
	var out []Finding
	for _, c := range ctx.Events.TCP {
		if f, ok := resetMidTransfer(ctx, c); ok {
			out = append(out, f)
		}
	}
	return out
}

// serverClose returns how the server's side ended c: its first RST or
// its FIN, whichever came first, and the silence before it.
func serverClose(c *decode.TCPConn) (at capture.Ref, rst *decode.TCPReset, idle time.Duration, ok bool) {
	for i := range c.Resets() {
		if !c.Resets()[i].FromClient {
			rst = &c.Resets()[i]
			break
		}
	}
	fin := c.FIN[1]
	switch {
	case rst != nil && (fin.IsZero() || rst.At.Packet < fin.Packet || rst.At.Input != fin.Input):
		return rst.At, rst, rst.Idle, true
	case !fin.IsZero():
		return fin, nil, c.ServerFINIdle, true
	}
	return capture.Ref{}, nil, 0, false
}

// clientClosedBefore reports whether the client sent a FIN or RST before at.
func clientClosedBefore(c *decode.TCPConn, at capture.Ref) bool {
	if !c.FIN[0].IsZero() && c.FIN[0].Packet <= at.Packet {
		return true
	}
	for _, r := range c.Resets() {
		if r.FromClient && r.At.Packet <= at.Packet {
			return true
		}
	}
	return false
}

func resetMidTransfer(ctx *Context, c *decode.TCPConn) (Finding, bool) {
	if c.RoleGuessed || c.SYNACK.IsZero() || c.Server.Port() == 53 || c.App == decode.AppDNS {
		return Finding{}, false // a capture that began mid-connection shows no start to compare with
	}
	closeAt, rst, idle, ok := serverClose(c)
	if !ok || clientClosedBefore(c, closeAt) || c.LastPayload[0].IsZero() || c.LastPayload[0].Packet > closeAt.Packet {
		return Finding{}, false
	}
	s := c.TLS
	switch {
	case s != nil:
		// The handshake completed and a request followed it: the client's
		// Finished and at least one more encrypted record. Earlier resets
		// are tcp-reset-after-hello's and tls-not-tls's.
		if s.ServerHello == nil || s.EncryptedCount[0] < 2 || len(s.NotTLS()) > 0 || len(s.Alerts) > 0 {
			return Finding{}, false
		}
	case c.App == decode.AppHTTP:
	default:
		return Finding{}, false
	}
	// Did the client still wait? With keys (or plain HTTP) the exchanges
	// say; without, the client's last data coming after the server's (and
	// being more than HTTP/2 housekeeping) says a request was open.
	var open *decode.HTTPExchange
	exchanges := 0
	for _, h := range ctx.httpOn(c) {
		exchanges++
		if h.Request.Packet < closeAt.Packet && (h.Response.IsZero() || h.Response.Packet > closeAt.Packet) && open == nil {
			open = h
		}
	}
	serverLast := c.LastPayload[1]
	waiting := serverLast.IsZero() || c.LastPayload[0].Packet > serverLast.Packet
	if s != nil && c.Path[0].LastSegment < 64 && !serverLast.IsZero() {
		waiting = false // a PING ACK or WINDOW_UPDATE, not a request
	}
	midFlow := rst != nil && !serverLast.IsZero() && closeAt.Time().Sub(serverLast.Time()) < midFlowGap && c.Payload[1] > 0
	switch {
	case exchanges > 0 && open == nil && !(midFlow && rst != nil):
		return Finding{}, false // every request was answered
	case exchanges > 0 && open != nil:
	case waiting, midFlow:
	default:
		return Finding{}, false
	}

	host := ctx.connHost(c)
	verb := "closed (FIN)"
	if rst != nil {
		verb = "reset"
	}
	ev := []Evidence{evidence(c.SYNACK, "SYN-ACK from %s (IP TTL %d, IP ID 0x%04x)", c.Server, c.SYNACKIP.TTL, c.SYNACKIP.ID)}
	if open != nil {
		ev = append(ev, evidence(open.Request, "%s %s: no complete response before the %s", open.Method, open.Path, verb))
	} else {
		ev = append(ev, evidence(c.LastPayload[0], "the client's last data (%d bytes)", c.Path[0].LastSegment))
	}
	if !serverLast.IsZero() {
		ev = append(ev, evidence(serverLast, "the server's last data, %d bytes received in all (IP TTL %d, IP ID 0x%04x)",
			c.Payload[1], c.Path[1].LastDataIP.TTL, c.Path[1].LastDataIP.ID))
	}
	observed := fmt.Sprintf("%s from %s's side after %d bytes from the server", verb, c.Server, c.Payload[1])
	if open != nil {
		observed += fmt.Sprintf(", with %s %s unanswered", open.Method, open.Path)
	} else if waiting {
		observed += fmt.Sprintf(", %s after the client's last request", duration(closeAt.Time().Sub(c.LastPayload[0].Time())))
	} else {
		observed += ", in the middle of the server's data"
	}
	injected, idleTimeout := false, idle >= idleTimeoutGap
	if rst != nil {
		ev = append(ev, evidence(rst.At, "RST from %s (IP TTL %d, IP ID 0x%04x), %s after the previous packet",
			c.Server, rst.IP.TTL, rst.IP.ID, duration(rst.Idle)))
		ref := c.SYNACKIP
		if rst.IP.TTL != ref.TTL && (c.Path[1].LastDataIP.TTL == 0 || rst.IP.TTL != c.Path[1].LastDataIP.TTL) {
			injected = true
			observed += fmt.Sprintf("; the RST's IP TTL %d differs from the server's SYN-ACK (%d): it came from another hop — injected", rst.IP.TTL, ref.TTL)
		} else {
			observed += fmt.Sprintf("; its IP TTL %d matches the server's", rst.IP.TTL)
		}
	} else {
		ev = append(ev, evidence(closeAt, "FIN from %s, %s after the previous packet", c.Server, duration(idle)))
	}
	if idleTimeout {
		observed += fmt.Sprintf("; it came after %s of silence: an idle timeout", duration(idle))
	}
	f := Finding{
		Severity: Error, Host: host,
		Summary:  fmt.Sprintf("the connection to %s (%s) was %s before the response completed", c.Server, host, verb),
		Expected: "the complete response, then the client closing the connection",
		Observed: observed,
		Evidence: ev,
	}
	switch {
	case injected:
		f.Hint = "A middlebox on the path (a DPI firewall, a data-loss-prevention or download-size filter) tore the " +
			"download down with a forged reset. If it happens at about the same byte count every time, it enforces a " +
			"size limit. Use the module proxy you are meant to use (HTTPS_PROXY) or a mirror the network allows " +
			"(GOPROXY), and report the device to whoever runs the network."
	case idleTimeout:
		f.Hint = fmt.Sprintf("The connection sat silent for %s and then something dropped it: a NAT, firewall or proxy "+
			"idle timeout shorter than the server's response time. Raise that timeout, or use a closer GOPROXY "+
			"mirror; retrying (`go mod download` again) usually gets through on a fresh connection.", duration(idle))
	default:
		f.Hint = "The server or a device on the path ended the connection while the go command was still " +
			"receiving (go: `connection reset by peer` or `unexpected EOF`). Retry; if it repeats at the same point, " +
			"a proxy or firewall limits downloads — use the proxy you are meant to use (HTTPS_PROXY) or another " +
			"GOPROXY mirror, and check the proxy's logs."
	}
	return f, true
}
