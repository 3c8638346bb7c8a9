package decode

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode/reassembly"
)

// flowKey identifies a TCP flow independently of direction: a is the
// smaller endpoint.
type flowKey struct{ a, b netip.AddrPort }

func keyOf(x, y netip.AddrPort) flowKey {
	if x.Compare(y) > 0 {
		x, y = y, x
	}
	return flowKey{x, y}
}

// flow is the live state of one TCP connection: its event, its two
// reassembled directions and the application decoder they feed. It is
// allocated for every connection: it is kept within 760 bytes, so that
// with the 8-byte header the runtime gives an object of more than 512
// bytes that holds pointers it fits the 768-byte size class.
type flow struct {
	key     flowKey
	conn    *TCPConn
	streams [2]reassembly.Stream // in the flow: one allocation for all three
	sinks   [2]dirSink
	app     streamApp
	last    time.Time
	path    pathState
	seq     int    // creation order, for deterministic sweeps
	isn     uint32 // the client's initial sequence number, when its SYN was seen
	ended   bool   // both FINs or a RST seen: forget it sooner
	settled bool   // its TLS decoder was finished early (see settle)
	// prev and next link the flow into its idle list (open or ended),
	// least recently used first.
	prev, next *flow
}

// flowList is an intrusive doubly linked list of flows, least recently
// used first: touching a flow moves it to the back in O(1), so sweeps and
// the MaxFlows eviction take flows from the front without scanning the
// table.
type flowList struct {
	head, tail *flow
	n          int
}

// pushBack appends f, which must not be in a list.
func (l *flowList) pushBack(f *flow) {
	f.prev, f.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = f
	} else {
		l.head = f
	}
	l.tail = f
	l.n++
}

// remove unlinks f from l.
func (l *flowList) remove(f *flow) {
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		l.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		l.tail = f.prev
	}
	f.prev, f.next = nil, nil
	l.n--
}

// listOf returns the idle list f belongs in.
func (d *Decoder) listOf(f *flow) *flowList {
	if f.ended {
		return &d.endedFlows
	}
	return &d.openFlows
}

// touch records activity on f at t: it moves to the back of its list.
func (d *Decoder) touch(f *flow, t time.Time) {
	f.last = t
	if l := d.listOf(f); l.tail != f {
		l.remove(f)
		l.pushBack(f)
	}
}

// markEnded moves f to the list of ended flows, which are forgotten sooner.
func (d *Decoder) markEnded(f *flow) {
	if f.ended {
		return
	}
	d.openFlows.remove(f)
	f.ended = true
	d.endedFlows.pushBack(f)
}

// streamApp decodes what one TCP connection carries, both directions
// interleaved in capture order.
type streamApp interface {
	data(dir int, p []byte, at capture.Ref)
	gap(dir int, n int64, at capture.Ref)
	finish()
}

// dirSink adapts one direction of a flow to reassembly.Sink: which of the
// flow's two sinks it is tells the direction.
type dirSink struct{ f *flow }

// dir returns the direction s stands for (0: from the client).
func (s *dirSink) dir() int {
	if s == &s.f.sinks[1] {
		return 1
	}
	return 0
}

func (s *dirSink) Data(p []byte, at capture.Ref) { s.f.app.data(s.dir(), p, at) }
func (s *dirSink) Gap(n int64, at capture.Ref)   { s.f.app.gap(s.dir(), n, at) }

// wellKnownServerPort reports ports on which modsniff expects a server:
// used to pick the client of a connection whose SYN was not captured.
func wellKnownServerPort(p uint16) bool {
	switch p {
	case 53, 80, 443, 853, 1080, 3128, 7890, 7891, 8080, 8443, 8888, 9090:
		return true
	}
	return p < 1024
}

// guessClient picks the client of a connection seen without its SYN: the
// side whose port is not a server port, else the higher port.
func guessClient(src, dst netip.AddrPort) (client, server netip.AddrPort) {
	sw, dw := wellKnownServerPort(src.Port()), wellKnownServerPort(dst.Port())
	switch {
	case dw && !sw:
		return src, dst
	case sw && !dw:
		return dst, src
	case src.Port() >= dst.Port():
		return src, dst
	}
	return dst, src
}

