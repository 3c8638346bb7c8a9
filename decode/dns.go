package decode

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unique"

	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"github.com/modsniff/modsniff/capture"
)

// dnsKey is the key under which the index of live DNS transactions files
// an entry: a 64-bit hash of the transaction's question key (client,
// server, transport, ID, question name folded to lower case as resolvers
// compare names, question type) with its lowest bit clear, or of its
// header key (client, server, transport, ID) with that bit set. The header
// key finds a transaction when only the header is known: a response
// without a question section, or an ICMP error quoting a query. Entries
// whose keys hash alike are chained and told apart by the real fields,
// which the transaction's event already holds: an entry costs a map slot
// and a share of one dnsState, not a copy of the key.
type dnsKey uint64

// dnsState is kept per live transaction for matching; the events outlive
// it. It is on the chain of its question key until a later transaction
// with the same question key replaces it, and on the chain of its header
// key until a later transaction with the same header key does; it is
// forgotten once on neither, or when it expires. It is 32 bytes, a size
// class below what a time.Time would make it: one is allocated per
// transaction.
type dnsState struct {
	ex *DNSExchange
	// last is the capture time of the transaction's last message, in Unix
	// nanoseconds: it comes from a wire.Ref, whose times that holds exactly.
	last int64
	// nextQ and nextID link the chains of states whose question keys, or
	// header keys, hash to the same dnsKey.
	nextQ, nextID *dnsState
}

// lastTime returns the capture time of the transaction's last message.
func (st *dnsState) lastTime() time.Time { return time.Unix(0, st.last) }

// dnsSeed seeds the hashes of the DNS index: a capture cannot be crafted
// to make every transaction collide. Only lookups depend on it, never the
// order of anything reported.
var dnsSeed = maphash.MakeSeed()

// dnsHashMask is applied to every hash of the DNS index; tests clear bits
// of it to force collisions.
var dnsHashMask = ^uint64(0)

// dnsHeaderHash hashes a transaction's header key.
func dnsHeaderHash(client, server netip.AddrPort, tcp bool, id uint16) uint64 {
	var b [39]byte
	c, s := client.Addr().As16(), server.Addr().As16()
	copy(b[0:16], c[:])
	copy(b[16:32], s[:])
	binary.LittleEndian.PutUint16(b[32:], client.Port())
	binary.LittleEndian.PutUint16(b[34:], server.Port())
	binary.LittleEndian.PutUint16(b[36:], id)
	if tcp {
		b[38] = 1
	}
	return maphash.Bytes(dnsSeed, b[:]) & dnsHashMask
}

// dnsIDKey returns the index key of a header key.
func dnsIDKey(client, server netip.AddrPort, tcp bool, id uint16) dnsKey {
	return dnsKey(dnsHeaderHash(client, server, tcp, id) | 1)
}

// dnsQKey returns the index key of a question key; lname is the question
// name folded to lower case.
func dnsQKey(client, server netip.AddrPort, tcp bool, id uint16, lname string, qtype uint16) dnsKey {
	var b [18]byte
	binary.LittleEndian.PutUint64(b[0:], dnsHeaderHash(client, server, tcp, id))
	binary.LittleEndian.PutUint64(b[8:], maphash.String(dnsSeed, lname))
	binary.LittleEndian.PutUint16(b[16:], qtype)
	return dnsKey(maphash.Bytes(dnsSeed, b[:]) & dnsHashMask &^ 1)
}

// isTCP reports whether the transaction runs over TCP.
func (x *DNSExchange) isTCP() bool { return x.Transport == DNSOverTCP }

// sameHeader reports whether x has the given header key.
func (x *DNSExchange) sameHeader(client, server netip.AddrPort, tcp bool, id uint16) bool {
	return x.ID == id && x.Client == client && x.Server == server && x.isTCP() == tcp
}

// sameQuestion reports whether x has the given question key.
func (x *DNSExchange) sameQuestion(client, server netip.AddrPort, tcp bool, id uint16, lname string, qtype uint16) bool {
	return x.QType == qtype && x.sameHeader(client, server, tcp, id) && lowerEqual(x.Name, lname)
}

