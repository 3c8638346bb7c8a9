package synth

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Response is what a server answers to one request.
type Response struct {
	// Delay is how long the server takes to produce the response.
	Delay  time.Duration
	Status int
	// Header lists header fields in order (lower-case names for HTTP/2).
	Header [][2]string
	Body   []byte
	// ResetCode, when set, makes an HTTP/2 server send only the first
	// Partial bytes of the body and then RST_STREAM with this error code
	// (RFC 9113 §6.4). Cut, when set, makes it send only the first
	// Partial bytes and end the conversation without END_STREAM (the
	// caller closes the connection from the server's side).
	ResetCode uint32
	Cut       bool
	Partial   int
}

// ErrCut is what a server returns after cutting a response short.
var ErrCut = errors.New("synth: response cut short")

// Exchange is what a client asks and what the server answers.
type Exchange struct {
	Method, Path string
	Response     Response
}

// HTTPSClient returns a client that performs the TLS handshake and then
// sends each exchange's request, over HTTP/2 or HTTP/1.1 as ALPN decided,
// waiting for each response. A failed handshake returns its error (the
// TLS stack has already sent its alert).
func HTTPSClient(cfg *tls.Config, exchanges []Exchange) func(net.Conn) error {
	return func(c net.Conn) error {
		tc := tls.Client(c, cfg)
		if err := tc.Handshake(); err != nil {
			return err
		}
		if tc.ConnectionState().NegotiatedProtocol == "h2" {
			return h2Client(tc, cfg.ServerName, exchanges)
		}
		return h1Client(tc, cfg.ServerName, exchanges)
	}
}

// HTTPSServer returns a server that answers the exchanges' requests in
// order, over whichever protocol ALPN chose.
func HTTPSServer(cfg *tls.Config, exchanges []Exchange) func(net.Conn) error {
	return func(c net.Conn) error {
		tc := tls.Server(c, cfg)
		if err := tc.Handshake(); err != nil {
			return err
		}
		if tc.ConnectionState().NegotiatedProtocol == "h2" {
			return h2Server(c, tc, exchanges)
		}
		return h1Server(c, tc, exchanges)
	}
}

// H2RejectServer returns a TLS server whose HTTP/2 stack refuses every
// connection right after the handshake: when ALPN chose h2 it sends its
// SETTINGS and a GOAWAY with code and debug data (h2Reject), then closes
// the TLS connection (close_notify) without reading. An interceptor with
// a legacy cipher list in front of an HTTP/2 stack that enforces RFC 9113
// §9.2 answers this way (code INADEQUATE_SECURITY).
func H2RejectServer(cfg *tls.Config, code uint32, debug string) func(net.Conn) error {
	return func(c net.Conn) error {
		tc := tls.Server(c, cfg)
		if err := tc.Handshake(); err != nil {
			return err
		}
		if tc.ConnectionState().NegotiatedProtocol != "h2" {
			return errors.New("synth: H2RejectServer: ALPN did not choose h2")
		}
		if err := h2Reject(tc, code, debug); err != nil {
			return err
		}
		return tc.Close()
	}
}

// HTTPClient returns a plain HTTP/1.1 client for host.
func HTTPClient(host string, exchanges []Exchange) func(net.Conn) error {
	return func(c net.Conn) error { return h1Client(c, host, exchanges) }
}

// HTTPServer returns a plain HTTP/1.1 server.
func HTTPServer(exchanges []Exchange) func(net.Conn) error {
	return func(c net.Conn) error { return h1Server(c, c, exchanges) }
}

// h1Client sends the requests as Go's net/http does and reads each
// response.
func h1Client(c net.Conn, host string, exchanges []Exchange) error {
	for _, x := range exchanges {
		req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Go-http-client/1.1\r\nAccept-Encoding: gzip\r\n\r\n",
			x.Method, x.Path, host)
		if _, err := io.WriteString(c, req); err != nil {
			return err
		}
		head, err := readHead(c)
		if err != nil {
			return err
		}
		n := 0
		for _, line := range strings.Split(head, "\r\n") {
			if v, ok := strings.CutPrefix(strings.ToLower(line), "content-length: "); ok {
				n, _ = strconv.Atoi(v)
			}
		}
		if _, err := io.ReadFull(c, make([]byte, n)); err != nil {
			return err
		}
	}
	return nil
}

// h1Server answers each request head with the next response; raw is the
// connection under c, where the server's pauses are recorded.
func h1Server(raw, c net.Conn, exchanges []Exchange) error {
	for _, x := range exchanges {
		if _, err := readHead(c); err != nil {
			return err
		}
		Think(raw, x.Response.Delay)
		if _, err := c.Write(h1Response(x.Response)); err != nil {
			return err
		}
	}
	return nil
}

// h1Response writes a response as a server would: status line, the
// given fields, Content-Length, and the body.
func h1Response(r Response) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", r.Status, statusText(r.Status))
	for _, h := range r.Header {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(r.Body))
	b.Write(r.Body)
	return b.Bytes()
}

func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 407:
		return "Proxy Authentication Required"
	case 410:
		return "Gone"
	}
	return "Status"
}

// readHead reads an HTTP/1 header block byte by byte, so that nothing
// after it (a tunnel's first bytes) is consumed.
func readHead(c net.Conn) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for !bytes.HasSuffix(b, []byte("\r\n\r\n")) {
		if _, err := io.ReadFull(c, one); err != nil {
			return string(b), err
		}
		b = append(b, one[0])
		if len(b) > 64<<10 {
			return "", errors.New("synth: header block too long")
		}
	}
	return string(b), nil
}
