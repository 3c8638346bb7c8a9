package capture

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// Without libpcap there is no filter compiler, so the default filter of
// DefaultFilter is assembled here with golang.org/x/net/bpf: the same
// program, as classic BPF (the Linux socket filter, Documentation/
// networking/filter.rst), that libpcap compiles from the expression for
// packets that begin at the IP header (LINKTYPE_RAW). A program built here
// and libpcap's are compared packet by packet in the tests.

// defaultFilterPorts recognizes a filter written by DefaultFilter and
// returns its HTTPS and proxy ports; ok is false for any other expression.
func defaultFilterPorts(filter string) (ports []int, ok bool) {
	for _, m := range regexp.MustCompile(`tcp port (\d+)`).FindAllStringSubmatch(filter, -1) {
		p, err := strconv.Atoi(m[1])
		if err != nil || p <= 0 || p > 65535 {
			return nil, false
		}
		ports = append(ports, p)
	}
	if len(ports) == 0 || !slices.IsSorted(ports) || filterForPorts(ports) != filter {
		return nil, false
	}
	return ports, true
}

// Offsets and values of RFC 791 (IPv4), RFC 8200 (IPv6), RFC 792 and
// RFC 4443 (ICMP) the program reads.
const (
	ipProtoTCP     = 6
	ipProtoUDP     = 17
	ipProtoSCTP    = 132
	ipProtoICMP    = 1
	ipProtoICMPv6  = 58
	ipv6Fragment   = 44
	packetOutgoing = 4 // PACKET_OUTGOING, the socket's packet type of a sent packet
)

// defaultFilterProgram assembles the default filter for the given TCP
// ports (HTTPS and proxies) for packets that start at the IP header. A
// matching packet is accepted with snaplen bytes. With dropOutgoing, a
// packet the host sent is rejected: on loopback every packet is seen twice,
// once sent and once received, and libpcap keeps only the received copy.
//
// The expression it implements (see DefaultFilter):
//
//	port 53 or port 853 or tcp port P… or (icmp and (icmp[0] == 3 or icmp[0] == 11 or icmp[0] == 12))
//	or (icmp6 and ip6[40] < 128) or (ip and ip[6:2] & 0x1fff != 0) or (ip6 and ip6[6] == 44)
//
// As libpcap does, ports are read only from IPv4 packets that are not a
// later fragment (their transport header found through the IHL) and from
// IPv6 packets whose first next header is the transport.
func defaultFilterProgram(ports []int, snaplen int, dropOutgoing bool) ([]bpf.RawInstruction, error) {
	p := &bpfProg{}
	if dropOutgoing {
		p.add(bpf.LoadExtension{Num: bpf.ExtType})
		p.jumpIf(bpf.JumpEqual, packetOutgoing, "drop", "")
	}
	p.add(bpf.LoadAbsolute{Off: 0, Size: 1})
	p.add(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf0})
	p.jumpIf(bpf.JumpEqual, 0x40, "v4", "")
	p.jumpIf(bpf.JumpEqual, 0x60, "v6", "drop")

	both := []int{53, 853}
	tcp := append(slices.Clone(both), ports...)
	slices.Sort(tcp)
	tcp = slices.Compact(tcp)

	p.label("v4")
	p.add(bpf.LoadAbsolute{Off: 6, Size: 2})
	p.jumpIf(bpf.JumpBitsSet, 0x1fff, "accept", "") // a later fragment
	p.add(bpf.LoadAbsolute{Off: 9, Size: 1})
	p.jumpIf(bpf.JumpEqual, ipProtoTCP, "tcp4", "")
	p.jumpIf(bpf.JumpEqual, ipProtoUDP, "udp4", "")
	p.jumpIf(bpf.JumpEqual, ipProtoSCTP, "udp4", "")
	p.jumpIf(bpf.JumpEqual, ipProtoICMP, "icmp4", "drop")
	for _, t := range []struct {
		name  string
		ports []int
	}{{"tcp4", tcp}, {"udp4", both}} {
		p.label(t.name)
		p.add(bpf.LoadMemShift{Off: 0})
		for _, off := range []uint32{0, 2} { // source port, destination port
			p.add(bpf.LoadIndirect{Off: off, Size: 2})
			for _, port := range t.ports {
				p.jumpIf(bpf.JumpEqual, uint32(port), "accept", "")
			}
		}
		p.jump("drop")
	}
	p.label("icmp4")
	p.add(bpf.LoadMemShift{Off: 0})
	p.add(bpf.LoadIndirect{Off: 0, Size: 1})
	p.jumpIf(bpf.JumpEqual, 3, "accept", "")  // destination unreachable
	p.jumpIf(bpf.JumpEqual, 11, "accept", "") // time exceeded
	p.jumpIf(bpf.JumpEqual, 12, "accept", "drop")

	p.label("v6")
	p.add(bpf.LoadAbsolute{Off: 6, Size: 1})
	p.jumpIf(bpf.JumpEqual, ipProtoTCP, "tcp6", "")
	p.jumpIf(bpf.JumpEqual, ipProtoUDP, "udp6", "")
	p.jumpIf(bpf.JumpEqual, ipProtoSCTP, "udp6", "")
	p.jumpIf(bpf.JumpEqual, ipProtoICMPv6, "icmp6", "")
	p.jumpIf(bpf.JumpEqual, ipv6Fragment, "accept", "drop")
	for _, t := range []struct {
		name  string
		ports []int
	}{{"tcp6", tcp}, {"udp6", both}} {
		p.label(t.name)
		for _, off := range []uint32{40, 42} {
			p.add(bpf.LoadAbsolute{Off: off, Size: 2})
			for _, port := range t.ports {
				p.jumpIf(bpf.JumpEqual, uint32(port), "accept", "")
			}
		}
		p.jump("drop")
	}
	p.label("icmp6")
	p.add(bpf.LoadAbsolute{Off: 40, Size: 1})
	p.jumpIf(bpf.JumpLessThan, 128, "accept", "drop")

	p.label("accept")
	p.add(bpf.RetConstant{Val: uint32(snaplen)})
	p.label("drop")
	p.add(bpf.RetConstant{Val: 0})
	return p.assemble()
}

