package lab

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Resolver is an authoritative DNS server for a fixed zone
// (StartResolver).
type Resolver struct {
	// Addr is the listening address, host:port, the same for UDP and TCP.
	Addr string

	servers []*dns.Server
	wg      sync.WaitGroup
}

// StartResolver runs a DNS server on addr over UDP and TCP (the same
// port; "127.0.0.1:0" picks one free for both). It answers A and AAAA
// queries for the names in zone, matched case-insensitively with or
// without the trailing dot, with the addresses of that family (TTL 60);
// other types of a known name, and a family it has no address of, get
// NODATA; any other name gets NXDOMAIN. Answers are authoritative.
func StartResolver(addr string, zone map[string][]netip.Addr) (*Resolver, error) {
	names := make(map[string][]netip.Addr, len(zone))
	for name, addrs := range zone {
		names[dns.CanonicalName(name)] = append(names[dns.CanonicalName(name)], addrs...)
	}
	pc, ln, err := listenBoth(addr)
	if err != nil {
		return nil, fmt.Errorf("start resolver: %w", err)
	}
	r := &Resolver{Addr: pc.LocalAddr().String()}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) { w.WriteMsg(reply(q, names)) })
	r.servers = []*dns.Server{
		{PacketConn: pc, Handler: handler},
		{Listener: ln, Handler: handler, ReadTimeout: 5 * time.Second},
	}
	for _, s := range r.servers {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		r.wg.Go(func() { s.ActivateAndServe() })
		<-started
	}
	return r, nil
}

// listenBoth opens UDP and TCP on the same address. With port 0 it
// retries a few times, in case the UDP port it got is taken for TCP.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	for range 10 {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, err
		}
		_, got, _ := net.SplitHostPort(pc.LocalAddr().String())
		ln, err := net.Listen("tcp", net.JoinHostPort(host, got))
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if port != "0" {
			return nil, nil, err
		}
	}
	return nil, nil, errors.New("no port free for both UDP and TCP")
}

// reply answers q from names, keyed by canonical (lower-case, fully
// qualified) name.
func reply(q *dns.Msg, names map[string][]netip.Addr) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	m.RecursionAvailable = true
	if len(q.Question) != 1 || q.Opcode != dns.OpcodeQuery {
		m.Rcode = dns.RcodeNotImplemented
		return m
	}
	question := q.Question[0]
	addrs, ok := names[dns.CanonicalName(question.Name)]
	if !ok {
		m.Rcode = dns.RcodeNameError
		return m
	}
	hdr := dns.RR_Header{Name: question.Name, Class: dns.ClassINET, Ttl: 60, Rrtype: question.Qtype}
	for _, a := range addrs {
		switch {
		case question.Qtype == dns.TypeA && a.Is4():
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: net.IP(a.AsSlice())})
		case question.Qtype == dns.TypeAAAA && a.Is6() && !a.Is4In6():
			m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: net.IP(a.AsSlice())})
		}
	}
	return m
}

// Close stops the server.
func (r *Resolver) Close() error {
	var errs []error
	for _, s := range r.servers {
		if err := s.Shutdown(); err != nil {
			errs = append(errs, err)
		}
	}
	r.wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("resolver %s: %w", r.Addr, err)
	}
	return nil
}
