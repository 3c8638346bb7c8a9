package synth

import (
	"encoding/binary"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Flags are TCP header flags.
type Flags uint8

// TCP flags (RFC 9293 §3.1).
const (
	FIN Flags = 1 << iota
	SYN
	RST
	PSH
	ACK
)

// Conn is one TCP connection (RFC 9293) between a client and a server, as
// the client's capture sees it: the client's segments when they leave,
// the server's when they arrive.
type Conn struct {
	c              *Capture
	Client, Server *Host
	CPort, SPort   uint16
	// RTT is the round-trip time between the capture point and the
	// server.
	RTT time.Duration
	// MSS is the MSS option each side announces; segments carry at most
	// the peer's announcement less the 12 bytes of the timestamps option.
	MSS [2]int
	// WScale is each side's window scale shift.
	WScale [2]uint8

	start  time.Time
	isn    [2]uint32
	next   [2]uint32 // next sequence number each side sends
	tsBase [2]uint32
	ids    [2]*IPIDs
	sent   [2][]segMark
}

// segMark records a segment for the peer's acknowledgements.
type segMark struct {
	t          time.Time
	start, end uint32
	tsval      uint32
	lost       bool
}

// Dial prepares a connection from client to server:port; nothing is sent
// until SYN or Handshake.
func (c *Capture) Dial(client *Host, server *Host, port uint16, rtt time.Duration) *Conn {
	k := &Conn{c: c, Client: client, Server: server, CPort: c.EphemeralPort(), SPort: port, RTT: rtt,
		MSS: [2]int{1460, 1460}, WScale: [2]uint8{7, 8}}
	if client.Addr.Is6() {
		k.MSS = [2]int{1440, 1440}
	}
	for d := range 2 {
		k.isn[d] = c.Rand.Uint32()
		k.next[d] = k.isn[d]
		k.tsBase[d] = c.Rand.Uint32()
	}
	k.ids[0] = c.socketID(client)
	k.ids[1] = c.socketID(server)
	return k
}

// segSize is the payload one segment from dir carries.
func (k *Conn) segSize(dir Dir) int { return k.MSS[dir.other()] - 12 }

// received returns the segments from dir that the other side had received
// by time t: the client receives the server's segments as they are
// captured; the server receives the client's half a round trip after they
// leave, and its answer takes the other half back.
func (k *Conn) received(from Dir, t time.Time) []segMark {
	limit := t
	if from == FromClient {
		limit = t.Add(-k.RTT)
	}
	var out []segMark
	for _, m := range k.sent[from] {
		if !m.lost && !m.t.After(limit) {
			out = append(out, m)
		}
	}
	return out
}

// ackFor returns the cumulative acknowledgement and the latest timestamp
// value that dir can send at t.
func (k *Conn) ackFor(dir Dir, t time.Time) (ack, tsecr uint32, ok bool) {
	segs := k.received(dir.other(), t)
	if len(segs) == 0 {
		return 0, 0, false
	}
	ack = k.isn[dir.other()]
	for grew := true; grew; {
		grew = false
		for _, m := range segs {
			if seqLE(m.start, ack) && seqLT(ack, m.end) {
				ack, grew = m.end, true
			}
		}
	}
	latest := segs[0]
	for _, m := range segs {
		if m.t.After(latest.t) {
			latest = m
		}
	}
	return ack, latest.tsval, true
}

func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqLE(a, b uint32) bool { return int32(a-b) <= 0 }

// tsval is dir's TCP timestamp clock (milliseconds) at t.
func (k *Conn) tsval(dir Dir, t time.Time) uint32 {
	return k.tsBase[dir] + uint32(t.Sub(k.start)/time.Millisecond)
}

// Seg describes one segment for Send.
type Seg struct {
	Flags Flags
	// Seq overrides the sequence number (a retransmission or a
	// reordered segment); zero means the next one.
	Seq     uint32
	HasSeq  bool
	Payload []byte
	// Lost segments are captured but never reach the peer.
	Lost bool
	// TTL and ID override the sender's IP fields (an injected packet);
	// NoTimestamps leaves out the timestamps option (injectors rarely
	// copy it).
	TTL          uint8
	ID           uint16
	HasID        bool
	NoTimestamps bool
	// Ack overrides the acknowledgement number.
	Ack    uint32
	HasAck bool
}

// Send emits one segment from dir at t and returns the IP packet.
func (k *Conn) Send(dir Dir, t time.Time, s Seg) []byte {
	if k.start.IsZero() {
		k.start = t
	}
	seq := k.next[dir]
	if s.HasSeq {
		seq = s.Seq
	}
	src, dst := k.Client, k.Server
	sport, dport := k.CPort, k.SPort
	if dir == FromServer {
		src, dst, sport, dport = dst, src, dport, sport
	}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: seq,
		SYN: s.Flags&SYN != 0, FIN: s.Flags&FIN != 0, RST: s.Flags&RST != 0, PSH: s.Flags&PSH != 0}
	ack, tsecr, haveAck := k.ackFor(dir, t)
	if s.HasAck {
		ack, haveAck = s.Ack, true
	}
	if s.Flags&ACK != 0 || (haveAck && s.Flags&SYN == 0 && s.Flags&RST == 0) {
		tcp.ACK, tcp.Ack = true, ack
	}
	if dir == FromServer && s.Flags&SYN != 0 {
		tcp.ACK, tcp.Ack = true, k.isn[0]+1
	}
	tsv := k.tsval(dir, t)
	switch {
	case s.Flags&SYN != 0:
		tcp.Window = 64240
		if dir == FromServer {
			tcp.Window = 65160
		}
		tcp.Options = k.synOptions(dir, tsv, tsecr)
	case s.Flags&RST != 0:
		tcp.Window = 0
	default:
		tcp.Window = uint16([2]int{502, 1050}[dir])
		if !s.NoTimestamps {
			tcp.Options = timestampOption(tsv, tsecr)
		}
	}
	ttl := s.TTL
	id := k.ids[dir].id()
	if s.HasID {
		id = s.ID
	}
	ip, err := serialize(ipHeader{src: src, dst: dst, id: id, df: true, ttl: ttl}, layers.IPProtocolTCP, tcp, gopacket.Payload(s.Payload))
	if err != nil {
		k.c.fail(err)
		return nil
	}
	k.c.emit(t, src, dst, ip)
	end := seq + uint32(len(s.Payload))
	if s.Flags&(SYN|FIN) != 0 {
		end++
	}
	if s.Flags&RST == 0 {
		k.sent[dir] = append(k.sent[dir], segMark{t: t, start: seq, end: end, tsval: tsv, lost: s.Lost})
	}
	if !s.HasSeq && seqLT(k.next[dir], end) {
		k.next[dir] = end
	}
	return ip
}

