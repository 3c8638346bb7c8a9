//go:build unix

package capture

import (
	"github.com/modsniff/modsniff/samples/frames/tcpconv"

	"bytes"
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

// The conversations come from samples/frames/tcpconv, shared with the
// other side of the privacy tests.
const (
	appByte = tcpconv.AppByte
	hsByte  = tcpconv.HSByte
)

type tcpConn = tcpconv.Conn

func newConn(t *testing.T, client, server string) *tcpConn { return tcpconv.New(t, client, server) }

var (
	record      = tcpconv.Record
	clientHello = tcpconv.ClientHello
	serverHello = tcpconv.ServerHello
)

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
	a.push(c.Handshake()...)
	a.push(c.Seg(true, "PA", clientHello(300)), c.Seg(false, "PA", serverHello(0x0304)),
		c.Seg(true, "PA", record(23, 53, hsByte)), c.Seg(true, "PA", app))
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
	pkts := c.Handshake()
	pkts = append(pkts, c.Seg(false, "PA", record(23, 700, appByte)), c.Seg(true, "PA", []byte("GET / HTTP/1.1\r\nAuthorization: Basic x\r\n\r\n")))
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
