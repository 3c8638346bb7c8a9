package tlswire

// Test-only plumbing to get TLS streams out of the corpus captures: a pcap /
// pcapng reader (gopacket's pcapgo), an in-order TCP concatenation per
// direction with gaps reported, and QUIC Initial decryption (RFC 9001 §5)
// for the ClientHellos carried in QUIC. Production code does not depend on
// any of it.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/capture/capturetest"
)

// corpusDir locates the shared corpus (see capturetest.FindCorpus) or
// skips the test, saying where it looked.
func corpusDir(t testing.TB) string { return capturetest.CorpusDir(t) }

type rawPacket struct {
	num  int
	time time.Time
	lt   layers.LinkType
	data []byte
}

// readCapture reads every packet of a pcap or pcapng file, gzip'd or not,
// stopping quietly at damage (as a streaming reader would).
func readCapture(t testing.TB, path string) []rawPacket {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	br := r.(*bufio.Reader)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			t.Fatal(err)
		}
		br = bufio.NewReader(gz)
	}
	magic, _ := br.Peek(4)
	var pkts []rawPacket
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for n := 1; ; n++ {
			data, ci, err := ng.ReadPacketData()
			if err != nil {
				break
			}
			lt := ng.LinkType()
			if iface, err := ng.Interface(ci.InterfaceIndex); err == nil {
				lt = iface.LinkType
			}
			pkts = append(pkts, rawPacket{n, ci.Timestamp, lt, slices.Clone(data)})
		}
		return pkts
	}
	pr, err := pcapgo.NewReader(br)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for n := 1; ; n++ {
		data, ci, err := pr.ReadPacketData()
		if err != nil {
			break
		}
		pkts = append(pkts, rawPacket{n, ci.Timestamp, pr.LinkType(), slices.Clone(data)})
	}
	return pkts
}

// helloRef is one ClientHello found in a capture, with where it came from.
type helloRef struct {
	transport byte // 't' or 'q'
	client    netip.AddrPort
	server    netip.AddrPort
	index     int // 1 for the first hello of its stream, 2 for the one after a HelloRetryRequest
	ch        *ClientHello
	at        capture.Ref
}

// tcpSide is one direction of a TCP connection being concatenated.
type tcpSide struct {
	synced  bool
	next    uint32
	pending []segment
	inTLS   bool // TLS has started (after any proxy negotiation)
}

type segment struct {
	seq  uint32
	data []byte
	at   capture.Ref
}

type tcpConn struct {
	client, server netip.AddrPort
	conn           *Conn
	side           [2]tcpSide
	order          int
	raw            [2][]byte // the first 64 KiB fed per direction: fuzz seeds
}

// captureResult is what a corpus capture yields.
type captureResult struct {
	conns  []*tcpConn
	hellos []helloRef
}

