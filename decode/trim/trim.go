// Package trim decides what a live capture keeps of each packet unless
// --full (DESIGN §6, "Privacy"), on the decoder's own layers: frames are
// decoded by decode/link, fragments keyed as decode/ipfrag keys them, TLS
// records recognised and ServerHellos parsed by decode/tlswire, DNS names
// read by the DNS library the decoder uses. capture cannot import decode
// (decode reads capture's packets), so the command line hands a Trimmer to
// the live capture (capture.LiveConfig.Trimmer).
//
// Every packet keeps its link, IP and transport headers, and its original
// length, so Wireshark marks a cut packet "[Packet size limited during
// capture]". Payload is kept whole for:
//
//   - ICMP and ICMPv6 (errors quote only the offending packet's headers);
//   - DNS, mDNS, LLMNR, NetBIOS name service and DHCP: UDP and TCP ports 53,
//     5353, 5355, 137, 67, 68, 546 and 547;
//   - QUIC Initial, Handshake and Retry packets (UDP port 443, long header);
//   - TLS, on a TCP connection whose SYN was captured: every record that is
//     not application_data (handshake, alert, change_cipher_spec), and of the
//     application_data records (RFC 8446 §5: TLS 1.3 encrypts part of the
//     handshake in them) the server's up to the point the client's Finished
//     acknowledges — its encrypted flight, certificate included — the
//     client's first one (its Finished, or the alert that rejects the
//     server), and any record of at most 24 bytes (an encrypted alert). In
//     TLS 1.2 and earlier every application_data record is application data;
//   - HTTP/1: request and response heads (start line and header fields) with
//     the values of Authorization, Proxy-Authorization, Cookie and
//     Set-Cookie overwritten by '*', and the first 4 KiB of the body of an
//     error response (status 400 and above: the proxy's explanation); after
//     a CONNECT request and its 2xx answer the tunnel is treated as a new
//     stream (TLS inside);
//   - SOCKS4/5: the first 512 bytes of each direction (the negotiation; the
//     RFC 1929 password overwritten by '*'), then as a new stream;
//   - another protocol: the first 256 bytes of each direction (enough to
//     show that port 443 does not speak TLS).
//
// Everything else is cut. Every TLS record header is kept in its place: a
// packet keeps its bytes up to the end of the last kept piece (a record
// header, an alert, a handshake record); the cut bytes before that point
// are overwritten with zeros, those after it are not written. So the
// decoder (and Wireshark) still see every record's type and length — how
// much application data went each way, and the alerts at the end — but
// none of its content. A TLS 1.3 bulk download keeps about one zeroed
// record body fragment per 16 KiB record.
//
// Decisions are made per byte of the TCP stream, by sequence number, so that
// reordering cannot smuggle application data into the kept part: bytes are
// kept whole only when they are proven to be handshake, either by walking
// the records in order (a hole inside a record body is stepped over) or by
// causality — the server's application data is sent only after the
// client's Finished, so every server byte sent before that segment was
// seen, and every byte below its acknowledgement number, is handshake (up
// to 64 KiB). A segment beyond a hole that the record walk cannot bridge is
// cut unless it lies below such a bound, until a segment starting with a
// record header resynchronises the walk; a retransmission is kept only up
// to the first byte ever cut in its direction. A connection whose SYN was
// not captured (it began before the capture) is followed from a segment
// starting with a ClientHello, a ServerHello or an HTTP/1 message; before
// that only segments made of TLS alerts are kept.
//
// Credentials in HTTP heads and SOCKS authentication are overwritten only
// when the field lies within one packet; the capture's metadata is redacted
// separately (see capture.RedactURL and capture.RedactText).
//
// # Bounds
//
// A Trimmer allocates nothing per packet once a connection is tracked
// (Append writes into the caller's buffer); it allocates when a connection
// starts, while a ServerHello is read, and for a DNS query's name. Its
// state is bounded: at most MaxFlows TCP connections (idle ones forgotten
// after 2 minutes, closed ones after 10 seconds, the longest-idle half
// evicted when the table is full), each about half a KiB plus at most
// 4 KiB while its ServerHello is read; MaxFragments IP datagrams and
// resolver addresses; MaxQueryNames DNS names. A full table takes about
// 8 MiB, 75 MiB if every connection in it stalls in its ServerHello.
package trim

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"github.com/modsniff/modsniff/decode/ipfrag"
	"github.com/modsniff/modsniff/decode/link"
)

// Bounds of a Trimmer's state and of what it keeps.
const (
	// MaxFlows is the number of TCP connections tracked per Trimmer.
	MaxFlows = 1 << 14
	// MaxFragments is the number of IP datagrams whose first fragment's
	// decision is remembered, and of resolver addresses remembered.
	MaxFragments = 1024
	// MaxQueryNames is the number of DNS query names remembered.
	MaxQueryNames = 256

	cutRecordMax      = 24       // application_data records this short are kept (encrypted alerts)
	provisionalCap    = 64 << 10 // server bytes kept before the client's Finished is seen
	socksKeep         = 512      // bytes of a SOCKS negotiation kept per direction
	unknownKeep       = 256      // bytes of an unknown protocol kept per direction
	httpHeadMax       = 16 << 10 // an HTTP head longer than this is cut
	httpErrorBody     = 4 << 10  // bytes of the body of an HTTP error response kept
	serverHelloBuf    = 4 << 10  // bytes of the server's first handshake record kept to read its version
	flowIdleTimeout   = 2 * time.Minute
	flowClosedTimeout = 10 * time.Second
	unknownLinkKeep   = 128 // bytes kept of a frame whose link type is not decoded
	malformedKeep     = 64  // bytes kept past the last header decoded of a malformed packet
)

