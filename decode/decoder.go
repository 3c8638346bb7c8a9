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
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode/ipfrag"
	"github.com/modsniff/modsniff/decode/link"
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
	// Budget, when set, stops reading an input early — keeping everything
	// decoded before — when the wall clock or the heap passes its limits.
	Budget *Budget
	// Shards is the number of flow decoders NewSharded feeds, each on a
	// goroutine of its own: 0 for one per CPU (GOMAXPROCS; none on one
	// CPU), Sequential for none (the caller's goroutine decodes
	// everything).
	Shards int
}

// Sequential is the Shards value that decodes on the caller's goroutine.
const Sequential = -1

// Decoder decodes the packets of one input. Feed it every packet with
// Packet, in capture order, then call Finish.
type Decoder struct {
	input  int
	lim    Limits
	certs  *tlswire.CertCache
	intern *tlswire.Interner // shares the lists of the hellos of all connections
	ev     *Events
	stats  Stats

	// ll decodes each frame's layers in place: decoding a packet allocates
	// nothing.
	ll *link.Layers

	frag   *ipfrag.Defragmenter
	budget *reassembly.Budget
	flows  map[flowKey]*flow
	// openFlows and endedFlows hold the flows of the table by last
	// activity, least recent first (see maybeSweep).
	openFlows, endedFlows flowList
	// lastFlow is the flow of the last TCP packet (nil once finished).
	lastFlow *flow
	dns      map[dnsKey]*dnsState
	tls      []*TLSSession
	keys     tlswire.KeySource
	recBufs  *tlswire.RecordBuffers
	sweepAt  time.Time
	nflows   int

	gtpu           int // GTP-U datagrams seen (not decapsulated)
	firstGTPU      capture.Ref
	unsupported    map[layers.LinkType]bool
	firstMalformed capture.Ref
	firstSnapCut   capture.Ref
	trimmed        bool
	// ipPayload is the current packet's IP payload length on the wire (-1
	// when unknown), to tell how much of a TCP segment a snap length cut.
	ipPayload  int
	limitNoted map[string]bool
	// ntp holds the NTP requests awaiting their reply.
	ntp map[ntpKey]*NTPExchange
	// noteCounts counts the per-packet notes of each capped kind.
	noteCounts [numNoteKinds]noteCount

	// seg, set on the decoders of a Sharded, records when each event was
	// created so that the shards' events merge into capture order;
	// front, set on its front end, routes the packets to the shards.
	seg   *segLog
	front *Sharded

	// The events of connections and DNS transactions (see slab).
	conns     slab[TCPConn]
	sessions  slab[tlsEvent]
	exchanges slab[DNSExchange]
	responses slab[DNSResponse]
	// answers holds answer sections already kept by the hash of their
	// records, for later responses with the same records to share (see
	// records); recs is the scratch list they are built in.
	answers map[uint64][]DNSRecord
	recs    []DNSRecord
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
		intern:      tlswire.NewInterner(4096),
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
		ll:          link.New(),
	}
	d.stats.Input = input
	return d
}

// Packet decodes one captured frame.
func (d *Decoder) Packet(p *capture.Packet) {
	if at, ok := d.linkLayer(p); ok {
		d.network(at)
	}
}

// ref returns the Ref of packet number n of this input, captured at t.
func (d *Decoder) ref(n int, t time.Time) capture.Ref {
	return capture.NewRef(d.input, n, t)
}

// linkLayer counts a frame, sweeps the flow table when it is time, and
// decodes the frame's layers; it reports whether the network layer is to
// be looked at.
func (d *Decoder) linkLayer(p *capture.Packet) (capture.Ref, bool) {
	at := d.frame(p)
	return at, d.decodeLink(p, at)
}

// frame counts a frame and sweeps the flow table when it is time; it
// returns the frame's Ref.
func (d *Decoder) frame(p *capture.Packet) capture.Ref {
	d.stats.Packets++
	d.stats.Bytes += int64(len(p.Data))
	if d.stats.First.IsZero() {
		d.stats.First = p.Time
	}
	d.stats.Last = p.Time
	at := d.ref(p.Number, p.Time)
	if p.Length > len(p.Data) {
		d.stats.SnapCut++
		if d.firstSnapCut.IsZero() {
			d.firstSnapCut = at
		}
	}
	d.maybeSweep(p.Time)
	return at
}

