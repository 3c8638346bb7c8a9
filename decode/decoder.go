// Package decode turns captured frames into events: link layer to IP (IPv4
// with defragmentation, IPv6 with extension headers and fragments), UDP, TCP
// and ICMP; a flow table with per-direction TCP reassembly; DNS over UDP and
// TCP; TLS handshakes, decrypted with key logs when given (Options.Keys),
// and the HTTP/1.1 or HTTP/2 inside; HTTP CONNECT and SOCKS tunnels; plain
// HTTP; and ICMP errors matched to the flow whose header they quote.
//
// A Decoder streams: each packet is decoded once, application data is
// skipped by length, and memory is bounded by the live flows and the limits
// in Limits, never by the size of the input.
package decode

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode/ipfrag"
	"github.com/modsniff/modsniff/decode/reassembly"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// Limits bounds what one Decoder holds in memory. The zero value of a field
// means its default (see DefaultLimits).
type Limits struct {
	// MaxFlows is the number of live TCP flows tracked at once; beyond it
	// the longest-idle flows are forgotten and the report says so.
	MaxFlows int
	// FlowIdle is the capture time after which a flow without packets is
	// finished and its state released.
	FlowIdle time.Duration
	// StreamBuffer caps the out-of-order bytes one TCP direction may hold;
	// TotalBuffer caps them for all streams together.
	StreamBuffer int
	TotalBuffer  int64
	// MaxEvents caps each kind of event kept (DNS exchanges, connections,
	// TLS sessions …); the report says when it was reached.
	MaxEvents int
	// Fragments caps IP datagrams being reassembled and their bytes.
	MaxFragDatagrams int
	MaxFragBytes     int64
	// AppData is how many bytes of decrypted application data per TLS
	// direction are read for HTTP (the rest is skipped by length);
	// DecryptBuffer caps the record buffers of decryption for all
	// connections together.
	AppData       int
	DecryptBuffer int
}

