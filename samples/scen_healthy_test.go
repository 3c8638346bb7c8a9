package samples

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/samples/synth"
)

var healthyDirect = scenario{
	name: "healthy-direct-tls13",
	shows: "A working `go mod download` straight to proxy.golang.org and sum.golang.org over TLS 1.3: " +
		"AAAA NODATA, a CNAME chain, a duplicated DNS response, and parallel connections the go command resets at exit.",
	made: "Go 1.26 crypto/tls client and server over an in-memory pipe, HTTP/2 inside; systemd-resolved stub " +
		"on lo forwarding to the router; Linux SLL2 on `any`",
	must:    []analyze.ExpectedFinding{find("tls-cert-hidden", proxyHost, "info"), find("tls-cert-hidden", sumHost, "info")},
	healthy: true,
	gen: func(g *gen) error {
		c := g.capture(synth.SLL2, "any", "Linux cooked capture v2 on all interfaces",
			"go mod download rsc.io/quote, direct to proxy.golang.org and sum.golang.org; everything works.")
		me, lo, up := laptop(), synth.Loopback("127.0.0.1"), router()
		r := c.Resolver(lo, stub(), ms(14.6), 65494)
		fwd := c.Resolver(me, up, ms(13.9), 1232)
		front, sum := google(proxyV4), google(sumV4)

		// The stub has nothing cached: it asks the router, which sends its
		// A response twice (identical: a retransmission, not an injection).
		resolvedLookup(r, fwd, at(0), proxyHost, []string{proxyHost + ". 300 IN A " + proxyV4}, nil, true)

		chain, roots, err := g.publicChain(proxyHost)
		if err != nil {
			return err
		}
		// Two requests start at once, so two connections are dialled; the
		// first carries the downloads, the second stays idle.
		k1 := c.Dial(me, front, 443, ms(18.2))
		k2 := c.Dial(me, front, 443, ms(18.4))
		t1 := k1.Handshake(at(ms(15.0)))
		t2 := k2.Handshake(at(ms(15.3)))
		end1, conv := g.fetch(k1, t1, proxyHost, frontEnd(chain), roots, g.quoteFetch(), synth.DefaultTiming)
		if err := ended(conv, "", ""); err != nil {
			return err
		}
		end2, conv := g.fetch(k2, t2, proxyHost, frontEnd(chain), roots, nil, synth.DefaultTiming)
		if err := ended(conv, "", ""); err != nil {
			return err
		}

		// sum.golang.org, through a CNAME chain, no IPv6.
		ts := t1.Add(ms(95))
		done := resolvedLookup(r, fwd, ts, sumHost, []string{sumHost + ". 3600 IN CNAME " + sumCNAME + ".",
			sumCNAME + ". 300 IN A " + sumV4}, []string{sumHost + ". 3600 IN CNAME " + sumCNAME + "."}, false)
		sumChain, _, err := g.publicChain(sumHost)
		if err != nil {
			return err
		}
		k3 := c.Dial(me, sum, 443, ms(17.7))
		t3 := k3.Handshake(done.Add(ms(0.3)))
		end3, conv := g.fetch(k3, t3, sumHost, frontEnd(sumChain), roots, sumLookup(), synth.DefaultTiming)
		if err := ended(conv, "", ""); err != nil {
			return err
		}

		// The go command exits: the kernel resets every connection that
		// still holds unread data (session tickets, SETTINGS).
		exit := latest(end1, end2, end3).Add(ms(3.1))
		k1.Reset(synth.FromClient, exit)
		k2.Reset(synth.FromClient, exit.Add(ms(0.02)))
		k3.Reset(synth.FromClient, exit.Add(ms(0.04)))
		return nil
	},
}