// decodeLink decodes the layers of frame p, counted as at; it reports
// whether the network layer is to be looked at.
func (d *Decoder) decodeLink(p *capture.Packet, at capture.Ref) bool {
	switch err := d.ll.Decode(p.LinkType, p.Data, p.ByteOrder); err {
	case nil:
	case link.ErrNFLOG:
		d.malformed(at)
		return false
	case link.ErrUnsupported:
		d.stats.Unsupported++
		if !d.unsupported[p.LinkType] {
			d.unsupported[p.LinkType] = true
			d.note(at, fmt.Sprintf("link type %s is not decoded; its packets are skipped (first: packet %d)",
				capture.LinkTypeName(p.LinkType), p.Number))
		}
		return false
	default:
		d.malformed(at)
	}
	return true
}

// network handles whatever the parser found above the link layer.
func (d *Decoder) network(at capture.Ref) {
	var (
		src, dst netip.Addr
		ip       IPInfo
		haveIP   bool
	)
	d.ipPayload = -1
	for _, lt := range d.ll.Decoded {
		switch lt {
		case layers.LayerTypeIPv4:
			if d.ll.IPv4.Length != 0 { // 0: a TSO capture without the real length
				d.ipPayload = int(d.ll.IPv4.Length) - int(d.ll.IPv4.IHL)*4
			}
			src, _ = netip.AddrFromSlice(d.ll.IPv4.SrcIP)
			dst, _ = netip.AddrFromSlice(d.ll.IPv4.DstIP)
			ip = IPInfo{TTL: d.ll.IPv4.TTL, ID: d.ll.IPv4.Id}
			haveIP = true
			if d.ll.IPv4.Flags&layers.IPv4MoreFragments != 0 || d.ll.IPv4.FragOffset != 0 {
				d.stats.Decoded++
				d.fragment4(src, dst, ip, at)
				return
			}
		case layers.LayerTypeIPv6:
			src, _ = netip.AddrFromSlice(d.ll.IPv6.SrcIP)
			dst, _ = netip.AddrFromSlice(d.ll.IPv6.DstIP)
			ip = IPInfo{TTL: d.ll.IPv6.HopLimit, V6: true}
			haveIP = true
			if d.ll.IPv6.NextHeader == layers.IPProtocolTCP || d.ll.IPv6.NextHeader == layers.IPProtocolUDP {
				d.ipPayload = int(d.ll.IPv6.Length) // no extension headers to subtract
			}
		case layers.LayerTypeIPv6Fragment:
			d.stats.Decoded++
			d.fragment6(src, dst, ip, at)
			return
		case layers.LayerTypeUDP:
			if d.front != nil {
				d.front.route(d.front.udpShard(src, dst, &d.ll.UDP), src, dst, ip, layers.IPProtocolUDP, &d.ll.UDP.BaseLayer)
				return
			}
			d.stats.Decoded++
			d.udpDatagram(src, dst, ip, &d.ll.UDP, at)
			return
		case layers.LayerTypeTCP:
			if d.front != nil {
				d.front.route(d.front.tcpShard(src, dst, &d.ll.TCP), src, dst, ip, layers.IPProtocolTCP, &d.ll.TCP.BaseLayer)
				return
			}
			d.stats.Decoded++
			d.tcpPacket(src, dst, ip, &d.ll.TCP, at)
			return
		case layers.LayerTypeICMPv4:
			if d.front != nil {
				d.front.route(d.front.icmpShard(d.ll.ICMPv4.Payload, false), src, dst, ip, layers.IPProtocolICMPv4, &d.ll.ICMPv4.BaseLayer)
				return
			}
			d.stats.Decoded++
			d.icmpPacket(src, ip, d.ll.ICMPv4.TypeCode.Type(), d.ll.ICMPv4.TypeCode.Code(), icmp4Rest(&d.ll.ICMPv4), d.ll.ICMPv4.Payload, false, at)
			return
		case layers.LayerTypeICMPv6:
			if d.front != nil {
				d.front.route(d.front.icmpShard(icmp6Body(&d.ll.ICMPv6), true), src, dst, ip, layers.IPProtocolICMPv6, &d.ll.ICMPv6.BaseLayer)
				return
			}
			d.stats.Decoded++
			d.icmpPacket(src, ip, d.ll.ICMPv6.TypeCode.Type(), d.ll.ICMPv6.TypeCode.Code(), icmp6Rest(&d.ll.ICMPv6), icmp6Body(&d.ll.ICMPv6), true, at)
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
	k := ipfrag.Key{Src: src, Dst: dst, ID: uint32(d.ll.IPv4.Id), Proto: uint8(d.ll.IPv4.Protocol)}
	more := d.ll.IPv4.Flags&layers.IPv4MoreFragments != 0
	datagram, _, complete, err := d.frag.Add(k, int(d.ll.IPv4.FragOffset)*8, more, d.ll.IPv4.Payload, at)
	if err != nil {
		d.noteKind(at, noteFrag4, fmt.Sprintf("IPv4 fragment from %s dropped: %v", src, err))
		return
	}
	if complete {
		d.stats.Reassembled++
		d.transport(src, dst, ip, d.ll.IPv4.Protocol, datagram, at)
	}
}

// fragment6 offers an IPv6 fragment (RFC 8200 §4.5) to the defragmenter.
func (d *Decoder) fragment6(src, dst netip.Addr, ip IPInfo, at capture.Ref) {
	d.stats.Fragments++
	f := &d.ll.IPv6Frag
	k := ipfrag.Key{Src: src, Dst: dst, ID: f.Identification, Proto: uint8(f.NextHeader)}
	datagram, _, complete, err := d.frag.Add(k, int(f.FragmentOffset)*8, f.MoreFragments, f.Payload, at)
	if err != nil {
		d.noteKind(at, noteFrag6, fmt.Sprintf("IPv6 fragment from %s dropped: %v", src, err))
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
	if d.front != nil {
		d.front.datagram(src, dst, ip, proto, data)
		return
	}
	d.ipPayload = len(data) // a reassembled datagram is whole
	d.decodeTransport(src, dst, ip, proto, data, at)
}

// decodeTransport decodes a transport header and what it carries; it
// reports false when the header could not be decoded.
func (d *Decoder) decodeTransport(src, dst netip.Addr, ip IPInfo, proto layers.IPProtocol, data []byte, at capture.Ref) bool {
	switch proto {
	case layers.IPProtocolUDP:
		if d.ll.UDP.DecodeFromBytes(data, gopacket.NilDecodeFeedback) != nil {
			return false
		}
		d.udpDatagram(src, dst, ip, &d.ll.UDP, at)
	case layers.IPProtocolTCP:
		if decodeTCP(&d.ll.TCP, data) != nil {
			return false
		}
		d.tcpPacket(src, dst, ip, &d.ll.TCP, at)
	case layers.IPProtocolICMPv4:
		if d.ll.ICMPv4.DecodeFromBytes(data, gopacket.NilDecodeFeedback) != nil {
			return false
		}
		d.icmpPacket(src, ip, d.ll.ICMPv4.TypeCode.Type(), d.ll.ICMPv4.TypeCode.Code(), icmp4Rest(&d.ll.ICMPv4), d.ll.ICMPv4.Payload, false, at)
	case layers.IPProtocolICMPv6:
		if d.ll.ICMPv6.DecodeFromBytes(data, gopacket.NilDecodeFeedback) != nil {
			return false
		}
		d.icmpPacket(src, ip, d.ll.ICMPv6.TypeCode.Type(), d.ll.ICMPv6.TypeCode.Code(), icmp6Rest(&d.ll.ICMPv6), icmp6Body(&d.ll.ICMPv6), true, at)
	}
	return true
}

// gtpuPort is the GTP-U port (3GPP TS 29.281 §4.4.2).
const gtpuPort = 2152

// udpDatagram dispatches a UDP datagram: GTP-U tunnels are counted (their
// inner packets are not decapsulated), everything else goes to udpPacket.
func (d *Decoder) udpDatagram(src, dst netip.Addr, ip IPInfo, u *layers.UDP, at capture.Ref) {
	if u.SrcPort == gtpuPort || u.DstPort == gtpuPort {
		if d.gtpu == 0 {
			d.firstGTPU = at
		}
		d.gtpu++
		return
	}
	d.udpPacket(src, dst, ip, u, at)
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

// noteFragments says, once per input, what became of IP fragments that
// never made a datagram: evicted to stay within the defragmenter's limits
// (a fragment flood), timed out, or overlapping.
func (d *Decoder) noteFragments() {
	st := d.frag.Stats()
	if st.Dropped == 0 && st.Expired == 0 && st.Overlaps == 0 {
		return
	}
	var parts []string
	if st.Dropped > 0 {
		parts = append(parts, fmt.Sprintf("%s evicted incomplete to stay within the defragmenter's limits (%d datagrams, %d MiB at once)",
			groupThousands(st.Dropped), d.lim.MaxFragDatagrams, d.lim.MaxFragBytes>>20))
	}
	if st.Expired > 0 {
		parts = append(parts, groupThousands(st.Expired)+" timed out incomplete")
	}
	if st.Overlaps > 0 {
		parts = append(parts, groupThousands(st.Overlaps)+" overlapping fragments discarded")
	}
	d.note(capture.NewRef(d.input, 0, d.stats.Last), fmt.Sprintf("IP fragments: %d seen, %d datagrams reassembled; %s",
		d.stats.Fragments, d.stats.Reassembled, strings.Join(parts, ", ")))
}

// maxNotesPerKind caps the notes one kind of per-packet damage adds (a
// fragment flood would otherwise add one note per packet: millions of
// notes, gigabytes of report).
const maxNotesPerKind = 16

// noteKind records a note about one packet, at most maxNotesPerKind per
// kind; the rest are counted and summarised by Finish in one note that
// names the kind: "12,345 more notes like this: <what>".
func (d *Decoder) noteKind(at capture.Ref, kind noteKindID, msg string) {
	c := &d.noteCounts[kind]
	c.n++
	if c.n > maxNotesPerKind {
		if c.n == maxNotesPerKind+1 {
			c.first = at
			if d.seg != nil {
				d.seg.firstSuppressed[kind] = d.seg.cur
			}
		}
		return
	}
	if d.seg != nil {
		d.seg.kindNotes = append(d.seg.kindNotes, kindNote{len(d.ev.Notes), kind})
	}
	d.note(at, msg)
}

// noteKindID names a kind of per-packet note capped by noteKind.
type noteKindID int

const (
	noteFrag4 noteKindID = iota
	noteFrag6
	noteDNSShort
	noteHTTPHead
	numNoteKinds
)

// noteKindWhat describes each kind in the summary of suppressed notes.
var noteKindWhat = [numNoteKinds]string{
	noteFrag4:    "IPv4 fragments dropped",
	noteFrag6:    "IPv6 fragments dropped",
	noteDNSShort: "DNS messages shorter than their header",
	noteHTTPHead: "HTTP header blocks over the size limit",
}

// noteCount counts the notes of one kind and where the first suppressed
// one was.
type noteCount struct {
	n     int
	first capture.Ref
}

// noteSuppressed adds, per kind past its cap, one note that counts the
// notes left out.
func (d *Decoder) noteSuppressed() {
	for k := range numNoteKinds {
		c := d.noteCounts[k]
		if more := c.n - maxNotesPerKind; more > 0 {
			d.note(c.first, fmt.Sprintf("%s more notes like the above (%s), from packet %d on, were left out",
				groupThousands(more), noteKindWhat[k], c.first.Packet))
		}
	}
}

// groupThousands writes n with commas between groups of three digits.
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
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
	d.answers, d.recs = nil, nil // only for sharing while decoding
	d.stats.BufferedLimit = d.budget.Hits()
	return d.finishInput()
}

// finishInput adds the notes that sum up the input, after its flows are
// finished, and its Stats.
func (d *Decoder) finishInput() *Events {
	d.noteSuppressed()
	switch {
	case d.stats.SnapCut > 0 && d.trimmed:
		d.note(d.firstSnapCut, fmt.Sprintf("%d packets had their application data cut for privacy by modsniff capture (first: packet %d); record headers, DNS and handshakes are whole (capture with --full to keep everything)",
			d.stats.SnapCut, d.firstSnapCut.Packet))
	case d.stats.SnapCut > 0:
		d.note(d.firstSnapCut, fmt.Sprintf("%d packets were cut short by the capture's snap length (first: packet %d); what lay beyond the cut could not be decoded",
			d.stats.SnapCut, d.firstSnapCut.Packet))
	}
	d.noteFragments()
	if d.gtpu > 0 {
		d.note(d.firstGTPU, fmt.Sprintf("%d GTP-U datagrams (UDP port 2152, mobile-network tunnels) were seen and not decoded (first: packet %d): the traffic inside them is not analysed",
			d.gtpu, d.firstGTPU.Packet))
	}
	if d.stats.Malformed > 0 {
		d.note(d.firstMalformed, fmt.Sprintf("%d packets had a malformed or truncated header (first: packet %d)",
			d.stats.Malformed, d.firstMalformed.Packet))
	}
	d.ev.Stats = append(d.ev.Stats, d.stats)
	return d.ev
}
