package synth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
)

// HTTP/2 (RFC 9113) frame types and flags used here.
const (
	h2Data         = 0x0
	h2Headers      = 0x1
	h2RSTStream    = 0x3
	h2SettingsType = 0x4
	h2Ping         = 0x6
	h2GoAway       = 0x7
	h2WindowUpdate = 0x8

	h2EndStream  = 0x1
	h2Ack        = 0x1
	h2EndHeaders = 0x4
)

const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// h2Frame encodes one frame.
func h2Frame(typ, flags byte, stream uint32, payload []byte) []byte {
	n := len(payload)
	b := []byte{byte(n >> 16), byte(n >> 8), byte(n), typ, flags}
	b = binary.BigEndian.AppendUint32(b, stream&0x7fffffff)
	return append(b, payload...)
}

// h2Settings encodes a SETTINGS payload from (id, value) pairs.
func h2Settings(pairs ...uint32) []byte {
	var p []byte
	for i := 0; i+1 < len(pairs); i += 2 {
		p = binary.BigEndian.AppendUint16(p, uint16(pairs[i]))
		p = binary.BigEndian.AppendUint32(p, pairs[i+1])
	}
	return p
}

// hpackInt appends an HPACK integer (RFC 7541 §5.1) with an n-bit prefix
// whose high bits are flags.
func hpackInt(b []byte, flags byte, n uint, v int) []byte {
	max := 1<<n - 1
	if v < max {
		return append(b, flags|byte(v))
	}
	b = append(b, flags|byte(max))
	for v -= max; v >= 128; v >>= 7 {
		b = append(b, byte(v%128)|0x80)
	}
	return append(b, byte(v))
}

// hpackString appends a string literal without Huffman coding.
func hpackString(b []byte, s string) []byte {
	return append(hpackInt(b, 0, 7, len(s)), s...)
}

// hpackLiteral appends a header field as a literal without indexing
// (RFC 7541 §6.2.2): with an indexed name when idx > 0, else a new name.
func hpackLiteral(b []byte, idx int, name, value string) []byte {
	b = hpackInt(b, 0x00, 4, idx)
	if idx == 0 {
		b = hpackString(b, name)
	}
	return hpackString(b, value)
}

// requestBlock encodes a GET's header block as Go's client sends it:
// pseudo-headers from the static table, then accept-encoding and
// user-agent.
func requestBlock(method, host, path string) []byte {
	var b []byte
	b = hpackLiteral(b, 1, "", host) // :authority
	if method == "GET" {
		b = append(b, 0x82) // :method GET
	} else {
		b = hpackLiteral(b, 2, "", method)
	}
	b = hpackLiteral(b, 4, "", path) // :path
	b = append(b, 0x87)              // :scheme https
	b = hpackLiteral(b, 16, "", "gzip")
	return hpackLiteral(b, 58, "", "Go-http-client/2.0")
}

// responseBlock encodes a response's header block.
func responseBlock(r Response) []byte {
	var b []byte
	switch r.Status {
	case 200:
		b = append(b, 0x88)
	case 404:
		b = append(b, 0x8d)
	default:
		b = hpackLiteral(b, 8, "", strconv.Itoa(r.Status))
	}
	for _, h := range r.Header {
		b = hpackLiteral(b, 0, h[0], h[1])
	}
	return hpackLiteral(b, 28, "", strconv.Itoa(len(r.Body))) // content-length
}

