// Package torture generates hostile captures — floods, giant messages,
// absurd lengths, bombs — for the torture suite (`make torture`): each
// shape is deterministic, sized by a scale factor, and states the limit
// notes the analysis must report for it. The runner (samples/torture/run)
// analyzes each with modsniff and asserts exit code, valid JSON, peak RSS
// and time budgets.
package torture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/samples/frames"
)

// Shape is one kind of hostile capture.
type Shape struct {
	// Name names the shape and its file (Name + Ext).
	Name string
	// What says what the capture holds at scale 1.
	What string
	// Ext is the file name extension: ".pcapng" or ".pcapng.gz".
	Ext string
	// Notes are substrings the report's input notes or errors must hold
	// at scale 1 and above: the limits the shape reaches, said aloud.
	Notes []string
	// MaxRSSMiB, when set, replaces the runner's peak-RSS budget for this
	// shape, with the reason in Why.
	MaxRSSMiB int64
	Why       string
	gen       func(s *sink, scale int)
	gzip      bool
	raw       func(w io.Writer, scale int) error // writes the file itself
}

// Shapes lists every shape, in the order the runner reports them.
var Shapes = []Shape{
	{Name: "dns-unanswered", What: "20,000 DNS queries with distinct IDs and names, no responses", gen: dnsUnanswered},
	{Name: "tls-hellos-open", What: "5,000 TCP connections each completing a handshake and sending a ClientHello, never closed", gen: tlsHellosOpen},
	{Name: "syn-flood", What: "70,000 SYN-only connections, past the 65,536-flow table", gen: synFlood,
		Notes: []string{"TCP connections were live at once"}, MaxRSSMiB: 384,
		Why: "the flow table's bound is 65,536 live connections (about 2.5 KiB each while live, 1 KiB kept as an event) plus the collector's headroom"},
	{Name: "alpn-huge", What: "200 ClientHellos offering ~10,000 ALPN protocol names each", gen: alpnHuge},
	{Name: "dns-huge-responses", What: "500 DNS responses of ~60 KB (4,000 records) each", gen: dnsHugeResponses},
	{Name: "dns-runts", What: "200,000 DNS messages shorter than their header", gen: dnsRunts,
		Notes: []string{"more notes like the above (DNS messages shorter than their header)"}},
	{Name: "dns-hostile-encoding", What: "DNS responses with compression loops and record counts of 65,535", gen: dnsHostileEncoding},
	{Name: "frag-flood", What: "100,000 IPv4 fragments that never complete, overlapping ones among them", gen: fragFlood,
		Notes: []string{"IP fragments: ", "evicted incomplete"}},
	{Name: "tls-giant-messages", What: "500 connections whose handshake record announces a 16 MiB message, then 40 KB of it", gen: tlsGiantMessages},
	{Name: "connect-flood", What: "2,000 HTTP CONNECT requests with 64 KiB heads", gen: connectFlood,
		Notes: []string{"header block from", "more notes like the above (HTTP header blocks over the size limit)"}},
	{Name: "dsb-many", What: "64 Decryption Secrets Blocks of 1 MiB of key log lines each", gen: dsbMany},
	{Name: "keylog-lines", What: "200,000 key log lines in Decryption Secrets Blocks of 8 MiB", gen: keylogLines},
	{Name: "pcapng-interfaces", What: "100,000 interface description blocks, then a packet", gen: manyInterfaces,
		Notes: []string{"more than 65536 interfaces"}},
	{Name: "pcapng-absurd-lengths", What: "pcapng blocks announcing absurd lengths between valid packets", raw: absurdLengths,
		Notes: []string{"offset"}},
	{Name: "gzip-bomb", What: "a gzip file that inflates ~100× to 200 MB of identical packets", gen: gzipBomb, gzip: true},
}

