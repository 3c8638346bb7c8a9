package analyze

import (
	"fmt"
	"strings"

	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

var checkH2Goaway = &Check{ID: "h2-goaway", Layer: "http", Severity: Error, NeedsKeys: true,
	Title: "HTTP/2 GOAWAY with an error code",
	Doc: "An HTTP/2 connection (decrypted with key logs) was ended by a GOAWAY frame whose error code is not " +
		"NO_ERROR (RFC 9113 §6.8): INADEQUATE_SECURITY (the TLS version or cipher suite violates RFC 9113 §9.2, " +
		"usually an interceptor's choice), PROTOCOL_ERROR, ENHANCE_YOUR_CALM (rate limiting), HTTP_1_1_REQUIRED … " +
		"The go command reports `http2: Transport received GOAWAY from server ErrCode:…` (a request in flight) or " +
		"`http2: server sent GOAWAY and closed the connection; … ErrCode=…`. A GOAWAY the client sent says the " +
		"server's side of HTTP/2 was broken.",
	Role: RoleSymptom,
	GoErrors: []string{
		"stream error: stream ID 7; INTERNAL_ERROR; received from peer",
		"http2: Transport received GOAWAY from server ErrCode:INADEQUATE_SECURITY",
	},
	run: runH2Goaway}

// goAwayMeaning explains a GOAWAY error code for the go command; tlsText
// describes the connection's TLS parameters.
func goAwayMeaning(code, tlsText string, bad bool) (meaning, hint string) {
	switch code {
	case "INADEQUATE_SECURITY":
		meaning = "the TLS parameters violate RFC 9113 §9.2: HTTP/2 needs TLS 1.2 or later with an ephemeral key " +
			"exchange and an AEAD cipher (AES-GCM, ChaCha20-Poly1305)"
		if tlsText != "" {
			meaning += "; this connection negotiated " + tlsText
			if bad {
				meaning += ", which RFC 9113 Appendix A lists as prohibited"
			}
		}
		hint = "Something in the path negotiated TLS that HTTP/2 forbids — typically a TLS-inspecting proxy or " +
			"antivirus with an old cipher configuration, since proxy.golang.org itself never does. Configure the " +
			"interceptor for TLS 1.3 (or TLS 1.2 with ECDHE and AES-GCM), or exempt the module hosts from inspection. " +
			"As a stopgap, GODEBUG=http2client=0 makes the go command use HTTP/1.1."
	case "PROTOCOL_ERROR", "FRAME_SIZE_ERROR", "COMPRESSION_ERROR", "FLOW_CONTROL_ERROR", "STREAM_CLOSED", "SETTINGS_TIMEOUT":
		meaning = "the peer found the HTTP/2 framing broken — usually a proxy or security product that rewrites " +
			"the stream, or an HTTP/2 implementation bug in front of the server"
		hint = "Look for a proxy or inspection product between the go command and the server (see the TLS " +
			"findings); update it or exempt the module hosts. GODEBUG=http2client=0 makes the go command use " +
			"HTTP/1.1 meanwhile."
	case "ENHANCE_YOUR_CALM":
		meaning = "the server is rate limiting: it considers the client's requests excessive"
		hint = "Retry later, fetch with less parallelism, or use an authenticated or internal GOPROXY; many " +
			"machines behind one NAT or proxy address can trip the limit together."
	case "HTTP_1_1_REQUIRED":
		meaning = "the server (or a proxy) insists on HTTP/1.1"
		hint = "Set GODEBUG=http2client=0 so the go command speaks HTTP/1.1 to it."
	case "INTERNAL_ERROR", "REFUSED_STREAM", "CANCEL", "CONNECT_ERROR":
		meaning = "the server (or a proxy in front of it) gave up on the connection"
		hint = "Retry; if it persists, the server or the proxy in front of it is failing. With `|` between " +
			"GOPROXY entries the go command would fall back to the next one."
	default:
		meaning = "the connection was ended with an error"
		hint = "Compare with a capture from a working machine; check the proxies in the path."
	}
	return meaning, hint
}

// h2Prohibited reports whether a TLS 1.2 cipher suite is on the HTTP/2
// block list (RFC 9113 §9.2.2, Appendix A): not an AEAD, or without an
// ephemeral key exchange.
func h2Prohibited(s *decode.TLSSession) bool {
	if s == nil || s.ServerHello == nil || s.TLS13() {
		return false
	}
	if s.Version() < tlswire.VersionTLS12 {
		return true
	}
	name := tlswire.CipherSuiteName(s.ServerHello.CipherSuite)
	aead := strings.Contains(name, "_GCM_") || strings.Contains(name, "CHACHA20_POLY1305") || strings.Contains(name, "_CCM")
	ephemeral := strings.HasPrefix(name, "TLS_ECDHE_") || strings.HasPrefix(name, "TLS_DHE_")
	return !aead || !ephemeral
}

func runH2Goaway(ctx *Context) []Finding {
	var out []Finding
	type key struct {
		conn *decode.TCPConn
		code string // the error code and its sender
	}
	index := make(map[key]int)
	for _, h := range ctx.Events.HTTP {
		if h.Proto != "h2" || h.GoAway == "" || h.GoAway == "NO_ERROR" {
			continue
		}
		k := key{h.Conn, h.GoAway + fmt.Sprint(h.GoAwayFromClient)}
		if i, ok := index[k]; ok && h.Conn != nil {
			// Another request left unanswered by the same GOAWAY.
			if h.Method != "" {
				out[i].Evidence = append(out[i].Evidence, evidence(h.Request, "%s %s, unanswered", h.Method, h.Path))
				out[i].Observed += fmt.Sprintf("; %s %s unanswered", h.Method, h.Path)
			}
			continue
		}
		var s *decode.TLSSession
		if h.Conn != nil {
			s = h.Conn.TLS
		}
		host := strings.ToLower(hostOnly(h.Host))
		if host == "" && s != nil {
			host = sessionHost(ctx, s)
		}
		tlsText := ""
		f := Finding{Severity: Error, Host: host}
		if s != nil && s.ServerHello != nil {
			tlsText = tlswire.VersionName(s.Version()) + " with " + tlswire.CipherSuiteName(s.ServerHello.CipherSuite)
			f.Evidence = append(f.Evidence, evidence(s.ServerHelloAt, "ServerHello: %s, ALPN %s", tlsText, s.ServerALPN()))
		}
		meaning, hint := goAwayMeaning(h.GoAway, tlsText, h2Prohibited(s))
		f.Summary = fmt.Sprintf("%s ended the HTTP/2 connection with GOAWAY %s", host, h.GoAway)
		if h.GoAwayFromClient {
			// The client ends the connection when the server breaks HTTP/2
			// (a GOAWAY before SETTINGS, a malformed frame): the server's
			// side, or a box in front of it, is at fault.
			f.Summary = fmt.Sprintf("the client ended the HTTP/2 connection to %s with GOAWAY %s: the server's side of HTTP/2 was broken", host, h.GoAway)
			meaning = "the client found the server's HTTP/2 broken"
		}
		f.Expected = "HTTP/2 responses; a GOAWAY only with NO_ERROR, at a graceful close"
		f.Observed = fmt.Sprintf("GOAWAY %s: %s", h.GoAway, meaning)
		if h.Method != "" {
			f.Summary += fmt.Sprintf(" (%s %s unanswered)", h.Method, h.Path)
			f.Observed += fmt.Sprintf("; %s %s unanswered", h.Method, h.Path)
			f.Evidence = append(f.Evidence, evidence(h.Request, "%s %s", h.Method, h.Path))
		}
		f.Evidence = append(f.Evidence, evidence(h.Response, "GOAWAY %s", h.GoAway))
		f.Hint = hint
		index[k] = len(out)
		out = append(out, f)
	}
	return out
}