// bpfProg is a classic BPF program with symbolic jump targets.
type bpfProg struct {
	ins    []bpf.Instruction
	labels map[string]int
	fixups []bpfFixup
}

type bpfFixup struct {
	at              int
	ifTrue, ifFalse string // "" falls through to the next instruction
}

func (p *bpfProg) add(i bpf.Instruction) { p.ins = append(p.ins, i) }

func (p *bpfProg) label(name string) {
	if p.labels == nil {
		p.labels = map[string]int{}
	}
	p.labels[name] = len(p.ins)
}

// jumpIf adds a conditional jump on A to labels ("" is the next
// instruction).
func (p *bpfProg) jumpIf(cond bpf.JumpTest, val uint32, ifTrue, ifFalse string) {
	p.fixups = append(p.fixups, bpfFixup{at: len(p.ins), ifTrue: ifTrue, ifFalse: ifFalse})
	p.add(bpf.JumpIf{Cond: cond, Val: val})
}

// jump adds an unconditional jump.
func (p *bpfProg) jump(to string) {
	p.fixups = append(p.fixups, bpfFixup{at: len(p.ins), ifTrue: to})
	p.add(bpf.Jump{})
}

func (p *bpfProg) assemble() ([]bpf.RawInstruction, error) {
	skip := func(at int, to string) (uint32, error) {
		if to == "" {
			return 0, nil
		}
		t, ok := p.labels[to]
		if !ok || t <= at {
			return 0, fmt.Errorf("bpf: bad jump from %d to %q", at, to)
		}
		return uint32(t - at - 1), nil
	}
	for _, f := range p.fixups {
		tr, err := skip(f.at, f.ifTrue)
		if err != nil {
			return nil, err
		}
		fa, err := skip(f.at, f.ifFalse)
		if err != nil {
			return nil, err
		}
		switch i := p.ins[f.at].(type) {
		case bpf.JumpIf:
			if tr > 255 || fa > 255 {
				return nil, fmt.Errorf("bpf: conditional jump too long (%d, %d)", tr, fa)
			}
			i.SkipTrue, i.SkipFalse = uint8(tr), uint8(fa)
			p.ins[f.at] = i
		case bpf.Jump:
			i.Skip = tr
			p.ins[f.at] = i
		}
	}
	return bpf.Assemble(p.ins)
}

// errFilterNeedsLibpcap is the error for a --filter expression in a build
// without libpcap.
func errFilterNeedsLibpcap(filter string) error {
	return fmt.Errorf("capture filter %q: compiling a filter expression needs libpcap, and this modsniff was built without cgo; "+
		"leave out --filter to capture with the built-in default filter, or build modsniff with cgo and libpcap "+
		"(apt-get install libpcap-dev; CGO_ENABLED=1 go install github.com/modsniff/modsniff/cmd/modsniff@latest)", strings.TrimSpace(filter))
}

// loopbackOnceProgram accepts every packet but the sent copy of each on a
// loopback interface.
func loopbackOnceProgram(snaplen int) ([]bpf.RawInstruction, error) {
	p := &bpfProg{}
	p.add(bpf.LoadExtension{Num: bpf.ExtType})
	p.jumpIf(bpf.JumpEqual, packetOutgoing, "drop", "")
	p.label("accept")
	p.add(bpf.RetConstant{Val: uint32(snaplen)})
	p.label("drop")
	p.add(bpf.RetConstant{Val: 0})
	return p.assemble()
}
