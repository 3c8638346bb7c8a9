package decode

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"
)

// dnsIndexScenario feeds a capture that exercises every way a DNS message
// finds its transaction, and summarizes the transactions it produced, one
// line each: name, ID, transport, query packet, retries, responses,
// rejected responses and matched ICMP errors, by packet number.
func dnsIndexScenario(t *testing.T) []string {
	client, client2, resolver := ap("10.0.0.2:41000"), ap("10.0.0.3:41001"), ap("10.0.0.1:53")
	w := newWire(t)
	w.link = layers.LinkTypeRaw
	headerOnly := dnsMsg(t, func(m *dns.Msg) { m.Id = 1; m.Response = true; m.Rcode = dns.RcodeRefused })

	w.udp(client, resolver, query(t, 1, "proxy.golang.org", dns.TypeA))                    // 1: transaction A
	w.udp(client, resolver, query(t, 1, "proxy.golang.org", dns.TypeA))                    // 2: retry of A
	w.udp(client, resolver, query(t, 1, "Sum.Golang.org", dns.TypeA))                      // 3: same ID, other question: B
	w.udp(resolver, client, answer(t, 1, "proxy.golang.org", dns.TypeA, dns.RcodeSuccess)) // 4: answers A by its question
	w.udp(resolver, client, answer(t, 1, "sum.golang.org", dns.TypeA, dns.RcodeSuccess))   // 5: answers B, case folded
	w.udp(resolver, client, answer(t, 1, "evil.example", dns.TypeA, dns.RcodeSuccess))     // 6: B's ID, other question: rejected by B
	w.udp(resolver, client, headerOnly)                                                    // 7: header only: B, last filed under the ID
	qb := query(t, 2, "proxy.golang.org", dns.TypeAAAA)
	w.udp(client2, resolver, qb)                                                            // 8: transaction C
	w.udp(resolver, client, answer(t, 9, "nowhere.example", dns.TypeA, dns.RcodeNameError)) // 9: unsolicited: D
	w.udp(client, resolver, query(t, 9, "nowhere.example", dns.TypeA))                      // 10: D has no query: a new transaction E
	quoted := w.ipPacket(client2.Addr(), resolver.Addr(), layers.IPProtocolUDP,
		&layers.UDP{SrcPort: layers.UDPPort(client2.Port()), DstPort: 53}, gopacket.Payload(qb))
	w.icmpUnreachable(resolver.Addr(), client2.Addr(), 3, quoted)                                                   // 11: quotes C's query
	w.after(40*time.Second).udp(client, resolver, query(t, 1, "proxy.golang.org", dns.TypeA))                       // 12: 40 s later: not a retry, F
	w.udp(resolver, client, answer(t, 1, "proxy.golang.org", dns.TypeA, dns.RcodeSuccess))                          // 13: answers F
	w.udp(resolver, client, answer(t, 1, "sum.golang.org", dns.TypeA, dns.RcodeSuccess))                            // 14: B is still live
	w.after(3*time.Minute).udp(resolver, client2, answer(t, 2, "proxy.golang.org", dns.TypeAAAA, dns.RcodeSuccess)) // 15: C expired: G
	w.udp(resolver, client, answer(t, 1, "sum.golang.org", dns.TypeA, dns.RcodeSuccess))                            // 16: B expired: H

	return dnsSummary(w.d.Finish())
}

// dnsSummary describes each transaction on one line: name, ID, transport,
// query packet, retries, responses, rejected responses and matched ICMP
// errors, by packet number.
func dnsSummary(ev *Events) []string {
	var got []string
	refs := func(n int, at func(i int) int32) []int32 {
		var out []int32
		for i := range n {
			out = append(out, at(i))
		}
		return out
	}
	for _, x := range ev.DNS {
		got = append(got, fmt.Sprintf("%s %d %s q=%d retries=%v responses=%v rejected=%v icmp=%d", x.Name, x.ID, x.Transport, x.Query.Packet,
			refs(len(x.Retries()), func(i int) int32 { return x.Retries()[i].Packet }),
			refs(len(x.Responses), func(i int) int32 { return x.Responses[i].At.Packet }),
			refs(len(x.Rejected()), func(i int) int32 { return x.Rejected()[i].At.Packet }),
			len(x.ICMP())))
	}
	return got
}

