package synth

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

// ErrRefused is returned by a tunnel client whose proxy said no.
var ErrRefused = errors.New("synth: the proxy refused the tunnel")

// ConnectClient returns a client that asks an HTTP proxy for a tunnel to
// target (host:port) as Go's net/http does, then runs inner through it.
func ConnectClient(target string, inner func(net.Conn) error) func(net.Conn) error {
	return func(c net.Conn) error {
		req := fmt.Sprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Go-http-client/1.1\r\n\r\n", target, target)
		if _, err := io.WriteString(c, req); err != nil {
			return err
		}
		head, err := readHead(c)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(head, "HTTP/1.1 2") && !strings.HasPrefix(head, "HTTP/1.0 2") {
			return ErrRefused
		}
		return inner(c)
	}
}

// ConnectServer returns an HTTP proxy that answers a CONNECT with the
// given response (status line, fields, body) and, when it is a 2xx, runs
// inner as the far end of the tunnel.
func ConnectServer(response string, inner func(net.Conn) error) func(net.Conn) error {
	return func(c net.Conn) error {
		if _, err := readHead(c); err != nil {
			return err
		}
		if _, err := io.WriteString(c, response); err != nil {
			return err
		}
		if !strings.HasPrefix(response, "HTTP/1.1 2") {
			return nil
		}
		return inner(c)
	}
}

// SOCKS5Client returns a client that asks a SOCKS5 proxy (RFC 1928) for a
// connection to host:port as golang.org/x/net/internal/socks does: no
// authentication offered, the name sent as a domain name.
func SOCKS5Client(host string, port uint16, inner func(net.Conn) error) func(net.Conn) error {
	return func(c net.Conn) error {
		if _, err := c.Write([]byte{5, 1, 0}); err != nil {
			return err
		}
		reply := make([]byte, 2)
		if _, err := io.ReadFull(c, reply); err != nil {
			return err
		}
		if reply[1] != 0 {
			return ErrRefused
		}
		req := []byte{5, 1, 0, 3, byte(len(host))}
		req = append(req, host...)
		req = append(req, byte(port>>8), byte(port))
		if _, err := c.Write(req); err != nil {
			return err
		}
		rep := make([]byte, 10)
		if _, err := io.ReadFull(c, rep); err != nil {
			return err
		}
		if rep[1] != 0 {
			return ErrRefused
		}
		return inner(c)
	}
}

// SOCKS5Server returns a SOCKS5 proxy that accepts "no authentication"
// and answers the CONNECT request with reply code rep (0: success, then
// inner runs as the far end).
func SOCKS5Server(rep byte, inner func(net.Conn) error) func(net.Conn) error {
	return func(c net.Conn) error {
		greeting := make([]byte, 3)
		if _, err := io.ReadFull(c, greeting); err != nil {
			return err
		}
		if _, err := c.Write([]byte{5, 0}); err != nil {
			return err
		}
		head := make([]byte, 5)
		if _, err := io.ReadFull(c, head); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, make([]byte, int(head[4])+2)); err != nil {
			return err
		}
		if _, err := c.Write([]byte{5, rep, 0, 1, 0, 0, 0, 0, 0, 0}); err != nil {
			return err
		}
		if rep != 0 {
			return nil
		}
		return inner(c)
	}
}
