package synth

import (
	"net"
	"time"
)

// Timing says how fast each side of a conversation acts. Pauses that a
// script records with Think come on top.
type Timing struct {
	// FirstThink is how long the server takes to answer the client's
	// first bytes (for TLS: key exchange and signature).
	FirstThink time.Duration
	// ServerThink is how long the server takes to answer later client
	// bytes.
	ServerThink time.Duration
	// ClientThink is how long the client takes to answer server bytes
	// (certificate verification, key derivation).
	ClientThink time.Duration
	// Gap spaces back-to-back segments of one flight as they arrive from
	// the server (the bottleneck link's serialization delay).
	Gap time.Duration
}

// DefaultTiming suits a fast server on a 100 Mbit/s path.
var DefaultTiming = Timing{
	FirstThink:  900 * time.Microsecond,
	ServerThink: 250 * time.Microsecond,
	ClientThink: 350 * time.Microsecond,
	Gap:         120 * time.Microsecond,
}

// delayedAck is how long a receiver waits before acknowledging on its own
// (Linux's minimum delayed-ACK timer).
const delayedAck = 40 * time.Millisecond

// Play lays a conversation out on k from t: every Write becomes one or
// more segments. The server answers a round trip plus its think time
// after the client's latest bytes; the client answers its think time
// after the server's bytes arrive. Pure ACKs appear where TCP sends them:
// the client acknowledges every second segment of a server flight, and a
// flight it does not answer with data at once; the server acknowledges
// client bytes on its own when its answer takes longer than a moment
// (at once early in the connection, after the delayed-ACK timer later).
// Play returns the time of the last packet.
func (k *Conn) Play(t time.Time, tr Transcript, tm Timing) time.Time {
	var (
		lastC, lastS       = t, t // end of each side's latest write
		newC, newS         bool   // a side wrote since the other's latest write
		pending            [2]time.Duration
		owesAck, sawServer bool
		serverSegs         int
		last               = t
	)
	first := true
	ack := func(at time.Time) {
		k.Ack(FromClient, at)
		last = latest(last, at)
		owesAck = false
	}
	for _, ch := range tr {
		if ch.Data == nil {
			pending[ch.Dir] += ch.Think
			continue
		}
		switch ch.Dir {
		case FromClient:
			at := lastC.Add(20 * time.Microsecond)
			if newS {
				at = latest(at, lastS.Add(tm.ClientThink))
			}
			if first {
				at = t
			}
			at = at.Add(pending[FromClient])
			pending[FromClient] = 0
			if owesAck && at.Sub(lastS) > 500*time.Microsecond {
				ack(lastS.Add(35 * time.Microsecond))
			}
			owesAck = false
			lastC = k.Data(FromClient, at, 15*time.Microsecond, ch.Data)
			newC, newS = true, false
			last = latest(last, lastC)
		case FromServer:
			at := lastS.Add(tm.Gap)
			if newC {
				think := tm.ServerThink
				if !sawServer {
					think = tm.FirstThink
				}
				at = latest(at, lastC.Add(k.RTT+think))
			}
			at = at.Add(pending[FromServer])
			pending[FromServer] = 0
			if owesAck && at.Sub(lastS) > time.Millisecond {
				ack(lastS.Add(35 * time.Microsecond))
			}
			if newC {
				quick := 200 * time.Microsecond
				if serverSegs > 10 {
					quick = delayedAck
				}
				if a := lastC.Add(k.RTT + quick); a.Before(at) && at.Sub(lastC.Add(k.RTT)) > 2*time.Millisecond {
					k.Ack(FromServer, a)
				}
			}
			before := len(k.sent[FromServer])
			lastS = k.serverData(at, tm.Gap, ch.Data)
			serverSegs += len(k.sent[FromServer]) - before
			newS, newC, sawServer, owesAck = true, false, true, true
			last = latest(last, lastS)
		}
		first = false
	}
	if owesAck {
		ack(lastS.Add(35 * time.Microsecond))
	}
	return last
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// serverData sends p from the server like Data, with the client
// acknowledging every second full segment as they arrive.
func (k *Conn) serverData(t time.Time, gap time.Duration, p []byte) time.Time {
	segs := k.Segments(FromServer, p)
	for j, s := range segs {
		s.HasSeq = false
		k.Send(FromServer, t, s)
		if j%2 == 1 && j < len(segs)-1 {
			k.Ack(FromClient, t.Add(30*time.Microsecond))
		}
		if j < len(segs)-1 {
			t = t.Add(gap)
		}
	}
	return t
}

// Close ends a connection at t the way the client's side chooses: the
// client sends FIN, the server answers with its FIN a round trip later,
// and the client acknowledges it. It returns the time of the last packet.
func (k *Conn) Close(t time.Time) time.Time {
	k.Fin(FromClient, t)
	t = t.Add(k.RTT)
	k.Fin(FromServer, t)
	t = t.Add(40 * time.Microsecond)
	k.Ack(FromClient, t)
	return t
}

// Run converses client and server (see Converse) and lays the result out
// on k from t (see Play). It returns the time of the last packet and the
// conversation, whose errors say how each side's function ended.
func (k *Conn) Run(t time.Time, client, server func(net.Conn) error, tm Timing) (time.Time, Conversation) {
	conv := Converse(client, server)
	return k.Play(t, conv.Transcript, tm), conv
}
