package decode

import (
	"math"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
)

// TCPPath is what one direction of a connection showed about the path
// (RFC 9293 §3.7, RFC 1191, RFC 8201): the sizes its segments had, which of
// them the peer acknowledged. An acknowledgement stall that was still open
// when the connection ended is TCPConn.Stall. It is fixed-size: tracking
// it costs a few comparisons per packet and no allocation.
type TCPPath struct {
	// MaxSegment is the largest payload this direction sent; MaxAcked the
	// largest payload the peer's cumulative acknowledgement covered
	// (approximate: the largest segment sent since the previous advance).
	// A segment's payload is bounded by its IP datagram's 16-bit length.
	MaxSegment int32
	MaxAcked   int32
	// LastSegment is the payload size of this direction's last segment
	// with data (a request, or housekeeping such as an HTTP/2 PING ACK).
	LastSegment int32
	// MSS is the maximum segment size this direction's SYN announced (0
	// when no SYN or no MSS option was seen).
	MSS uint16
	// LastDataIP is the IP header of this direction's last payload packet.
	LastDataIP IPInfo
}

// TCPStall is an acknowledgement stall: the receiver's cumulative ACK stuck
// at Ack while the sender had more in flight.
type TCPStall struct {
	// Ack is the stuck acknowledgement, relative to the sender's first
	// sequence number seen (its ISN + 1 when the SYN was captured).
	Ack uint32
	// Since is the first duplicate ACK; LastDupAck the last; DupAcks counts
	// them. A duplicate ACK means a later segment did arrive.
	Since, LastDupAck capture.Ref
	DupAcks           int
	// Outstanding is how many bytes the sender had sent past Ack when the
	// stall began.
	Outstanding int64
	// Retrans counts retransmissions of the segment that starts at Ack,
	// RetransSize is its payload size, FirstRetrans and LastRetrans locate
	// them (a capture on the sender's side sees these).
	Retrans                   int
	RetransSize               int
	FirstRetrans, LastRetrans capture.Ref
	// Hole is the number of bytes at Ack the capture never saw (a capture on
	// the receiver's side: the segment was lost before it), and HoleNext
	// the size of the first segment seen past the hole.
	Hole     int64
	HoleNext int
	// LaterMax is the largest payload the sender sent past Ack during the
	// stall (those are what the duplicate ACKs acknowledge arriving).
	LaterMax int
	// Closed is the receiver's FIN or RST during the stall: it gave up.
	Closed capture.Ref
}

// pathState is the live tracking behind TCPPath, per flow: a fixed
// handful of words per direction, plus one TCPStall record per direction
// once it has lost a segment (about 300 bytes, reused). That is the bound
// per flow.
type pathState struct {
	init    [2]bool
	base    [2]uint32 // first sequence number of each direction's data
	nxt     [2]uint32 // highest sequence end sent per direction
	haveAck [2]bool
	ack     [2]uint32 // highest acknowledgement of each direction's data
	pendMax [2]int32  // largest segment sent since the last ACK advance …
	pendEnd [2]uint32 // … and where it ends
	win     [2]uint16 // each direction's last advertised window …
	winSet  [2]bool   // … once a segment without SYN set it (a SYN's is unscaled)
	// stall is allocated at a direction's first loss episode and reused
	// for later ones: a flow that never loses a segment carries two nil
	// pointers, not two stall records.
	stall  [2]*TCPStall
	active [2]bool
}

// stallOf returns dir's stall record, allocating it the first time.
func (p *pathState) stallOf(dir int) *TCPStall {
	if p.stall[dir] == nil {
		p.stall[dir] = new(TCPStall)
	}
	return p.stall[dir]
}

func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqGT(a, b uint32) bool { return int32(a-b) > 0 }

