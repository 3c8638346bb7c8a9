package decode

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
)

// icmpKind names an ICMP (RFC 792, RFC 1812 §5.2.7.1) or ICMPv6 (RFC 4443)
// error; it returns "" for messages that are not errors (echo, neighbour
// discovery …).
func icmpKind(v6 bool, typ, code uint8) string {
	if v6 {
		switch typ {
		case 1:
			switch code {
			case 0:
				return "no-route"
			case 1:
				return "admin-prohibited"
			case 3:
				return "host-unreachable"
			case 4:
				return "port-unreachable"
			case 5, 6:
				return "policy-rejected"
			}
			return "unreachable"
		case 2:
			return "packet-too-big"
		case 3:
			return "time-exceeded"
		case 4:
			return "parameter-problem"
		}
		return ""
	}
	switch typ {
	case 3:
		switch code {
		case 0, 6, 11:
			return "net-unreachable"
		case 1, 7, 12:
			return "host-unreachable"
		case 2:
			return "protocol-unreachable"
		case 3:
			return "port-unreachable"
		case 4:
			return "frag-needed"
		case 9, 10, 13:
			return "admin-prohibited"
		}
		return "unreachable"
	case 11:
		return "time-exceeded"
	case 12:
		return "parameter-problem"
	case 4:
		return "source-quench"
	}
	return ""
}

// quoted is the header of the datagram an ICMP error quotes.
type quoted struct {
	proto    string
	src, dst netip.AddrPort
	payload  []byte // what follows the transport header, as far as quoted
}

// parseQuoted reads the IP and transport header an ICMP error quotes. At
// least 8 bytes of transport header are quoted (RFC 792); Linux quotes as
// much as fits in 576 bytes (RFC 1812), usually the whole DNS query.
func parseQuoted(b []byte, v6 bool) (quoted, bool) {
	var q quoted
	var src, dst netip.Addr
	var proto uint8
	if !v6 {
		if len(b) < 20 || b[0]>>4 != 4 {
			return q, false
		}
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || len(b) < ihl {
			return q, false
		}
		proto = b[9]
		src = netip.AddrFrom4([4]byte(b[12:16]))
		dst = netip.AddrFrom4([4]byte(b[16:20]))
		b = b[ihl:]
	} else {
		if len(b) < 40 || b[0]>>4 != 6 {
			return q, false
		}
		proto = b[6]
		src = netip.AddrFrom16([16]byte(b[8:24]))
		dst = netip.AddrFrom16([16]byte(b[24:40]))
		b = b[40:]
		// Skip extension headers (RFC 8200 §4): hop-by-hop, routing,
		// destination options; a fragment header ends the search.
		for range 8 {
			if proto != 0 && proto != 43 && proto != 60 {
				break
			}
			if len(b) < 8 {
				return q, false
			}
			n := (int(b[1]) + 1) * 8
			if len(b) < n {
				return q, false
			}
			proto = b[0]
			b = b[n:]
		}
	}
	switch proto {
	case 17:
		q.proto = "udp"
	case 6:
		q.proto = "tcp"
	default:
		return q, false
	}
	if len(b) < 4 {
		return q, false
	}
	q.src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[0:2]))
	q.dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:4]))
	if q.proto == "udp" && len(b) >= 8 {
		q.payload = b[8:]
	}
	return q, true
}

// icmpPacket records an ICMP error and attaches it to the DNS transaction
// or TCP connection whose packet it quotes.
// rest is the header's second word (RFC 792, RFC 4443 §2.1), which holds
// the next-hop MTU of "fragmentation needed" and "packet too big".
func (d *Decoder) icmpPacket(from netip.Addr, ip IPInfo, typ, code uint8, rest uint32, body []byte, v6 bool, at capture.Ref) {
	kind := icmpKind(v6, typ, code)
	if kind == "" {
		return
	}
	q, ok := parseQuoted(body, v6)
	if !ok {
		return
	}
	e := &ICMPError{At: at, IP: ip, From: from, Kind: kind, Type: typ, Code: code, Proto: q.proto, Src: q.src, Dst: q.dst}
	switch kind {
	case "frag-needed":
		e.MTU = int(rest & 0xffff) // RFC 1191 §4: the low 16 bits
	case "packet-too-big":
		e.MTU = int(min(rest, 1<<20))
	}
	if q.proto == "udp" && len(q.payload) >= 2 {
		e.HasDNS = true
		e.DNSID = binary.BigEndian.Uint16(q.payload)
	}
	if len(d.ev.ICMP) < d.lim.MaxEvents {
		d.ev.ICMP = append(d.ev.ICMP, e)
	}
	switch q.proto {
	case "udp":
		if !e.HasDNS || (!dnsPortNum(q.src.Port()) && !dnsPortNum(q.dst.Port())) {
			return
		}
		// The quoted datagram is either a query (client → server: the
		// resolver is not there) or a response (server → client: the client
		// had already closed its socket, typically after an earlier,
		// forged answer).
		ex := d.dnsByID(q.src, q.dst, false, e.DNSID)
		if ex == nil {
			ex = d.dnsByID(q.dst, q.src, false, e.DNSID)
		}
		if ex != nil && len(ex.ICMP()) < 16 {
			ex.extra().ICMP = append(ex.ICMP(), e)
			e.Matched = true
		}
	case "tcp":
		if f := d.flows[keyOf(q.src, q.dst)]; f != nil && len(f.conn.ICMP()) < 16 {
			f.conn.AddICMP(e)
			e.Matched = true
		}
	}
}

func dnsPortNum(p uint16) bool { return p == 53 || p == 5353 || p == 5355 }

// icmp4Rest returns the second word of an ICMP header: gopacket splits it
// into Id and Seq.
func icmp4Rest(m *layers.ICMPv4) uint32 { return uint32(m.Id)<<16 | uint32(m.Seq) }

// icmp6Rest returns the second word of an ICMPv6 header (RFC 4443 §2.1),
// the first four bytes of gopacket's Payload.
func icmp6Rest(m *layers.ICMPv6) uint32 {
	if len(m.Payload) < 4 {
		return 0
	}
	return binary.BigEndian.Uint32(m.Payload)
}
