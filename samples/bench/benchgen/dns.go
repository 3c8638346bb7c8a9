package benchgen

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/miekg/dns"
)

// dnsHost is what the resolver answers for one name: an optional CNAME
// chain, then addresses (an AAAA query for a name without IPv6 addresses
// gets an empty NOERROR answer with the zone's SOA, as github.com's does).
type dnsHost struct {
	name  string
	cname []string
	v4    []netip.Addr
	v6    []netip.Addr
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// dnsHosts are the names connections go to, with public addresses in the
// ranges their real operators use.
var dnsHosts = []dnsHost{
	{name: "proxy.golang.org", v4: addrs("142.250.191.81", "142.250.72.145"), v6: addrs("2607:f8b0:4009:80b::2011")},
	{name: "sum.golang.org", v4: addrs("142.250.191.49"), v6: addrs("2607:f8b0:4009:819::2011")},
	{name: "index.golang.org", v4: addrs("142.250.190.17"), v6: addrs("2607:f8b0:4009:802::2011")},
	{name: "storage.googleapis.com", v4: addrs("142.250.190.59", "142.250.191.123", "172.217.4.59", "142.251.32.27"), v6: addrs("2607:f8b0:4009:81c::201b", "2607:f8b0:4009:818::201b")},
	{name: "go.googlesource.com", cname: []string{"googlesource.l.googleusercontent.com"}, v4: addrs("142.250.191.82"), v6: addrs("2607:f8b0:4009:80a::2012")},
	{name: "golang.org", v4: addrs("142.250.190.49"), v6: addrs("2607:f8b0:4009:803::2011")},
	{name: "go.dev", v4: addrs("216.239.32.21", "216.239.34.21", "216.239.36.21", "216.239.38.21"), v6: addrs("2001:4860:4802:32::15")},
	{name: "dl.google.com", cname: []string{"dl.l.google.com"}, v4: addrs("142.250.191.78"), v6: addrs("2607:f8b0:4009:81b::200e")},
	{name: "github.com", v4: addrs("140.82.112.3")},
	{name: "codeload.github.com", v4: addrs("140.82.113.10")},
	{name: "objects.githubusercontent.com", v4: addrs("185.199.108.133", "185.199.109.133", "185.199.110.133", "185.199.111.133"), v6: addrs("2606:50c0:8000::154", "2606:50c0:8001::154")},
	{name: "goproxy.io", cname: []string{"goproxy.io.cdn.cloudflare.net"}, v4: addrs("104.21.43.122", "172.67.191.73")},
	{name: "goproxy.cn", cname: []string{"goproxy.cn.w.kunlunaq.com", "goproxy.cn.w.alikunlun.com"}, v4: addrs("47.246.23.124", "47.246.23.125")},
	{name: "gopkg.in", v4: addrs("185.125.188.113", "185.125.188.114")},
}

func findDNSHost(name string) *dnsHost {
	for i := range dnsHosts {
		if dnsHosts[i].name == name {
			return &dnsHosts[i]
		}
	}
	return nil
}

// dnsPair is a packed query and its packed response; the ID (the first two
// bytes) is patched per use.
type dnsPair struct {
	query, response []byte
}

// dnsTemplates holds the A and AAAA exchanges of a host.
type dnsTemplates struct {
	a, aaaa dnsPair
}

func packPair(h *dnsHost, qtype uint16) (dnsPair, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(h.name), qtype)
	q.RecursionDesired = true
	q.SetEdns0(1232, false)
	resp := new(dns.Msg)
	resp.SetReply(q)
	resp.RecursionAvailable = true
	owner := dns.Fqdn(h.name)
	for _, c := range h.cname {
		resp.Answer = append(resp.Answer, &dns.CNAME{
			Hdr:    dns.RR_Header{Name: owner, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 300},
			Target: dns.Fqdn(c),
		})
		owner = dns.Fqdn(c)
	}
	list := h.v4
	if qtype == dns.TypeAAAA {
		list = h.v6
	}
	for _, a := range list {
		hdr := dns.RR_Header{Name: owner, Rrtype: qtype, Class: dns.ClassINET, Ttl: 300}
		if qtype == dns.TypeA {
			resp.Answer = append(resp.Answer, &dns.A{Hdr: hdr, A: net.IP(a.AsSlice())})
		} else {
			resp.Answer = append(resp.Answer, &dns.AAAA{Hdr: hdr, AAAA: net.IP(a.AsSlice())})
		}
	}
	if len(list) == 0 {
		zone := dns.Fqdn(h.name)
		resp.Ns = append(resp.Ns, &dns.SOA{
			Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 900},
			Ns:  "dns1.p08.nsone.net.", Mbox: "hostmaster.nsone.net.",
			Serial: 1656468023, Refresh: 43200, Retry: 7200, Expire: 1209600, Minttl: 3600,
		})
	}
	resp.SetEdns0(1232, false)
	qb, err := q.Pack()
	if err != nil {
		return dnsPair{}, fmt.Errorf("dns query %s: %w", h.name, err)
	}
	rb, err := resp.Pack()
	if err != nil {
		return dnsPair{}, fmt.Errorf("dns response %s: %w", h.name, err)
	}
	return dnsPair{query: qb, response: rb}, nil
}

// makeDNS packs the exchanges of every host.
func makeDNS() (map[string]*dnsTemplates, error) {
	out := make(map[string]*dnsTemplates, len(dnsHosts))
	for i := range dnsHosts {
		h := &dnsHosts[i]
		a, err := packPair(h, dns.TypeA)
		if err != nil {
			return nil, err
		}
		aaaa, err := packPair(h, dns.TypeAAAA)
		if err != nil {
			return nil, err
		}
		out[h.name] = &dnsTemplates{a: a, aaaa: aaaa}
	}
	return out, nil
}
