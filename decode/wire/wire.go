// Package wire holds the vocabulary every layer of modsniff shares: a
// reference to one packet of one input (the evidence a finding cites), the
// direction of a byte stream within a connection, and the TLS secrets a key
// log holds for a session (the NSS key log format, draft-ietf-tls-keylogfile).
//
// It depends on the standard library only, so that the protocol leaves
// (decode/reassembly, decode/ipfrag, decode/tlswire) can speak of packets and
// keys without linking the capture readers or libpcap.
package wire

import (
	"fmt"
	"math"
	"time"
)

// Ref points at one packet of one input: the evidence a finding cites.
//
// A Ref is 16 bytes without pointers, because every connection, record and
// DNS response keeps several of them: the input and packet numbers are 32
// bits and the timestamp is nanoseconds since the Unix epoch, held in an
// unexported field (Time returns it, NewRef and WithTime set it). A time
// outside what nanoseconds since 1970 can hold (before 1678 or after 2262,
// which only a corrupt capture carries) is clamped to the nearest end.
type Ref struct {
	// Input is the index of the input in the order given on the command line.
	Input int32
	// Packet is the 1-based frame number within that input.
	Packet int32
	// stamp is the capture timestamp as Unix nanoseconds with the sign bit
	// flipped, so that the zero Ref has the zero time.
	stamp uint64
}

// MaxPacket is the largest packet number a Ref holds.
const MaxPacket = math.MaxInt32

// NewRef returns the Ref of packet number packet (1-based; numbers beyond
// MaxPacket are held as MaxPacket) of input number input, captured at t.
func NewRef(input, packet int, t time.Time) Ref {
	return Ref{Input: int32(min(max(input, 0), math.MaxInt32)), Packet: int32(min(max(packet, 0), MaxPacket))}.WithTime(t)
}

// minTime and maxTime bound the times a Ref holds.
var (
	minTime = time.Unix(0, math.MinInt64+1)
	maxTime = time.Unix(0, math.MaxInt64)
)

// WithTime returns r with its timestamp set to t; the zero time clears it.
func (r Ref) WithTime(t time.Time) Ref {
	switch {
	case t.IsZero():
		r.stamp = 0
	case t.Before(minTime):
		r.stamp = stamp(minTime.UnixNano())
	case t.After(maxTime):
		r.stamp = stamp(maxTime.UnixNano())
	default:
		r.stamp = stamp(t.UnixNano())
	}
	return r
}

// stamp flips the sign bit of Unix nanoseconds: the result is never zero.
func stamp(ns int64) uint64 { return uint64(ns) ^ 1<<63 }

// Time returns the packet's capture timestamp in UTC, or the zero time when
// r carries none.
func (r Ref) Time() time.Time {
	if r.stamp == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(r.stamp^1<<63)).UTC()
}

// IsZero reports whether r points at no packet.
func (r Ref) IsZero() bool { return r.Packet == 0 }

// String formats r as "#12" or, for inputs after the first, "1#12".
func (r Ref) String() string {
	if r.Input == 0 {
		return fmt.Sprintf("#%d", r.Packet)
	}
	return fmt.Sprintf("%d#%d", r.Input, r.Packet)
}

// Dir is the direction of a byte stream within a connection.
type Dir int

// The two directions; the client is the side that opened the connection
// (sent the SYN, RFC 9293 §3.5).
const (
	ClientToServer Dir = 0
	ServerToClient Dir = 1
)

// String names the sender: "client" or "server", as reports write the
// "from" of an alert.
func (d Dir) String() string {
	if d == ServerToClient {
		return "server"
	}
	return "client"
}

// Other returns the opposite direction.
func (d Dir) Other() Dir { return 1 - d }

// TLSSecrets are the secrets a key log holds for one TLS session, found by
// its ClientHello random. A secret the log did not hold is nil. The slices
// are shared: callers must not modify them.
type TLSSecrets struct {
	// MasterSecret is the TLS 1.2 (and earlier) master secret (CLIENT_RANDOM).
	MasterSecret []byte
	// The TLS 1.3 secrets (RFC 8446 §7.1).
	ClientEarlyTraffic     []byte
	ClientHandshakeTraffic []byte
	ServerHandshakeTraffic []byte
	ClientTraffic0         []byte
	ServerTraffic0         []byte
	Exporter               []byte
}

// KeySource finds the secrets of a TLS session by the random of its
// ClientHello (RFC 8446 §4.1.2); a key log is one. Lookups happen when a
// direction's first protected record starts, so secrets added while a
// capture is read (a Decryption Secrets Block before the packets it
// decrypts) are found.
type KeySource interface {
	Lookup(clientRandom [32]byte) (TLSSecrets, bool)
}