// readFrame reads one frame: type, flags, stream and payload.
func readFrame(c net.Conn) (typ, flags byte, stream uint32, payload []byte, err error) {
	h := make([]byte, 9)
	if _, err = io.ReadFull(c, h); err != nil {
		return
	}
	n := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
	if n > 1<<20 {
		err = errors.New("synth: h2 frame too large")
		return
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(c, payload); err != nil {
		return
	}
	return h[3], h[4], binary.BigEndian.Uint32(h[5:]) & 0x7fffffff, payload, nil
}

// h2Client speaks as Go's HTTP/2 transport: the preface with SETTINGS and
// a connection WINDOW_UPDATE in one write, then one stream per request,
// acknowledging the server's SETTINGS when they arrive.
func h2Client(c net.Conn, host string, exchanges []Exchange) error {
	first := []byte(h2Preface)
	first = append(first, h2Frame(h2SettingsType, 0, 0, h2Settings(0x2, 0, 0x4, 4194304, 0x6, 10485760))...)
	first = append(first, h2Frame(h2WindowUpdate, 0, 0, binary.BigEndian.AppendUint32(nil, 1073741824))...)
	if _, err := c.Write(first); err != nil {
		return err
	}
	for i, x := range exchanges {
		stream := uint32(2*i + 1)
		hdr := h2Frame(h2Headers, h2EndHeaders|h2EndStream, stream, requestBlock(x.Method, host, x.Path))
		if _, err := c.Write(hdr); err != nil {
			return err
		}
		for done := false; !done; {
			typ, flags, sid, payload, err := readFrame(c)
			if err != nil {
				return err
			}
			switch {
			case typ == h2SettingsType && flags&h2Ack == 0:
				if _, err := c.Write(h2Frame(h2SettingsType, h2Ack, 0, nil)); err != nil {
					return err
				}
			case typ == h2Ping && flags&h2Ack == 0:
				if _, err := c.Write(h2Frame(h2Ping, h2Ack, 0, payload)); err != nil {
					return err
				}
			case typ == h2GoAway:
				return goAwayError(c, stream, payload)
			case typ == h2RSTStream && sid == stream && len(payload) == 4:
				// Go's transport: the request fails with the stream error.
				return fmt.Errorf("stream error: stream ID %d; %s; received from peer", sid, h2ErrorName(binary.BigEndian.Uint32(payload)))
			case (typ == h2Data || typ == h2Headers) && sid == stream && flags&h2EndStream != 0:
				done = true
			}
		}
	}
	return nil
}

// h2Server speaks as a front end does: its SETTINGS and a connection
// WINDOW_UPDATE as soon as the handshake is done, a SETTINGS ACK for the
// client's, and for each request HEADERS and DATA in one write (after the
// response's delay, recorded on raw, the connection under c).
func h2Server(raw, c net.Conn, exchanges []Exchange) error {
	hello := h2Frame(h2SettingsType, 0, 0, h2Settings(0x3, 100, 0x4, 1048576, 0x6, 65536))
	hello = append(hello, h2Frame(h2WindowUpdate, 0, 0, binary.BigEndian.AppendUint32(nil, 983041))...)
	if _, err := c.Write(hello); err != nil {
		return err
	}
	if _, err := io.ReadFull(c, make([]byte, len(h2Preface))); err != nil {
		return err
	}
	next := 0
	for next < len(exchanges) {
		typ, flags, sid, _, err := readFrame(c)
		if err != nil {
			return err
		}
		switch {
		case typ == h2SettingsType && flags&h2Ack == 0:
			if _, err := c.Write(h2Frame(h2SettingsType, h2Ack, 0, nil)); err != nil {
				return err
			}
		case typ == h2Headers:
			r := exchanges[next].Response
			next++
			Think(raw, r.Delay)
			out := h2Frame(h2Headers, h2EndHeaders, sid, responseBlock(r))
			if r.ResetCode != 0 || r.Cut {
				out = append(out, h2Frame(h2Data, 0, sid, r.Body[:min(r.Partial, len(r.Body))])...)
				if r.ResetCode != 0 {
					out = append(out, h2Frame(h2RSTStream, 0, sid, binary.BigEndian.AppendUint32(nil, r.ResetCode))...)
				}
				if _, err := c.Write(out); err != nil {
					return err
				}
				if r.Cut {
					return ErrCut
				}
				continue
			}
			out = append(out, h2Frame(h2Data, h2EndStream, sid, r.Body)...)
			if _, err := c.Write(out); err != nil {
				return err
			}
		}
	}
	return nil
}

// H2 error codes (RFC 9113 §7) by value, as Go's http2 package names them.
var h2ErrorNames = []string{"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
	"STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR",
	"ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"}

// H2InadequateSecurity is the GOAWAY error code of a peer that finds the
// TLS parameters below RFC 9113 §9.2's requirements.
const H2InadequateSecurity = 0xc

func h2ErrorName(code uint32) string {
	if int(code) < len(h2ErrorNames) {
		return h2ErrorNames[code]
	}
	return fmt.Sprintf("unknown error code 0x%x", code)
}

// goAwayError ends the client's side of a connection on which the server
// sent GOAWAY while stream waited for its response, as Go's HTTP/2
// transport does: the TLS connection is closed (close_notify), and the
// request fails with the transport's error. A GOAWAY with an error code
// that leaves the connection's first stream unprocessed fails it at once
// (the transport does not retry it); otherwise the request sees the error
// the read loop reports when the connection then ends.
func goAwayError(c net.Conn, stream uint32, payload []byte) error {
	c.Close()
	if len(payload) < 8 {
		return errors.New("http2: GOAWAY frame too short")
	}
	last := binary.BigEndian.Uint32(payload) & 0x7fffffff
	code := binary.BigEndian.Uint32(payload[4:])
	if stream > last && stream == 1 && code != 0 {
		return fmt.Errorf("http2: Transport received GOAWAY from server ErrCode:%s", h2ErrorName(code))
	}
	return fmt.Errorf("http2: server sent GOAWAY and closed the connection; LastStreamID=%d, ErrCode=%s, debug=%q",
		last, h2ErrorName(code), payload[8:])
}

// h2Reject speaks as an HTTP/2 server that checks the negotiated TLS
// parameters (RFC 9113 §9.2) once the handshake is done and refuses the
// connection (§9.2.1): its SETTINGS, then GOAWAY with last stream 0, the
// error code and debug data, in one write, without reading the client's
// preface; the caller then closes the connection.
func h2Reject(c net.Conn, code uint32, debug string) error {
	out := h2Frame(h2SettingsType, 0, 0, h2Settings(0x3, 100, 0x4, 65535))
	payload := binary.BigEndian.AppendUint32(nil, 0)
	payload = binary.BigEndian.AppendUint32(payload, code)
	out = append(out, h2Frame(h2GoAway, 0, 0, append(payload, debug...))...)
	_, err := c.Write(out)
	return err
}
