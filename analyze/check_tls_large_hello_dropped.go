package analyze

import (
	"fmt"
	"time"

	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

var checkTLSLargeHelloDropped = &Check{ID: "tls-large-hello-dropped", Layer: "tcp", Severity: Error,
	Title: "a multi-segment ClientHello was followed by silence",
	Doc: "The ClientHello spanned several TCP segments — Go's default post-quantum key share (X25519MLKEM768) " +
		"makes it about 1.5 KB — and the server never answered while the client retransmitted: a middlebox " +
		"drops large or fragmented hellos.",
	Role: RoleCause,
	GoErrors: []string{
		"net/http: TLS handshake timeout",
		"read tcp 10.0.0.2:51234->142.250.74.113:443: read: connection reset by peer",
	},
	RestsOnSilence: true,
	run:            runTLSLargeHelloDropped}

func runTLSLargeHelloDropped(ctx *Context) []Finding {
	var out []Finding
	for _, s := range ctx.Events.TLS {
		if f, ok := largeHelloDropped(ctx, s); ok {
			out = append(out, f)
		}
	}
	return out
}

// largeHelloDropped reports a session whose multi-segment ClientHello met
// only silence.
func largeHelloDropped(ctx *Context, s *decode.TLSSession) (Finding, bool) {
	c := s.Conn
	if s.ClientHello == nil || s.ServerHello != nil || c == nil || s.ClientHelloPackets < 2 || len(s.Alerts) > 0 {
		return Finding{}, false
	}
	if c.Payload[1] > 0 && s.Tunnel == nil {
		return Finding{}, false // the server said something
	}
	for _, r := range c.Resets() {
		if !r.FromClient {
			return Finding{}, false // a server reset is tcp-reset-after-hello's
		}
	}
	if c.Stream[0].Retransmitted == 0 && ctx.inputEnd(int(s.ClientHelloAt.Input)).Sub(s.ClientHelloAt.Time()) < 3*time.Second {
		return Finding{}, false // neither retransmissions nor a long silence: too soon to say
	}
	host := ctx.connHost(c)
	pq := ""
	for _, g := range s.ClientHello.KeyShareGroups {
		if tlswire.IsPostQuantumGroup(g) {
			pq = tlswire.GroupName(g)
		}
	}
	ev := []Evidence{evidence(s.ClientHelloFirstAt, "first segment of the ClientHello"),
		evidence(s.ClientHelloAt, "ClientHello completed, %d bytes over %d segments", s.ClientHello.Length, s.ClientHelloPackets)}
	observed := fmt.Sprintf("a %d-byte ClientHello over %d segments, then nothing from %s", s.ClientHello.Length, s.ClientHelloPackets, c.Server)
	if n := c.Stream[0].Retransmitted; n > 0 {
		observed += fmt.Sprintf("; the client retransmitted %d times", n)
	}
	if pq != "" {
		observed += "; it carries a " + pq + " key share"
	}
	return Finding{
		Severity: Error, Host: host,
		Summary:  fmt.Sprintf("%s never answered a %d-segment ClientHello", host, s.ClientHelloPackets),
		Expected: "a ServerHello",
		Observed: observed,
		Evidence: ev,
		Hint: "A middlebox on the path drops ClientHellos that do not fit in one segment (an old firewall or " +
			"DPI box, or a broken path MTU). The post-quantum key share Go sends by default makes the hello " +
			"about 1.5 KB: run the go command with `GODEBUG=tlsmlkem=0` (Go 1.24+; `tlskyber=0` on Go 1.23) " +
			"to send a small one, and report the middlebox to whoever runs the network.",
	}, true
}
