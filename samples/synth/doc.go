// Package synth synthesizes packet captures of the go command talking to
// module proxies, resolvers and middleboxes, byte for byte reproducibly.
//
// Application bytes come from the real thing: crypto/tls clients and
// servers (configured like the go command's HTTP client and like the
// servers and interceptors of a scenario), HTTP/1.1, HTTP/2, CONNECT and
// SOCKS5 exchanges, run against each other over an in-memory connection
// (Converse) that lets only one side run at a time, so that every draw from
// the global random source happens in the same order on every run. DNS
// messages are built with github.com/miekg/dns.
//
// The bytes are then laid out as a capture at the client would see them
// (Capture, Conn.Play): a TCP three-way handshake with the options Linux
// sends, segments cut at the MSS, acknowledgements where TCP sends them,
// round-trip and think times, IP TTLs decremented by the hops a packet
// crossed, IP IDs numbered as the sending host numbers them, and Ethernet or
// Linux SLL2 framing, written as pcapng with capture.Writer. Helpers build
// what a scenario needs beyond that: ICMP errors quoting the packet they
// answer, IPv4 fragments in any order, lost, reordered and retransmitted
// segments, injected resets and DNS answers.
//
// Determinism needs the callers' cooperation: run inside a test that calls
// testing/cryptotest.SetGlobalRandom, give NewCapture and Issuer seeded
// sources, and fix every clock (GoClientConfig and ServerSpec.Config take
// the time to use).
package synth