// lowerEqual reports whether strings.ToLower(s) == lower, without
// allocating when s is ASCII (as miekg/dns presents every name).
func lowerEqual(s, lower string) bool {
	if len(s) != len(lower) {
		return strings.ToLower(s) == lower
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return strings.ToLower(s) == lower
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// dnsByQuestion finds the live transaction with the given question key.
func (d *Decoder) dnsByQuestion(client, server netip.AddrPort, tcp bool, id uint16, lname string, qtype uint16) *dnsState {
	for st := d.dns[dnsQKey(client, server, tcp, id, lname, qtype)]; st != nil; st = st.nextQ {
		if st.ex.sameQuestion(client, server, tcp, id, lname, qtype) {
			return st
		}
	}
	return nil
}

// dnsByHeader finds the live transaction last filed under the given
// header key.
func (d *Decoder) dnsByHeader(client, server netip.AddrPort, tcp bool, id uint16) *dnsState {
	for st := d.dns[dnsIDKey(client, server, tcp, id)]; st != nil; st = st.nextID {
		if st.ex.sameHeader(client, server, tcp, id) {
			return st
		}
	}
	return nil
}

// dnsPorts are the UDP ports whose payload is decoded as DNS: DNS itself,
// multicast DNS (RFC 6762) and LLMNR (RFC 4795).
func dnsPort(p layers.UDPPort) bool { return p == 53 || p == 5353 || p == 5355 }

// udpPacket decodes one UDP datagram (RFC 768).
func (d *Decoder) udpPacket(srcIP, dstIP netip.Addr, ip IPInfo, u *layers.UDP, at capture.Ref) {
	if ntpPortOf(u) {
		d.ntpPacket(netip.AddrPortFrom(srcIP, uint16(u.SrcPort)), netip.AddrPortFrom(dstIP, uint16(u.DstPort)), u.Payload, at)
		return
	}
	if !dnsPort(u.SrcPort) && !dnsPort(u.DstPort) {
		return
	}
	src := netip.AddrPortFrom(srcIP, uint16(u.SrcPort))
	dst := netip.AddrPortFrom(dstIP, uint16(u.DstPort))
	d.dnsMessage(src, dst, false, u.Payload, ip, at)
}

// dnsMessage decodes one DNS message (RFC 1035 §4) and files it under its
// transaction. The QR bit, not the port, tells a query from a response.
func (d *Decoder) dnsMessage(src, dst netip.AddrPort, tcp bool, payload []byte, ip IPInfo, at capture.Ref) {
	if len(payload) < 12 {
		if len(payload) > 0 {
			d.noteKind(at, noteDNSShort, fmt.Sprintf("DNS message of %d bytes from %s is shorter than its 12-byte header", len(payload), src))
		}
		return
	}
	var m dns.Msg
	err := m.Unpack(payload)
	malformed := ""
	if err != nil {
		malformed = err.Error()
	}
	var name string
	var qtype uint16
	if len(m.Question) > 0 {
		name = strings.TrimSuffix(m.Question[0].Name, ".")
		qtype = m.Question[0].Qtype
	}
	if !m.Response {
		d.dnsQuery(src, dst, tcp, &m, name, qtype, malformed, at)
		return
	}
	client, server := dst, src
	lname := strings.ToLower(name)
	st := d.dnsByQuestion(client, server, tcp, m.Id, lname, qtype)
	if st == nil && len(m.Question) == 0 {
		// A header-only answer (REFUSED, FORMERR …): match by ID.
		st = d.dnsByHeader(client, server, tcp, m.Id)
	}
	if st == nil && len(m.Question) > 0 {
		// The ID of a live query but another question: resolvers that
		// check the question (the go resolver does) drop it.
		if q := d.dnsByHeader(client, server, tcp, m.Id); q != nil && !q.ex.Query.IsZero() {
			if len(q.ex.Rejected()) < 16 {
				r := &DNSResponse{At: at, IP: ip, RCode: uint16(m.Rcode), Truncated: m.Truncated,
					Extra: &DNSResponseExtra{Malformed: malformed, Question: name, QType: qtype}}
				r.Answers, r.Extra.AnswersOmitted = d.records(m.Answer)
				q.ex.extra().Rejected = append(q.ex.Rejected(), r)
			}
			return
		}
	}
	if st == nil {
		ex := d.newDNSExchange(client, server, tcp, m.Id, name, qtype, at)
		if ex == nil {
			return
		}
		st = d.trackDNS(lname, ex, at.Time())
	}
	st.last = at.Time().UnixNano()
	if len(st.ex.Responses) >= 64 {
		return
	}
	r := d.responses.new()
	*r = DNSResponse{
		At:                 at,
		IP:                 ip,
		RCode:              uint16(m.Rcode),
		Authoritative:      m.Authoritative,
		Truncated:          m.Truncated,
		RecursionAvailable: m.RecursionAvailable,
	}
	var omitted int
	r.Answers, omitted = d.records(m.Answer)
	if omitted > 0 {
		r.extra().AnswersOmitted = omitted
	}
	if malformed != "" {
		x := r.extra()
		x.Malformed = malformed
		x.MalformedSection = malformedSection(payload, &m)
	}
	st.ex.Responses = append(st.ex.Responses, r)
}

// dnsQuery files a query: a new transaction, or a retry of a live one.
func (d *Decoder) dnsQuery(src, dst netip.AddrPort, tcp bool, m *dns.Msg, name string, qtype uint16, malformed string, at capture.Ref) {
	lname := strings.ToLower(name)
	if st := d.dnsByQuestion(src, dst, tcp, m.Id, lname, qtype); st != nil && !st.ex.Query.IsZero() && at.Time().Sub(st.lastTime()) < 30*time.Second {
		st.last = at.Time().UnixNano()
		if len(st.ex.Retries()) < 32 {
			st.ex.extra().Retries = append(st.ex.Retries(), at)
		}
		return
	}
	ex := d.newDNSExchange(src, dst, tcp, m.Id, name, qtype, at)
	if ex == nil {
		return
	}
	ex.Query = at
	ex.RD = m.RecursionDesired
	if malformed != "" {
		ex.extra().Malformed = malformed
	}
	if opt := m.IsEdns0(); opt != nil {
		ex.EDNS = opt.UDPSize()
	}
	d.trackDNS(lname, ex, at.Time())
}

// newDNSExchange records a transaction event, or returns nil once the event
// limit is reached.
func (d *Decoder) newDNSExchange(client, server netip.AddrPort, tcp bool, id uint16, name string, qtype uint16, at capture.Ref) *DNSExchange {
	if len(d.ev.DNS) >= d.lim.MaxEvents {
		d.noteLimit(at, "dns", fmt.Sprintf("more than %d DNS transactions: later ones are not analysed", d.lim.MaxEvents))
		return nil
	}
	transport := DNSOverUDP
	if tcp {
		transport = DNSOverTCP
	}
	ex := d.exchanges.new()
	*ex = DNSExchange{
		Client: client, Server: server, Transport: transport, ID: id,
		Name: intern(name), QType: qtype,
	}
	d.ev.DNS = append(d.ev.DNS, ex)
	return ex
}

// trackDNS indexes a transaction for matching responses and ICMP errors,
// under its question key and its header key; lname is its question name
// folded to lower case. It replaces what either key found before.
func (d *Decoder) trackDNS(lname string, ex *DNSExchange, now time.Time) *dnsState {
	st := &dnsState{ex: ex, last: now.UnixNano()}
	tcp := ex.isTCP()
	qk := dnsQKey(ex.Client, ex.Server, tcp, ex.ID, lname, ex.QType)
	head := d.dns[qk]
	for p := &head; *p != nil; p = &(*p).nextQ {
		if (*p).ex.sameQuestion(ex.Client, ex.Server, tcp, ex.ID, lname, ex.QType) {
			*p = (*p).nextQ
			break
		}
	}
	st.nextQ = head
	d.dns[qk] = st
	ik := dnsIDKey(ex.Client, ex.Server, tcp, ex.ID)
	head = d.dns[ik]
	for p := &head; *p != nil; p = &(*p).nextID {
		if (*p).ex.sameHeader(ex.Client, ex.Server, tcp, ex.ID) {
			*p = (*p).nextID
			break
		}
	}
	st.nextID = head
	d.dns[ik] = st
	return st
}

// expireDNS forgets transactions idle for two minutes of capture time: a
// response later than that is filed as unsolicited.
func (d *Decoder) expireDNS(now time.Time) {
	for k, head := range d.dns {
		old := head
		idKey := k&1 == 1
		for p := &head; *p != nil; {
			if now.Sub((*p).lastTime()) <= 2*time.Minute {
				if idKey {
					p = &(*p).nextID
				} else {
					p = &(*p).nextQ
				}
				continue
			}
			if idKey {
				*p = (*p).nextID
			} else {
				*p = (*p).nextQ
			}
		}
		switch {
		case head == nil:
			delete(d.dns, k)
		case head != old:
			d.dns[k] = head
		}
	}
}

// dnsByID finds the live transaction with the given endpoints and ID.
func (d *Decoder) dnsByID(client, server netip.AddrPort, tcp bool, id uint16) *DNSExchange {
	if st := d.dnsByHeader(client, server, tcp, id); st != nil {
		return st.ex
	}
	return nil
}

// malformedSection names the section of a DNS message (RFC 1035 §4.1) in
// which decoding stopped, from the header's counts and what was decoded.
func malformedSection(payload []byte, m *dns.Msg) DNSSection {
	count := func(off int) int { return int(payload[off])<<8 | int(payload[off+1]) }
	switch {
	case len(m.Question) < count(4) || count(4) == 0:
		return SectionQuestion
	case len(m.Answer) < count(6):
		return SectionAnswer
	case len(m.Ns) < count(8):
		return SectionAuthority
	}
	return SectionAdditional
}

// maxRecordsPerSection caps the records kept from one section of one
// response: a 64 KB response holds 4,000 addresses, and every one kept is
// memory and report. Real answers for a module host hold a handful.
const maxRecordsPerSection = 32

// maxRecordText caps the presentation text of a record of another type
// (a TXT record can hold 64 KB).
const maxRecordText = 256

// intern returns the canonical copy of s: the names and records of DNS
// answers repeat across thousands of transactions, and every transaction
// is kept until the analysis ends.
func intern(s string) string { return unique.Make(s).Value() }

// maxSharedAnswers bounds the answer sections a decoder keeps for sharing;
// past it, new ones are not shared.
const maxSharedAnswers = 1 << 14

// records converts resource records to their typed form: the first
// maxRecordsPerSection, and how many more the section held. An answer
// section equal to one already kept — the same names, types, TTLs and data
// in the same order — shares its slice: the same question asked again and
// again gets the same answer until its TTL counts down, and every response
// is kept until the analysis ends. The events are read-only, so sharing is
// safe. Sections are indexed by a seeded hash and compared whole, so a
// collision only costs the sharing.
func (d *Decoder) records(rrs []dns.RR) (out []DNSRecord, omitted int) {
	if len(rrs) == 0 {
		return nil, 0
	}
	if len(rrs) > maxRecordsPerSection {
		omitted = len(rrs) - maxRecordsPerSection
		rrs = rrs[:maxRecordsPerSection]
	}
	var h maphash.Hash
	h.SetSeed(dnsSeed)
	d.recs = d.recs[:0]
	for _, rr := range rrs {
		r := record(rr)
		d.recs = append(d.recs, r)
		maphash.WriteComparable(&h, r)
	}
	key := h.Sum64() & dnsHashMask
	if shared, ok := d.answers[key]; ok && slices.Equal(shared, d.recs) {
		return shared, omitted
	}
	out = make([]DNSRecord, len(d.recs))
	copy(out, d.recs)
	if d.answers == nil {
		d.answers = make(map[uint64][]DNSRecord)
	}
	if _, taken := d.answers[key]; !taken && len(d.answers) < maxSharedAnswers {
		d.answers[key] = out
	}
	return out, omitted
}

// record converts one resource record to its typed form.
func record(rr dns.RR) DNSRecord {
	h := rr.Header()
	r := DNSRecord{Name: intern(strings.TrimSuffix(h.Name, ".")), Type: h.Rrtype, TTL: h.Ttl}
	switch v := rr.(type) {
	case *dns.A:
		if a, ok := netip.AddrFromSlice(v.A); ok {
			r.Addr = a.Unmap()
		} else {
			r.Target = v.A.String()
		}
	case *dns.AAAA:
		if a, ok := netip.AddrFromSlice(v.AAAA); ok {
			r.Addr = a
		} else {
			r.Target = v.AAAA.String()
		}
	case *dns.CNAME:
		r.Target = intern(strings.TrimSuffix(v.Target, "."))
	case *dns.NS:
		r.Target = intern(strings.TrimSuffix(v.Ns, "."))
	case *dns.PTR:
		r.Target = intern(strings.TrimSuffix(v.Ptr, "."))
	default:
		text := strings.TrimPrefix(rr.String(), h.String())
		if len(text) > maxRecordText {
			text = strings.ToValidUTF8(text[:maxRecordText], "") + "…"
		}
		r.Target = intern(text)
	}
	return r
}

// TypeName returns a record type's RFC mnemonic, or "TYPE123" (RFC 3597).
func TypeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return fmt.Sprintf("TYPE%d", t)
}

// QuestionType returns the mnemonic of a transaction's question type, ""
// when its message had no question.
func (x *DNSExchange) QuestionType() string {
	if x.Name == "" && x.QType == 0 {
		return ""
	}
	return TypeName(x.QType)
}

// RcodeName returns a response code's mnemonic, or "RCODE23".
func RcodeName(rc uint16) string {
	if s, ok := dns.RcodeToString[int(rc)]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rc)
}