// synOptions are the options Linux puts in a SYN or SYN-ACK: MSS,
// SACK permitted, timestamps, NOP, window scale.
func (k *Conn) synOptions(dir Dir, tsval, tsecr uint32) []layers.TCPOption {
	mss := make([]byte, 2)
	binary.BigEndian.PutUint16(mss, uint16(k.MSS[dir]))
	return []layers.TCPOption{
		{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: mss},
		{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
		timestampOption(tsval, tsecr)[2],
		{OptionType: layers.TCPOptionKindNop},
		{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{k.WScale[dir]}},
	}
}

// timestampOption is NOP, NOP, TS (RFC 7323), as Linux sends it on data
// segments.
func timestampOption(tsval, tsecr uint32) []layers.TCPOption {
	v := make([]byte, 8)
	binary.BigEndian.PutUint32(v, tsval)
	binary.BigEndian.PutUint32(v[4:], tsecr)
	return []layers.TCPOption{
		{OptionType: layers.TCPOptionKindNop},
		{OptionType: layers.TCPOptionKindNop},
		{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: v},
	}
}

// SYN sends the client's SYN (again, when retransmitting) at t and
// returns the IP packet.
func (k *Conn) SYN(t time.Time) []byte {
	ip := k.Send(FromClient, t, Seg{Flags: SYN, Seq: k.isn[0], HasSeq: true})
	k.next[0] = k.isn[0] + 1
	return ip
}

// Handshake performs the three-way handshake starting at t and returns
// the time of the client's final ACK.
func (k *Conn) Handshake(t time.Time) time.Time {
	k.SYN(t)
	t = t.Add(k.RTT)
	k.Send(FromServer, t, Seg{Flags: SYN | ACK})
	t = t.Add(45 * time.Microsecond)
	k.Send(FromClient, t, Seg{Flags: ACK})
	return t
}

// Data sends p from dir starting at t in segments of at most the peer's
// MSS, spaced by gap, the last one with PSH, and returns the time of the
// last segment.
func (k *Conn) Data(dir Dir, t time.Time, gap time.Duration, p []byte) time.Time {
	size := k.segSize(dir)
	for len(p) > 0 {
		n := min(len(p), size)
		f := ACK
		if n == len(p) {
			f |= PSH
		}
		k.Send(dir, t, Seg{Flags: f, Payload: p[:n]})
		p = p[n:]
		if len(p) > 0 {
			t = t.Add(gap)
		}
	}
	return t
}

// Segments splits p as Data would, without sending: for scenarios that
// reorder, drop or repeat segments.
func (k *Conn) Segments(dir Dir, p []byte) []Seg {
	size := k.segSize(dir)
	var out []Seg
	seq := k.next[dir]
	for len(p) > 0 {
		n := min(len(p), size)
		f := ACK
		if n == len(p) {
			f |= PSH
		}
		out = append(out, Seg{Flags: f, Seq: seq, HasSeq: true, Payload: p[:n]})
		seq += uint32(n)
		p = p[n:]
	}
	return out
}

// Advance marks n bytes from dir as sent (after Segments were sent out of
// order with explicit sequence numbers).
func (k *Conn) Advance(dir Dir, n int) { k.next[dir] += uint32(n) }

// Ack sends a pure acknowledgement from dir at t.
func (k *Conn) Ack(dir Dir, t time.Time) { k.Send(dir, t, Seg{Flags: ACK}) }

// Fin sends a FIN from dir at t.
func (k *Conn) Fin(dir Dir, t time.Time) { k.Send(dir, t, Seg{Flags: FIN | ACK}) }

// Reset sends a RST (with ACK) from dir at t, as a socket closed with
// unread data does.
func (k *Conn) Reset(dir Dir, t time.Time) { k.Send(dir, t, Seg{Flags: RST | ACK}) }

// Refuse answers the client's SYN with a RST, ACK at t, as a host with
// nothing listening does (or a firewall that rejects with tcp-reset).
func (k *Conn) Refuse(t time.Time, ttl uint8) {
	k.Send(FromServer, t, Seg{Flags: RST | ACK, Seq: 0, HasSeq: true, Ack: k.isn[0] + 1, HasAck: true, TTL: ttl})
}

// Next returns the next sequence number dir would send.
func (k *Conn) Next(dir Dir) uint32 { return k.next[dir] }

// SYNTimeout sends the client's SYN at t and retransmits it as Linux does
// (1 s initial RTO, doubling) while the retransmission falls before until
// (the dialer's timeout). It returns the times of the SYNs.
func (k *Conn) SYNTimeout(t, until time.Time) []time.Time {
	var out []time.Time
	rto := time.Second
	for at := t; at.Before(until); at, rto = at.Add(rto), rto*2 {
		k.SYN(at)
		out = append(out, at)
	}
	return out
}
