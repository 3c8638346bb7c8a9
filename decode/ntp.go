package decode

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
)

// ntpPort is NTP's UDP port (RFC 5905 §7.2).
const ntpPort = 123

// NTPExchange is one NTP client request (mode 3) and the server's reply
// (mode 4), RFC 5905 §7.3: the capturing machine asking for the time. The
// reply's transmit timestamp against the packet's capture time measures
// the capturing machine's clock. Every exchange is kept until the analysis
// ends: the kiss code is kept in its four bytes, which makes an exchange
// 128 bytes instead of 144.
type NTPExchange struct {
	Client, Server netip.AddrPort
	// Query is the client's request; Response the reply, zero when none
	// came.
	Query, Response capture.Ref
	// Transmit is the server's clock when it sent the reply (the transmit
	// timestamp), zero when unset.
	Transmit time.Time
	// Stratum is the reply's stratum (1 primary … 15; 0 a kiss-o'-death).
	Stratum uint8
	// kiss is the kiss code of a stratum-0 reply: four ASCII capitals, or
	// zero (see Kiss).
	kiss [4]byte
}

// Kiss returns the kiss code of a stratum-0 reply ("RATE", "DENY" …, RFC
// 5905 §7.4), "" when there is none.
func (x *NTPExchange) Kiss() string {
	if x.kiss == ([4]byte{}) {
		return ""
	}
	return string(x.kiss[:])
}

// maxNTPPending bounds the requests waiting for a reply; the oldest are
// given up (they stay in the events, unanswered).
const maxNTPPending = 256

// ntpKey matches a reply to its request: the client's and the server's
// endpoints.
type ntpKey struct{ client, server netip.AddrPort }

// ntpPacket decodes an NTP packet (RFC 5905 §7.3): requests open an
// exchange, replies complete the latest open one of the same endpoints.
// Other modes (symmetric, broadcast, control) are ignored.
func (d *Decoder) ntpPacket(src, dst netip.AddrPort, payload []byte, at capture.Ref) {
	h, ok := parseNTP(payload)
	if !ok {
		return
	}
	switch h.mode {
	case 3:
		if len(d.ev.NTP) >= d.lim.MaxEvents {
			d.noteLimit(at, "ntp", fmt.Sprintf("more than %d NTP requests: later ones are not analysed", d.lim.MaxEvents))
			return
		}
		x := &NTPExchange{Client: src, Server: dst, Query: at}
		d.ev.NTP = append(d.ev.NTP, x)
		if d.ntp == nil {
			d.ntp = make(map[ntpKey]*NTPExchange)
		}
		if len(d.ntp) >= maxNTPPending {
			clear(d.ntp) // a flood of requests: earlier ones stay unanswered
		}
		d.ntp[ntpKey{src, dst}] = x
	case 4:
		k := ntpKey{dst, src}
		x := d.ntp[k]
		if x == nil {
			return
		}
		delete(d.ntp, k)
		x.Response, x.Stratum, x.Transmit = at, h.stratum, h.transmit
		if h.stratum == 0 {
			copy(x.kiss[:], h.kiss) // four capitals or none (parseNTP)
		}
	}
}

// ntpHeader is what modsniff reads of an NTP packet.
type ntpHeader struct {
	mode, stratum uint8
	kiss          string
	transmit      time.Time
}

// parseNTP reads the 48-byte NTP header (RFC 5905 §7.3): mode, stratum,
// reference ID (a kiss code when stratum is 0) and transmit timestamp.
// Versions 1 to 4 are accepted.
func parseNTP(b []byte) (ntpHeader, bool) {
	if len(b) < 48 {
		return ntpHeader{}, false
	}
	vn := b[0] >> 3 & 7
	if vn < 1 || vn > 4 {
		return ntpHeader{}, false
	}
	h := ntpHeader{mode: b[0] & 7, stratum: b[1]}
	if h.stratum == 0 {
		kiss := b[12:16]
		for _, c := range kiss {
			if c < 'A' || c > 'Z' {
				kiss = nil
				break
			}
		}
		h.kiss = string(kiss)
	}
	h.transmit = ntpTime(binary.BigEndian.Uint32(b[40:]), binary.BigEndian.Uint32(b[44:]))
	return h, true
}

// ntpTime converts an NTP timestamp (seconds since 1900 and a binary
// fraction, RFC 5905 §6) to a time; zero stays zero. Seconds with the top
// bit clear are taken from era 1 (2036 on), as RFC 4330 §3 advises.
func ntpTime(sec, frac uint32) time.Time {
	if sec == 0 && frac == 0 {
		return time.Time{}
	}
	const unixOffset = 2208988800 // seconds from 1900 to 1970
	s := int64(sec) - unixOffset
	if sec&0x80000000 == 0 {
		s += 1 << 32
	}
	ns := int64(uint64(frac) * 1e9 >> 32)
	return time.Unix(s, ns).UTC()
}

// ntpPortOf reports whether a UDP datagram involves NTP's port.
func ntpPortOf(u *layers.UDP) bool { return u.SrcPort == ntpPort || u.DstPort == ntpPort }
