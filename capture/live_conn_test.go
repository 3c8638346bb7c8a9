//go:build unix

package capture

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TCP conversations for the live capture's tests (the privacy rules
// themselves are tested in decode/trim).

// Bytes that tests look for in what is kept: application data is filled
// with appByte and must never be kept; handshake bodies are filled with
// hsByte and must be kept whole.
const (
	appByte = 0xEE
	hsByte  = 0x55
)

// tcpConn builds the packets of one TCP connection, numbering its bytes.
type tcpConn struct {
	t          *testing.T
	client     netip.AddrPort
	server     netip.AddrPort
	cseq, sseq uint32 // next sequence number of each side
	sll2       bool   // LINUX_SLL2 frames instead of Ethernet
}

func newConn(t *testing.T, client, server string) *tcpConn {
	return &tcpConn{t: t, client: netip.MustParseAddrPort(client), server: netip.MustParseAddrPort(server),
		cseq: 1000, sseq: 5000}
}

func (c *tcpConn) linkType() layers.LinkType {
	if c.sll2 {
		return layers.LinkTypeLinuxSLL2
	}
	return layers.LinkTypeEthernet
}

// seg builds a segment from the client (or the server) with the given
// flags ("S", "SA", "A", "PA", "F", "R") at sequence number seq.
func (c *tcpConn) segAt(fromClient bool, flags string, seq uint32, payload []byte) []byte {
	c.t.Helper()
	src, dst := c.client, c.server
	ack := c.sseq
	if !fromClient {
		src, dst = c.server, c.client
		ack = c.cseq
	}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, Window: 65535}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
			tcp.Ack = ack
		case 'P':
			tcp.PSH = true
		case 'F':
			tcp.FIN = true
		case 'R':
			tcp.RST = true
		}
	}
	var ip gopacket.NetworkLayer
	var ipl gopacket.SerializableLayer
	etype := layers.EthernetTypeIPv4
	if src.Addr().Is4() {
		v4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP,
			SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
		ip, ipl = v4, v4
	} else {
		v6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
			SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
		ip, ipl = v6, v6
		etype = layers.EthernetTypeIPv6
	}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		c.t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	ls := []gopacket.SerializableLayer{ipl, tcp, gopacket.Payload(payload)}
	if !c.sll2 {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: etype}
		ls = append([]gopacket.SerializableLayer{eth}, ls...)
	}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		c.t.Fatal(err)
	}
	out := buf.Bytes()
	if c.sll2 {
		hdr := make([]byte, 20)
		binary.BigEndian.PutUint16(hdr, uint16(etype))
		binary.BigEndian.PutUint16(hdr[8:], 1) // ARPHRD_ETHER
		hdr[11] = 6
		out = append(hdr, out...)
	}
	return out
}

// seg builds the next segment of a side and advances its sequence number.
func (c *tcpConn) seg(fromClient bool, flags string, payload []byte) []byte {
	seq := &c.sseq
	if fromClient {
		seq = &c.cseq
	}
	p := c.segAt(fromClient, flags, *seq, payload)
	*seq += uint32(len(payload))
	if strings.ContainsAny(flags, "SF") {
		*seq++
	}
	return p
}

// handshake returns the three packets of the TCP handshake.
func (c *tcpConn) handshake() [][]byte {
	syn := c.seg(true, "S", nil)
	synack := c.seg(false, "SA", nil)
	ack := c.seg(true, "A", nil)
	return [][]byte{syn, synack, ack}
}

// record is a TLS record of type typ whose body is n bytes of fill.
func record(typ byte, n int, fill byte) []byte {
	r := []byte{typ, 3, 3, byte(n >> 8), byte(n)}
	return append(r, bytes.Repeat([]byte{fill}, n)...)
}

// clientHello is a handshake record holding a ClientHello-shaped message.
func clientHello(n int) []byte {
	body := append([]byte{1, byte(n >> 16), byte(n >> 8), byte(n)}, bytes.Repeat([]byte{hsByte}, n)...)
	return append([]byte{22, 3, 1, byte(len(body) >> 8), byte(len(body))}, body...)
}

