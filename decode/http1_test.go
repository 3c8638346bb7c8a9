package decode

import (
	"testing"

	"github.com/modsniff/modsniff/capture"
)

// TestHTTPReaderStepsOverGapsInBodies: a capture that cut a body (privacy
// trimming, a snap length) loses bytes inside it, not the framing: the next
// response is still read. A gap in a head loses the framing.
func TestHTTPReaderStepsOverGapsInBodies(t *testing.T) {
	tests := []struct {
		name  string
		play  func(r *httpReader)
		heads int
	}{
		{"gap inside a Content-Length body", func(r *httpReader) {
			r.feed([]byte("HTTP/1.1 404 Not Found\r\nContent-Length: 100\r\n\r\nabc"), capture.Ref{})
			r.gap(90)
			r.feed([]byte("xyzabcd"), capture.Ref{})
			r.feed([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), capture.Ref{})
		}, 2},
		{"gap inside a chunk", func(r *httpReader) {
			r.feed([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nab"), capture.Ref{})
			r.gap(14)
			r.feed([]byte("\r\n0\r\n\r\nHTTP/1.1 410 Gone\r\nContent-Length: 0\r\n\r\n"), capture.Ref{})
		}, 2},
		{"gap in a head breaks the framing", func(r *httpReader) {
			r.feed([]byte("HTTP/1.1 200"), capture.Ref{})
			r.gap(5)
			r.feed([]byte("OK\r\n\r\nHTTP/1.1 404 x\r\n\r\n"), capture.Ref{})
		}, 0},
		{"gap longer than the body breaks the framing", func(r *httpReader) {
			r.feed([]byte("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n"), capture.Ref{})
			r.gap(40)
			r.feed([]byte("HTTP/1.1 404 x\r\nContent-Length: 0\r\n\r\n"), capture.Ref{})
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			heads := 0
			r := &httpReader{onHead: func(h *httpHead, at capture.Ref) bodyMode { heads++; return bodyAuto }}
			tt.play(r)
			if heads != tt.heads {
				t.Errorf("read %d heads, want %d", heads, tt.heads)
			}
		})
	}
}