var healthyConnectProxy = scenario{
	name: "healthy-connect-proxy",
	shows: "A working download through the office's Squid proxy (HTTPS_PROXY): CONNECT answered 200, then TLS 1.3 " +
		"and HTTP/2 to proxy.golang.org and sum.golang.org inside the tunnels.",
	made: "Go 1.26 crypto/tls inside HTTP CONNECT tunnels over in-memory pipes; the proxy's name resolved by the office " +
		"DNS; the expectation passes the key log and `--trust synthetic-public-ca.pem`, so both sessions and their " +
		"HTTP/2 are decrypted and nothing at all may be found; Ethernet",
	healthy:     true,
	keylog:      true,
	trustPublic: true,
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download rsc.io/quote with HTTPS_PROXY=http://proxy.corp.example:3128; the proxy opens both tunnels.")
		me, squid := desktop(), corpServer(squidV4)
		r := c.Resolver(me, corpDNS(), ms(0.8), 1232)
		t := r.GoLookup(at(0), squidName, []string{squidName + ". 3600 IN A " + squidV4}, nil)
		chain, roots, err := g.publicChain(proxyHost)
		if err != nil {
			return err
		}
		k1 := c.Dial(me, squid, 3128, ms(0.6))
		end1, conv := g.proxied(k1, k1.Handshake(t.Add(ms(0.2))), proxyHost+":443", established, proxyHost,
			frontEnd(chain), roots, g.quoteFetch(), overProxy(ms(24.5), ms(18.6)))
		if err := ended(conv, "", ""); err != nil {
			return err
		}
		sumChain, _, err := g.publicChain(sumHost)
		if err != nil {
			return err
		}
		// Go keeps no DNS cache: the second dial looks the proxy up again.
		t = r.GoLookup(t.Add(ms(61)), squidName, []string{squidName + ". 3600 IN A " + squidV4}, nil)
		k2 := c.Dial(me, squid, 3128, ms(0.6))
		end2, conv := g.proxied(k2, k2.Handshake(t.Add(ms(0.2))), sumHost+":443", established, sumHost,
			frontEnd(sumChain), roots, sumLookup(), overProxy(ms(21.2), ms(17.9)))
		if err := ended(conv, "", ""); err != nil {
			return err
		}
		exit := latest(end1, end2).Add(ms(2.4))
		k1.Reset(synth.FromClient, exit)
		k2.Reset(synth.FromClient, exit.Add(ms(0.02)))
		return nil
	},
}

var healthyInternalGoproxy = scenario{
	name: "healthy-internal-goproxy-tls12",
	shows: "A working download from the company's GOPROXY (goproxy.corp.internal, an Athens behind nginx): TLS 1.2, " +
		"HTTP/1.1 and a certificate from the corporate CA, which the client trusts.",
	made: "Go 1.26 crypto/tls client and a TLS 1.2, http/1.1-only server over an in-memory pipe; corporate root and " +
		"issuing CA generated in the run; Ethernet",
	must: []analyze.ExpectedFinding{
		find("tls-foreign-issuer", corpGoproxy, "info"),
		find("tls-version-downgrade", corpGoproxy, "info"),
		find("tls-alpn-downgrade", corpGoproxy, "info"),
	},
	healthy: true,
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download rsc.io/quote with GOPROXY=https://goproxy.corp.internal and SSL_CERT_FILE naming the corporate CA; "+
				"checksums through the proxy's /sumdb/ endpoint.")
		me, mirror := desktop(), corpServer(corpMirror)
		r := c.Resolver(me, corpDNS(), ms(0.7), 1232)
		t := r.GoLookup(at(0), corpGoproxy, []string{corpGoproxy + ". 300 IN A " + corpMirror}, nil)
		root, issuing, err := g.is.CorpCA("Example Corp Issuing CA 01")
		if err != nil {
			return err
		}
		leaf, err := g.is.Leaf(issuing, synth.LeafSpec{Subject: pkix.Name{CommonName: corpGoproxy, Organization: []string{"Example Corp"}},
			DNSNames: []string{corpGoproxy}, NotBefore: at(-90 * 24 * time.Hour), NotAfter: at(275 * 24 * time.Hour)})
		if err != nil {
			return err
		}
		srv := synth.ServerSpec{Chain: synth.NewChain(leaf, issuing), ALPN: []string{"http/1.1"}, MaxVersion: tls.VersionTLS12}
		xs := append(g.quoteFetch()[:3], synth.Exchange{Method: "GET", Path: "/sumdb/sum.golang.org/supported",
			Response: synth.Response{Delay: ms(1.2), Status: 200}})
		xs = append(xs, synth.Exchange{Method: "GET", Path: "/sumdb/sum.golang.org/lookup/rsc.io/quote@v1.5.2",
			Response: sumLookup()[0].Response}, g.quoteFetch()[3])
		k := c.Dial(me, mirror, 443, ms(0.9))
		end, conv := g.fetch(k, k.Handshake(t.Add(ms(0.2))), corpGoproxy, srv, synth.Pool(root), xs, synth.DefaultTiming)
		if err := ended(conv, "", ""); err != nil {
			return err
		}
		// Nothing is left unread on an HTTP/1.1 connection: the exit closes it.
		k.Close(end.Add(ms(4.2)))
		return nil
	},
}