// tcpPacket tracks one TCP segment (RFC 9293): connection events, then the
// payload into the direction's reassembly.
func (d *Decoder) tcpPacket(srcIP, dstIP netip.Addr, ip IPInfo, t *layers.TCP, at capture.Ref) {
	src := netip.AddrPortFrom(srcIP, uint16(t.SrcPort))
	dst := netip.AddrPortFrom(dstIP, uint16(t.DstPort))
	var k flowKey
	var f *flow
	// Bulk transfers send long runs of packets of one flow: the last flow
	// found spares the key ordering and the map lookup.
	if c := d.lastFlow; c != nil && (c.key.a == src && c.key.b == dst || c.key.a == dst && c.key.b == src) {
		k, f = c.key, c
	} else {
		k = keyOf(src, dst)
		f = d.flows[k]
	}
	if f != nil && t.SYN && !t.ACK && f.isNewConnection(src, t.Seq) {
		d.finishFlow(k, f, at)
		f = nil
	}
	if f == nil {
		if f = d.newFlow(k, src, dst, t, at); f == nil {
			return
		}
	}
	d.lastFlow = f
	prev := f.last // for the idle gap before a RST or FIN
	d.touch(f, at.Time())
	c := f.conn
	c.Last = at
	dir := 0
	if src != c.Client {
		dir = 1
	}
	if c.Packets[dir] < math.MaxInt32 { // counts saturate, like wire.Ref's packet numbers
		c.Packets[dir]++
	}
	switch {
	case t.SYN && !t.ACK && dir == 0:
		if len(c.SYN()) < 16 {
			c.AddSYN(at)
		}
		if len(c.SYN()) == 1 {
			c.SYNIP = ip
			f.isn = t.Seq
		}
	case t.SYN && t.ACK && dir == 1 && c.SYNACK.IsZero():
		c.SYNACK = at
		c.SYNACKIP = ip
	}
	if t.RST {
		if len(c.Resets()) < 16 {
			c.AddReset(TCPReset{At: at, FromClient: dir == 0, IP: ip, AfterPayload: c.Payload[dir], Idle: idleBefore(prev, at)})
		}
		d.markEnded(f)
	}
	if t.FIN && c.FIN[dir].IsZero() {
		c.FIN[dir] = at
		if dir == 1 {
			c.ServerFINIdle = idleBefore(prev, at)
		}
		if !c.FIN[1-dir].IsZero() {
			d.markEnded(f)
		}
	}
	// Bytes of this segment the capture did not keep (a snap length, or
	// privacy trimming): counted, and declared lost to the stream.
	cut := 0
	if d.ipPayload >= 0 {
		cut = max(0, d.ipPayload-len(t.Contents)-len(t.Payload))
	}
	f.path.track(c, dir, t, len(t.Payload)+cut, ip, at)
	if n := len(t.Payload) + cut; n > 0 {
		c.Payload[dir] += int64(n)
		if dir == 0 && c.ClientFirstPayload.IsZero() {
			c.ClientFirstPayload = at
		}
		c.LastPayload[dir] = at
	}
	if t.RST {
		return // a RST's payload, if any, is a diagnostic text, not stream data
	}
	st := &f.streams[dir]
	if cut == 0 {
		st.Segment(t.Seq, t.SYN, t.FIN, t.Payload, at)
	} else {
		st.Segment(t.Seq, t.SYN, false, t.Payload, at)
		start := t.Seq + uint32(len(t.Payload))
		if t.SYN {
			start++
		}
		st.Lost(start, cut, at)
		if t.FIN {
			st.Segment(start+uint32(cut), false, true, nil, at)
		}
	}
	if f.ended && !f.settled && settleClosedTLS {
		f.settle()
	}
}

// settleClosedTLS turns settle on; tests turn it off to compare with the
// session finished when the flow is forgotten.
var settleClosedTLS = true

// settle finishes the TLS decoder of a flow closed in both directions:
// once both streams were delivered up to their FINs, no byte can reach it
// again, yet the flow stays in the table for a while (maybeSweep) to take
// late retransmissions, ACKs and resets. Finishing it then rather than
// when the flow is forgotten gives the same session, and frees the
// decoder's state (the TLS record and handshake readers, the HTTP decoder
// of decrypted data) for the flows that wait out their close: on a capture
// of many short connections, about half of the live flows. Other decoders
// keep to the end: their finish may cite the connection's last packet.
func (f *flow) settle() {
	if !f.streams[0].Closed() || !f.streams[1].Closed() {
		return
	}
	s, ok := f.app.(*sniffer)
	if !ok {
		return
	}
	if _, ok := s.app.(*tlsApp); !ok {
		return
	}
	f.settled = true
	s.finish()
	f.app = ignoreApp{}
}

// isNewConnection reports whether a SYN from src starts a new connection on
// an existing 4-tuple (port reuse) rather than retransmitting the first.
func (f *flow) isNewConnection(src netip.AddrPort, seq uint32) bool {
	c := f.conn
	if f.ended {
		return true
	}
	if src != c.Client {
		return true // a simultaneous open, or roles guessed wrongly: start over
	}
	return len(c.SYN()) > 0 && seq != f.isn
}