func TestDNSIndexMatchesUnderHashCollisions(t *testing.T) {
	want := []string{
		"proxy.golang.org 1 udp q=1 retries=[2] responses=[4] rejected=[] icmp=0",
		"Sum.Golang.org 1 udp q=3 retries=[] responses=[5 7 14] rejected=[6] icmp=0",
		"proxy.golang.org 2 udp q=8 retries=[] responses=[] rejected=[] icmp=1",
		"nowhere.example 9 udp q=0 retries=[] responses=[9] rejected=[] icmp=0",
		"nowhere.example 9 udp q=10 retries=[] responses=[] rejected=[] icmp=0",
		"proxy.golang.org 1 udp q=12 retries=[] responses=[13] rejected=[] icmp=0",
		"proxy.golang.org 2 udp q=0 retries=[] responses=[15] rejected=[] icmp=0",
		"sum.golang.org 1 udp q=0 retries=[] responses=[16] rejected=[] icmp=0",
	}
	for _, tt := range []struct {
		name string
		mask uint64
	}{
		{"distinct hashes", ^uint64(0)},
		{"every key of a kind collides", 0},
		{"some keys collide", 0b110},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func(m uint64) { dnsHashMask = m }(dnsHashMask)
			dnsHashMask = tt.mask
			got := dnsIndexScenario(t)
			if !slices.Equal(got, want) {
				t.Errorf("transactions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestDNSIndexForgetsExpiredTransactionsOnEveryChain(t *testing.T) {
	defer func(m uint64) { dnsHashMask = m }(dnsHashMask)
	dnsHashMask = 0
	d := New(0, Options{})
	client, resolver := ap("10.0.0.2:41000"), ap("10.0.0.1:53")
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for i := range 5 {
		ex := &DNSExchange{Client: client, Server: resolver, Transport: DNSOverUDP, ID: uint16(i), Name: fmt.Sprint("n", i), QType: dns.TypeA}
		d.trackDNS(ex.Name, ex, t0.Add(time.Duration(i)*time.Minute))
	}
	d.expireDNS(t0.Add(2*time.Minute + 2*time.Minute + time.Second)) // idle > 2 min: 0, 1 and 2
	for i := range 5 {
		live := d.dnsByID(client, resolver, false, uint16(i)) != nil
		if q := d.dnsByQuestion(client, resolver, false, uint16(i), fmt.Sprint("n", i), dns.TypeA) != nil; q != live {
			t.Errorf("transaction %d: by question %v, by ID %v", i, q, live)
		}
		if live != (i >= 3) {
			t.Errorf("transaction %d live = %v", i, live)
		}
	}
	d.expireDNS(t0.Add(time.Hour))
	if len(d.dns) != 0 {
		t.Errorf("%d index entries left after every transaction expired", len(d.dns))
	}
}

// dnsScript plays data as a capture of DNS messages between three
// clients and one resolver: each three bytes pick the sender, the ID, the
// question (name and case, type, or none) and how much capture time
// passes first.
func dnsScript(t *testing.T, data []byte) []string {
	clients := []netip.AddrPort{ap("10.0.0.2:41000"), ap("10.0.0.3:41000"), ap("10.0.0.2:41001")}
	resolver := ap("10.0.0.1:53")
	names := []string{"proxy.golang.org", "PROXY.golang.org", "sum.golang.org", ""}
	w := newWire(t)
	w.link = layers.LinkTypeRaw
	for len(data) >= 3 && w.n < 300 {
		op, id, q := data[0], data[1], data[2]
		data = data[3:]
		w.after([]time.Duration{0, 0, time.Second, 35 * time.Second, 3 * time.Minute}[int(q>>4)%5])
		client := clients[int(op>>1)%len(clients)]
		msg := dnsMsg(t, func(m *dns.Msg) {
			if name := names[int(q)%len(names)]; name != "" {
				m.SetQuestion(dns.Fqdn(name), []uint16{dns.TypeA, dns.TypeAAAA}[int(q>>2)%2])
			}
			m.Id = uint16(id % 4)
			m.Response = op&1 == 1
		})
		if op&1 == 1 {
			w.udp(resolver, client, msg)
		} else {
			w.udp(client, resolver, msg)
		}
	}
	return dnsSummary(w.d.Finish())
}

// FuzzDNSIndex checks that which transaction a DNS message joins does not
// depend on the hashes of the index: every key colliding gives the same
// transactions as distinct hashes.
func FuzzDNSIndex(f *testing.F) {
	f.Add([]byte{0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 2, 0, 1, 0x30, 1, 1, 0x40, 2, 1, 3, 3, 1, 3})
	f.Add([]byte{0, 0, 0, 0, 0, 1, 3, 0, 0, 1, 0, 0x20, 1, 0, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		want := dnsScript(t, data)
		defer func(m uint64) { dnsHashMask = m }(dnsHashMask)
		dnsHashMask = 0
		if got := dnsScript(t, data); !slices.Equal(got, want) {
			t.Errorf("with every key colliding:\n%s\nwith distinct hashes:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}