// Data returns a record's data in presentation form: the address (an
// IPv4-mapped AAAA address in dotted form, as net.IP prints it), the
// target name, or the text form.
func (r DNSRecord) Data() string {
	switch {
	case r.Addr.Is4In6():
		return r.Addr.Unmap().String()
	case r.Addr.IsValid():
		return r.Addr.String()
	}
	return r.Target
}

// AppendData appends r.Data() to b.
func (r DNSRecord) AppendData(b []byte) []byte {
	switch {
	case r.Addr.Is4In6():
		return r.Addr.Unmap().AppendTo(b)
	case r.Addr.IsValid():
		return r.Addr.AppendTo(b)
	}
	return append(b, r.Target...)
}

// DNSFramer reassembles DNS-over-TCP messages (RFC 7766 §8) from a byte
// stream fed in arbitrary pieces: each message is preceded by a two-byte
// length. At most one message (≤ 64 KiB) is buffered.
type DNSFramer struct{ buf []byte }

// Feed adds the next bytes of the stream and calls msg for every message
// they complete. The slice passed to msg is valid only during the call.
func (f *DNSFramer) Feed(p []byte, msg func([]byte)) {
	for len(p) > 0 {
		need := 2
		if len(f.buf) >= 2 {
			need = 2 + int(binary.BigEndian.Uint16(f.buf))
		}
		take := min(need-len(f.buf), len(p))
		f.buf = append(f.buf, p[:take]...)
		p = p[take:]
		if len(f.buf) >= 2 && len(f.buf) == 2+int(binary.BigEndian.Uint16(f.buf)) {
			if len(f.buf) > 2 { // a zero-length frame carries nothing
				msg(f.buf[2:])
			}
			f.buf = f.buf[:0]
		}
	}
}

