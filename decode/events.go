package decode

import (
	"net/netip"
	"time"
	"unsafe"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode/reassembly"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// Events is everything the decoders found in one or more inputs: the
// vocabulary the analyzers work in. Every slice is in the order the first
// packet of each item was read, which is deterministic for given inputs.
type Events struct {
	DNS   []*DNSExchange
	TCP   []*TCPConn
	TLS   []*TLSSession
	Proxy []*Tunnel
	HTTP  []*HTTPExchange
	// ICMP holds every ICMP or ICMPv6 error, matched or not.
	ICMP []*ICMPError
	// NTP holds the capturing machine's NTP requests and their replies.
	NTP []*NTPExchange
	// Notes are decoding remarks that belong to no single item: a link type
	// that cannot be decoded, a limit that was hit, packets cut by the snap
	// length.
	Notes []Note
	// Stats counts what was decoded, per input.
	Stats []Stats
}

// Note is one decoding remark tied to the packet that caused it.
type Note struct {
	At  capture.Ref
	Msg string
}

// Stats counts what the decoder saw in one input.
type Stats struct {
	Input         int
	Packets       int
	Bytes         int64
	Decoded       int // packets with an IPv4 or IPv6 header
	Malformed     int // packets a layer decoder rejected
	SnapCut       int // packets shorter than on the wire
	Unsupported   int // packets of a link type modsniff does not decode
	Fragments     int // IP fragments seen
	Reassembled   int // IP datagrams rebuilt from fragments
	FlowsEvicted  int // flows forgotten because of the flow limit
	BufferedLimit int // times the reassembly buffer limits forced a gap
	First, Last   time.Time
	// End is when the capture stopped: the time its writer recorded
	// (pcapng interface statistics) when later than the last packet, else
	// Last. Silence until End is evidence too.
	End time.Time
}

// IPInfo is what the network layer says about one packet: the fields an
// on-path injector rarely gets right.
type IPInfo struct {
	// TTL is the IPv4 time to live or the IPv6 hop limit.
	TTL uint8
	// ID is the IPv4 identification field; 0 for IPv6.
	ID uint16
	// V6 is set for IPv6.
	V6 bool
}

// DNSExchange is one DNS transaction: a query and every response to it
// (RFC 1035 §7), keyed by client, server, transport, ID and question. A
// second response that differs from the first is kept: that is how an
// injected answer shows. The fields are ordered to leave no padding: every
// transaction is kept until the analysis ends. The query's IP header is
// not kept (nothing reads it; a response's is, in DNSResponse.IP).
type DNSExchange struct {
	Client, Server netip.AddrPort
	// Name is the question name without the trailing dot, as sent.
	Name string
	// Query is the first query packet; zero when the capture holds only a
	// response.
	Query capture.Ref
	// Responses holds every response in capture order.
	Responses []*DNSResponse
	// Extra holds what few transactions have (retries, ICMP errors,
	// rejected responses, a parse error); nil when there is none of it.
	// The methods of the same names read it.
	Extra *DNSExtra
	ID    uint16
	// QType is the question type (miekg/dns's dns.TypeA …); 0 with Name
	// "" when the message had no question. TypeName makes its mnemonic.
	QType uint16
	// EDNS is the advertised UDP payload size (0 without an OPT record,
	// RFC 6891 §6.2.3).
	EDNS uint16
	// RD reports the recursion-desired bit of the query.
	RD        bool
	Transport DNSTransport
}

// DNSExtra is the part of a DNS transaction that most transactions do
// not have, kept apart so that they do not pay for it.
type DNSExtra struct {
	// Retries lists further identical queries.
	Retries []capture.Ref
	// ICMP holds errors quoting the query (the resolver is not there) or a
	// response (the client had already given up on the socket).
	ICMP []*ICMPError
	// Rejected holds responses with this transaction's ID whose question
	// section names another question (RFC 5452 §9.1): the go resolver
	// ignores them and keeps waiting. They are not in Responses.
	Rejected []*DNSResponse
	// Reset is set when a DNS-over-TCP connection to the server was reset.
	Reset *capture.Ref
	// Malformed holds the parse error of a query that could not be fully
	// decoded.
	Malformed string
}

// Retries returns the further identical queries of the transaction.
func (x *DNSExchange) Retries() []capture.Ref { return x.rare().Retries }

// ICMP returns the ICMP errors quoting the transaction's query or a
// response to it.
func (x *DNSExchange) ICMP() []*ICMPError { return x.rare().ICMP }

// Rejected returns the responses with the transaction's ID but another
// question (see DNSExtra.Rejected).
func (x *DNSExchange) Rejected() []*DNSResponse { return x.rare().Rejected }

// Reset returns the reset of the DNS-over-TCP connection, nil if none.
func (x *DNSExchange) Reset() *capture.Ref { return x.rare().Reset }

// Malformed returns the parse error of a query that could not be fully
// decoded, "" if it decoded.
func (x *DNSExchange) Malformed() string { return x.rare().Malformed }

// extra returns x.Extra, made when missing.
func (x *DNSExchange) extra() *DNSExtra {
	if x.Extra == nil {
		x.Extra = new(DNSExtra)
	}
	return x.Extra
}

// noDNSExtra is what a transaction without rare parts reads: a zero value
// that is never written.
var noDNSExtra DNSExtra

// rare returns x.Extra, or noDNSExtra when x has none: for reading only.
func (x *DNSExchange) rare() *DNSExtra {
	if x.Extra == nil {
		return &noDNSExtra
	}
	return x.Extra
}

// DNSTransport is what carries a DNS transaction: UDP (RFC 1035 §4.2.1)
// or TCP (RFC 7766).
type DNSTransport uint8

// The transports of DNS; the zero value names none.
const (
	DNSOverUDP DNSTransport = 1 + iota
	DNSOverTCP
)

// String returns "udp" or "tcp" ("" for the zero value).
func (t DNSTransport) String() string {
	switch t {
	case DNSOverUDP:
		return "udp"
	case DNSOverTCP:
		return "tcp"
	}
	return ""
}

// DNSResponse is one response message to a DNS query. Every response is
// kept until the analysis ends: what few responses have (a parse error,
// omitted records, the question of a rejected response) is behind Extra,
// read through methods of the same names, and the fields are ordered to
// leave no padding. The authority section is not kept: nothing reads it.
type DNSResponse struct {
	At      capture.Ref
	Answers []DNSRecord
	// Extra holds what few responses have; nil when there is none of it.
	Extra *DNSResponseExtra
	// RCode is the response code (RFC 1035 §4.1.1, RFC 6895 §2.3; miekg's
	// dns.RcodeSuccess …). RcodeName makes its mnemonic.
	RCode              uint16
	IP                 IPInfo
	Authoritative      bool
	Truncated          bool
	RecursionAvailable bool
}

// DNSResponseExtra is the part of a DNS response that most responses do
// not have.
type DNSResponseExtra struct {
	// Malformed holds the parse error when only part of the message could
	// be decoded; the header fields are still valid. MalformedSection
	// names the section where decoding stopped.
	Malformed string
	// Question and QType are the response's own question, set only for a
	// response in DNSExchange.Rejected.
	Question string
	// AnswersOmitted counts the records of the answer section beyond the
	// first 32, which are not kept.
	AnswersOmitted   int
	QType            uint16
	MalformedSection DNSSection
}

// extra returns r.Extra, made when missing.
func (r *DNSResponse) extra() *DNSResponseExtra {
	if r.Extra == nil {
		r.Extra = new(DNSResponseExtra)
	}
	return r.Extra
}

// noDNSResponseExtra is what a response without rare parts reads: a zero
// value that is never written.
var noDNSResponseExtra DNSResponseExtra

// rare returns r.Extra, or noDNSResponseExtra when r has none: for
// reading only.
func (r *DNSResponse) rare() *DNSResponseExtra {
	if r.Extra == nil {
		return &noDNSResponseExtra
	}
	return r.Extra
}

// Malformed returns the parse error when only part of the message could be
// decoded, "" when it decoded.
func (r *DNSResponse) Malformed() string { return r.rare().Malformed }

// MalformedSection names the section where decoding stopped (zero when the
// message decoded).
func (r *DNSResponse) MalformedSection() DNSSection { return r.rare().MalformedSection }

// Question returns the response's own question name, set only for a
// response in DNSExchange.Rejected.
func (r *DNSResponse) Question() string { return r.rare().Question }

// QType returns the response's own question type, set only for a response
// in DNSExchange.Rejected.
func (r *DNSResponse) QType() uint16 { return r.rare().QType }

// AnswersOmitted counts the answer records beyond the first 32, which are
// not kept.
func (r *DNSResponse) AnswersOmitted() int { return r.rare().AnswersOmitted }

// DNSSection names a section of a DNS message (RFC 1035 §4.1).
type DNSSection uint8

// The sections of a DNS message; the zero value names none.
const (
	SectionQuestion DNSSection = 1 + iota
	SectionAnswer
	SectionAuthority
	SectionAdditional
)

// String returns "question", "answer", "authority" or "additional" ("" for
// the zero value).
func (s DNSSection) String() string {
	switch s {
	case SectionQuestion:
		return "question"
	case SectionAnswer:
		return "answer"
	case SectionAuthority:
		return "authority"
	case SectionAdditional:
		return "additional"
	}
	return ""
}

// DNSRecord is one resource record (RFC 1035 §3.2.1), typed: either Addr
// or Target holds its data.
type DNSRecord struct {
	Name string // owner name, without the trailing dot
	// Addr is the address of an A (unmapped IPv4) or AAAA record.
	Addr netip.Addr
	// Target is the name a CNAME, NS or PTR record points to, without the
	// trailing dot; for a record of any other type (or an A or AAAA record
	// whose data is not an address), the presentation form of its data.
	Target string
	TTL    uint32
	Type   uint16 // miekg's dns.TypeA …; TypeName makes its mnemonic
}

// TCPConn is one TCP connection (RFC 9293) as seen on the wire. Every
// connection is kept until the analysis ends, so the fields are narrow
// where their bounds allow (packet counts, like wire.Ref's packet numbers,
// are 32 bits), ordered to leave little padding, and what most
// connections never have (retransmitted SYNs, resets, ICMP errors, a
// tunnel, acknowledgement stalls) is behind Extra, read through methods
// of the same names.
type TCPConn struct {
	Client, Server netip.AddrPort
	First, Last    capture.Ref
	// SYNACK is the server's first SYN-ACK; zero if none was seen.
	SYNACK capture.Ref
	// FIN holds each direction's first FIN (index 0: client).
	FIN [2]capture.Ref
	// LastPayload locates each direction's last packet with payload,
	// ClientFirstPayload the client's first; Payload counts the payload
	// bytes per direction.
	LastPayload        [2]capture.Ref
	ClientFirstPayload capture.Ref
	Payload            [2]int64
	// ServerFINIdle is the capture time between the connection's previous
	// packet and the server's first FIN.
	ServerFINIdle time.Duration
	// TLS points at the session the stream carried, when known.
	TLS *TLSSession
	// Extra holds what few connections have; nil when there is none of it.
	// The methods of the same names read it.
	Extra *TCPExtra
	// Packets counts packets per direction, saturating at the largest int32.
	Packets [2]int32
	// Stream holds the reassembly counters per direction.
	Stream [2]TCPStreamStats
	// Path holds each direction's segment sizes and acknowledgement
	// progress (index 0: client); Stall returns a stall still open at the
	// end.
	Path [2]TCPPath
	// SYNIP and SYNACKIP are the IP headers of the first SYN and SYN-ACK.
	SYNIP, SYNACKIP IPInfo
	// App names what the stream carries.
	App TCPApp
	// RoleGuessed is set when the SYN was not captured and the client was
	// chosen by port numbers.
	RoleGuessed bool
	// synFirst is set when the client's only SYN is First, the usual case;
	// Extra.SYN lists the SYNs otherwise. SYN returns them.
	synFirst bool
}

// TCPExtra is the part of a connection that most connections do not
// have, kept apart so that they do not pay for it.
type TCPExtra struct {
	// SYN lists the client's SYNs (the first and every retransmission),
	// unless there was only one and it was the connection's first packet.
	SYN []capture.Ref
	// Resets lists every RST, from either side.
	Resets []TCPReset
	// ICMP holds ICMP errors quoting this connection.
	ICMP []*ICMPError
	// Tunnel is the proxy tunnel the stream carried, when known.
	Tunnel *Tunnel
	// Stall holds each direction's acknowledgement stall that was still
	// open when the connection ended (see TCPPath).
	Stall [2]*TCPStall
}

// extra returns c.Extra, made when missing.
func (c *TCPConn) extra() *TCPExtra {
	if c.Extra == nil {
		c.Extra = new(TCPExtra)
	}
	return c.Extra
}

// noTCPExtra is what a connection without rare parts reads: a zero value
// that is never written.
var noTCPExtra TCPExtra

// rare returns c.Extra, or noTCPExtra when c has none: for reading only.
func (c *TCPConn) rare() *TCPExtra {
	if c.Extra == nil {
		return &noTCPExtra
	}
	return c.Extra
}

// SYN returns the client's SYNs: the first and every retransmission, in
// capture order; none when no SYN from the client was captured. The
// caller must not modify the slice.
func (c *TCPConn) SYN() []capture.Ref {
	switch {
	case c.synFirst:
		return unsafe.Slice(&c.First, 1) // First, as a list of one: no copy to keep
	case c.Extra != nil:
		return c.Extra.SYN
	}
	return nil
}

// AddSYN records a SYN from the client.
func (c *TCPConn) AddSYN(at capture.Ref) {
	switch {
	case c.synFirst:
		c.synFirst = false
		c.extra().SYN = []capture.Ref{c.First, at}
	case at == c.First && (c.Extra == nil || c.Extra.SYN == nil):
		c.synFirst = true
	default:
		x := c.extra()
		x.SYN = append(x.SYN, at)
	}
}

// Resets returns every RST of the connection, from either side.
func (c *TCPConn) Resets() []TCPReset { return c.rare().Resets }

// AddReset records a RST.
func (c *TCPConn) AddReset(r TCPReset) { c.extra().Resets = append(c.extra().Resets, r) }

// ICMP returns the ICMP errors quoting the connection.
func (c *TCPConn) ICMP() []*ICMPError { return c.rare().ICMP }

// AddICMP records an ICMP error quoting the connection.
func (c *TCPConn) AddICMP(e *ICMPError) { c.extra().ICMP = append(c.extra().ICMP, e) }

// Tunnel returns the proxy tunnel the stream carried, nil if none.
func (c *TCPConn) Tunnel() *Tunnel { return c.rare().Tunnel }

// SetTunnel records the proxy tunnel the stream carried.
func (c *TCPConn) SetTunnel(t *Tunnel) { c.extra().Tunnel = t }

// Stall returns direction dir's acknowledgement stall still open when the
// connection ended (index 0: the client's data), nil if none (see
// TCPPath).
func (c *TCPConn) Stall(dir int) *TCPStall { return c.rare().Stall[dir] }

// SetStall records direction dir's open acknowledgement stall.
func (c *TCPConn) SetStall(dir int, st *TCPStall) { c.extra().Stall[dir] = st }

// TCPStreamStats are the reassembly counters of one direction that the
// analysis reads (see reassembly.Stats).
type TCPStreamStats struct {
	// Retransmitted counts segments carrying no new byte.
	Retransmitted int32
	// OutOfOrder counts segments buffered because they arrived ahead of the
	// next expected byte.
	OutOfOrder int32
	// BoundHits counts the times a limit forced a gap.
	BoundHits int32
}

// streamStats keeps the counters of st that TCPConn holds.
func streamStats(st reassembly.Stats) TCPStreamStats {
	return TCPStreamStats{Retransmitted: st.Retransmitted, OutOfOrder: st.OutOfOrder, BoundHits: st.BoundHits}
}

// TCPApp names what a TCP stream carries.
type TCPApp uint8

// The applications a TCP stream is recognised as; the zero value names
// none.
const (
	AppTLS TCPApp = 1 + iota
	AppDNS
	AppHTTP
	AppHTTPConnect
	AppSOCKS5
	AppSOCKS4
)

// String returns "tls", "dns", "http", "http-connect", "socks5", "socks4",
// or "" when unknown.
func (a TCPApp) String() string {
	switch a {
	case AppTLS:
		return "tls"
	case AppDNS:
		return "dns"
	case AppHTTP:
		return "http"
	case AppHTTPConnect:
		return "http-connect"
	case AppSOCKS5:
		return "socks5"
	case AppSOCKS4:
		return "socks4"
	}
	return ""
}

// TCPReset is one RST segment.
type TCPReset struct {
	At capture.Ref
	// FromClient is set when the client sent it.
	FromClient bool
	IP         IPInfo
	// AfterPayload counts payload bytes the sender had sent before the RST.
	AfterPayload int64
	// Idle is the capture time between the connection's previous packet
	// and the RST: a long one marks an idle timeout.
	Idle time.Duration
}

// TLSSession is one TLS handshake and what followed it, on a TCP
// connection or inside a proxy tunnel. It is kept for the whole analysis,
// one per TLS connection: its client and server are its connection's (the
// methods Client and Server), and the rare NotTLS bytes are behind a
// pointer.
type TLSSession struct {
	// Conn is the carrying connection; Tunnel is set when the session runs
	// inside an HTTP CONNECT or SOCKS tunnel.
	Conn   *TCPConn
	Tunnel *Tunnel
	*tlswire.Session
	notTLS *notTLS
}

// notTLS is the first bytes of a server that did not answer with TLS.
type notTLS struct {
	b  []byte
	at capture.Ref
}

// Client returns the client's address: its connection's (inside a tunnel,
// the tunnel's client side); zero without a connection.
func (s *TLSSession) Client() netip.AddrPort {
	if s.Conn == nil {
		return netip.AddrPort{}
	}
	return s.Conn.Client
}

// Server returns the server's address: its connection's (inside a tunnel,
// the proxy's); zero without a connection.
func (s *TLSSession) Server() netip.AddrPort {
	if s.Conn == nil {
		return netip.AddrPort{}
	}
	return s.Conn.Server
}

// NotTLS returns the first bytes the server sent (at most NotTLSMax) when
// they did not start a TLS record (RFC 8446 §5.1): an HTTP status line, an
// SSH banner, HTTP/2 frames; nil when the server answered with TLS.
func (s *TLSSession) NotTLS() []byte {
	if s.notTLS == nil {
		return nil
	}
	return s.notTLS.b
}

// NotTLSAt returns the packet that began the NotTLS bytes.
func (s *TLSSession) NotTLSAt() capture.Ref {
	if s.notTLS == nil {
		return capture.Ref{}
	}
	return s.notTLS.at
}

// NotTLSMax bounds TLSSession.NotTLS.
const NotTLSMax = 256

// Tunnel is an HTTP CONNECT (RFC 9110 §9.3.6) or SOCKS (RFC 1928) tunnel
// request and the proxy's answer.
type Tunnel struct {
	Kind          string // "http-connect", "socks5" or "socks4"
	Client, Proxy netip.AddrPort
	// Target is the host:port the client asked for.
	Target  string
	Request capture.Ref
	// Response is the proxy's answer; zero if none was seen.
	Response capture.Ref
	// Status is the HTTP status code, or the SOCKS reply code.
	Status int
	// StatusLine is the HTTP status line, or the SOCKS reply's meaning.
	StatusLine string
	// AuthRealm is the realm of a Proxy-Authenticate challenge. Credentials
	// are never recorded; ProxyAuthorization only says one was sent.
	AuthScheme         string
	AuthRealm          string
	ProxyAuthorization bool
	// Methods are the SOCKS5 authentication methods offered and Method the
	// one chosen (0xff: none acceptable).
	Methods []byte
	Method  int
	// Established is set when the proxy agreed and bytes flowed inside.
	Established bool
	Conn        *TCPConn
}

// HTTPExchange is one HTTP request and its response, from plain HTTP or
// from decrypted TLS.
type HTTPExchange struct {
	Client, Server netip.AddrPort
	Host           string
	Method, Path   string
	Proto          string // "HTTP/1.1", "h2"
	Request        capture.Ref
	Status         int
	Response       capture.Ref
	// GoAway holds the error code name of the HTTP/2 GOAWAY that left this
	// request unanswered (Response is then the GOAWAY's packet), and
	// GoAwayFromClient says the client sent it.
	GoAway           string
	GoAwayFromClient bool
	Conn             *TCPConn
	// StreamID is the HTTP/2 stream that carried the exchange (0 for
	// HTTP/1).
	StreamID uint32
	// Reset is the error code name of an RST_STREAM (RFC 9113 §6.4) that
	// ended the stream before its response was complete (the client's
	// CANCEL excepted); ResetFromClient says the client sent it, ResetAt
	// locates it.
	Reset           string
	ResetFromClient bool
	ResetAt         capture.Ref
	// ContentType is the response's media type, lower case, without
	// parameters (RFC 9110 §8.3), cut at 64 bytes.
	ContentType string
	// ContentLength is the response's Content-Length, -1 when it had none
	// (or no response was seen).
	ContentLength int64
	// BodyBytes counts the response body bytes that were on the wire
	// (bytes missing from the capture but inside the body's framing
	// count); BodyDone is set once the body was complete (Content-Length
	// reached, the last chunk, END_STREAM, or the close that delimits it).
	BodyBytes int64
	BodyDone  bool
	// Truncated says how the response body ended early when the
	// connection closed (or the stream was reset) before it was complete:
	// "" otherwise, and "" when the capture simply stopped.
	Truncated string
	// Title is the <title> of an HTML response and FirstLine the first
	// non-empty line of a text body of a 3xx–5xx response: read from the
	// first 2 KiB of an uncompressed body, cut at 160 bytes.
	Title, FirstLine string
	// RetryAfter is the response's Retry-After field (RFC 9110 §10.2.3),
	// Location the host of its Location field (a redirect's target),
	// each cut at 64 bytes.
	RetryAfter, Location string
	// Malformed says what answered the request instead of an HTTP/1.x
	// response: "HTTP/2 frames" when the server spoke HTTP/2 (a SETTINGS
	// frame) on an HTTP/1.1 connection; Response is then its packet.
	Malformed string
	// Date is the response's Date field (RFC 9110 §6.6.1), the server's
	// clock; zero when absent or unparseable.
	Date time.Time
	// ErrorBody is the start (≤ 1 KiB, control characters as spaces) of
	// the text body of a 4xx/5xx response: what a module proxy says of a
	// path it cannot serve (`terminal prompts disabled`, `unrecognized
	// import path`). It is not written to reports.
	ErrorBody string
	// body holds the first bytes of a body being read, for Title and
	// FirstLine, dropped once read; encoded is set for a body with a
	// Content-Encoding, which is not peeked at.
	body    []byte
	encoded bool
}

// ICMPError is an ICMP (RFC 792) or ICMPv6 (RFC 4443) error message and
// the datagram header it quotes.
type ICMPError struct {
	At capture.Ref
	IP IPInfo
	// From is the router or host that sent the error.
	From netip.Addr
	// Kind names the error: "port-unreachable", "host-unreachable",
	// "net-unreachable", "admin-prohibited", "time-exceeded",
	// "frag-needed", "packet-too-big" …
	Kind       string
	Type, Code uint8
	// MTU is the next-hop MTU of a "frag-needed" (RFC 1191 §4) or
	// "packet-too-big" (RFC 4443 §3.2) error; 0 otherwise.
	MTU int
	// Quoted is the quoted datagram's transport ("udp", "tcp") and
	// endpoints, as the original sender wrote them.
	Proto    string
	Src, Dst netip.AddrPort
	// DNSID is the DNS ID of a quoted DNS message (HasDNS set).
	HasDNS bool
	DNSID  uint16
	// Matched is set when the error was attached to a DNS exchange or a
	// TCP connection.
	Matched bool
}
