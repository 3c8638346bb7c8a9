package decode

import (
	"testing"
	"unsafe"
)

// TestEventsStayCompact holds the events that are kept for every
// connection, transaction or exchange of a capture until the analysis
// ends to the sizes they were laid out for: most are carved from slabs,
// where every byte counts (see slab).
func TestEventsStayCompact(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"TCPConn", unsafe.Sizeof(TCPConn{}), 320},
		{"DNSExchange", unsafe.Sizeof(DNSExchange{}), 136},
		{"DNSResponse", unsafe.Sizeof(DNSResponse{}), 64},
		{"NTPExchange", unsafe.Sizeof(NTPExchange{}), 128},
		{"tlsEvent", unsafe.Sizeof(tlsEvent{}), 352},
		// Not kept, but one per moment that creates events, all alive
		// when the shards' events are merged.
		{"segment", unsafe.Sizeof(segment{}), 24},
	} {
		if tc.got > tc.want {
			t.Errorf("%s is %d bytes, more than %d", tc.name, tc.got, tc.want)
		}
	}
}