// decodeCapture runs every TCP stream of a capture through a Conn and pulls
// the ClientHellos out of QUIC Initials.
func decodeCapture(t testing.TB, path string, certs *CertCache) *captureResult {
	t.Helper()
	res := &captureResult{}
	conns := map[[2]netip.AddrPort]*tcpConn{}
	quic := map[string]*quicHello{}
	var quicOrder []*quicHello
	for _, p := range readCapture(t, path) {
		pkt := gopacket.NewPacket(p.data, p.lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		var src, dst netip.Addr
		switch ip := pkt.NetworkLayer().(type) {
		case *layers.IPv4:
			src, _ = netip.AddrFromSlice(ip.SrcIP)
			dst, _ = netip.AddrFromSlice(ip.DstIP)
		case *layers.IPv6:
			src, _ = netip.AddrFromSlice(ip.SrcIP)
			dst, _ = netip.AddrFromSlice(ip.DstIP)
		default:
			continue
		}
		at := capture.NewRef(0, p.num, p.time)
		if l := pkt.Layer(layers.LayerTypeUDP); l != nil {
			udp := l.(*layers.UDP)
			a := netip.AddrPortFrom(src, uint16(udp.SrcPort))
			b := netip.AddrPortFrom(dst, uint16(udp.DstPort))
			if qh := quicInitial(udp.Payload, a, b, quic); qh != nil {
				if !qh.listed {
					qh.listed = true
					quicOrder = append(quicOrder, qh)
				}
				qh.at = at
			}
			continue
		}
		l := pkt.Layer(layers.LayerTypeTCP)
		if l == nil {
			continue
		}
		tcp := l.(*layers.TCP)
		a := netip.AddrPortFrom(src, uint16(tcp.SrcPort))
		b := netip.AddrPortFrom(dst, uint16(tcp.DstPort))
		key := [2]netip.AddrPort{a, b}
		if b.Addr().Less(a.Addr()) || b.Addr() == a.Addr() && b.Port() < a.Port() {
			key = [2]netip.AddrPort{b, a}
		}
		tc := conns[key]
		payload := tcp.Payload
		if tc == nil {
			if !(tcp.SYN && !tcp.ACK) && len(payload) == 0 {
				continue
			}
			tc = &tcpConn{client: a, server: b, conn: NewConn(ConnOptions{Certs: certs}), order: len(conns)}
			// Without the SYN, the side whose first payload is a ClientHello
			// is the client; failing that, the higher port.
			if !tcp.SYN && !isClientHelloStart(payload) && (isServerStart(payload) || a.Port() < b.Port()) {
				tc.client, tc.server = b, a
			}
			conns[key] = tc
			res.conns = append(res.conns, tc)
		}
		dir := ClientToServer
		if a != tc.client {
			dir = ServerToClient
		}
		sd := &tc.side[dir]
		if tcp.SYN {
			sd.synced, sd.next = true, tcp.Seq+1
			continue
		}
		if len(payload) == 0 {
			continue
		}
		if !sd.synced {
			sd.synced, sd.next = true, tcp.Seq
		}
		tc.segment(dir, tcp.Seq, payload, at)
	}
	for _, tc := range res.conns {
		for d := range tc.side {
			tc.flush(Dir(d))
		}
		tc.conn.Finish()
		s := tc.conn.Session()
		if s.ClientHello != nil {
			res.hellos = append(res.hellos, helloRef{'t', tc.client, tc.server, 1, s.ClientHello, s.ClientHelloAt})
		}
		if s.SecondClientHello() != nil {
			res.hellos = append(res.hellos, helloRef{'t', tc.client, tc.server, 2, s.SecondClientHello(), s.SecondClientHelloAt()})
		}
	}
	for _, qh := range quicOrder {
		if qh.ch != nil {
			res.hellos = append(res.hellos, helloRef{'q', qh.client, qh.server, 1, qh.ch, qh.at})
		}
	}
	return res
}

func isClientHelloStart(p []byte) bool {
	return len(p) >= 6 && p[0] == ContentHandshake && p[1] == 3 && p[5] == TypeClientHello ||
		len(p) >= 5 && p[0]&0x80 != 0 && looksLikeSSLv2Hello(p)
}

func isServerStart(p []byte) bool {
	return len(p) >= 6 && p[0] == ContentHandshake && p[1] == 3 && p[5] == TypeServerHello ||
		bytes.HasPrefix(p, []byte("HTTP/1.")) || len(p) == 2 && p[0] == 5 // HTTP CONNECT or SOCKS5 answer
}

// segment delivers a TCP payload in order, holding segments that arrive early.
func (tc *tcpConn) segment(dir Dir, seq uint32, data []byte, at capture.Ref) {
	sd := &tc.side[dir]
	if d := int32(seq - sd.next); d < 0 {
		if int(-d) >= len(data) {
			return // retransmission of delivered bytes
		}
		data = data[-d:]
	} else if d > 0 {
		sd.pending = append(sd.pending, segment{seq, slices.Clone(data), at})
		return
	}
	tc.deliver(dir, data, at)
	sd.next += uint32(len(data))
	tc.drain(dir)
}

func (tc *tcpConn) drain(dir Dir) {
	sd := &tc.side[dir]
	for progress := true; progress; {
		progress = false
		for i := 0; i < len(sd.pending); i++ {
			s := sd.pending[i]
			d := int32(s.seq - sd.next)
			if d > 0 {
				continue
			}
			sd.pending = slices.Delete(sd.pending, i, i+1)
			i--
			if int(-d) < len(s.data) {
				tc.deliver(dir, s.data[-d:], s.at)
				sd.next += uint32(len(s.data) + int(d))
				progress = true
			}
		}
	}
}

// flush delivers what is left after the capture ended, reporting the holes.
func (tc *tcpConn) flush(dir Dir) {
	sd := &tc.side[dir]
	for len(sd.pending) > 0 {
		sort.Slice(sd.pending, func(i, j int) bool { return int32(sd.pending[i].seq-sd.pending[j].seq) < 0 })
		s := sd.pending[0]
		gap := int64(uint32(s.seq - sd.next))
		if sd.inTLS {
			tc.conn.Gap(dir, gap, s.at)
		}
		sd.next = s.seq
		tc.drain(dir)
	}
}

// deliver feeds in-order bytes, skipping a proxy negotiation (HTTP CONNECT,
// SOCKS) that precedes TLS: bytes before the first segment that starts like
// a TLS record are dropped.
func (tc *tcpConn) deliver(dir Dir, data []byte, at capture.Ref) {
	sd := &tc.side[dir]
	if !sd.inTLS {
		if !LooksLikeTLS(data) {
			return
		}
		sd.inTLS = true
	}
	if len(tc.raw[dir]) < 64<<10 {
		tc.raw[dir] = append(tc.raw[dir], data[:min(len(data), 64<<10-len(tc.raw[dir]))]...)
	}
	tc.conn.Feed(dir, data, at)
}

// quicHello collects the CRYPTO stream of one QUIC connection's client
// Initial packets until it holds a complete ClientHello.
type quicHello struct {
	client, server netip.AddrPort
	crypto         []byte
	have           []bool
	ch             *ClientHello
	at             capture.Ref
	listed         bool
}

var quicV1Salt = []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}