// serverHello is a handshake record holding a ServerHello for version v
// (0x0304 is written as supported_versions, RFC 8446 §4.2.1).
func serverHello(v uint16) []byte {
	msg := []byte{3, 3}
	msg = append(msg, bytes.Repeat([]byte{hsByte}, 32)...) // random
	msg = append(msg, 0, 0x13, 0x01, 0)                    // session ID, cipher, compression
	if v == 0x0304 {
		msg = append(msg, 0, 6, 0, 43, 0, 2, 3, 4)
	} else {
		msg = append(msg, 0, 0)
	}
	body := append([]byte{2, 0, byte(len(msg) >> 8), byte(len(msg))}, msg...)
	return append([]byte{22, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

// udpQuery is an Ethernet/IPv4/UDP frame carrying a DNS query for name.
func udpQuery(t *testing.T, src, dst string, name string) []byte {
	t.Helper()
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	q := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, l := range strings.Split(name, ".") {
		q = append(append(q, byte(len(l))), l...)
	}
	q = append(q, 0, 0, 1, 0, 1)
	udp := &layers.UDP{SrcPort: layers.UDPPort(s.Port()), DstPort: layers.UDPPort(d.Port())}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP,
		SrcIP: net.IP(s.Addr().AsSlice()), DstIP: net.IP(d.Addr().AsSlice())}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload(q)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestLiveTrimsEachInterfaceAndGathersItsQueryNames runs packets through
// a live capture with the privacy trimmer: application data is cut, its
// record header kept, the cut counted, and the names asked of DNS on
// either interface reported.
func TestLiveTrimsEachInterfaceAndGathersItsQueryNames(t *testing.T) {
	if liveTrimmer == nil {
		t.Fatal("no trimmer installed (live_trim_test.go)")
	}
	path := filepath.Join(t.TempDir(), "cap.pcapng")
	a := &fakeSource{lt: layers.LinkTypeEthernet, t: time.Unix(1_700_000_000, 0)}
	b := &fakeSource{lt: layers.LinkTypeEthernet, t: time.Unix(1_700_000_000, 0)}
	c := newConn(t, "10.0.0.2:40000", "142.250.1.1:443")
	app := record(23, 500, appByte)
	a.push(c.handshake()...)
	a.push(c.seg(true, "PA", clientHello(300)), c.seg(false, "PA", serverHello(0x0304)),
		c.seg(true, "PA", record(23, 53, hsByte)), c.seg(true, "PA", app))
	b.push(udpQuery(t, "10.0.0.2:5000", "10.0.0.53:53", "Proxy.Golang.org"), udpQuery(t, "10.0.0.2:5001", "10.0.0.53:53", "sum.golang.org"))
	l, err := startLive(LiveConfig{Interfaces: []string{"a", "b"}, Path: path, UID: -1, GID: -1, NewTrimmer: liveTrimmer}, []source{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if !l.waitOnDisk(9, 10*time.Second) {
		t.Fatal("the 9 packets did not reach the file in 10 s")
	}
	if err := l.Stop(); err != nil {
		t.Fatal(err)
	}
	pkts, _, _ := readBack(t, path)
	if len(pkts) != 9 {
		t.Fatalf("%d packets, want 9", len(pkts))
	}
	var last got
	for _, p := range pkts {
		if p.Interface == 0 {
			last = p
		}
	}
	if len(last.Data) != last.Length-500 || !bytes.HasSuffix(last.Data, app[:5]) {
		t.Errorf("application data: kept %d of %d bytes, ending % x", len(last.Data), last.Length, last.Data[len(last.Data)-5:])
	}
	if st := l.Stats(); st[0].Cut != 1 || st[1].Cut != 0 {
		t.Errorf("cut %d and %d packets, want 1 and 0", st[0].Cut, st[1].Cut)
	}
	if names := l.QueryNames(); !slices.Equal(names, []string{"proxy.golang.org", "sum.golang.org"}) {
		t.Errorf("QueryNames() = %q", names)
	}
}

// TestLiveFullKeepsEverything: with Full, no trimmer is made, and packets
// (application data, credentials) are written as captured.
func TestLiveFullKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cap.pcapng")
	src := &fakeSource{lt: layers.LinkTypeEthernet, t: time.Unix(1_700_000_000, 0)}
	c := newConn(t, "10.0.0.2:40009", "10.0.0.9:443")
	pkts := c.handshake()
	pkts = append(pkts, c.seg(false, "PA", record(23, 700, appByte)), c.seg(true, "PA", []byte("GET / HTTP/1.1\r\nAuthorization: Basic x\r\n\r\n")))
	src.push(pkts...)
	made := 0
	l, err := startLive(LiveConfig{Path: path, UID: -1, GID: -1, Full: true,
		NewTrimmer: func() Trimmer { made++; return liveTrimmer() }}, []source{src})
	if err != nil {
		t.Fatal(err)
	}
	if !l.waitOnDisk(len(pkts), 10*time.Second) {
		t.Fatalf("the %d packets did not reach the file in 10 s", len(pkts))
	}
	if err := l.Stop(); err != nil {
		t.Fatal(err)
	}
	got, _, _ := readBack(t, path)
	if len(got) != len(pkts) || made != 0 {
		t.Fatalf("%d packets of %d, %d trimmers made", len(got), len(pkts), made)
	}
	for i, g := range got {
		if !bytes.Equal(g.Data, pkts[i]) {
			t.Errorf("packet %d changed with Full", i)
		}
	}
}

// TestStartLiveWithoutFullNeedsATrimmer: a capture that must cut
// application data never starts without the means to.
func TestStartLiveWithoutFullNeedsATrimmer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cap.pcapng")
	if _, err := StartLive(LiveConfig{Path: path}); err == nil || !strings.Contains(err.Error(), "trimmer") {
		t.Errorf("StartLive without a trimmer: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a file was created: %v", err)
	}
}