// DefaultLimits returns the limits used when none are given: enough for any
// capture of a build, small enough that a hostile capture cannot make the
// process grow past a few tens of megabytes.
func DefaultLimits() Limits {
	return Limits{
		MaxFlows:         65536,
		FlowIdle:         5 * time.Minute,
		StreamBuffer:     256 << 10,
		TotalBuffer:      16 << 20,
		MaxEvents:        100000,
		MaxFragDatagrams: 256,
		MaxFragBytes:     4 << 20,
		AppData:          tlswire.DefaultMaxAppData,
		DecryptBuffer:    16 << 20,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFlows <= 0 {
		l.MaxFlows = d.MaxFlows
	}
	if l.FlowIdle <= 0 {
		l.FlowIdle = d.FlowIdle
	}
	if l.StreamBuffer <= 0 {
		l.StreamBuffer = d.StreamBuffer
	}
	if l.TotalBuffer <= 0 {
		l.TotalBuffer = d.TotalBuffer
	}
	if l.MaxEvents <= 0 {
		l.MaxEvents = d.MaxEvents
	}
	if l.MaxFragDatagrams <= 0 {
		l.MaxFragDatagrams = d.MaxFragDatagrams
	}
	if l.MaxFragBytes <= 0 {
		l.MaxFragBytes = d.MaxFragBytes
	}
	if l.AppData <= 0 {
		l.AppData = d.AppData
	}
	if l.DecryptBuffer <= 0 {
		l.DecryptBuffer = d.DecryptBuffer
	}
	return l
}

// Options configures a Decoder.
type Options struct {
	Limits Limits
	// Certs caches parsed certificates; share one between the decoders of
	// several inputs so that a chain seen in all of them is parsed once.
	Certs *tlswire.CertCache
	// Keys, when set, holds TLS secrets (a *capture.KeyLog from --keylog
	// files and the input's Decryption Secrets Blocks). A session's keys
	// are looked up by its ClientHello random when its first protected
	// record starts, so secrets added while the input is read still apply
	// to the sessions that follow. With keys, the handshake, alerts and the
	// start of the application data are decrypted, and HTTP/1.1 and HTTP/2
	// inside become HTTPExchange events.
	Keys tlswire.KeySource
	// Trimmed says the input was written by modsniff capture without
	// --full: packets shorter than on the wire lost their application data
	// on purpose, for privacy, not to a snap length.
	Trimmed bool
}

// Decoder decodes the packets of one input. Feed it every packet with
// Packet, in capture order, then call Finish.
type Decoder struct {
	input int
	lim   Limits
	certs *tlswire.CertCache
	ev    *Events
	stats Stats

	// Preallocated layers: DecodeLayers fills them in place, so decoding a
	// packet allocates nothing.
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	sll     layers.LinuxSLL
	sll2    layers.LinuxSLL2
	loop    layers.Loopback
	pppoe   pppoeSession
	ip4     layers.IPv4
	ip6     layers.IPv6
	ip6ext  layers.IPv6ExtensionSkipper
	ip6frag layers.IPv6Fragment
	udp     layers.UDP
	tcp     layers.TCP
	icmp4   layers.ICMPv4
	icmp6   layers.ICMPv6
	decoded []gopacket.LayerType
	parsers [len(firstLayers)]*gopacket.DecodingLayerParser

	frag   *ipfrag.Defragmenter
	budget *reassembly.Budget
	flows  map[flowKey]*flow
	// lastFlow is the flow of the last TCP packet (nil once finished).
	lastFlow *flow
	dns      map[dnsKey]*dnsState
	tls      []*TLSSession
	keys     tlswire.KeySource
	recBufs  *tlswire.RecordBuffers
	sweepAt  time.Time
	nflows   int

	unsupported    map[layers.LinkType]bool
	firstMalformed capture.Ref
	firstSnapCut   capture.Ref
	trimmed        bool
	// ipPayload is the current packet's IP payload length on the wire (-1
	// when unknown), to tell how much of a TCP segment a snap length cut.
	ipPayload  int
	limitNoted map[string]bool
}

// New returns a Decoder for the input with the given index.
func New(input int, opt Options) *Decoder {
	lim := opt.Limits.withDefaults()
	certs := opt.Certs
	if certs == nil {
		certs = tlswire.NewCertCache(4096)
	}
	d := &Decoder{
		input:       input,
		lim:         lim,
		certs:       certs,
		keys:        opt.Keys,
		trimmed:     opt.Trimmed,
		recBufs:     tlswire.NewRecordBuffers(lim.DecryptBuffer),
		ev:          &Events{},
		frag:        ipfrag.New(ipfrag.Limits{MaxDatagrams: lim.MaxFragDatagrams, MaxBytes: lim.MaxFragBytes}),
		budget:      reassembly.NewBudget(lim.TotalBuffer),
		flows:       make(map[flowKey]*flow),
		dns:         make(map[dnsKey]*dnsState),
		unsupported: make(map[layers.LinkType]bool),
		limitNoted:  make(map[string]bool),
		decoded:     make([]gopacket.LayerType, 0, 12),
	}
	d.stats.Input = input
	for i, first := range firstLayers {
		// A sparse container (a slice indexed by layer type) instead of the
		// default map: the lookup per layer is on the hot path.
		dlc := gopacket.DecodingLayerContainer(gopacket.DecodingLayerSparse(nil))
		for _, l := range []gopacket.DecodingLayer{&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.loop, &d.pppoe,
			&d.ip4, &d.ip6, &d.ip6ext, &d.ip6frag, &d.udp, &d.tcp, &d.icmp4, &d.icmp6} {
			dlc = dlc.Put(l)
		}
		p := gopacket.NewDecodingLayerParser(first)
		p.SetDecodingLayerContainer(dlc)
		p.IgnoreUnsupported = true
		d.parsers[i] = p
	}
	return d
}

// firstLayers are the layers a frame may start with, indexed as
// firstLayer returns them.
var firstLayers = [...]gopacket.LayerType{
	layers.LayerTypeEthernet, layers.LayerTypeLinuxSLL, layers.LayerTypeLinuxSLL2,
	layers.LayerTypeLoopback, layers.LayerTypeIPv4, layers.LayerTypeIPv6,
}

// firstLayer returns the index in firstLayers of the layer a frame of the
// given link type starts with.
func firstLayer(lt layers.LinkType, data []byte) (int, bool) {
	switch lt {
	case layers.LinkTypeEthernet:
		return 0, true
	case layers.LinkTypeLinuxSLL:
		return 1, true
	case layers.LinkTypeLinuxSLL2:
		return 2, true
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return 3, true
	case layers.LinkTypeIPv4:
		return 4, true
	case layers.LinkTypeIPv6:
		return 5, true
	case layers.LinkTypeRaw, 12, 14:
		if len(data) > 0 && data[0]>>4 == 6 {
			return 5, true
		}
		return 4, true
	}
	return 0, false
}

// Packet decodes one captured frame.
func (d *Decoder) Packet(p *capture.Packet) {
	d.stats.Packets++
	d.stats.Bytes += int64(len(p.Data))
	if d.stats.First.IsZero() {
		d.stats.First = p.Time
	}
	d.stats.Last = p.Time
	at := capture.Ref{Input: d.input, Packet: p.Number, Time: p.Time}
	if p.Length > len(p.Data) {
		d.stats.SnapCut++
		if d.firstSnapCut.IsZero() {
			d.firstSnapCut = at
		}
	}
	d.maybeSweep(p.Time)

	data := p.Data
	lt := p.LinkType
	if lt == 239 { // LINKTYPE_NFLOG: the packet is one TLV among several
		var ok bool
		if data, ok = nflogPayload(data); !ok {
			d.malformed(at)
			return
		}
		lt = layers.LinkTypeRaw
	}
	first, ok := firstLayer(lt, data)
	if !ok {
		d.stats.Unsupported++
		if !d.unsupported[p.LinkType] {
			d.unsupported[p.LinkType] = true
			d.note(at, fmt.Sprintf("link type %s is not decoded; its packets are skipped (first: packet %d)",
				capture.LinkTypeName(p.LinkType), p.Number))
		}
		return
	}
	parser := d.parsers[first]
	err := parser.DecodeLayers(data, &d.decoded)
	if err != nil {
		d.malformed(at)
	}
	d.network(at)
}

// network handles whatever the parser found above the link layer.
func (d *Decoder) network(at capture.Ref) {
	var (
		src, dst netip.Addr
		ip       IPInfo
		haveIP   bool
	)
	d.ipPayload = -1
	for _, lt := range d.decoded {
		switch lt {
		case layers.LayerTypeIPv4:
			if d.ip4.Length != 0 { // 0: a TSO capture without the real length
				d.ipPayload = int(d.ip4.Length) - int(d.ip4.IHL)*4
			}
			src, _ = netip.AddrFromSlice(d.ip4.SrcIP)
			dst, _ = netip.AddrFromSlice(d.ip4.DstIP)
			ip = IPInfo{TTL: d.ip4.TTL, ID: d.ip4.Id}
			haveIP = true
			if d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 {
				d.stats.Decoded++
				d.fragment4(src, dst, ip, at)
				return
			}
		case layers.LayerTypeIPv6:
			src, _ = netip.AddrFromSlice(d.ip6.SrcIP)
			dst, _ = netip.AddrFromSlice(d.ip6.DstIP)
			ip = IPInfo{TTL: d.ip6.HopLimit, V6: true}
			haveIP = true
			if d.ip6.NextHeader == layers.IPProtocolTCP || d.ip6.NextHeader == layers.IPProtocolUDP {
				d.ipPayload = int(d.ip6.Length) // no extension headers to subtract
			}
		case layers.LayerTypeIPv6Fragment:
			d.stats.Decoded++
			d.fragment6(src, dst, ip, at)
			return
		case layers.LayerTypeUDP:
			d.stats.Decoded++
			d.udpPacket(src, dst, ip, &d.udp, at)
			return
		case layers.LayerTypeTCP:
			d.stats.Decoded++
			d.tcpPacket(src, dst, ip, &d.tcp, at)
			return
		case layers.LayerTypeICMPv4:
			d.stats.Decoded++
			d.icmpPacket(src, ip, d.icmp4.TypeCode.Type(), d.icmp4.TypeCode.Code(), icmp4Rest(&d.icmp4), d.icmp4.Payload, false, at)
			return
		case layers.LayerTypeICMPv6:
			d.stats.Decoded++
			d.icmpPacket(src, ip, d.icmp6.TypeCode.Type(), d.icmp6.TypeCode.Code(), icmp6Rest(&d.icmp6), icmp6Body(&d.icmp6), true, at)
			return
		}
	}
	if haveIP {
		d.stats.Decoded++
	}
}

// icmp6Body returns the quoted packet of an ICMPv6 error (RFC 4443 §3):
// gopacket's Payload starts with the 4 bytes of unused/MTU/pointer field.
func icmp6Body(m *layers.ICMPv6) []byte {
	if len(m.Payload) < 4 {
		return nil
	}
	return m.Payload[4:]
}

// fragment4 offers an IPv4 fragment (RFC 791) to the defragmenter and
// decodes the datagram when it is complete.
func (d *Decoder) fragment4(src, dst netip.Addr, ip IPInfo, at capture.Ref) {
	d.stats.Fragments++
	k := ipfrag.Key{Src: src, Dst: dst, ID: uint32(d.ip4.Id), Proto: uint8(d.ip4.Protocol)}
	more := d.ip4.Flags&layers.IPv4MoreFragments != 0
	datagram, _, complete, err := d.frag.Add(k, int(d.ip4.FragOffset)*8, more, d.ip4.Payload, at)
	if err != nil {
		d.note(at, fmt.Sprintf("IPv4 fragment from %s dropped: %v", src, err))
		return
	}
	if complete {
		d.stats.Reassembled++
		d.transport(src, dst, ip, d.ip4.Protocol, datagram, at)
	}
}

// fragment6 offers an IPv6 fragment (RFC 8200 §4.5) to the defragmenter.
func (d *Decoder) fragment6(src, dst netip.Addr, ip IPInfo, at capture.Ref) {
	d.stats.Fragments++
	f := &d.ip6frag
	k := ipfrag.Key{Src: src, Dst: dst, ID: f.Identification, Proto: uint8(f.NextHeader)}
	datagram, _, complete, err := d.frag.Add(k, int(f.FragmentOffset)*8, f.MoreFragments, f.Payload, at)
	if err != nil {
		d.note(at, fmt.Sprintf("IPv6 fragment from %s dropped: %v", src, err))
		return
	}
	if complete {
		d.stats.Reassembled++
		d.transport(src, dst, ip, f.NextHeader, datagram, at)
	}
}

// transport decodes the transport header of a reassembled datagram. The
// evidence points at the packet that completed it, as Wireshark's does.
func (d *Decoder) transport(src, dst netip.Addr, ip IPInfo, proto layers.IPProtocol, data []byte, at capture.Ref) {
	d.ipPayload = len(data) // a reassembled datagram is whole
	switch proto {
	case layers.IPProtocolUDP:
		if d.udp.DecodeFromBytes(data, gopacket.NilDecodeFeedback) == nil {
			d.udpPacket(src, dst, ip, &d.udp, at)
		}
	case layers.IPProtocolTCP:
		if d.tcp.DecodeFromBytes(data, gopacket.NilDecodeFeedback) == nil {
			d.tcpPacket(src, dst, ip, &d.tcp, at)
		}
	case layers.IPProtocolICMPv4:
		if d.icmp4.DecodeFromBytes(data, gopacket.NilDecodeFeedback) == nil {
			d.icmpPacket(src, ip, d.icmp4.TypeCode.Type(), d.icmp4.TypeCode.Code(), icmp4Rest(&d.icmp4), d.icmp4.Payload, false, at)
		}
	case layers.IPProtocolICMPv6:
		if d.icmp6.DecodeFromBytes(data, gopacket.NilDecodeFeedback) == nil {
			d.icmpPacket(src, ip, d.icmp6.TypeCode.Type(), d.icmp6.TypeCode.Code(), icmp6Rest(&d.icmp6), icmp6Body(&d.icmp6), true, at)
		}
	}
}

// nflogPayload returns the packet carried in a LINKTYPE_NFLOG frame: a
// 4-byte header (family, version, resource ID) followed by TLVs whose
// lengths are in host byte order (little-endian on the machines that write
// them); type 9 (NFULA_PAYLOAD) holds the IP packet.
func nflogPayload(b []byte) ([]byte, bool) {
	if len(b) < 4 {
		return nil, false
	}
	b = b[4:]
	for len(b) >= 4 {
		l := int(binary.LittleEndian.Uint16(b[0:2]))
		t := binary.LittleEndian.Uint16(b[2:4])
		if l < 4 || l > len(b) {
			return nil, false
		}
		if t == 9 {
			return b[4:l], true
		}
		l = (l + 3) &^ 3
		if l > len(b) {
			return nil, false
		}
		b = b[l:]
	}
	return nil, false
}

func (d *Decoder) malformed(at capture.Ref) {
	d.stats.Malformed++
	if d.firstMalformed.IsZero() {
		d.firstMalformed = at
	}
}

func (d *Decoder) note(at capture.Ref, msg string) {
	d.ev.Notes = append(d.ev.Notes, Note{At: at, Msg: msg})
}

// noteLimit records, once per kind, that a limit was reached.
func (d *Decoder) noteLimit(at capture.Ref, kind, msg string) {
	if d.limitNoted[kind] {
		return
	}
	d.limitNoted[kind] = true
	d.note(at, msg)
}

// Finish ends the input: every stream is flushed and finished in a fixed
// order, and the events are returned.
func (d *Decoder) Finish() *Events {
	d.finishFlows()
	switch {
	case d.stats.SnapCut > 0 && d.trimmed:
		d.note(d.firstSnapCut, fmt.Sprintf("%d packets had their application data cut for privacy by modsniff capture (first: packet %d); record headers, DNS and handshakes are whole (capture with --full to keep everything)",
			d.stats.SnapCut, d.firstSnapCut.Packet))
	case d.stats.SnapCut > 0:
		d.note(d.firstSnapCut, fmt.Sprintf("%d packets were cut short by the capture's snap length (first: packet %d); what lay beyond the cut could not be decoded",
			d.stats.SnapCut, d.firstSnapCut.Packet))
	}
	if d.stats.Malformed > 0 {
		d.note(d.firstMalformed, fmt.Sprintf("%d packets had a malformed or truncated header (first: packet %d)",
			d.stats.Malformed, d.firstMalformed.Packet))
	}
	d.stats.BufferedLimit = d.budget.Hits()
	d.ev.Stats = append(d.ev.Stats, d.stats)
	return d.ev
}
