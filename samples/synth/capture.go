package synth

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/samples/frames"
)

// Link is the link-layer framing of a capture.
type Link int

// The framings the synthesizer writes.
const (
	// Ethernet frames, as captured on one interface (eth0, wlan0, or lo,
	// whose frames carry zero MAC addresses).
	Ethernet Link = iota
	// SLL2 is Linux "cooked" v2 framing, as captured on the "any"
	// pseudo-interface: loopback and Ethernet traffic side by side.
	SLL2
)

// BaseTime is the moment every sample starts from, unless a scenario
// says otherwise.
var BaseTime = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// Capture collects the frames of one synthesized capture file.
type Capture struct {
	Link Link
	// IfName is the capturing interface's name (if_name); IfDesc its
	// description.
	IfName, IfDesc string
	// Comment says what the capture shows; it goes into the section
	// header after the note that the file is synthesized.
	Comment string
	// Rand draws every non-cryptographic choice: ports, DNS IDs, IP IDs,
	// sequence numbers and jitter.
	Rand *rand.Rand
	// Secrets, when set, is an NSS key log that Bytes embeds as a
	// Decryption Secrets Block before the first packet (as `editcap
	// --inject-secrets` or `modsniff keys inject` would).
	Secrets []byte

	frames []frame
	seq    int
	err    error     // the first error met while building
	end    time.Time // when the capture stopped, if after the last frame
}

// Mark records that the capture went on until t (the wrapped command's
// exit), so that its end is not the last frame's time. The end goes into
// the Interface Statistics Block dumpcap writes when it stops.
func (c *Capture) Mark(t time.Time) {
	if t.After(c.end) {
		c.end = t
	}
}

type frame struct {
	t    time.Time
	data []byte
	seq  int // emission order, to keep simultaneous frames stable
}

// NewCapture returns an empty capture whose choices are drawn from seed.
func NewCapture(link Link, ifName string, seed uint64) *Capture {
	return &Capture{Link: link, IfName: ifName, Rand: rand.New(rand.NewPCG(seed, seed^0x6d6f64736e696666))}
}

// Host is one machine as the capture sees it.
type Host struct {
	Addr netip.Addr
	// MAC is the address its frames carry on the capturing link: its own
	// on the LAN, the gateway's for remote hosts.
	MAC net.HardwareAddr
	// TTL is the IP TTL (hop limit) its packets carry when captured: the
	// initial value less the hops on the way.
	TTL uint8
	// Local marks the capturing machine's own addresses.
	Local bool
	// IPID says how the host numbers IPv4 packets.
	IPID IPIDPolicy

	counter uint16 // for GlobalID
}

// IPIDPolicy is how a host fills the IPv4 identification field.
type IPIDPolicy int

const (
	// PerSocketID is Linux's behaviour for connected sockets with DF set:
	// a counter per socket that starts at a random value.
	PerSocketID IPIDPolicy = iota
	// GlobalID is one counter for all the host's packets (Windows, many
	// middleboxes).
	GlobalID
	// ZeroID always writes 0 (Linux for unconnected sockets with DF set,
	// such as a DNS server's responses; many packet injectors).
	ZeroID
)

// Gateway is the MAC address of the LAN's router in every sample.
var Gateway = net.HardwareAddr{0x3c, 0x37, 0x86, 0x5e, 0x21, 0x0a}

// Local returns the capturing machine at addr with the given MAC.
func Local(addr string, mac net.HardwareAddr) *Host {
	return &Host{Addr: netip.MustParseAddr(addr), MAC: mac, TTL: 64, Local: true}
}

// Remote returns a host hops away behind the gateway that starts its
// packets at initTTL.
func Remote(addr string, initTTL, hops uint8) *Host {
	return &Host{Addr: netip.MustParseAddr(addr), MAC: Gateway, TTL: initTTL - hops}
}

// Neighbor returns a host on the capturing LAN.
func Neighbor(addr string, mac net.HardwareAddr, initTTL uint8) *Host {
	return &Host{Addr: netip.MustParseAddr(addr), MAC: mac, TTL: initTTL}
}