// newFlow starts tracking a connection, or returns nil when the event limit
// is reached.
func (d *Decoder) newFlow(k flowKey, src, dst netip.AddrPort, t *layers.TCP, at capture.Ref) *flow {
	if len(d.ev.TCP) >= d.lim.MaxEvents {
		d.noteLimit(at, "tcp", fmt.Sprintf("more than %d TCP connections: later ones are not analysed", d.lim.MaxEvents))
		return nil
	}
	c := d.conns.new()
	c.First = at
	switch {
	case t.SYN && !t.ACK:
		c.Client, c.Server = src, dst
	case t.SYN && t.ACK:
		c.Client, c.Server = dst, src
	default:
		c.Client, c.Server = guessClient(src, dst)
		c.RoleGuessed = true
	}
	f := &flow{key: k, conn: c, last: at.Time(), seq: d.nflows}
	d.nflows++
	f.app = &sniffer{d: d, c: c}
	lim := reassembly.Limits{MaxBufferedPerStream: d.lim.StreamBuffer}
	for dir := range 2 {
		f.sinks[dir] = dirSink{f: f}
		f.streams[dir].Init(&f.sinks[dir], d.budget, lim)
	}
	d.flows[k] = f
	d.openFlows.pushBack(f)
	d.ev.TCP = append(d.ev.TCP, c)
	return f
}

// sniffer is the application decoder of a stream whose protocol is not
// known yet: it holds the first bytes (fewer than sniffLen per direction)
// until choose can tell what they are, then hands everything to the chosen
// decoder. It chooses with Decoder.sniff, or with Decoder.sniffTunnel for
// the bytes inside the tunnel t.
type sniffer struct {
	d       *Decoder
	c       *TCPConn
	t       *Tunnel
	app     streamApp
	pending [2][]byte
}

// choose picks the decoder for the stream (see Decoder.sniff).
func (s *sniffer) choose(dir int, p []byte, force bool, at capture.Ref) (streamApp, bool) {
	if s.t != nil {
		return s.d.sniffTunnel(s.c, s.t, dir, p, force, at)
	}
	return s.d.sniff(s.c, dir, p, force, at)
}

func (s *sniffer) data(dir int, p []byte, at capture.Ref) {
	if s.app != nil {
		s.app.data(dir, p, at)
		return
	}
	if len(s.pending[0]) == 0 && len(s.pending[1]) == 0 {
		if app, ok := s.choose(dir, p, false, at); ok {
			s.app = app
			app.data(dir, p, at)
			return
		}
	}
	s.pending[dir] = append(s.pending[dir], p...)
	s.decide(dir, len(s.pending[1-dir]) > 0, at)
}

// decide tries to choose from the bytes held back; with force it must.
// The held bytes are then replayed, the other direction's first: they
// arrived before the current packet.
func (s *sniffer) decide(last int, force bool, at capture.Ref) {
	dir := 0
	if len(s.pending[0]) == 0 {
		dir = 1
	}
	app, ok := s.choose(dir, s.pending[dir], force, at)
	if !ok {
		return
	}
	s.app = app
	pend := s.pending
	s.pending = [2][]byte{}
	for _, d := range [2]int{1 - last, last} {
		if len(pend[d]) > 0 {
			app.data(d, pend[d], at)
		}
	}
}

func (s *sniffer) gap(dir int, n int64, at capture.Ref) {
	if s.app == nil {
		if len(s.pending[0])+len(s.pending[1]) > 0 {
			s.decide(dir, true, at)
		} else {
			s.app = ignoreApp{}
		}
	}
	s.app.gap(dir, n, at)
}

func (s *sniffer) finish() {
	if s.app == nil && len(s.pending[0])+len(s.pending[1]) > 0 {
		s.decide(0, true, capture.Ref{})
	}
	if s.app != nil {
		s.app.finish()
	}
}

// sniffLen is how many first bytes the protocol sniffer may wait for.
const sniffLen = 8