// Pending returns how many bytes of an incomplete message are buffered.
func (f *DNSFramer) Pending() int { return len(f.buf) }

// Reset drops the buffered bytes.
func (f *DNSFramer) Reset() { f.buf = nil }

// dnsStream decodes DNS over TCP, both directions of one connection.
type dnsStream struct {
	d      *Decoder
	c      *TCPConn
	framer [2]DNSFramer
	lost   [2]bool
}

func newDNSStream(d *Decoder, c *TCPConn) *dnsStream { return &dnsStream{d: d, c: c} }

func (s *dnsStream) data(dir int, p []byte, at capture.Ref) {
	if s.lost[dir] {
		return
	}
	src, dst := s.c.Client, s.c.Server
	if dir == 1 {
		src, dst = dst, src
	}
	s.framer[dir].Feed(p, func(m []byte) { s.d.dnsMessage(src, dst, true, m, IPInfo{}, at) })
}

func (s *dnsStream) gap(dir int, n int64, at capture.Ref) {
	// The framing is lost: nothing after a hole can be trusted to start on
	// a length prefix.
	s.lost[dir] = true
	s.framer[dir].Reset()
	s.d.note(at, fmt.Sprintf("DNS over TCP between %s and %s: %d bytes missing; the rest of that direction is not decoded",
		s.c.Client, s.c.Server, n))
}

func (s *dnsStream) finish() {
	for dir := range 2 {
		if n := s.framer[dir].Pending(); n > 0 {
			s.d.note(s.c.Last, fmt.Sprintf("DNS over TCP between %s and %s: the capture ends inside a message (%d bytes of it seen)",
				s.c.Client, s.c.Server, n))
		}
		s.framer[dir].Reset()
	}
}