// Loopback returns an address on the capturing machine's loopback
// interface.
func Loopback(addr string) *Host {
	return &Host{Addr: netip.MustParseAddr(addr), MAC: make(net.HardwareAddr, 6), TTL: 64, Local: true}
}

// IPIDs hands out the IPv4 IDs of one socket of a host, following the
// host's IPIDPolicy.
type IPIDs struct {
	h    *Host
	next uint16
}

// socketID starts the IPv4 ID sequence of a new socket of h.
func (c *Capture) socketID(h *Host) *IPIDs {
	return &IPIDs{h: h, next: uint16(c.Rand.IntN(65536))}
}

func (g *IPIDs) id() uint16 {
	switch g.h.IPID {
	case ZeroID:
		return 0
	case GlobalID:
		g.h.counter++
		return g.h.counter
	}
	g.next++
	return g.next - 1
}

// emit records one IP packet from src to dst at t, framed for the link.
func (c *Capture) emit(t time.Time, src, dst *Host, ip []byte) {
	c.frames = append(c.frames, frame{t: t, data: c.frame(src, dst, ip), seq: c.seq})
	c.seq++
}

// frame wraps an IP packet in the capture's link layer.
func (c *Capture) frame(src, dst *Host, ip []byte) []byte {
	if c.Link == Ethernet {
		return frames.AppendEthernet(nil, dst.MAC, src.MAC, ip)
	}
	// SLL2, as captured on "any": loopback traffic on lo, the rest on
	// eth0, outgoing when the local host sent it.
	var ifIndex, arphrd uint16 = 2, frames.ARPHRDEther
	var pktType byte = frames.PacketHost
	if src.Addr.IsLoopback() || dst.Addr.IsLoopback() {
		ifIndex, arphrd = 1, frames.ARPHRDLoopback
	} else if src.Local {
		pktType = frames.PacketOutgoing
	}
	return frames.AppendSLL2(nil, ifIndex, arphrd, pktType, src.MAC, ip)
}

// Bytes writes the capture as pcapng: a section header whose comment says
// the file is synthesized and what it shows, one interface with
// nanosecond timestamps, the Secrets if any, and the frames in time order.
func (c *Capture) Bytes() ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	frames := slices.Clone(c.frames)
	slices.SortStableFunc(frames, func(a, b frame) int {
		if n := a.t.Compare(b.t); n != 0 {
			return n
		}
		return cmp.Compare(a.seq, b.seq)
	})
	var buf bytes.Buffer
	sec := capture.Section{
		Comments: []string{"Synthesized by modsniff's sample generator (samples/synth), not recorded: " + c.Comment},
		UserAppl: "modsniff samples/synth",
	}
	w, err := capture.NewWriter(&buf, sec)
	if err != nil {
		return nil, err
	}
	lt := layers.LinkTypeEthernet
	if c.Link == SLL2 {
		lt = layers.LinkTypeLinuxSLL2
	}
	ifc, err := w.AddInterface(capture.Interface{LinkType: lt, SnapLen: 262144, Name: c.IfName, Description: c.IfDesc})
	if err != nil {
		return nil, err
	}
	if len(c.Secrets) > 0 {
		if err := w.WriteSecrets(capture.SecretsTLSKeyLog, c.Secrets); err != nil {
			return nil, err
		}
	}
	for i, f := range frames {
		if err := w.WritePacket(ifc, f.t, f.data, len(f.data)); err != nil {
			return nil, fmt.Errorf("frame %d: %w", i+1, err)
		}
	}
	if len(frames) > 0 {
		// dumpcap's closing statistics: capture start and end, packets
		// received and dropped.
		end := latest(frames[len(frames)-1].t.Add(time.Millisecond), c.end)
		st := capture.InterfaceStats{Time: end, StartTime: frames[0].t.Add(-time.Millisecond), EndTime: end,
			Received: uint64(len(frames)), Present: capture.StatReceived | capture.StatDropped}
		if err := w.WriteStats(ifc, st); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// EphemeralPort draws a client port from Linux's default range.
func (c *Capture) EphemeralPort() uint16 { return uint16(32768 + c.Rand.IntN(60999-32768)) }