// quicInitial decrypts a client Initial packet (RFC 9000 §17.2.2, RFC 9001
// §5) and adds its CRYPTO frames to the connection's hello; it returns the
// hello once complete.
func quicInitial(p []byte, src, dst netip.AddrPort, conns map[string]*quicHello) *quicHello {
	if len(p) < 7 || p[0]&0xf0 != 0xc0 || binary.BigEndian.Uint32(p[1:5]) != 1 {
		return nil // not a QUIC v1 Initial
	}
	i := 5
	dcid := p[i+1 : min(len(p), i+1+int(p[i]))]
	i += 1 + len(dcid)
	if i >= len(p) {
		return nil
	}
	i += 1 + int(p[i]) // scid
	tokLen, n := quicVarint(p[min(i, len(p)):])
	i += n + int(tokLen)
	length, n := quicVarint(p[min(i, len(p)):])
	i += n
	pnOff := i
	if n == 0 || pnOff+int(length) > len(p) || pnOff+4+16 > len(p) {
		return nil
	}
	qh := conns[string(dcid)]
	if qh == nil {
		// The first Initial's destination connection ID keys the secrets.
		qh = &quicHello{client: src, server: dst}
		conns[string(dcid)] = qh
	}
	if src != qh.client || qh.ch != nil {
		return nil
	}
	key, iv, hp := quicClientKeys(dcid)
	block, _ := aes.NewCipher(hp)
	mask := make([]byte, 16)
	block.Encrypt(mask, p[pnOff+4:pnOff+20])
	hdr := slices.Clone(p[:pnOff+4])
	hdr[0] ^= mask[0] & 0x0f
	pnLen := int(hdr[0]&3) + 1
	hdr = hdr[:pnOff+pnLen]
	var pn uint64
	for k := 0; k < pnLen; k++ {
		hdr[pnOff+k] ^= mask[1+k]
		pn = pn<<8 | uint64(hdr[pnOff+k])
	}
	nonce := slices.Clone(iv)
	for k := 0; k < 8; k++ {
		nonce[11-k] ^= byte(pn >> (8 * k))
	}
	c, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(c)
	plain, err := aead.Open(nil, nonce, p[pnOff+pnLen:pnOff+int(length)], hdr)
	if err != nil {
		return nil
	}
	if err := qh.frames(plain); err != nil {
		return nil
	}
	if len(qh.crypto) >= 4 && qh.contiguous() >= 4 {
		n := int(qh.crypto[1])<<16 | int(qh.crypto[2])<<8 | int(qh.crypto[3])
		if qh.contiguous() >= 4+n && qh.crypto[0] == TypeClientHello {
			qh.ch, _ = ParseClientHello(qh.crypto[4 : 4+n])
			return qh
		}
	}
	return nil
}