// sniff chooses the decoder for a TCP stream whose first bytes in
// direction dir are p. It reports false when p is too short to tell and
// force is unset.
func (d *Decoder) sniff(c *TCPConn, dir int, p []byte, force bool, at capture.Ref) (streamApp, bool) {
	if c.Server.Port() == 53 || c.Client.Port() == 53 {
		c.App = AppDNS
		return newDNSStream(d, c), true
	}
	switch {
	case looksLikeTLS(p):
		c.App = AppTLS
		return d.newTLSApp(c, nil, at), true
	case dir == 1 && len(p) < 3 && !force:
		return nil, false
	case dir == 1:
		return ignoreApp{}, true // the server spoke first: not a protocol modsniff follows
	case looksLikeSOCKS5(p):
		c.App = AppSOCKS5
		return newSOCKSApp(d, c, 5), true
	case looksLikeSOCKS4(p):
		c.App = AppSOCKS4
		return newSOCKSApp(d, c, 4), true
	case len(p) < sniffLen && !force && couldBeHTTP(p):
		return nil, false
	case hasPrefixFold(p, "CONNECT "):
		c.App = AppHTTPConnect
		return newConnectApp(d, c), true
	case looksLikeHTTPRequest(p):
		c.App = AppHTTP
		return newHTTPApp(d, c, ""), true
	case len(p) < 3 && !force:
		return nil, false
	}
	return ignoreApp{}, true
}

// ignoreApp swallows a stream modsniff does not decode.
type ignoreApp struct{}

func (ignoreApp) data(int, []byte, capture.Ref) {}
func (ignoreApp) gap(int, int64, capture.Ref)   {}
func (ignoreApp) finish()                       {}

// finishFlow flushes both directions, finishes the application decoder and
// forgets the flow.
func (d *Decoder) finishFlow(k flowKey, f *flow, at capture.Ref) {
	d.finishing(f)
	for dir := range 2 {
		f.streams[dir].Flush(at)
	}
	f.app.finish()
	f.path.finish(f.conn)
	for dir := range 2 {
		f.conn.Stream[dir] = streamStats(f.streams[dir].Stats())
	}
	delete(d.flows, k)
	d.listOf(f).remove(f)
	if d.lastFlow == f {
		d.lastFlow = nil
	}
}

// maybeSweep finishes flows that have been idle too long, by capture time,
// and enforces MaxFlows. It runs at most every few seconds of capture time
// unless the flow table is over its limit. Both take flows from the front
// of the least-recently-used lists, so a sweep costs what it finishes, not
// the size of the table: past MaxFlows, each new flow evicts one in O(1).
// Victims are finished in creation order so the output never depends on
// map order.
func (d *Decoder) maybeSweep(now time.Time) {
	if now.Before(d.sweepAt) && len(d.flows) <= d.lim.MaxFlows {
		return
	}
	if !now.Before(d.sweepAt) {
		d.sweepAt = now.Add(10 * time.Second)
		d.expireDNS(now)
	}
	var victims []*flow
	idle := func(l *flowList, limit time.Duration) {
		for f := l.head; f != nil && now.Sub(f.last) > limit; f = f.next {
			victims = append(victims, f)
		}
	}
	idle(&d.endedFlows, 30*time.Second)
	idle(&d.openFlows, d.lim.FlowIdle)
	// The longest-idle flows beyond the limit: merge the fronts of both
	// lists by last activity, skipping flows already chosen as idle.
	over := len(d.flows) - len(victims) - d.lim.MaxFlows
	if over > 0 {
		d.stats.FlowsEvicted += over
		d.noteLimit(capture.NewRef(d.input, 0, now), "flows",
			fmt.Sprintf("more than %d TCP connections were live at once: the longest-idle ones were finished early", d.lim.MaxFlows))
		chosen := make(map[*flow]bool, len(victims))
		for _, f := range victims {
			chosen[f] = true
		}
		a, b := d.endedFlows.head, d.openFlows.head
		for over > 0 && (a != nil || b != nil) {
			var f *flow
			switch {
			case b == nil || a != nil && (a.last.Before(b.last) || a.last.Equal(b.last) && a.seq < b.seq):
				f, a = a, a.next
			default:
				f, b = b, b.next
			}
			if !chosen[f] {
				chosen[f] = true
				victims = append(victims, f)
				over--
			}
		}
	}
	if len(victims) == 0 {
		return
	}
	slices.SortFunc(victims, func(a, b *flow) int { return cmp.Compare(a.seq, b.seq) })
	at := capture.NewRef(d.input, 0, now)
	for _, f := range victims {
		d.finishFlow(f.key, f, at)
	}
}

// finishFlows finishes every live flow at the end of the input.
func (d *Decoder) finishFlows() {
	type entry struct {
		k flowKey
		f *flow
	}
	all := make([]entry, 0, len(d.flows))
	for k, f := range d.flows {
		all = append(all, entry{k, f})
	}
	slices.SortFunc(all, func(a, b entry) int { return cmp.Compare(a.f.seq, b.f.seq) })
	at := capture.NewRef(d.input, 0, d.stats.Last)
	for _, e := range all {
		d.finishFlow(e.k, e.f, at)
	}
	d.finishTLS()
}
