//go:build !cgo && linux

package capture

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
)

// Live capture without cgo on Linux: one AF_PACKET socket (packet(7)) per
// interface through gopacket's afpacket, memory-mapped TPACKET_V3 rings,
// SOCK_DGRAM so that every interface delivers packets from the IP header on
// (written as LINKTYPE_RAW), and the default filter assembled in Go
// (live_bpf.go). "any" opens every interface that is up. A filter
// expression of the user's needs libpcap's compiler: the error says so.

// afpacketRing sizes each socket's ring: blocks must hold the largest
// packet (the snap length is applied after reading), and eight of them
// give the kernel the same room libpcap's handles get.
const (
	afpacketBlock  = 1 << 20
	afpacketBlocks = kernelBufferNoCgo / afpacketBlock
	// kernelBufferNoCgo matches the cgo build's kernel buffer.
	kernelBufferNoCgo = 8 << 20
)

// afpacketSource is one AF_PACKET socket bound to one interface.
type afpacketSource struct {
	h     *afpacket.TPacket
	iface string
	snap  int
}

func (s *afpacketSource) read() ([]byte, time.Time, int, error) {
	data, ci, err := s.h.ZeroCopyReadPacketData()
	if err != nil {
		if errors.Is(err, afpacket.ErrTimeout) {
			return nil, time.Time{}, 0, errTimeout
		}
		return nil, time.Time{}, 0, err
	}
	if len(data) > s.snap {
		data = data[:s.snap]
	}
	return data, ci.Timestamp, ci.Length, nil
}

func (s *afpacketSource) linkType() layers.LinkType { return layers.LinkTypeRaw }
func (s *afpacketSource) snapLen() int              { return s.snap }
func (s *afpacketSource) close()                    { s.h.Close() }
func (s *afpacketSource) ifaceName() string         { return s.iface }

func (s *afpacketSource) stats() (uint64, uint64, uint64, error) {
	_, v3, err := s.h.SocketStats()
	if err != nil {
		return 0, 0, 0, err
	}
	// PACKET_STATISTICS counts every packet the filter let through,
	// dropped ones included, as libpcap's ps_recv does.
	return uint64(v3.Packets()), uint64(v3.Drops()), 0, nil
}

// openSources opens one AF_PACKET socket per interface ("any": every
// interface that is up), with the default filter assembled in Go.
func openSources(names []string, filter string, snaplen int) ([]source, error) {
	var ports []int
	if filter != "" {
		p, ok := defaultFilterPorts(filter)
		if !ok {
			return nil, errFilterNeedsLibpcap(filter)
		}
		ports = p
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("capture: listing interfaces: %v", err)
	}
	var want []net.Interface
	for _, n := range names {
		if n == "any" {
			for _, i := range ifaces {
				if i.Flags&net.FlagUp != 0 {
					want = append(want, i)
				}
			}
			continue
		}
		found := false
		for _, i := range ifaces {
			if i.Name == n {
				want, found = append(want, i), true
			}
		}
		if !found {
			return nil, &UnknownInterfaceError{Name: n, Available: describeIfaces(ifaces)}
		}
	}
	var out []source
	for _, i := range want {
		s, err := openAFPacket(i, ports, filter != "", snaplen)
		if err != nil {
			for _, o := range out {
				o.close()
			}
			return nil, err
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("capture: no interface is up")
	}
	return out, nil
}

func openAFPacket(i net.Interface, ports []int, filtered bool, snaplen int) (*afpacketSource, error) {
	h, err := afpacket.NewTPacket(afpacket.OptInterface(i.Name), afpacket.SocketDgram,
		afpacket.OptTPacketVersion(afpacket.TPacketVersion3), afpacket.OptFrameSize(afpacket.DefaultFrameSize),
		afpacket.OptBlockSize(afpacketBlock), afpacket.OptNumBlocks(afpacketBlocks),
		afpacket.OptBlockTimeout(readTimeout), afpacket.OptPollTimeout(readTimeout))
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) || errors.Is(err, os.ErrPermission) {
			return nil, &PermissionError{Interface: i.Name, Err: err}
		}
		return nil, fmt.Errorf("capture on %s (AF_PACKET): %v", i.Name, err)
	}
	if filtered {
		prog, err := defaultFilterProgram(ports, snaplen, i.Flags&net.FlagLoopback != 0)
		if err == nil {
			err = h.SetBPF(prog)
		}
		if err != nil {
			h.Close()
			return nil, fmt.Errorf("capture filter on %s: %v", i.Name, err)
		}
	} else if i.Flags&net.FlagLoopback != 0 {
		// Loopback shows each packet sent and again received: keep one.
		prog, err := loopbackOnceProgram(snaplen)
		if err == nil {
			err = h.SetBPF(prog)
		}
		if err != nil {
			h.Close()
			return nil, fmt.Errorf("capture on %s: %v", i.Name, err)
		}
	}
	if _, _, err := h.SocketStats(); err != nil {
		h.Close()
		return nil, fmt.Errorf("capture on %s: the socket is not active: %v", i.Name, err)
	}
	return &afpacketSource{h: h, iface: i.Name, snap: snaplen}, nil
}

// describeIfaces lists interfaces as "name addresses".
func describeIfaces(ifaces []net.Interface) []string {
	var out []string
	for _, i := range ifaces {
		s := i.Name
		if addrs, err := i.Addrs(); err == nil {
			for _, a := range addrs {
				s += " " + a.String()
			}
		}
		out = append(out, s)
	}
	return out
}
