package synth

import (
	"time"

	"github.com/miekg/dns"
)

// Resolver is a DNS server as one client reaches it over UDP.
type Resolver struct {
	c              *Capture
	Client, Server *Host
	Port           uint16
	// RTT is how long the server takes to answer, seen from the client.
	RTT time.Duration
	// EDNS is the UDP payload size the server advertises in its
	// responses (0: no OPT record).
	EDNS uint16

	ids *IPIDs // the server's socket
}

// Resolver returns a resolver at server:53 for client.
func (c *Capture) Resolver(client, server *Host, rtt time.Duration, edns uint16) *Resolver {
	return &Resolver{c: c, Client: client, Server: server, Port: 53, RTT: rtt, EDNS: edns, ids: c.socketID(server)}
}

// Query is one DNS query as sent by the client.
type Query struct {
	r      *Resolver
	Msg    *dns.Msg
	Port   uint16
	Sent   time.Time
	Packet []byte // the IP packet, for an ICMP error to quote
	ids    *IPIDs
}

// GoQuery sends a query the way Go's resolver does (net/dnsclient_unix.go):
// a new connected UDP socket, a random ID, recursion desired, and an EDNS0
// OPT record advertising 1232 bytes.
func (r *Resolver) GoQuery(t time.Time, name string, qtype uint16) *Query {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.Id = uint16(r.c.Rand.IntN(65536))
	m.SetEdns0(1232, false)
	q := &Query{r: r, Msg: m, Port: r.c.EphemeralPort(), Sent: t, ids: r.c.socketID(r.Client)}
	q.send(t)
	return q
}

// Resend sends the same query again from the same socket (a resolver
// that retransmits with one ID, such as glibc's or systemd-resolved's).
func (q *Query) Resend(t time.Time) { q.send(t) }

func (q *Query) send(t time.Time) {
	b, err := q.Msg.Pack()
	if err != nil {
		q.r.c.fail(err)
		return
	}
	q.Packet = q.r.c.UDP(t, q.r.Client, q.Port, q.r.Server, q.r.Port, q.ids, b)
}

// Reply builds the response to q: the question echoed, RD and RA set, the
// given rcode, answer records in zone-file syntax, and the server's OPT
// record.
func (q *Query) Reply(rcode int, answers ...string) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(q.Msg, rcode)
	m.RecursionAvailable = true
	for _, s := range answers {
		rr, err := dns.NewRR(s)
		if err != nil {
			q.r.c.fail(err)
			continue
		}
		m.Answer = append(m.Answer, rr)
	}
	if q.r.EDNS > 0 {
		m.SetEdns0(q.r.EDNS, false)
	}
	return m
}

// WithAuthority adds authority records (an SOA for a negative answer).
func (q *Query) WithAuthority(m *dns.Msg, records ...string) *dns.Msg {
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil {
			q.r.c.fail(err)
			continue
		}
		m.Ns = append(m.Ns, rr)
	}
	return m
}

// Answer sends a NOERROR response with the given records RTT after the
// query and returns the IP packet.
func (q *Query) Answer(answers ...string) []byte {
	return q.Respond(q.Sent.Add(q.r.RTT), q.Reply(dns.RcodeSuccess, answers...))
}

// Respond sends m from the resolver at t and returns the IP packet.
func (q *Query) Respond(t time.Time, m *dns.Msg) []byte {
	return q.RespondFrom(t, q.r.Server, q.r.ids, m)
}

// RespondFrom sends m at t as if from the resolver, but from the host
// from (another host spoofing the resolver's address, with its own TTL)
// and with IP IDs from ids.
func (q *Query) RespondFrom(t time.Time, from *Host, ids *IPIDs, m *dns.Msg) []byte {
	b, err := m.Pack()
	if err != nil {
		q.r.c.fail(err)
		return nil
	}
	src := *from
	src.Addr = q.r.Server.Addr
	return q.r.c.UDP(t, &src, q.r.Port, q.r.Client, q.Port, ids, b)
}

// IDs returns a generator of IP IDs for packets a host sends.
func (c *Capture) IDs(h *Host) *IPIDs { return c.socketID(h) }

// PortUnreachable sends, at t, the ICMP port unreachable the resolver's
// host returns when nothing listens on port 53.
func (q *Query) PortUnreachable(t time.Time) {
	q.r.c.ICMPUnreachable(t, q.r.Server, q.r.Client, ICMPPortUnreachable, q.Packet)
}

// GoLookup resolves name as Go's resolver does with IPv4 and IPv6
// enabled: an A and an AAAA query in parallel, each from its own socket,
// answered after the resolver's RTT (the AAAA a little later). Records are
// in zone-file syntax; an empty list is an empty NOERROR answer (NODATA).
// It returns the time the last answer arrived.
func (r *Resolver) GoLookup(t time.Time, name string, a, aaaa []string) time.Time {
	qa := r.GoQuery(t, name, dns.TypeA)
	q6 := r.GoQuery(t.Add(70*time.Microsecond), name, dns.TypeAAAA)
	qa.Answer(a...)
	end := q6.Sent.Add(r.RTT + 180*time.Microsecond)
	q6.Respond(end, q6.Reply(dns.RcodeSuccess, aaaa...))
	return end
}

// ForwardQuery sends a query the way systemd-resolved forwards one
// upstream: a fresh socket and random ID, recursion desired, EDNS0
// advertising 1232 bytes with the DNSSEC OK bit.
func (r *Resolver) ForwardQuery(t time.Time, name string, qtype uint16) *Query {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.Id = uint16(r.c.Rand.IntN(65536))
	m.SetEdns0(1232, true)
	q := &Query{r: r, Msg: m, Port: r.c.EphemeralPort(), Sent: t, ids: r.c.socketID(r.Client)}
	q.send(t)
	return q
}
