//go:build cgo

package capture

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
)

// kernelBuffer is the capture buffer asked of the kernel per handle: a
// download through a fast link fills libpcap's default 2 MiB quickly.
const kernelBuffer = 8 << 20

// pcapSource is a libpcap handle.
type pcapSource struct {
	h    *pcap.Handle
	snap int
}

func (s *pcapSource) read() ([]byte, time.Time, int, error) {
	data, ci, err := s.h.ZeroCopyReadPacketData()
	if err != nil {
		if errors.Is(err, pcap.NextErrorTimeoutExpired) {
			return nil, time.Time{}, 0, errTimeout
		}
		return nil, time.Time{}, 0, err
	}
	return data, ci.Timestamp, ci.Length, nil
}

func (s *pcapSource) linkType() layers.LinkType { return s.h.LinkType() }
func (s *pcapSource) snapLen() int              { return s.snap }
func (s *pcapSource) close()                    { s.h.Close() }

func (s *pcapSource) stats() (uint64, uint64, uint64, error) {
	st, err := s.h.Stats()
	if err != nil {
		return 0, 0, 0, err
	}
	return uint64(uint32(st.PacketsReceived)), uint64(uint32(st.PacketsDropped)), uint64(uint32(st.PacketsIfDropped)), nil
}

// openSources opens one libpcap handle per interface: not promiscuous,
// immediate mode, nanosecond timestamps, LINUX_SLL2 for "any", the filter
// set; each is confirmed active (its counters can be read) before it is
// returned.
func openSources(names []string, filter string, snaplen int) ([]source, error) {
	devs, devErr := pcap.FindAllDevs()
	if devErr == nil {
		known := make(map[string]bool, len(devs))
		for _, d := range devs {
			known[d.Name] = true
		}
		for _, n := range names {
			if !known[n] {
				return nil, &UnknownInterfaceError{Name: n, Available: describeDevs(devs)}
			}
		}
	}
	var out []source
	for _, n := range names {
		s, err := openPcap(n, filter, snaplen)
		if err != nil {
			for _, o := range out {
				o.close()
			}
			if devErr == nil {
				var u *UnknownInterfaceError
				if errors.As(err, &u) {
					u.Available = describeDevs(devs)
				}
			}
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func openPcap(name, filter string, snaplen int) (*pcapSource, error) {
	in, err := pcap.NewInactiveHandle(name)
	if err != nil {
		return nil, classify(name, err)
	}
	defer in.CleanUp()
	for _, set := range []func() error{
		func() error { return in.SetSnapLen(snaplen) },
		func() error { return in.SetPromisc(false) },
		func() error { return in.SetTimeout(readTimeout) },
		func() error { return in.SetImmediateMode(true) },
		func() error { return in.SetBufferSize(kernelBuffer) },
	} {
		if err := set(); err != nil {
			return nil, fmt.Errorf("capture on %s: %v", name, err)
		}
	}
	h, err := in.Activate()
	if err != nil {
		return nil, classify(name, err)
	}
	if name == "any" {
		_ = h.SetLinkType(layers.LinkTypeLinuxSLL2) // libpcap ≥ 1.10; LINUX_SLL otherwise
	}
	if filter != "" {
		if err := h.SetBPFFilter(filter); err != nil {
			h.Close()
			return nil, fmt.Errorf("capture filter %q on %s: %v", filter, name, err)
		}
	}
	if _, err := h.Stats(); err != nil {
		h.Close()
		return nil, fmt.Errorf("capture on %s: the handle is not active: %v", name, err)
	}
	return &pcapSource{h: h, snap: snaplen}, nil
}

// classify turns libpcap's errors into ones that say what to do.
func classify(name string, err error) error {
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "permission denied") || strings.Contains(msg, "not permitted") ||
		strings.Contains(msg, "you don't have permission"):
		return &PermissionError{Interface: name, Err: err}
	case strings.Contains(msg, "no such device"):
		return &UnknownInterfaceError{Name: name}
	case strings.Contains(msg, "not up"):
		return fmt.Errorf("capture on %s: the interface is down (%v): bring it up or choose another with -i", name, err)
	}
	return fmt.Errorf("capture on %s: %v", name, err)
}

// describeDevs lists interfaces as "name (description) addresses".
func describeDevs(devs []pcap.Interface) []string {
	var out []string
	for _, d := range devs {
		s := d.Name
		if d.Description != "" {
			s += " (" + d.Description + ")"
		}
		var addrs []string
		for _, a := range d.Addresses {
			addrs = append(addrs, a.IP.String())
		}
		if len(addrs) > 0 {
			s += " " + strings.Join(addrs, " ")
		}
		out = append(out, s)
	}
	return out
}
