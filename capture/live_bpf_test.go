//go:build cgo

package capture

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"golang.org/x/net/bpf"
)

// bpfTestPackets builds IP packets (from the IP header on, as LINKTYPE_RAW
// and SOCK_DGRAM deliver them) across the cases the default filter tells
// apart: both IP versions, TCP, UDP and SCTP on listed and unlisted ports
// in either direction, ICMP and ICMPv6 errors and informational messages,
// IPv4 options, later fragments, an IPv6 fragment header, and junk.
func bpfTestPackets() map[string][]byte {
	out := map[string][]byte{}
	ports := []uint16{53, 80, 443, 853, 1080, 3128, 8443, 40000}
	v4 := func(proto byte, ihl int, frag uint16, payload []byte) []byte {
		h := make([]byte, ihl*4)
		h[0] = 0x40 | byte(ihl)
		binary.BigEndian.PutUint16(h[2:], uint16(len(h)+len(payload)))
		binary.BigEndian.PutUint16(h[6:], frag)
		h[8], h[9] = 64, proto
		copy(h[12:], []byte{10, 0, 0, 2, 127, 0, 0, 1})
		return append(h, payload...)
	}
	v6 := func(next byte, payload []byte) []byte {
		h := make([]byte, 40)
		h[0] = 0x60
		binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
		h[6], h[7] = next, 64
		h[23], h[39] = 1, 2
		return append(h, payload...)
	}
	l4 := func(src, dst uint16) []byte {
		b := make([]byte, 20)
		binary.BigEndian.PutUint16(b, src)
		binary.BigEndian.PutUint16(b[2:], dst)
		return b
	}
	for _, proto := range []byte{6, 17, 132} {
		for _, p := range ports {
			for _, dir := range []string{"to", "from"} {
				src, dst := uint16(45678), p
				if dir == "from" {
					src, dst = p, 45678
				}
				out[fmt.Sprintf("v4 proto %d %s port %d", proto, dir, p)] = v4(proto, 5, 0, l4(src, dst))
				out[fmt.Sprintf("v4 options proto %d %s port %d", proto, dir, p)] = v4(proto, 7, 0, l4(src, dst))
				out[fmt.Sprintf("v4 first fragment proto %d %s port %d", proto, dir, p)] = v4(proto, 5, 0x2000, l4(src, dst))
				out[fmt.Sprintf("v6 proto %d %s port %d", proto, dir, p)] = v6(proto, l4(src, dst))
			}
		}
		out[fmt.Sprintf("v4 later fragment proto %d", proto)] = v4(proto, 5, 0x2000|185, l4(1, 2))
		out[fmt.Sprintf("v4 last fragment proto %d", proto)] = v4(proto, 5, 185, l4(1, 2))
	}
	for _, typ := range []byte{0, 3, 4, 5, 8, 11, 12, 13} {
		out[fmt.Sprintf("icmp type %d", typ)] = v4(1, 5, 0, []byte{typ, 0, 0, 0, 0, 0, 0, 0})
		out[fmt.Sprintf("icmp options type %d", typ)] = v4(1, 6, 0, []byte{typ, 0, 0, 0, 0, 0, 0, 0})
	}
	for _, typ := range []byte{1, 2, 3, 4, 127, 128, 129, 135, 136} {
		out[fmt.Sprintf("icmp6 type %d", typ)] = v6(58, []byte{typ, 0, 0, 0, 0, 0, 0, 0})
	}
	out["v6 fragment header"] = v6(44, []byte{17, 0, 0, 1, 0, 0, 0, 1, 0, 53, 0, 53})
	out["v6 hop-by-hop then udp 53"] = v6(0, []byte{17, 0, 0, 0, 0, 0, 0, 0, 0, 53, 0, 53})
	out["igmp"] = v4(2, 5, 0, []byte{0x11, 0, 0, 0})
	out["not ip"] = []byte{0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01}
	out["short v4"] = []byte{0x45, 0x00}
	out["short v6 tcp"] = v6(6, nil)
	return out
}

// TestDefaultFilterProgramMatchesLibpcap runs the program assembled in Go
// and the one libpcap compiles from the same default filter expression
// over the same packets: they must keep and drop exactly the same ones.
func TestDefaultFilterProgramMatchesLibpcap(t *testing.T) {
	const snap = 262144
	for _, ports := range [][]int{{443}, {443, 3128}, {80, 443, 1080, 8443}} {
		expr := filterForPorts(ports)
		t.Run(fmt.Sprint(ports), func(t *testing.T) {
			got, ok := defaultFilterPorts(expr)
			if !ok || fmt.Sprint(got) != fmt.Sprint(ports) {
				t.Fatalf("defaultFilterPorts(%q) = %v, %v", expr, got, ok)
			}
			mine, err := defaultFilterProgram(ports, snap, false)
			if err != nil {
				t.Fatal(err)
			}
			theirs, err := pcap.CompileBPFFilter(layers.LinkType(12), snap, expr) // DLT_RAW: packets from the IP header on
			if err != nil {
				t.Fatalf("libpcap: %v", err)
			}
			raw := make([]bpf.RawInstruction, len(theirs))
			for i, in := range theirs {
				raw[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
			}
			vmMine, vmTheirs := newVM(t, mine), newVM(t, raw)
			kept := 0
			for name, pkt := range bpfTestPackets() {
				a, errA := vmMine.Run(pkt)
				b, errB := vmTheirs.Run(pkt)
				if (a != 0) != (b != 0) || errA != nil || errB != nil {
					t.Errorf("%s: Go program %d (%v), libpcap %d (%v)", name, a, errA, b, errB)
				}
				if a != 0 {
					kept++
				}
			}
			t.Logf("%d instructions (libpcap: %d); %d of %d packets kept by both", len(mine), len(raw), kept, len(bpfTestPackets()))
		})
	}
}

func newVM(t *testing.T, raw []bpf.RawInstruction) *bpf.VM {
	t.Helper()
	ins, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatalf("program does not disassemble: %v", ins)
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatal(err)
	}
	return vm
}

// TestDefaultFilterPortsRejectsOtherExpressions: only DefaultFilter's own
// expressions are assembled without libpcap.
func TestDefaultFilterPortsRejectsOtherExpressions(t *testing.T) {
	for _, f := range []string{"", "udp port 9", "tcp port 443", filterForPorts([]int{443}) + " or port 22",
		filterForPorts([]int{8443, 443}), filterForPorts([]int{443, 99999})} {
		if p, ok := defaultFilterPorts(f); ok {
			t.Errorf("%q taken as the default filter with ports %v", f, p)
		}
	}
}