var healthyFragmentedDNS = scenario{
	name: "healthy-dns-fragmented",
	shows: "A working download from an internal mirror whose DNSSEC-signed answer reaches systemd-resolved in two IPv4 " +
		"fragments, the last one first: decoding must reassemble them (else the query would look unanswered).",
	made: "miekg/dns response with RRSIGs split by the synthesizer into fragments of a 1,000-byte MTU path; Go 1.26 " +
		"crypto/tls (TLS 1.3) to the mirror; the expectation passes the key log, which shows the mirror's certificate " +
		"from the corporate CA (info: an internal name); Linux SLL2 on `any`",
	must:    []analyze.ExpectedFinding{find("tls-foreign-issuer", mirrorName, "info")},
	healthy: true,
	keylog:  true,
	gen: func(g *gen) error {
		c := g.capture(synth.SLL2, "any", "Linux cooked capture v2 on all interfaces",
			"go mod download through GOPROXY=https://goproxy.corp.example; the signed DNS answer arrives fragmented.")
		me, lo := laptop(), synth.Loopback("127.0.0.1")
		dnsSrv := synth.Remote("10.20.0.53", 64, 3)
		r := c.Resolver(lo, stub(), 0, 65494)
		up := c.Resolver(me, dnsSrv, ms(31), 1232)
		qa := r.GoQuery(at(0), mirrorName, dns.TypeA)
		q6 := r.GoQuery(at(ms(0.06)), mirrorName, dns.TypeAAAA)
		ua := up.ForwardQuery(at(ms(0.2)), mirrorName, dns.TypeA)
		u6 := up.ForwardQuery(at(ms(0.24)), mirrorName, dns.TypeAAAA)
		signed := g.signedAnswer(ua)
		payload, err := signed.Pack()
		if err != nil {
			return err
		}
		c.Fragmented(ua.Sent.Add(up.RTT), ms(0.09), dnsSrv, 53, me, ua.Port, 1000, []int{1, 0}, payload)
		u6.Respond(u6.Sent.Add(up.RTT+ms(0.4)), u6.WithAuthority(u6.Reply(dns.RcodeSuccess),
			"corp.example. 3600 IN SOA ns1.corp.example. hostmaster.corp.example. 2026111901 7200 3600 1209600 3600"))
		t := u6.Sent.Add(up.RTT + ms(0.5))
		qa.Respond(t, qa.Reply(dns.RcodeSuccess, mirrorName+". 3600 IN A 10.20.8.30"))
		q6.Respond(t.Add(ms(0.05)), q6.Reply(dns.RcodeSuccess))

		root, issuing, err := g.is.CorpCA("Example Corp Issuing CA 02")
		if err != nil {
			return err
		}
		leaf, err := g.is.Leaf(issuing, synth.LeafSpec{Subject: pkix.Name{CommonName: mirrorName}, DNSNames: []string{mirrorName},
			NotBefore: at(-30 * 24 * time.Hour), NotAfter: at(335 * 24 * time.Hour)})
		if err != nil {
			return err
		}
		// An Athens that fetches each file from upstream on a cache miss
		// takes its time: the download spans well over a second.
		xs := g.quoteFetch()
		for i := range xs {
			xs[i].Response.Delay = ms(180 + 90*float64(i))
		}
		k := c.Dial(me, synth.Remote("10.20.8.30", 64, 3), 443, ms(31.5))
		end, conv := g.fetch(k, k.Handshake(t.Add(ms(0.3))), mirrorName, frontEnd(synth.NewChain(leaf, issuing)),
			synth.Pool(root), xs, synth.DefaultTiming)
		if err := ended(conv, "", ""); err != nil {
			return err
		}
		k.Reset(synth.FromClient, end.Add(ms(2.9)))
		return nil
	},
}

// mirrorName is the internal mirror of the fragmented-DNS scenario, in a
// DNSSEC-signed corporate zone.
const mirrorName = "goproxy.corp.example"

// signedAnswer is the answer a validating corporate server gives q (asked
// with DNSSEC OK): the A record and its RRSIG, the zone's NS records and
// their RRSIG, and the glue with its RRSIG, signed with a 2048-bit RSA
// zone key (the signatures are random bytes of the right length).
func (g *gen) signedAnswer(q *synth.Query) *dns.Msg {
	sig := func(covered, owner string) string {
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(g.rand.UintN(256))
		}
		return fmt.Sprintf("%s 3600 IN RRSIG %s 8 3 3600 20261204000000 20261113000000 40312 corp.example. %s",
			owner, covered, base64.StdEncoding.EncodeToString(b))
	}
	m := q.Reply(dns.RcodeSuccess, mirrorName+". 3600 IN A 10.20.8.30", sig("A", mirrorName+"."))
	m.AuthenticatedData = true
	q.WithAuthority(m, "corp.example. 86400 IN NS ns1.corp.example.", "corp.example. 86400 IN NS ns2.corp.example.",
		strings.Replace(sig("NS", "corp.example."), " 8 3 ", " 8 2 ", 1))
	for _, s := range []string{"ns1.corp.example. 86400 IN A 10.20.0.53", sig("A", "ns1.corp.example.")} {
		if rr, err := dns.NewRR(s); err == nil {
			m.Extra = append([]dns.RR{rr}, m.Extra...)
		}
	}
	return m
}
