//go:build cgo && unix

package capture

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
)

func TestDefaultFilterCompiles(t *testing.T) {
	env := map[string]string{"HTTPS_PROXY": "http://p:3128", "ALL_PROXY": "socks5://s"}
	filters := []string{
		DefaultFilter(func(string) string { return "" }, nil),
		DefaultFilter(func(k string) string { return env[k] }, map[string]string{"GOPROXY": "http://athens:3000"}),
	}
	for _, f := range filters {
		// DLT_RAW is 12 on Linux (tun interfaces)
		for _, lt := range []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL2, layers.LinkTypeLinuxSLL, 12} {
			if _, err := pcap.CompileBPFFilter(lt, DefaultSnapLen, f); err != nil {
				t.Errorf("%s on %v: %v", f, lt, err)
			}
		}
	}
}

func TestClassifyPcapErrors(t *testing.T) {
	var perm *PermissionError
	if err := classify("any", errors.New("Permission Denied")); !errors.As(err, &perm) || !strings.Contains(err.Error(), "setcap cap_net_raw,cap_net_admin=eip") {
		t.Errorf("permission: %v", err)
	}
	if err := classify("any", errors.New("socket: Operation not permitted")); !errors.As(err, &perm) {
		t.Errorf("EPERM: %v", err)
	}
	var unknown *UnknownInterfaceError
	if err := classify("eth9", errors.New("No Such Device")); !errors.As(err, &unknown) {
		t.Errorf("no such device: %v", err)
	}
}

func TestCheckLiveUnknownInterface(t *testing.T) {
	err := CheckLive([]string{"nosuchif0"})
	var unknown *UnknownInterfaceError
	if !errors.As(err, &unknown) {
		t.Fatalf("CheckLive = %v, want an UnknownInterfaceError", err)
	}
	if !strings.Contains(err.Error(), "lo") {
		t.Errorf("the message does not list the interfaces: %v", err)
	}
}

// TestLiveLoopback captures real packets on lo (root only).
func TestLiveLoopback(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (or cap_net_raw); CI runs this test as root")
	}
	ln, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.LocalAddr().(*net.UDPAddr).Port
	path := filepath.Join(t.TempDir(), "lo.pcapng")
	l, err := StartLive(LiveConfig{Interfaces: []string{"lo"}, Filter: "udp port " + strconv.Itoa(port), Path: path,
		Meta: &Metadata{ModsniffVersion: "test"}, UID: -1, GID: -1, NewTrimmer: liveTrimmer})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("udp", ln.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := range 5 {
		if _, err := conn.Write([]byte("ping " + strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if !l.waitOnDisk(5, 10*time.Second) {
		t.Fatal("the 5 packets did not reach the file within 10s")
	}
	if err := l.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := l.Finalize(l.Metadata()); err != nil {
		t.Fatal(err)
	}
	pkts, r, m := readBack(t, path)
	if len(pkts) != 5 {
		t.Errorf("%d packets, want 5", len(pkts))
	}
	ifs := r.Interfaces()
	if len(ifs) != 1 || ifs[0].Name != "lo" || ifs[0].LinkType != layers.LinkTypeEthernet || ifs[0].Stats == nil {
		t.Errorf("interfaces %+v", ifs)
	} else if ifs[0].Stats.Delivered != 5 {
		t.Errorf("statistics %+v", ifs[0].Stats)
	}
	if m.Ended.IsZero() || len(m.Interfaces) != 1 {
		t.Errorf("metadata %+v", m)
	}
	if st := l.Stats(); st[0].Dropped != 0 || st[0].Err != nil {
		t.Errorf("stats %+v", st)
	}
}

// TestLiveAnyIsSLL2 checks the link type of the "any" pseudo-interface.
func TestLiveAnyIsSLL2(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (or cap_net_raw); CI runs this test as root")
	}
	srcs, err := openSources([]string{"any"}, "udp port 9", 256)
	if err != nil {
		t.Fatal(err)
	}
	defer srcs[0].close()
	if lt := srcs[0].linkType(); lt != layers.LinkTypeLinuxSLL2 {
		t.Errorf("any: link type %v, want LINUX_SLL2", lt)
	}
}
