package decode

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"github.com/modsniff/modsniff/capture"
)

// FuzzDNSFramer feeds a byte stream to the DNS-over-TCP framer (RFC 7766
// §8) in pieces cut where the input says, and checks it yields exactly the
// messages a one-shot split yields, never holding more than one message.
func FuzzDNSFramer(f *testing.F) {
	frame := func(m []byte) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(m))), m...) }
	q, _ := (&dns.Msg{Question: []dns.Question{{Name: "proxy.golang.org.", Qtype: dns.TypeA, Qclass: 1}}}).Pack()
	f.Add(append(frame(q), frame(q)...), uint8(3))
	f.Add([]byte{0, 0, 0, 1, 'x'}, uint8(1))
	f.Add([]byte{0xff, 0xff, 1, 2, 3}, uint8(2))
	f.Fuzz(func(t *testing.T, stream []byte, step uint8) {
		var want [][]byte
		rest := stream
		for len(rest) >= 2 {
			n := int(binary.BigEndian.Uint16(rest))
			if len(rest) < 2+n {
				break
			}
			if n > 0 {
				want = append(want, rest[2:2+n])
			}
			rest = rest[2+n:]
		}
		var fr DNSFramer
		var got [][]byte
		n := int(step%16) + 1
		for p := stream; len(p) > 0; {
			k := min(n, len(p))
			fr.Feed(p[:k], func(m []byte) { got = append(got, bytes.Clone(m)) })
			p = p[k:]
			if fr.Pending() > 2+65535 {
				t.Fatalf("framer holds %d bytes", fr.Pending())
			}
		}
		if len(got) != len(want) {
			t.Fatalf("got %d messages, want %d", len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("message %d differs", i)
			}
		}
		if fr.Pending() != len(rest) {
			t.Fatalf("pending %d, want %d", fr.Pending(), len(rest))
		}
	})
}

// FuzzDecoder feeds arbitrary frames of every supported link type to one
// Decoder: it must never panic, and its state must stay within its limits.
func FuzzDecoder(f *testing.F) {
	w := newWire(&testing.T{})
	w.link = layers.LinkTypeRaw
	f.Add(w.ipPacket(ap("10.0.0.2:1").Addr(), ap("10.0.0.1:53").Addr(), layers.IPProtocolUDP), uint16(101), uint8(2))
	f.Add([]byte{0x45, 0, 0, 20, 0, 0, 0x20, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}, uint16(101), uint8(3))
	f.Add([]byte("\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x02\x81\x00\x00\x01\x08\x00"), uint16(1), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, link uint16, repeat uint8) {
		d := New(0, Options{Limits: Limits{MaxFlows: 16, MaxEvents: 64, StreamBuffer: 4096, TotalBuffer: 16384}})
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		// Feed the frame several times with small variations so that flows,
		// retransmissions and reassembly get exercised.
		for i := range int(repeat%8) + 1 {
			p := bytes.Clone(data)
			if len(p) > 0 && i > 0 {
				p[len(p)-1] ^= byte(i)
			}
			at = at.Add(time.Duration(i) * time.Second)
			d.Packet(&capture.Packet{Number: i + 1, Time: at, LinkType: layers.LinkType(link), Data: p, Length: len(p)})
		}
		ev := d.Finish()
		if len(ev.TCP) > 64 || len(ev.DNS) > 64 {
			t.Fatalf("events beyond the limit: %d TCP, %d DNS", len(ev.TCP), len(ev.DNS))
		}
	})
}

// FuzzStreamApps feeds arbitrary client and server bytes through one TCP
// connection, so that the protocol sniffer and every stream decoder behind
// it — HTTP CONNECT, SOCKS4/5, plain HTTP/1.1, DNS over TCP, TLS — meet
// hostile input. The input is split into alternating client and server
// chunks at the sizes its first bytes give; the port picks the decoder the
// sniffer prefers.
func FuzzStreamApps(f *testing.F) {
	f.Add(uint16(3128), []byte("CONNECT proxy.golang.org:443 HTTP/1.1\r\nHost: x\r\n\r\n"), []byte("HTTP/1.1 407 No\r\nProxy-Authenticate: Basic realm=\"r\"\r\nContent-Length: 3\r\n\r\nabc"), uint8(7))
	f.Add(uint16(1080), []byte{5, 1, 0, 5, 1, 0, 3, 4, 'h', 'o', 's', 't', 1, 187}, []byte{5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0}, uint8(3))
	f.Add(uint16(80), []byte("GET /x/@v/list HTTP/1.1\r\nHost: h\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), uint8(5))
	f.Add(uint16(53), []byte{0, 2, 1, 2}, []byte{0, 12, 0, 0, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0}, uint8(1))
	f.Add(uint16(443), []byte{22, 3, 1, 0, 4, 1, 0, 0, 0}, []byte("HTTP/1.1 400 Bad Request\r\nServer: squid\r\n\r\n<html>"), uint8(4))
	f.Add(uint16(443), []byte{22, 3, 1, 0, 4, 1, 0, 0, 0}, []byte{21, 3, 3, 0, 2, 2, 40}, uint8(2))
	f.Fuzz(func(t *testing.T, port uint16, cdata, sdata []byte, step uint8) {
		w := newWire(t)
		c := w.connect(ap("10.0.0.2:40000"), netipAddrPort("10.0.0.1", port))
		n := int(step%64) + 1
		for len(cdata) > 0 || len(sdata) > 0 {
			if k := min(n, len(cdata)); k > 0 {
				c.send(0, cdata[:k], 1460)
				cdata = cdata[k:]
			}
			if k := min(n, len(sdata)); k > 0 {
				c.send(1, sdata[:k], 1460)
				sdata = sdata[k:]
			}
		}
		ev := w.d.Finish()
		if len(ev.TCP) != 1 {
			t.Fatalf("%d connections", len(ev.TCP))
		}
	})
}

// FuzzQuotedHeader parses the datagram an ICMP error quotes.
func FuzzQuotedHeader(f *testing.F) {
	f.Add([]byte{0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1, 0x9c, 0x40, 0, 53, 0, 8, 0, 0}, false)
	f.Add(make([]byte, 48), true)
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		q, ok := parseQuoted(b, v6)
		if ok && q.proto != "udp" && q.proto != "tcp" {
			t.Fatalf("proto %q", q.proto)
		}
	})
}
