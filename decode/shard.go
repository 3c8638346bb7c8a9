package decode

import (
	"cmp"
	"encoding/binary"
	"math"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode/link"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// Sharded decodes one input on several goroutines and gives the events the
// sequential Decoder gives, in the same order.
//
// A front end, on the caller's goroutine, counts each frame, decodes its
// link and IP headers and reassembles IP fragments; it then hands the
// packet to one of the shards, chosen by a symmetric hash of its transport
// endpoints: both directions of a TCP connection, a DNS query and its
// response, and an ICMP error and the datagram it quotes reach the same
// shard. NTP, whose pending requests are bounded for the whole input, goes
// to the first shard. Each shard is a Decoder of its own, with its own
// flow table, on its own goroutine; packets travel in batches.
//
// Every event a decoder creates is stamped with the moment that created it
// (a packet, a sweep of idle flows at a packet, the end of the input) and,
// when a flow is finished, the flow's first packet: Finish merges the
// shards' events by these stamps, which is the order the sequential
// Decoder creates them in. The per-kind caps of notes are applied to the
// merged notes.
//
// The limits that hold for a whole input are split between the shards:
// each gets an equal share of Limits.MaxFlows, MaxEvents, TotalBuffer and
// DecryptBuffer. As long as no shard reaches its share, the input as a
// whole stayed under the limit and the result is the sequential one;
// Finish reports whether that held (see Finish).
type Sharded struct {
	fe     *Decoder
	shards []*shard
	free   chan *batch
	made   int
	share  Limits
	wg     sync.WaitGroup
	cur    *capture.Packet
	closed bool
	// near is set by a shard that reached its share of a limit.
	near atomic.Bool
	// aborted tells the shards to drop what is queued.
	aborted atomic.Bool
}

// shard is one back end: a Decoder, its goroutine's queue of batches, and
// the batch the front end is filling for it.
type shard struct {
	d    *Decoder
	in   chan *batch
	fill *batch
	ack  chan struct{}
	pre  []*TLSSession // its TLS sessions before finishTLS dropped the empty ones
}

// Batching keeps the channel operations to a few per hundred packets:
// a batch goes when it holds batchPackets messages or batchBytes of frames.
// queueBatches bound what waits for each shard, so memory stays at about a
// megabyte whatever the input. batchSlack is room past batchBytes for the
// frame that fills a batch, so that an Ethernet or jumbo frame never
// reallocates the buffer. Batches of 256 frames and 256 KiB decoded no
// faster and held 4 MB: a quarter of the live heap of the decoding of a
// 1 GiB capture.
const (
	batchPackets = 64
	batchBytes   = 64 << 10
	batchSlack   = 16 << 10
	queueBatches = 4
)

type msgKind uint8

const (
	msgPacket msgKind = iota
	msgSweep
	msgDatagram
	msgTransport
	msgSync
	msgFinish
)

// msg is one unit of work for a shard: a frame, a reassembled datagram, a
// sweep of the flow table, a barrier, or the end of the input.
type msg struct {
	kind     msgKind
	lt       layers.LinkType
	proto    layers.IPProtocol
	num      int
	t        time.Time
	off, n   int // the frame or datagram in batch.buf
	order    binary.ByteOrder
	src, dst netip.Addr
	ip       IPInfo
	// ipPayload is the IP payload length on the wire, -1 when unknown.
	ipPayload int
}

type batch struct {
	msgs []msg
	buf  []byte
}

// maxShards bounds the default number of shards.
const maxShards = 8

// NewSharded returns a decoder for the input with the given index that
// feeds opt.Shards flow decoders (GOMAXPROCS, at most maxShards, when 0),
// or nil for Sequential, for 0 on one CPU, or when the limits are too small
// to share. One flow decoder is a pipeline of two stages (the front end and
// the flows) whose results are exact whatever limit it meets.
func NewSharded(input int, opt Options) *Sharded {
	n := opt.Shards
	if n == 0 {
		// Past a few shards the front end is the bottleneck, and the
		// smaller shares of the limits only make the second pass
		// likelier. One CPU decodes sequentially.
		n = min(runtime.GOMAXPROCS(0), maxShards)
		if n == 1 {
			return nil
		}
	}
	if n < 1 {
		return nil
	}
	lim := opt.Limits.withDefaults()
	share := lim
	share.MaxFlows /= n
	share.MaxEvents /= n
	share.TotalBuffer /= int64(n)
	share.DecryptBuffer /= n
	if share.MaxFlows < 1 || share.MaxEvents < 1 || share.TotalBuffer < 1 ||
		share.DecryptBuffer < 2*tlswire.MaxRecordLength {
		return nil
	}
	if opt.Certs == nil {
		opt.Certs = tlswire.NewCertCache(0) // one for all shards, so each chain is parsed once
	}
	s := &Sharded{share: share, free: make(chan *batch, n*(queueBatches+2))}
	s.fe = New(input, opt)
	s.fe.front = s
	s.fe.seg = &segLog{d: s.fe}
	sopt := opt
	sopt.Limits = share
	for range n {
		sh := &shard{d: New(input, sopt), in: make(chan *batch, queueBatches), ack: make(chan struct{})}
		sh.d.seg = &segLog{d: sh.d}
		s.shards = append(s.shards, sh)
		s.wg.Add(1)
		go s.run(sh)
	}
	return s
}

// Packet decodes one captured frame; frames must come in capture order.
// p.Data is copied: the caller may reuse it.
func (s *Sharded) Packet(p *capture.Packet) {
	fe := s.fe
	fe.seg.begin(moment{int64(p.Number), phasePacket, 0})
	s.cur = p
	sweep := fe.sweepAt
	at := fe.frame(p) // the front end holds no flow: this only keeps the sweep clock
	if !fe.sweepAt.Equal(sweep) {
		for i := range s.shards {
			s.put(i, msg{kind: msgSweep, num: p.Number, t: p.Time}, nil)
		}
	}
	switch g, ok := plainDatagram(p.LinkType, p.Data); {
	case ok && len(g.segment) >= 4:
		// The commonest frame: its flow decoder decodes the transport
		// header, of which the front end needs only the ports.
		i := s.portShard(g.proto, g.src, g.dst, binary.BigEndian.Uint16(g.segment), binary.BigEndian.Uint16(g.segment[2:]))
		s.putTransport(i, g.src, g.dst, g.ip, g.proto, len(g.segment), g.segment)
	case fe.decodeLink(p, at):
		fe.network(at) // calls route or datagram
	}
	s.cur = nil
}

// route hands the transport layer l of the current frame, which the
// front end decoded, to shard i: the shard decodes it again from its bytes
// (the layer's header and payload), not the whole frame.
func (s *Sharded) route(i int, src, dst netip.Addr, ip IPInfo, proto layers.IPProtocol, l *layers.BaseLayer) {
	p := s.cur
	h, ok := link.Offset(p.Data, l.Contents)
	e, ok2 := link.Offset(p.Data, l.Payload)
	if !ok || !ok2 || e != h+len(l.Contents) {
		// Not one piece of the frame (never for the layers decoded in
		// place): the shard decodes the whole frame.
		s.put(i, msg{kind: msgPacket, lt: p.LinkType, num: p.Number, t: p.Time, order: p.ByteOrder}, p.Data)
		return
	}
	s.putTransport(i, src, dst, ip, proto, s.fe.ipPayload, p.Data[h:e+len(l.Payload)])
}

// putTransport hands the transport segment seg (header and payload) of
// the current frame to shard i; ipPayload is the IP payload length on the
// wire, -1 when unknown.
func (s *Sharded) putTransport(i int, src, dst netip.Addr, ip IPInfo, proto layers.IPProtocol, ipPayload int, seg []byte) {
	p := s.cur
	s.put(i, msg{kind: msgTransport, proto: proto, num: p.Number, t: p.Time, src: src, dst: dst, ip: ip, ipPayload: ipPayload}, seg)
}

// datagram hands an IP datagram the front end reassembled to the shard of
// its transport endpoints.
func (s *Sharded) datagram(src, dst netip.Addr, ip IPInfo, proto layers.IPProtocol, data []byte) {
	i := 0
	if len(data) >= 4 {
		sp, dp := binary.BigEndian.Uint16(data), binary.BigEndian.Uint16(data[2:])
		switch proto {
		case layers.IPProtocolUDP, layers.IPProtocolTCP:
			i = s.portShard(proto, src, dst, sp, dp)
		case layers.IPProtocolICMPv4:
			if len(data) > 8 {
				i = s.icmpShard(data[8:], false)
			}
		case layers.IPProtocolICMPv6:
			if len(data) > 8 {
				i = s.icmpShard(data[8:], true)
			}
		}
	}
	p := s.cur
	s.put(i, msg{kind: msgDatagram, proto: proto, num: p.Number, t: p.Time, src: src, dst: dst, ip: ip}, data)
}

func (s *Sharded) tcpShard(src, dst netip.Addr, t *layers.TCP) int {
	return s.portShard(layers.IPProtocolTCP, src, dst, uint16(t.SrcPort), uint16(t.DstPort))
}

func (s *Sharded) udpShard(src, dst netip.Addr, u *layers.UDP) int {
	return s.portShard(layers.IPProtocolUDP, src, dst, uint16(u.SrcPort), uint16(u.DstPort))
}

// portShard returns the shard of a TCP or UDP segment between src:sp and
// dst:dp. NTP goes to the first shard: its table of requests awaiting a
// reply is bounded for the whole input.
func (s *Sharded) portShard(proto layers.IPProtocol, src, dst netip.Addr, sp, dp uint16) int {
	if proto == layers.IPProtocolUDP && (sp == ntpPort || dp == ntpPort) {
		return 0
	}
	return s.pick(netip.AddrPortFrom(src, sp), netip.AddrPortFrom(dst, dp))
}

// icmpShard sends an ICMP error to the shard of the datagram it quotes
// (RFC 792, RFC 4443 §2.4), where its connection or DNS transaction is.
func (s *Sharded) icmpShard(body []byte, v6 bool) int {
	q, ok := parseQuoted(body, v6)
	if !ok {
		return 0
	}
	return s.pick(q.src, q.dst)
}

// pick returns the shard of the endpoints a and b, the same for (b, a).
func (s *Sharded) pick(a, b netip.AddrPort) int {
	return int((mix(endpointHash(a)) + mix(endpointHash(b))) % uint64(len(s.shards)))
}

func endpointHash(a netip.AddrPort) uint64 {
	if ip := a.Addr(); ip.Is4() {
		b := ip.As4()
		return uint64(binary.LittleEndian.Uint32(b[:]))<<16 | uint64(a.Port())
	}
	b := a.Addr().As16()
	return binary.LittleEndian.Uint64(b[:8])*0x9e3779b97f4a7c15 ^ binary.LittleEndian.Uint64(b[8:]) ^ uint64(a.Port())<<17
}

// mix is the finalizer of SplitMix64.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// put appends m, with a copy of data, to the batch of shard i, and sends
// the batch when it is full.
func (s *Sharded) put(i int, m msg, data []byte) {
	sh := s.shards[i]
	b := sh.fill
	if b == nil {
		b = s.batch()
		sh.fill = b
	}
	m.off, m.n = len(b.buf), len(data)
	b.buf = append(b.buf, data...)
	b.msgs = append(b.msgs, m)
	if len(b.msgs) >= batchPackets || len(b.buf) >= batchBytes {
		s.send(i)
	}
}

func (s *Sharded) send(i int) {
	sh := s.shards[i]
	if sh.fill != nil {
		sh.in <- sh.fill
		sh.fill = nil
	}
}

// batch returns an empty batch: a used one, or a new one while fewer than
// the pool's capacity exist.
func (s *Sharded) batch() *batch {
	select {
	case b := <-s.free:
		return b
	default:
	}
	if s.made < cap(s.free) {
		s.made++
		return &batch{msgs: make([]msg, 0, batchPackets), buf: make([]byte, 0, batchBytes+batchSlack)}
	}
	return <-s.free
}

// Sync returns once every shard has decoded every packet given so far.
// The reader calls it before it adds the TLS secrets of a Decryption
// Secrets Block met mid-stream, so that, as in the sequential Decoder,
// they apply only to the packets after the block.
func (s *Sharded) Sync() {
	if s.closed {
		return
	}
	for i := range s.shards {
		s.put(i, msg{kind: msgSync}, nil)
		s.send(i)
	}
	for _, sh := range s.shards {
		<-sh.ack
	}
}

// run is a shard's goroutine.
func (s *Sharded) run(sh *shard) {
	defer s.wg.Done()
	d := sh.d
	for b := range sh.in {
		if s.aborted.Load() {
			s.free <- b // Abort: what is queued is not decoded
			continue
		}
		for i := range b.msgs {
			m := &b.msgs[i]
			data := b.buf[m.off : m.off+m.n]
			switch m.kind {
			case msgSweep:
				d.seg.begin(moment{int64(m.num), phaseSweep, 0})
				d.maybeSweep(m.t)
			case msgPacket:
				d.seg.begin(moment{int64(m.num), phasePacket, 0})
				d.maybeSweep(m.t)
				d.ll.Decode(m.lt, data, m.order) // its errors were counted by the front end
				d.network(d.ref(m.num, m.t))
				d.seg.checkShare(s.share)
			case msgTransport:
				d.seg.begin(moment{int64(m.num), phasePacket, 0})
				d.maybeSweep(m.t)
				d.stats.Decoded++
				d.ipPayload = m.ipPayload
				if at := d.ref(m.num, m.t); !d.decodeTransport(m.src, m.dst, m.ip, m.proto, data, at) {
					d.malformed(at) // a header the front end left to the shard
				}
				d.seg.checkShare(s.share)
			case msgDatagram:
				d.seg.begin(moment{int64(m.num), phasePacket, 0})
				d.maybeSweep(m.t)
				d.transport(m.src, m.dst, m.ip, m.proto, data, d.ref(m.num, m.t))
				d.seg.checkShare(s.share)
			case msgSync:
				sh.ack <- struct{}{}
				continue
			case msgFinish:
				sh.pre = d.finishShard(m.t)
				continue
			}
			if len(s.shards) > 1 && !s.near.Load() && !s.underShare(d) {
				s.near.Store(true)
			}
		}
		b.msgs, b.buf = b.msgs[:0], b.buf[:0]
		s.free <- b
	}
}

// finishShard finishes every live flow at the end of the input, as
// finishFlows does, and returns the TLS sessions that were started.
func (d *Decoder) finishShard(last time.Time) []*TLSSession {
	d.stats.Last = last
	all := make([]*flow, 0, len(d.flows))
	for _, f := range d.flows {
		all = append(all, f)
	}
	slices.SortFunc(all, func(a, b *flow) int { return cmp.Compare(a.seq, b.seq) })
	d.seg.begin(moment{endOfInput, phaseSweep, 0})
	at := d.ref(0, last)
	for _, f := range all {
		d.finishFlow(f.key, f, at)
	}
	d.seg.seal()
	pre := d.tls
	d.finishTLS()
	d.releaseTables()
	return pre
}

// releaseTables drops what a finished decoder kept only to decode: its flow
// table, its tables of DNS and NTP messages awaiting a reply, its share of
// the interned hello lists' index. The events keep what they point at; the
// merge that follows the last shard's end is the largest the heap gets,
// and these tables would be garbage alive through it.
func (d *Decoder) releaseTables() {
	d.flows, d.openFlows, d.endedFlows, d.lastFlow = nil, flowList{}, flowList{}, nil
	d.dns, d.ntp, d.answers, d.recs = nil, nil, nil, nil
	d.intern = nil
}

// finishing is called as a flow is about to be finished: what that
// creates is ordered by the flow's first packet among the flows finished
// at the same moment.
func (d *Decoder) finishing(f *flow) {
	if d.seg != nil {
		d.seg.begin(moment{d.seg.cur.at, d.seg.cur.phase, f.conn.First.Packet})
	}
}

// Finish ends the input and returns its events, merged from the shards.
// exact reports that no shard reached its share of a limit: the events
// are then those the sequential Decoder returns. Otherwise the input
// approached a limit (Limits) as a whole — more than MaxFlows live flows
// divided by the shards in one shard, and so on — and the events may
// differ from the sequential ones in what the limits cut; decoding the
// input again with New gives those.
func (s *Sharded) Finish() (ev *Events, exact bool) {
	fe := s.fe
	fe.seg.seal()
	for i := range s.shards {
		s.put(i, msg{kind: msgFinish, t: fe.stats.Last}, nil)
		s.send(i)
		close(s.shards[i].in)
	}
	s.closed = true
	s.wg.Wait()
	for len(s.free) > 0 {
		<-s.free // the batches' buffers are garbage through the merge
	}
	return s.merge(), s.exact()
}

// exact reports whether every shard stayed under its share of the limits.
// One shard is exact whatever it met: it decodes every flow, with the whole
// limits, in the order the sequential Decoder does.
func (s *Sharded) exact() bool {
	if len(s.shards) == 1 {
		return true
	}
	for _, sh := range s.shards {
		if !s.underShare(sh.d) {
			return false
		}
	}
	return true
}

// underShare reports whether shard decoder d stayed under its share of the
// limits: then the shards together stayed under the limits, and nothing
// was cut that the sequential decoder would have kept.
func (s *Sharded) underShare(d *Decoder) bool {
	return !d.seg.over && len(d.limitNoted) == 0 && d.stats.FlowsEvicted == 0 && d.budget.Hits() == 0 &&
		d.recBufs.Refused() == 0 && len(d.ev.ICMP) < s.share.MaxEvents && len(d.ev.HTTP) < s.share.MaxEvents
}

// Near reports whether a shard has reached its share of a limit: Finish
// will not be exact. A caller that can read the input again may Abort and
// decode it with New.
func (s *Sharded) Near() bool { return s.near.Load() }

// Abort stops the shards without merging their events.
func (s *Sharded) Abort() {
	if s.closed {
		return
	}
	s.aborted.Store(true)
	s.closed = true
	for i, sh := range s.shards {
		s.send(i)
		close(sh.in)
	}
	s.wg.Wait()
	s.shards, s.fe = nil, nil // what they decoded is garbage now
}

// merge puts the shards' events in the order the sequential Decoder
// creates them and adds the notes that sum up the input.
func (s *Sharded) merge() *Events {
	decs := []*Decoder{s.fe}
	pre := [][]*TLSSession{nil}
	for _, sh := range s.shards {
		decs = append(decs, sh.d)
		pre = append(pre, sh.pre)
	}

	// The merged lists, each its exact length: the events of a large
	// capture would be copied again and again by doubling.
	var nDNS, nTCP, nTLS, nProxy, nHTTP, nICMP, nNTP, nKept int
	for di, d := range decs {
		nDNS, nTCP, nTLS, nProxy = nDNS+len(d.ev.DNS), nTCP+len(d.ev.TCP), nTLS+len(pre[di]), nProxy+len(d.ev.Proxy)
		nHTTP, nICMP, nNTP, nKept = nHTTP+len(d.ev.HTTP), nICMP+len(d.ev.ICMP), nNTP+len(d.ev.NTP), nKept+len(d.ev.TLS)
	}
	out := &Events{DNS: withCap[*DNSExchange](nDNS), TCP: withCap[*TCPConn](nTCP), Proxy: withCap[*Tunnel](nProxy),
		HTTP: withCap[*HTTPExchange](nHTTP), ICMP: withCap[*ICMPError](nICMP), NTP: withCap[*NTPExchange](nNTP)}
	tls := withCap[*TLSSession](nTLS)
	kept := make(map[*TLSSession]bool, nKept)
	for _, d := range decs {
		for _, t := range d.ev.TLS {
			kept[t] = true
		}
	}
	var counts [numNoteKinds]int
	type cand struct {
		key moment
		dec int
		at  capture.Ref
		ok  bool
	}
	var first [numNoteKinds]cand
	kindAt := make([]int, len(decs)) // next entry of each decoder's kindNotes
	lists := make([]*segList, len(decs))
	for i, d := range decs {
		lists[i] = &d.seg.segs
	}
	eachSegment(lists, func(di int, key moment, from, to *[numEventKinds]int32) {
		d := decs[di]
		out.DNS = append(out.DNS, d.ev.DNS[from[evDNS]:to[evDNS]]...)
		out.TCP = append(out.TCP, d.ev.TCP[from[evTCP]:to[evTCP]]...)
		tls = append(tls, pre[di][from[evTLS]:to[evTLS]]...)
		out.Proxy = append(out.Proxy, d.ev.Proxy[from[evProxy]:to[evProxy]]...)
		out.HTTP = append(out.HTTP, d.ev.HTTP[from[evHTTP]:to[evHTTP]]...)
		out.ICMP = append(out.ICMP, d.ev.ICMP[from[evICMP]:to[evICMP]]...)
		out.NTP = append(out.NTP, d.ev.NTP[from[evNTP]:to[evNTP]]...)
		for j := from[evNotes]; j < to[evNotes]; j++ {
			kn := d.seg.kindNotes
			if k := kindAt[di]; k < len(kn) && kn[k].idx == int(j) {
				kindAt[di]++
				kind := kn[k].kind
				if counts[kind]++; counts[kind] > maxNotesPerKind {
					if counts[kind] == maxNotesPerKind+1 {
						first[kind] = cand{key, di, d.ev.Notes[j].At, true}
					}
					continue
				}
			}
			out.Notes = append(out.Notes, d.ev.Notes[j])
		}
	})
	out.TLS = withCap[*TLSSession](nKept) // exact too: the list lives as long as the events
	for _, t := range tls {
		if kept[t] {
			out.TLS = append(out.TLS, t)
		}
	}

	// The notes of each capped kind left out: every decoder kept its first
	// maxNotesPerKind and remembered where its next one was, so the first
	// one left out of the whole input is among those.
	fe := s.fe
	var sum [numNoteKinds]noteCount
	for di, d := range decs {
		for k := range numNoteKinds {
			c := d.noteCounts[k]
			sum[k].n += c.n
			if c.n <= maxNotesPerKind {
				continue
			}
			f := &first[k]
			key := d.seg.firstSuppressed[k]
			if !f.ok || key.compare(f.key) < 0 || key.compare(f.key) == 0 && di < f.dec {
				*f = cand{key, di, c.first, true}
			}
		}
	}
	for k := range numNoteKinds {
		sum[k].first = first[k].at
	}
	fe.noteCounts = sum
	for _, d := range decs[1:] {
		fe.stats.Decoded += d.stats.Decoded
		if d.stats.Malformed > 0 && (fe.stats.Malformed == 0 || d.firstMalformed.Packet < fe.firstMalformed.Packet) {
			fe.firstMalformed = d.firstMalformed
		}
		fe.stats.Malformed += d.stats.Malformed
		fe.stats.FlowsEvicted += d.stats.FlowsEvicted
		fe.stats.BufferedLimit += d.budget.Hits()
		if d.gtpu > 0 && (fe.gtpu == 0 || d.firstGTPU.Packet < fe.firstGTPU.Packet) {
			fe.firstGTPU = d.firstGTPU
		}
		fe.gtpu += d.gtpu
	}
	fe.stats.BufferedLimit += fe.budget.Hits()
	fe.ev = out
	return fe.finishInput()
}

// eachSegment calls f with the segments of the decoders' lists in the
// order of their moments, ties in decoder order, with the counts of the
// decoder's events before and after each. A decoder's list is in that
// order already (its counts only grow), so it takes the earliest head of
// the lists, and frees each block of segments once it is read.
func eachSegment(lists []*segList, f func(di int, key moment, from, to *[numEventKinds]int32)) {
	next := make([]int, len(lists))
	ends := make([][numEventKinds]int32, len(lists))
	for {
		di := -1
		for i, l := range lists {
			if next[i] < l.len() && (di < 0 || l.at(next[i]).key.compare(lists[di].at(next[di]).key) < 0) {
				di = i
			}
		}
		if di < 0 {
			return
		}
		sg := lists[di].take(next[di])
		next[di]++
		from := ends[di]
		for k := range numEventKinds {
			ends[di][k] += int32(sg.added[k])
		}
		f(di, sg.key, &from, &ends[di])
	}
}

// withCap returns an empty slice with room for n elements: nil for 0, as
// the sequential Decoder leaves a list it never appends to.
func withCap[T any](n int) []T {
	if n == 0 {
		return nil
	}
	return make([]T, 0, n)
}

// A moment is when the decoders create events: at a packet (phasePacket),
// at the sweep of the flow table that comes before it (phaseSweep), or at
// the end of the input; flow, when set, is the first packet of the flow
// being finished (a wire.Ref's packet number, so 32 bits: a moment is 16
// bytes, and a shard records one per moment that created events).
type moment struct {
	at    int64
	phase uint8
	flow  int32
}

const (
	phaseSweep uint8 = iota
	phasePacket
)

const endOfInput = math.MaxInt64

func (a moment) compare(b moment) int {
	if c := cmp.Compare(a.at, b.at); c != 0 {
		return c
	}
	if c := cmp.Compare(a.phase, b.phase); c != 0 {
		return c
	}
	return cmp.Compare(a.flow, b.flow)
}

// The kinds of events a segment counts.
const (
	evDNS = iota
	evTCP
	evTLS // Decoder.tls: every session started, before finishTLS
	evProxy
	evHTTP
	evICMP
	evNTP
	evNotes
	numEventKinds
)

// segLog divides a decoder's events into segments, each created at one
// moment: a segment holds the number of events of each kind it added.
type segLog struct {
	d    *Decoder
	cur  moment
	last [numEventKinds]int32
	segs segList
	// kindNotes locates, in Events.Notes, the notes of capped kinds;
	// firstSuppressed is the moment of the first one left out per kind.
	kindNotes       []kindNote
	firstSuppressed [numNoteKinds]moment
	// over is set once the shard held more live flows than its share.
	over bool
}

// segment is the events of each kind one moment added: 24 bytes, as a
// shard records one for most packets that create an event (82,000 on the
// bench's 4 GiB capture), all alive when the shards' events are merged. A
// moment that adds more than 255 events of a kind takes several segments.
type segment struct {
	key   moment
	added [numEventKinds]uint8
}

// segList is a list of segments in blocks of segBlock: a shard records one
// per moment that created events, and a slice growing by doubling spent
// more time copying itself than recording them.
type segList struct {
	blocks [][]segment
	n      int
}

const segBlock = 4096

func (l *segList) add(s segment) {
	if l.n%segBlock == 0 {
		l.blocks = append(l.blocks, make([]segment, 0, segBlock))
	}
	b := &l.blocks[len(l.blocks)-1]
	*b = append(*b, s)
	l.n++
}

func (l *segList) len() int { return l.n }

func (l *segList) at(i int) segment { return l.blocks[i/segBlock][i%segBlock] }

// take returns segment i of a list read in order, and frees its block
// after its last segment.
func (l *segList) take(i int) segment {
	s := l.at(i)
	if i%segBlock == segBlock-1 {
		l.blocks[i/segBlock] = nil
	}
	return s
}

type kindNote struct {
	idx  int
	kind noteKindID
}

// begin ends the current moment and starts m.
func (l *segLog) begin(m moment) {
	l.seal()
	l.cur = m
}

// seal records a segment if events were created since the last one.
func (l *segLog) seal() {
	ev := l.d.ev
	n := [numEventKinds]int32{
		evDNS: int32(len(ev.DNS)), evTCP: int32(len(ev.TCP)), evTLS: int32(len(l.d.tls)),
		evProxy: int32(len(ev.Proxy)), evHTTP: int32(len(ev.HTTP)), evICMP: int32(len(ev.ICMP)),
		evNTP: int32(len(ev.NTP)), evNotes: int32(len(ev.Notes)),
	}
	// Compared field by field (numEventKinds is 8, which the constants
	// below check): most packets create no event, and the comparison of
	// the whole array was a call to memequal per packet.
	const _, _ = uint(numEventKinds - 8), uint(8 - numEventKinds)
	last := &l.last
	if n[evDNS] == last[evDNS] && n[evTCP] == last[evTCP] && n[evTLS] == last[evTLS] && n[evProxy] == last[evProxy] &&
		n[evHTTP] == last[evHTTP] && n[evICMP] == last[evICMP] && n[evNTP] == last[evNTP] && n[evNotes] == last[evNotes] {
		return
	}
	// The counts only grow: the differences are what this moment added.
	for {
		sg := segment{key: l.cur}
		more := false
		for k := range numEventKinds {
			d := min(n[k]-last[k], math.MaxUint8)
			sg.added[k] = uint8(d)
			last[k] += d
			more = more || last[k] != n[k]
		}
		l.segs.add(sg)
		if !more {
			return
		}
	}
}

// checkShare notes a shard holding more live flows than its share of
// MaxFlows: the flows of all shards together may then have passed the
// limit, where the sequential Decoder would have finished some early.
func (l *segLog) checkShare(share Limits) {
	if len(l.d.flows) > share.MaxFlows {
		l.over = true
	}
}