// span is a byte range [off, off+n) of a packet to overwrite with fill:
// '*' for a credential, 0 for cut bytes that lie before kept ones.
type span struct {
	off, n int
	fill   byte
}

// Trimmer decides, packet by packet, how much of each packet of one
// interface a capture keeps. It is not safe for concurrent use.
type Trimmer struct {
	ll     *link.Layers
	order  binary.ByteOrder // of the capturing host (NFLOG's TLVs)
	flows  map[flowKey]*tflow
	frags  map[ipfrag.Key]bool // IP datagram → its fragments are kept whole
	names  map[string]struct{}
	dnsIPs map[netip.Addr]struct{} // resolvers seen: their fragments are DNS
	masks  []span
	zero   []span // cut bytes of the segment being walked
	swept  time.Time

	// Cut counts the packets cut; Masked the credential fields
	// overwritten.
	Cut, Masked int
}

// New returns a Trimmer for the packets of one interface of this host.
func New() *Trimmer {
	return &Trimmer{
		ll:     link.New(),
		order:  binary.NativeEndian,
		flows:  make(map[flowKey]*tflow),
		frags:  make(map[ipfrag.Key]bool),
		names:  make(map[string]struct{}),
		dnsIPs: make(map[netip.Addr]struct{}),
	}
}

// Append appends to dst what is kept of frame data, of link type lt,
// captured at now (credentials overwritten by '*', cut bytes before kept
// ones by zeros), and returns the extended slice. data is only read.
func (t *Trimmer) Append(dst []byte, lt layers.LinkType, data []byte, now time.Time) []byte {
	keep, masks := t.trim(lt, data, now)
	n := len(dst)
	dst = append(dst, data[:keep]...)
	for _, m := range masks {
		b := dst[n+m.off : n+m.off+m.n]
		for i := range b {
			b[i] = m.fill
		}
	}
	return dst
}