func (qh *quicHello) contiguous() int {
	for i, ok := range qh.have {
		if !ok {
			return i
		}
	}
	return len(qh.have)
}

func (qh *quicHello) frames(b []byte) error {
	for len(b) > 0 {
		typ, n := quicVarint(b)
		if n == 0 {
			return errors.New("bad frame")
		}
		b = b[n:]
		switch {
		case typ == 0 || typ == 1: // PADDING, PING
		case typ == 6: // CRYPTO
			off, n1 := quicVarint(b)
			ln, n2 := quicVarint(b[n1:])
			if n1 == 0 || n2 == 0 || n1+n2+int(ln) > len(b) || off+ln > 1<<16 {
				return errors.New("bad crypto frame")
			}
			data := b[n1+n2 : n1+n2+int(ln)]
			end := int(off + ln)
			for len(qh.crypto) < end {
				qh.crypto = append(qh.crypto, 0)
				qh.have = append(qh.have, false)
			}
			copy(qh.crypto[off:], data)
			for k := int(off); k < end; k++ {
				qh.have[k] = true
			}
			b = b[n1+n2+int(ln):]
		case typ == 2 || typ == 3: // ACK
			var vals [4]uint64
			for k := range vals {
				v, m := quicVarint(b)
				if m == 0 {
					return errors.New("bad ack")
				}
				vals[k], b = v, b[m:]
			}
			extra := 2 * int(vals[2])
			if typ == 3 {
				extra += 3
			}
			for k := 0; k < extra; k++ {
				_, m := quicVarint(b)
				if m == 0 {
					return errors.New("bad ack")
				}
				b = b[m:]
			}
		default:
			return nil // nothing else is expected in a client Initial
		}
	}
	return nil
}

func quicVarint(b []byte) (uint64, int) {
	if len(b) == 0 {
		return 0, 0
	}
	n := 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0
	}
	v := uint64(b[0] & 0x3f)
	for k := 1; k < n; k++ {
		v = v<<8 | uint64(b[k])
	}
	return v, n
}

// quicClientKeys derives the client Initial key, IV and header-protection
// key from the destination connection ID (RFC 9001 §5.2).
func quicClientKeys(dcid []byte) (key, iv, hp []byte) {
	initial, _ := hkdf.Extract(sha256.New, dcid, quicV1Salt)
	client := expandLabel(initial, "client in", 32)
	return expandLabel(client, "quic key", 16), expandLabel(client, "quic iv", 12), expandLabel(client, "quic hp", 16)
}

// expandLabel is HKDF-Expand-Label of RFC 8446 §7.1 with an empty context.
func expandLabel(secret []byte, label string, n int) []byte {
	full := "tls13 " + label
	info := []byte{byte(n >> 8), byte(n), byte(len(full))}
	info = append(info, full...)
	info = append(info, 0)
	out, _ := hkdf.Expand(sha256.New, secret, string(info), n)
	return out
}