// Write writes the capture of shape at scale (1 = the CI size) to w.
func (sh Shape) Write(w io.Writer, scale int) error {
	if scale < 1 {
		return fmt.Errorf("torture: scale %d: must be at least 1", scale)
	}
	if sh.raw != nil {
		return sh.raw(w, scale)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var out io.Writer = bw
	var gz *gzip.Writer
	if sh.gzip {
		gz, _ = gzip.NewWriterLevel(bw, gzip.BestCompression)
		out = gz
	}
	cw, err := capture.NewWriter(out, capture.Section{UserAppl: "modsniff torture " + sh.Name})
	if err != nil {
		return err
	}
	s, err := newSink(cw)
	if err != nil {
		return err
	}
	sh.gen(s, scale)
	if s.err != nil {
		return fmt.Errorf("torture %s: %w", sh.Name, s.err)
	}
	if err := cw.Flush(); err != nil {
		return err
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// File returns the shape's file name.
func (sh Shape) File() string {
	if sh.gzip {
		return sh.Name + ".pcapng.gz"
	}
	if sh.raw != nil {
		return sh.Name + ".pcapng"
	}
	return sh.Name + ".pcapng"
}

var (
	resolver = netip.MustParseAddrPort("192.0.2.53:53")
	server   = netip.MustParseAddrPort("192.0.2.80:443")
	proxy    = netip.MustParseAddrPort("192.0.2.31:3128")
)

func dnsQuery(id uint16, name string, qtype uint16) []byte {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.Id = id
	b, _ := m.Pack()
	return b
}

func dnsUnanswered(s *sink, scale int) {
	for i := range 20000 * scale {
		s.udp(clientAddr(i), resolver, dnsQuery(uint16(i), fmt.Sprintf("q%d.flood.example.com", i), dns.TypeA))
	}
}

// clientHello builds a TLS 1.3 ClientHello record (RFC 8446 §4.1.2) for
// sni with the given ALPN protocol names (RFC 7301).
func clientHello(sni string, alpn []string) []byte {
	var ext []byte
	// server_name (RFC 6066 §3)
	name := []byte(sni)
	ext = binary.BigEndian.AppendUint16(ext, 0)
	ext = binary.BigEndian.AppendUint16(ext, uint16(len(name)+5))
	ext = binary.BigEndian.AppendUint16(ext, uint16(len(name)+3))
	ext = append(ext, 0)
	ext = binary.BigEndian.AppendUint16(ext, uint16(len(name)))
	ext = append(ext, name...)
	// supported_versions: TLS 1.3, 1.2
	ext = append(ext, 0, 43, 0, 5, 4, 3, 4, 3, 3)
	if len(alpn) > 0 {
		var list []byte
		for _, p := range alpn {
			list = append(list, byte(len(p)))
			list = append(list, p...)
		}
		ext = binary.BigEndian.AppendUint16(ext, 16)
		ext = binary.BigEndian.AppendUint16(ext, uint16(len(list)+2))
		ext = binary.BigEndian.AppendUint16(ext, uint16(len(list)))
		ext = append(ext, list...)
	}
	var body []byte
	body = append(body, 3, 3)
	body = append(body, make([]byte, 32)...) // random
	body = append(body, 0)                   // session id
	body = append(body, 0, 2, 0x13, 0x01)    // TLS_AES_128_GCM_SHA256
	body = append(body, 1, 0)                // null compression
	body = binary.BigEndian.AppendUint16(body, uint16(len(ext)))
	body = append(body, ext...)
	msg := []byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	msg = append(msg, body...)
	return tlsRecords(22, msg)
}

// tlsRecords wraps p in TLS records of the given content type, at most
// 16 KiB each (RFC 8446 §5.1).
func tlsRecords(typ byte, p []byte) []byte {
	var out []byte
	for len(p) > 0 {
		n := min(len(p), 16384)
		out = append(out, typ, 3, 1, byte(n>>8), byte(n))
		out = append(out, p[:n]...)
		p = p[n:]
	}
	return out
}

func tlsHellosOpen(s *sink, scale int) {
	for i := range 5000 * scale {
		c := s.open(clientAddr(i), server)
		c.send(true, clientHello(fmt.Sprintf("h%d.open.example.com", i), []string{"h2", "http/1.1"}))
	}
}

func synFlood(s *sink, scale int) {
	for i := range 70000 * scale {
		s.tcp(clientAddr(i), server, 1000, 0, syn, nil)
	}
}

func alpnHuge(s *sink, scale int) {
	names := make([]string, 10000)
	for i := range names {
		names[i] = fmt.Sprintf("p%04x", i)
	}
	for i := range 200 * scale {
		c := s.open(clientAddr(i), server)
		c.send(true, clientHello("alpn.example.com", names))
	}
}

func dnsHugeResponses(s *sink, scale int) {
	for i := range 500 * scale {
		name := fmt.Sprintf("big%d.example.com.", i)
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		q.Id = uint16(i)
		qb, _ := q.Pack()
		client := clientAddr(i)
		s.udp(client, resolver, qb)
		r := new(dns.Msg)
		r.SetReply(q)
		r.Compress = true
		for j := range 4000 {
			r.Answer = append(r.Answer, &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
				A: []byte{198, 51, byte(j >> 8), byte(j)}})
		}
		rb, err := r.Pack()
		if err != nil {
			s.err = err
			return
		}
		s.udp(resolver, client, rb)
	}
}

func dnsRunts(s *sink, scale int) {
	for i := range 200000 * scale {
		s.udp(clientAddr(i), resolver, []byte{byte(i), 1, 0})
	}
}

func dnsHostileEncoding(s *sink, scale int) {
	for i := range 20000 * scale {
		client := clientAddr(i)
		s.udp(client, resolver, dnsQuery(uint16(i), "loop.example.com", dns.TypeA))
		var b []byte
		b = binary.BigEndian.AppendUint16(b, uint16(i))
		b = append(b, 0x81, 0x80)
		if i%2 == 0 {
			// One question whose name is a compression pointer to itself.
			b = append(b, 0, 1, 0, 1, 0, 0, 0, 0)
			b = append(b, 0xc0, 12, 0, 1, 0, 1)
		} else {
			// Counts of 65,535 with a handful of records behind them.
			b = append(b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
			for range 8 {
				b = append(b, 0, 0, 1, 0, 1)
			}
		}
		s.udp(resolver, client, b)
	}
}

func fragFlood(s *sink, scale int) {
	payload := make([]byte, 1024)
	for i := range 100000 * scale {
		src := clientAddr(i % 5000).Addr()
		off := 0
		if i%3 == 1 {
			off = 512 // overlaps the first fragment of the same ID
		}
		s.fragment(src, server.Addr(), uint16(i/3), off, true, payload)
	}
}

func tlsGiantMessages(s *sink, scale int) {
	chunk := make([]byte, 16384)
	for i := range 500 * scale {
		c := s.open(clientAddr(i), server)
		// A handshake record whose message announces 16 MiB − 1 bytes.
		first := append([]byte{1, 0xff, 0xff, 0xff}, chunk[:16380]...)
		c.send(true, append([]byte{22, 3, 1, 0x40, 0x00}, first...))
		c.send(true, append([]byte{22, 3, 1, 0x40, 0x00}, chunk...))
		c.send(true, append([]byte{22, 3, 1, 0x40, 0x00}, chunk[:8000]...))
	}
}

func connectFlood(s *sink, scale int) {
	head := "CONNECT proxy.golang.org:443 HTTP/1.1\r\nHost: proxy.golang.org:443\r\nX-Padding: " +
		strings.Repeat("a", 64*1024-100) + "\r\n\r\n"
	for i := range 2000 * scale {
		c := s.open(clientAddr(i), proxy)
		c.send(true, []byte(head))
	}
}

// keyLogLine is a CLIENT_RANDOM line (NSS key log format) for random i.
func keyLogLine(i int) string {
	var r [32]byte
	binary.BigEndian.PutUint64(r[24:], uint64(i))
	secret := make([]byte, 48)
	binary.BigEndian.PutUint64(secret, uint64(i)*2654435761)
	return "CLIENT_RANDOM " + hex.EncodeToString(r[:]) + " " + hex.EncodeToString(secret) + "\n"
}

func dsbMany(s *sink, scale int) {
	n := 0
	for range 64 * scale {
		var b strings.Builder
		for b.Len() < 1<<20 {
			b.WriteString(keyLogLine(n))
			n++
		}
		if s.err == nil {
			s.err = s.w.WriteSecrets(capture.SecretsTLSKeyLog, []byte(b.String()))
		}
		c := s.open(clientAddr(n), server)
		c.send(true, clientHello("dsb.example.com", nil))
	}
}

func keylogLines(s *sink, scale int) {
	// In blocks of 8 MiB: a Decryption Secrets Block holds at most 16 MiB.
	var b strings.Builder
	for i := range 200000 * scale {
		b.WriteString(keyLogLine(i))
		if b.Len() > 8<<20 && s.err == nil {
			s.err = s.w.WriteSecrets(capture.SecretsTLSKeyLog, []byte(b.String()))
			b.Reset()
		}
	}
	if s.err == nil {
		s.err = s.w.WriteSecrets(capture.SecretsTLSKeyLog, []byte(b.String()))
	}
	c := s.open(clientAddr(1), server)
	c.send(true, clientHello("keylog.example.com", nil))
}

func manyInterfaces(s *sink, scale int) {
	for range 100000*scale - 1 {
		if s.err == nil {
			_, s.err = s.w.AddInterface(capture.Interface{LinkType: 1, SnapLen: 65535})
		}
	}
	// A packet on interface 0.
	s.udp(clientAddr(1), resolver, dnsQuery(1, "iface.example.com", dns.TypeA))
}

func gzipBomb(s *sink, scale int) {
	payload := make([]byte, 1400)
	src, dst := clientAddr(7), netip.MustParseAddrPort("192.0.2.9:9999")
	for range 140000 * scale {
		s.udp(src, dst, payload)
	}
}

// absurdLengths writes a little-endian pcapng file whose valid Enhanced
// Packet Blocks alternate with blocks announcing absurd lengths (4 GiB,
// 2 GiB, shorter than a block header, not a multiple of 4).
func absurdLengths(w io.Writer, scale int) error {
	bw := bufio.NewWriter(w)
	le := binary.LittleEndian
	block := func(typ uint32, body []byte) []byte {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		b := le.AppendUint32(nil, typ)
		b = le.AppendUint32(b, uint32(12+len(body)))
		b = append(b, body...)
		return le.AppendUint32(b, uint32(12+len(body)))
	}
	// Section Header Block (byte-order magic, version 1.0, length unknown).
	shb := le.AppendUint32(nil, 0x1A2B3C4D)
	shb = append(shb, 1, 0, 0, 0)
	shb = append(shb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	bw.Write(block(0x0A0D0D0A, shb))
	// Interface Description Block: Ethernet, snap length 65535.
	bw.Write(block(1, []byte{1, 0, 0, 0, 0xff, 0xff, 0, 0}))
	s := &sink{buf: make([]byte, 0, 2048)}
	frame := func(i int) []byte {
		p := dnsQuery(uint16(i), fmt.Sprintf("a%d.absurd.example.com", i), dns.TypeA)
		ip := frames.AppendUDPPacket(nil, clientAddr(i), resolver, 64, uint16(i), p)
		return frames.AppendEthernet(s.buf[:0], macB, macA, ip)
	}
	for i := range 2000 * scale {
		f := frame(i)
		epb := le.AppendUint32(nil, 0)
		ts := uint64(1764579600000000 + i*100)
		epb = le.AppendUint32(epb, uint32(ts>>32))
		epb = le.AppendUint32(epb, uint32(ts))
		epb = le.AppendUint32(epb, uint32(len(f)))
		epb = le.AppendUint32(epb, uint32(len(f)))
		epb = append(epb, f...)
		bw.Write(block(6, epb))
		switch i % 4 {
		case 0: // an Enhanced Packet Block announcing 4 GiB − 16 bytes
			bw.Write(le.AppendUint32(le.AppendUint32(nil, 6), 0xFFFFFFF0))
			bw.Write(make([]byte, 64))
		case 1: // an unknown block announcing 2 GiB
			bw.Write(le.AppendUint32(le.AppendUint32(nil, 0x0BAD), 0x80000000))
		case 2: // a block shorter than its own header
			bw.Write(le.AppendUint32(le.AppendUint32(nil, 6), 8))
		case 3: // a length that is not a multiple of 4
			bw.Write(le.AppendUint32(le.AppendUint32(nil, 6), 45))
			bw.Write(make([]byte, 40))
		}
	}
	return bw.Flush()
}