// track updates the path facts of c with one segment from dir.
func (p *pathState) track(c *TCPConn, dir int, t *layers.TCP, n int, ip IPInfo, at capture.Ref) {
	if t.SYN {
		for _, o := range t.Options {
			if o.OptionType == layers.TCPOptionKindMSS && len(o.OptionData) == 2 {
				c.Path[dir].MSS = uint16(o.OptionData[0])<<8 | uint16(o.OptionData[1])
			}
		}
	}
	seq := t.Seq
	if t.SYN {
		seq++
	}
	end := seq + uint32(n)
	if !p.init[dir] {
		p.init[dir], p.base[dir], p.nxt[dir] = true, seq, seq
	}
	other := 1 - dir
	if n > 0 {
		path := &c.Path[dir]
		path.LastDataIP = ip
		path.LastSegment = clampInt32(n)
		path.MaxSegment = max(path.MaxSegment, clampInt32(n))
		if n32 := clampInt32(n); n32 > p.pendMax[dir] {
			p.pendMax[dir], p.pendEnd[dir] = n32, end
		}
		if p.active[dir] {
			st := p.stall[dir]
			switch {
			case seq == st.Ack+p.base[dir] && seqLT(seq, p.nxt[dir]):
				if st.Retrans == 0 {
					st.FirstRetrans = at
				}
				st.Retrans++
				st.RetransSize = max(st.RetransSize, n)
				st.LastRetrans = at
			case seqGT(seq, st.Ack+p.base[dir]):
				st.LaterMax = max(st.LaterMax, n)
			}
		}
		if seqGT(seq, p.nxt[dir]) && !p.active[dir] {
			// Bytes at the acknowledgement point the capture never saw: the
			// receiver's side of a loss. Remember it for the stall to come.
			*p.stallOf(dir) = TCPStall{Ack: p.nxt[dir] - p.base[dir], Hole: int64(seq - p.nxt[dir]), HoleNext: n}
		}
		if seqGT(end, p.nxt[dir]) {
			p.nxt[dir] = end
		}
	}
	if t.FIN && seqGT(end+1, p.nxt[dir]) {
		p.nxt[dir] = end + 1
	}
	if p.active[other] && (t.FIN || t.RST) && p.stall[other].Closed.IsZero() { // active implies allocated
		p.stall[other].Closed = at
	}
	if !t.ACK || !p.init[other] {
		return
	}
	a := t.Ack
	sameWin := !p.winSet[dir] || p.win[dir] == t.Window
	if !t.SYN {
		p.win[dir], p.winSet[dir] = t.Window, true
	}
	switch {
	case !p.haveAck[other] || seqGT(a, p.ack[other]):
		p.haveAck[other], p.ack[other] = true, a
		if p.active[other] {
			p.active[other] = false // repaired: ordinary loss
			*p.stall[other] = TCPStall{}
		}
		if p.pendMax[other] > 0 && !seqLT(a, p.pendEnd[other]) {
			c.Path[other].MaxAcked = max(c.Path[other].MaxAcked, p.pendMax[other])
			p.pendMax[other] = 0
		}
	case a == p.ack[other] && n == 0 && !t.SYN && !t.FIN && !t.RST && sameWin && seqGT(p.nxt[other], a):
		// A duplicate ACK (RFC 5681 §2): same acknowledgement and window,
		// no data, while data is outstanding.
		st := p.stallOf(other)
		if !p.active[other] {
			hole, next := int64(0), 0
			if st.Ack == a-p.base[other] {
				hole, next = st.Hole, st.HoleNext
			}
			*st = TCPStall{Ack: a - p.base[other], Since: at, Outstanding: int64(p.nxt[other] - a), Hole: hole, HoleNext: next}
			p.active[other] = true
		}
		st.DupAcks++
		st.LastDupAck = at
	}
}

// finish publishes the stalls still open when the connection ended.
func (p *pathState) finish(c *TCPConn) {
	for dir := range 2 {
		if p.active[dir] {
			c.SetStall(dir, p.stall[dir]) // the flow ends here: the record is handed over
		}
	}
}

// clampInt32 returns n, or the nearest int32 when n is beyond that range.
func clampInt32(n int) int32 { return int32(min(max(n, math.MinInt32), math.MaxInt32)) }

// idleBefore is the capture time between a connection's previous packet
// and at (0 for its first).
func idleBefore(prev time.Time, at capture.Ref) time.Duration {
	if prev.IsZero() {
		return 0
	}
	return at.Time().Sub(prev)
}
