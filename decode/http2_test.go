package decode

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/net/http2/hpack"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// h2Frame builds one frame: 24-bit length, type, flags, stream (RFC 9113 §4.1).
func h2Frame(typ, flags uint8, stream uint32, payload []byte) []byte {
	b := []byte{byte(len(payload) >> 16), byte(len(payload) >> 8), byte(len(payload)), typ, flags}
	b = binary.BigEndian.AppendUint32(b, stream)
	return append(b, payload...)
}

// h2Block HPACK-encodes header fields with enc.
func h2Block(enc *hpack.Encoder, buf *bytes.Buffer, fields ...string) []byte {
	buf.Reset()
	for i := 0; i < len(fields); i += 2 {
		enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return bytes.Clone(buf.Bytes())
}

// h2Conversation is a client and a server stream: two requests (the first
// in a padded, prioritized HEADERS and a CONTINUATION, the second using the
// dynamic table), a 404, an RST_STREAM, and a GOAWAY PROTOCOL_ERROR that
// leaves the second request unanswered.
func h2Conversation() (client, server []byte) {
	var cb, sb bytes.Buffer
	cenc, senc := hpack.NewEncoder(&cb), hpack.NewEncoder(&sb)
	req := []string{":method", "GET", ":scheme", "https", ":authority", "proxy.golang.org", ":path", "/example.com/m/@v/list?token=s3cret",
		"authorization", "Bearer TOPSECRET", "user-agent", "Go-http-client/2.0"}
	first := h2Block(cenc, &cb, req...)
	// Padded (3 bytes), with priority (5 bytes), split over a CONTINUATION.
	headers := append([]byte{3}, []byte{0, 0, 0, 0, 16}...)
	headers = append(append(headers, first[:10]...), 0, 0, 0)
	req[7] = "/example.com/m/@v/v1.0.0.info"
	second := h2Block(cenc, &cb, req...)
	client = []byte(h2Preface)
	client = append(client, h2Frame(h2Settings, 0, 0, []byte{0, 1, 0, 1, 0, 0})...) // HEADER_TABLE_SIZE 65536
	client = append(client, h2Frame(h2Headers, h2FlagPadded|h2FlagPriority|0x1, 1, headers)...)
	client = append(client, h2Frame(h2Continuation, h2FlagEndHeaders, 1, first[10:])...)
	client = append(client, h2Frame(h2Headers, h2FlagEndHeaders|0x1, 3, second)...)
	client = append(client, h2Frame(h2RSTStream, 0, 3, []byte{0, 0, 0, 8})...) // the client's CANCEL: not noted

	server = h2Frame(h2Settings, 0, 0, nil)
	server = append(server, h2Frame(h2Settings, h2FlagAck, 0, nil)...)
	server = append(server, h2Frame(h2Headers, h2FlagEndHeaders, 1, h2Block(senc, &sb, ":status", "404", "set-cookie", "SECRETCOOKIE"))...)
	server = append(server, h2Frame(h2Data, 0x1, 1, []byte("not found"))...)
	server = append(server, h2Frame(h2RSTStream, 0, 5, []byte{0, 0, 0, 7})...) // REFUSED_STREAM
	server = append(server, h2Frame(h2GoAway, 0, 0, []byte{0, 0, 0, 1, 0, 0, 0, 1, 'b', 'y', 'e'})...)
	return client, server
}

// h2Run feeds two streams to an h2App in chunks of step bytes, the
// client's whole stream first, and returns the decoder's events and the session.
func h2Run(client, server []byte, step int) (*Events, *TLSSession) {
	d := New(0, Options{})
	c := &TCPConn{Client: netip.MustParseAddrPort("10.0.0.2:41000"), Server: netip.MustParseAddrPort("142.250.74.113:443")}
	s := &TLSSession{Session: &tlswire.Session{}}
	a := newH2App(d, c, s, "sni.example")
	n := 1
	for dir, p := range [][]byte{client, server} {
		for len(p) > 0 {
			k := min(step, len(p))
			a.data(dir, p[:k], capture.Ref{Packet: int32(n)})
			p = p[k:]
			n++
		}
	}
	a.finish()
	return d.ev, s
}

func TestHTTP2Frames(t *testing.T) {
	client, server := h2Conversation()
	var want string
	for _, step := range []int{1 << 20, 1, 7, 9, 100} {
		ev, s := h2Run(bytes.Clone(client), bytes.Clone(server), step)
		var got []string
		for _, h := range ev.HTTP {
			got = append(got, fmt.Sprintf("%s %s %s %s %d goaway=%s", h.Proto, h.Host, h.Method, h.Path, h.Status, h.GoAway))
		}
		notes := strings.Join(s.Notes(), "; ")
		for _, n := range s.Notes() {
			notes = strings.Replace(notes, strings.Fields(n)[0]+" ", "", 1) // packet numbers depend on the chunking
		}
		summary := strings.Join(got, "\n") + "\nnotes: " + notes
		if step == 1<<20 {
			w := "h2 proxy.golang.org GET /example.com/m/@v/list?… 404 goaway=\n" +
				"h2 proxy.golang.org GET /example.com/m/@v/v1.0.0.info 0 goaway=PROTOCOL_ERROR"
			if strings.Join(got, "\n") != w {
				t.Errorf("exchanges:\n%s\nwant\n%s", strings.Join(got, "\n"), w)
			}
			for _, n := range []string{"the server reset stream 5: REFUSED_STREAM", "the server sent GOAWAY PROTOCOL_ERROR (last stream 1)"} {
				if !strings.Contains(summary, n) {
					t.Errorf("notes %q lack %q", s.Notes(), n)
				}
			}
			if strings.Contains(summary, "client reset") {
				t.Errorf("the client's CANCEL was noted: %q", s.Notes())
			}
			if x := ev.HTTP[1]; x.Response.IsZero() || x.Response.Packet <= x.Request.Packet {
				t.Errorf("GOAWAY not recorded as the unanswered request's response: %+v", x)
			}
			want = summary
		} else if summary != want {
			t.Errorf("in %d-byte chunks:\n%s\nwant\n%s", step, summary, want)
		}
		// Header values are never kept.
		if all := fmt.Sprintf("%+v %+v", ev.HTTP, s.Notes()); strings.Contains(all, "TOPSECRET") || strings.Contains(all, "SECRETCOOKIE") || strings.Contains(all, "s3cret") {
			t.Errorf("a header value or query was kept: %s", all)
		}
	}
}

// A GOAWAY with an error and no request waiting gets an exchange of its
// own; a graceful one (NO_ERROR) none.
func TestHTTP2GoAwayWithoutRequest(t *testing.T) {
	for _, tc := range []struct {
		code uint32
		want string
	}{{12, "h2 sni.example  0 INADEQUATE_SECURITY"}, {0, ""}} {
		server := h2Frame(h2GoAway, 0, 0, binary.BigEndian.AppendUint32([]byte{0, 0, 0, 0}, tc.code))
		ev, _ := h2Run([]byte(h2Preface), server, 1<<20)
		var got string
		for _, h := range ev.HTTP {
			got = fmt.Sprintf("%s %s %s %d %s", h.Proto, h.Host, h.Method, h.Status, h.GoAway)
			if h.Request.IsZero() || h.Response != h.Request {
				t.Errorf("GOAWAY exchange refs %v %v", h.Request, h.Response)
			}
		}
		if got != tc.want || len(ev.HTTP) > 1 {
			t.Errorf("code %d: %q, want %q", tc.code, got, tc.want)
		}
	}
	if H2ErrorCodeName(12) != "INADEQUATE_SECURITY" || H2ErrorCodeName(0x1234) != "0x1234" {
		t.Error("error code names")
	}
}

func TestHTTP2Broken(t *testing.T) {
	for name, tc := range map[string][2][]byte{
		"no preface":          {[]byte("GET / HTTP/1.1\r\n\r\n"), nil},
		"bad padding":         {append([]byte(h2Preface), h2Frame(h2Headers, h2FlagPadded|h2FlagEndHeaders, 1, []byte{200, 1, 2})...), nil},
		"stray continuation":  {append([]byte(h2Preface), h2Frame(h2Continuation, h2FlagEndHeaders, 1, []byte{0x82})...), nil},
		"bad hpack":           {append([]byte(h2Preface), h2Frame(h2Headers, h2FlagEndHeaders, 1, []byte{0xff, 0xff, 0xff, 0xff, 0xff})...), nil},
		"frame inside header": {append(append([]byte(h2Preface), h2Frame(h2Headers, 0, 1, []byte{0x82})...), h2Frame(h2Data, 0, 1, nil)...), nil},
	} {
		t.Run(name, func(t *testing.T) {
			_, s := h2Run(tc[0], tc[1], 3)
			if len(s.Notes()) != 1 || !strings.Contains(s.Notes()[0], "not read further") {
				t.Errorf("notes %q", s.Notes())
			}
		})
	}
}

// FuzzHTTP2 feeds two streams to the HTTP/2 reader in chunks: nothing may
// panic, exchanges and notes stay bounded, no header value is kept.
func FuzzHTTP2(f *testing.F) {
	client, server := h2Conversation()
	f.Add(client, server, uint8(0))
	f.Add(client, server, uint8(6))
	f.Add([]byte(h2Preface), h2Frame(h2GoAway, 0, 0, []byte{0, 0, 0, 0, 0, 0, 0, 12}), uint8(1))
	f.Fuzz(func(t *testing.T, client, server []byte, step uint8) {
		ev, s := h2Run(client, server, int(step)+1)
		if len(s.Notes()) > maxH2Notes || len(ev.HTTP) > len(client)/9+2 {
			t.Fatalf("%d notes, %d exchanges from %d bytes", len(s.Notes()), len(ev.HTTP), len(client))
		}
		for _, h := range ev.HTTP {
			if h.Proto != "h2" || h.Request.IsZero() {
				t.Fatalf("exchange %+v", h)
			}
		}
	})
}
