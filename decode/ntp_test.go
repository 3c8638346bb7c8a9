package decode

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
	"unsafe"
)

// ntpMsg builds an NTP packet (RFC 5905 §7.3) of the given version and
// mode, stratum, reference ID and transmit time.
func ntpMsg(vn, mode, stratum uint8, refid string, tx time.Time) []byte {
	b := make([]byte, 48)
	b[0] = vn<<3 | mode
	b[1] = stratum
	copy(b[12:16], refid)
	if !tx.IsZero() {
		sec := uint64(tx.Unix() + 2208988800)
		binary.BigEndian.PutUint32(b[40:], uint32(sec))
		binary.BigEndian.PutUint32(b[44:], uint32(uint64(tx.Nanosecond())<<32/1e9))
	}
	return b
}

func TestNTPRequestsAndRepliesAreMatched(t *testing.T) {
	w := newWire(t)
	client := netip.MustParseAddrPort("10.0.0.2:123")
	server := netip.MustParseAddrPort("192.0.2.123:123")
	silent := netip.MustParseAddrPort("192.0.2.124:123")
	serverTime := time.Date(2026, 11, 27, 16, 0, 0, 500_000_000, time.UTC)
	w.udp(client, server, ntpMsg(4, 3, 0, "", time.Time{}))
	reply := w.udp(server, client, ntpMsg(4, 4, 2, "GPS\x00", serverTime))
	w.udp(client, silent, ntpMsg(3, 3, 0, "", time.Time{}))
	w.udp(server, client, ntpMsg(4, 4, 2, "", serverTime)) // a reply to nothing
	w.udp(client, server, []byte("not ntp"))
	ev := w.d.Finish()
	if len(ev.NTP) != 2 {
		t.Fatalf("%d NTP exchanges, want 2: %+v", len(ev.NTP), ev.NTP)
	}
	x := ev.NTP[0]
	if int(x.Response.Packet) != reply || x.Stratum != 2 || x.Transmit.Sub(serverTime).Abs() > time.Microsecond {
		t.Errorf("answered exchange %+v, want reply at packet %d, stratum 2, transmit %v", x, reply, serverTime)
	}
	if y := ev.NTP[1]; y.Server != silent || !y.Response.IsZero() {
		t.Errorf("unanswered exchange %+v", y)
	}
}

// TestNTPExchangeKeepsTheKissCode checks that the kiss code of a
// stratum-0 reply, kept in four bytes, reads back as the code, and that
// a reply of another stratum, or one whose code is not letters, has none.
func TestNTPExchangeKeepsTheKissCode(t *testing.T) {
	if s := unsafe.Sizeof(NTPExchange{}); s > 128 {
		t.Errorf("NTPExchange is %d bytes, more than 128", s)
	}
	w := newWire(t)
	client := netip.MustParseAddrPort("10.0.0.2:123")
	servers := []netip.AddrPort{netip.MustParseAddrPort("192.0.2.1:123"), netip.MustParseAddrPort("192.0.2.2:123"), netip.MustParseAddrPort("192.0.2.3:123")}
	for i, reply := range [][]byte{ntpMsg(4, 4, 0, "RATE", time.Time{}), ntpMsg(4, 4, 3, "GPS\x00", time.Time{}), ntpMsg(4, 4, 0, "\x01\x02ab", time.Time{})} {
		w.udp(client, servers[i], ntpMsg(4, 3, 0, "", time.Time{}))
		w.udp(servers[i], client, reply)
	}
	ev := w.d.Finish()
	if len(ev.NTP) != 3 {
		t.Fatalf("%d NTP exchanges, want 3", len(ev.NTP))
	}
	for i, want := range []string{"RATE", "", ""} {
		if x := ev.NTP[i]; x.Kiss() != want || x.Response.IsZero() {
			t.Errorf("exchange with %v: kiss %q, want %q (answered %v)", x.Server, x.Kiss(), want, !x.Response.IsZero())
		}
	}
}

func TestNTPHeaderFields(t *testing.T) {
	tx := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC) // era 1: the seconds' top bit is clear
	for _, tc := range []struct {
		name string
		b    []byte
		ok   bool
		mode uint8
		kiss string
		tx   time.Time
	}{
		{"a v4 client request", ntpMsg(4, 3, 0, "", time.Time{}), true, 3, "", time.Time{}},
		{"a v3 server reply after 2036", ntpMsg(3, 4, 1, "PPS\x00", tx), true, 4, "", tx},
		{"a kiss-o'-death names its code", ntpMsg(4, 4, 0, "RATE", time.Time{}), true, 4, "RATE", time.Time{}},
		{"a kiss code that is not letters is dropped", ntpMsg(4, 4, 0, "\x01\x02ab", time.Time{}), true, 4, "", time.Time{}},
		{"version 0 is not NTP", ntpMsg(0, 3, 0, "", time.Time{}), false, 0, "", time.Time{}},
		{"version 7 is not NTP", ntpMsg(7, 3, 0, "", time.Time{}), false, 0, "", time.Time{}},
		{"shorter than the header", make([]byte, 47), false, 0, "", time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, ok := parseNTP(tc.b)
			if ok != tc.ok || ok && (h.mode != tc.mode || h.kiss != tc.kiss || !h.transmit.Equal(tc.tx)) {
				t.Errorf("parseNTP = %+v, %v; want mode %d kiss %q transmit %v, %v", h, ok, tc.mode, tc.kiss, tc.tx, tc.ok)
			}
		})
	}
}

// FuzzParseNTP: any bytes give a header or a refusal, never a panic, and
// a kiss code is only ever four capital letters.
func FuzzParseNTP(f *testing.F) {
	f.Add(ntpMsg(4, 4, 0, "RATE", time.Time{}))
	f.Add(ntpMsg(4, 4, 2, "GPS\x00", time.Unix(1_800_000_000, 1)))
	f.Add(make([]byte, 48))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok := parseNTP(b)
		if !ok {
			return
		}
		if h.kiss != "" && len(h.kiss) != 4 {
			t.Fatalf("kiss %q", h.kiss)
		}
	})
}
