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
	"time"
)

// Ref points at one packet of one input: the evidence a finding cites.
type Ref struct {
	// Input is the index of the input in the order given on the command line.
	Input int
	// Packet is the 1-based frame number within that input.
	Packet int
	// Time is the packet's capture timestamp.
	Time time.Time
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