// QueryNames returns the names asked of DNS so far (at most
// MaxQueryNames), lower case, sorted.
func (t *Trimmer) QueryNames() []string {
	out := make([]string, 0, len(t.names))
	for n := range t.names {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// trim returns how many leading bytes of data to keep and the spans of
// them to overwrite (valid until the next call).
func (t *Trimmer) trim(lt layers.LinkType, data []byte, now time.Time) (int, []span) {
	t.masks = t.masks[:0]
	keep := max(0, min(t.decide(lt, data, now), len(data)))
	if keep < len(data) {
		t.Cut++
	}
	masks := t.masks[:0]
	for _, m := range t.masks {
		if m.off >= 0 && m.off+m.n <= keep {
			masks = append(masks, m)
		}
	}
	t.Masked += len(masks)
	return keep, masks
}

// decide decodes the frame down to the transport and applies the rules.
func (t *Trimmer) decide(lt layers.LinkType, data []byte, now time.Time) int {
	err := t.ll.Decode(lt, data, t.order)
	if err == link.ErrUnsupported || err == link.ErrNFLOG {
		return unknownLinkKeep
	}
	var (
		src, dst netip.Addr
		ipEnd    = len(data) // end of the IP datagram in the frame
		hdrEnd   = 0         // end of the last header decoded
		isIP     bool
	)
	at := func(p []byte) int {
		off, _ := link.Offset(data, p)
		return off
	}
	for _, l := range t.ll.Decoded {
		switch l {
		case layers.LayerTypeIPv4:
			ip := &t.ll.IPv4
			src, _ = netip.AddrFromSlice(ip.SrcIP)
			dst, _ = netip.AddrFromSlice(ip.DstIP)
			isIP, hdrEnd = true, at(ip.Payload)
			ipEnd = hdrEnd + len(ip.Payload)
			more := ip.Flags&layers.IPv4MoreFragments != 0
			if more || ip.FragOffset != 0 {
				k := ipfrag.Key{Src: src, Dst: dst, ID: uint32(ip.Id), Proto: uint8(ip.Protocol)}
				return t.fragment(k, ip.FragOffset != 0, more, ip.Protocol, ip.Payload, src, dst, hdrEnd, ipEnd, data, now)
			}
		case layers.LayerTypeIPv6:
			ip := &t.ll.IPv6
			src, _ = netip.AddrFromSlice(ip.SrcIP)
			dst, _ = netip.AddrFromSlice(ip.DstIP)
			isIP, hdrEnd = true, at(ip.Payload)
			ipEnd = hdrEnd + len(ip.Payload)
		case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination:
			hdrEnd = at(t.ll.IPv6Ext.Payload)
		case layers.LayerTypeIPv6Fragment:
			f := &t.ll.IPv6Frag
			k := ipfrag.Key{Src: src, Dst: dst, ID: f.Identification, Proto: uint8(f.NextHeader)}
			hdrEnd = at(f.Payload)
			return t.fragment(k, f.FragmentOffset != 0, f.MoreFragments, f.NextHeader, f.Payload, src, dst, hdrEnd, ipEnd, data, now)
		case layers.LayerTypeUDP:
			return wholeFrame(t.udp(&t.ll.UDP, src, dst, at(t.ll.UDP.Payload), len(data)), ipEnd, len(data))
		case layers.LayerTypeTCP:
			p := at(t.ll.TCP.Payload)
			return wholeFrame(p+t.tcp(&t.ll.TCP, src, dst, p, now), ipEnd, len(data))
		case layers.LayerTypeICMPv4, layers.LayerTypeICMPv6:
			return len(data)
		}
	}
	switch {
	case err != nil: // a truncated or malformed header
		return hdrEnd + malformedKeep
	case isIP: // another transport: its first bytes
		return hdrEnd + 8
	}
	return len(data) // ARP and other link-layer traffic
}

// fragment decides for an IP fragment (RFC 791, RFC 8200 §4.5) whose
// payload starts at off and whose datagram ends at end: the first one by
// its transport header, the later ones as their datagram's first one was
// decided, or — when that one has not been seen yet — whole for ICMP and
// for UDP from a resolver seen answering, and cut after the IP header
// otherwise.
func (t *Trimmer) fragment(k ipfrag.Key, later, more bool, proto layers.IPProtocol, payload []byte, src, dst netip.Addr, off, end int, data []byte, now time.Time) int {
	if later {
		whole, ok := t.frags[k]
		if !ok {
			_, resolver := t.dnsIPs[src]
			whole = k.Proto == 1 || k.Proto == 58 || (k.Proto == 17 && resolver)
		}
		if whole {
			return end
		}
		return off
	}
	keep := off + 8
	switch proto {
	case layers.IPProtocolICMPv4, layers.IPProtocolICMPv6:
		keep = len(data)
	case layers.IPProtocolUDP:
		if t.ll.UDP.DecodeFromBytes(payload, gopacket.NilDecodeFeedback) == nil {
			keep = t.udp(&t.ll.UDP, src, dst, off+8, len(data))
		}
	case layers.IPProtocolTCP:
		if t.ll.TCP.DecodeFromBytes(payload, gopacket.NilDecodeFeedback) == nil {
			p, _ := link.Offset(data, t.ll.TCP.Payload)
			keep = p + t.tcp(&t.ll.TCP, src, dst, p, now)
		} else {
			keep = off + malformedKeep
		}
	}
	if more {
		if len(t.frags) >= MaxFragments {
			clear(t.frags)
		}
		t.frags[k] = keep >= end
	}
	return wholeFrame(keep, end, len(data))
}

// wholeFrame keeps the link layer's trailer (Ethernet padding) of a frame
// whose datagram is kept whole.
func wholeFrame(keep, end, n int) int {
	if keep >= end {
		return n
	}
	return keep
}

// wholePort reports whether a port carries name resolution or address
// configuration, kept whole.
func wholePort(p uint16) bool {
	switch p {
	case 53, 5353, 5355, 137, 67, 68, 546, 547:
		return true
	}
	return false
}

// udp decides for a UDP datagram whose payload starts at off: it returns
// how many bytes of the frame to keep (all of them: n).
func (t *Trimmer) udp(u *layers.UDP, src, dst netip.Addr, off, n int) int {
	sp, dp := uint16(u.SrcPort), uint16(u.DstPort)
	payload := u.Payload
	if wholePort(sp) || wholePort(dp) {
		if dp == 53 || dp == 5353 || dp == 5355 {
			t.queryName(payload)
		}
		if len(t.dnsIPs) < MaxFragments {
			if sp == 53 {
				t.dnsIPs[src] = struct{}{}
			}
			if dp == 53 {
				t.dnsIPs[dst] = struct{}{}
			}
		}
		return n
	}
	if (sp == 443 || dp == 443) && len(payload) > 0 && payload[0]&0x80 != 0 && (payload[0]>>4)&3 != 1 {
		return n // QUIC long header other than 0-RTT (RFC 9000 §17.2)
	}
	return off
}

// queryName remembers the first question name of a DNS query (RFC 1035
// §4.1.2), read by miekg/dns as the decoder reads it. Names that are not
// plain host names (escapes, the root) are not remembered.
func (t *Trimmer) queryName(m []byte) {
	if len(t.names) >= MaxQueryNames || len(m) < 12 || m[2]&0x80 != 0 || binary.BigEndian.Uint16(m[4:]) == 0 {
		return
	}
	name, _, err := dns.UnpackDomainName(m, 12)
	if err != nil || name == "." || strings.ContainsAny(name, "\\ ") {
		return
	}
	t.names[strings.ToLower(strings.TrimSuffix(name, "."))] = struct{}{}
}
