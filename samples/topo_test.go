package samples

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"time"

	"github.com/miekg/dns"

	"github.com/modsniff/modsniff/samples/synth"
)

// Addresses and names shared by the scenarios. The Google addresses are
// the kind proxy.golang.org and sum.golang.org resolve to; nothing is
// contacted.
const (
	proxyHost = "proxy.golang.org"
	sumHost   = "sum.golang.org"
	proxyV4   = "142.251.36.113"
	proxyV6   = "2a00:1450:4001:82f::2011"
	sumV4     = "142.250.185.81"
	sumCNAME  = "sumdb-frontend.l.google.com"
)

var (
	laptopMAC = net.HardwareAddr{0x8c, 0x16, 0x45, 0x3a, 0x9e, 0x71}
	routerMAC = synth.Gateway
)

// google returns a Google front end: TTL 128 at the source, 10 hops away.
func google(addr string) *synth.Host { return synth.Remote(addr, 128, 10) }

// laptop returns the machine running the go command on a home or office
// LAN.
func laptop() *synth.Host { return synth.Local("192.168.1.23", laptopMAC) }

// router returns the LAN's router, which also serves DNS (dnsmasq: its
// responses leave an unconnected socket with DF, so their IP ID is 0).
func router() *synth.Host {
	h := synth.Neighbor("192.168.1.1", routerMAC, 64)
	h.IPID = synth.ZeroID
	return h
}

// stub returns systemd-resolved's stub listener.
func stub() *synth.Host {
	h := synth.Loopback("127.0.0.53")
	h.IPID = synth.ZeroID
	return h
}

// publicChain returns a certificate chain for host from the synthetic
// public CA (valid for the usual 90 days around the base time) and the
// roots a client that trusts it holds.
func (g *gen) publicChain(host string) (synth.Chain, *x509.CertPool, error) {
	root, issuing := g.public[0], g.public[1]
	if root == nil {
		return synth.Chain{}, nil, errors.New("no synthetic public CA")
	}
	leaf, err := g.is.Leaf(issuing, synth.LeafSpec{Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Date(2026, 10, 27, 8, 14, 2, 0, time.UTC), NotAfter: time.Date(2027, 1, 19, 8, 14, 1, 0, time.UTC)})
	if err != nil {
		return synth.Chain{}, nil, err
	}
	return synth.NewChain(leaf, issuing), synth.Pool(root), nil
}

// frontEnd is how a Google front end serves TLS: h2 first, TLS 1.3, the
// default (post-quantum) key exchanges.
func frontEnd(chain synth.Chain) synth.ServerSpec {
	return synth.ServerSpec{Chain: chain, ALPN: []string{"h2", "http/1.1"}}
}

// fetch runs the go command's HTTPS fetch of the exchanges over k from t
// against a server configured by srv, with the client trusting roots and
// logging its keys.
func (g *gen) fetch(k *synth.Conn, t time.Time, host string, srv synth.ServerSpec, roots *x509.CertPool,
	xs []synth.Exchange, tm synth.Timing) (time.Time, synth.Conversation) {
	client := synth.HTTPSClient(synth.GoClientConfig(host, roots, t, &g.keys), xs)
	server := synth.HTTPSServer(srv.Config(t), xs)
	// The ClientHello leaves a little after the handshake's last ACK.
	return k.Run(t.Add(ms(0.11)), client, server, tm)
}

// tls12 returns srv capped at TLS 1.2.
func tls12(srv synth.ServerSpec) synth.ServerSpec {
	srv.MaxVersion = tls.VersionTLS12
	return srv
}

// quoteFetch is what the go command asks the module proxy for when it
// downloads rsc.io/quote: the version list, then the .info, .mod and
// .zip of the version it picks (the zip is random bytes of a plausible
// size).
func (g *gen) quoteFetch() []synth.Exchange {
	zip := make([]byte, 1800)
	for i := range zip {
		zip[i] = byte(g.rand.UintN(256))
	}
	copy(zip, "PK\x03\x04")
	text := [][2]string{{"content-type", "text/plain; charset=UTF-8"}, {"cache-control", "public, max-age=60"}}
	return []synth.Exchange{
		{Method: "GET", Path: "/rsc.io/quote/@v/list", Response: synth.Response{Delay: ms(11.4), Status: 200, Header: text,
			Body: []byte("v1.0.0\nv1.1.0\nv1.2.0\nv1.2.1\nv1.3.0\nv1.4.0\nv1.5.0\nv1.5.1\nv1.5.2\nv1.5.3-pre1\n")}},
		{Method: "GET", Path: "/rsc.io/quote/@v/v1.5.2.info", Response: synth.Response{Delay: ms(6.2), Status: 200,
			Header: [][2]string{{"content-type", "application/json"}}, Body: []byte(`{"Version":"v1.5.2","Time":"2018-02-14T15:44:20Z"}` + "\n")}},
		{Method: "GET", Path: "/rsc.io/quote/@v/v1.5.2.mod", Response: synth.Response{Delay: ms(5.8), Status: 200, Header: text,
			Body: []byte("module \"rsc.io/quote\"\n\nrequire \"rsc.io/sampler\" v1.3.0\n")}},
		{Method: "GET", Path: "/rsc.io/quote/@v/v1.5.2.zip", Response: synth.Response{Delay: ms(9.7), Status: 200,
			Header: [][2]string{{"content-type", "application/zip"}}, Body: zip}},
	}
}

// sumLookup is the checksum database lookup for rsc.io/quote v1.5.2.
func sumLookup() []synth.Exchange {
	body := "2580\nrsc.io/quote v1.5.2 h1:w5fcysjrx7yqtD/aO+QwRjYZOKnaM9Uh2b40tElTs3Y=\n" +
		"rsc.io/quote v1.5.2/go.mod h1:LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe+TKr0=\n\n" +
		"go.sum database tree\n31857436\nG2F8+lbNyPHAk5fbgaWpBJNHFOwmNRVzq3jXHjm3Guk=\n\n" +
		"— sum.golang.org Az3grnmrIUEDFqHzAElIQCPNoRFRAAt7ZjQTYdfcd6b3KgDYN0x8uJwEBYf3wl7LUBqixHPsJ4NRqDQdoudMBrEe4Aw=\n"
	return []synth.Exchange{{Method: "GET", Path: "/lookup/rsc.io/quote@v1.5.2", Response: synth.Response{Delay: ms(21.3), Status: 200,
		Header: [][2]string{{"content-type", "text/plain; charset=UTF-8"}}, Body: []byte(body)}}}
}

// latest returns the latest of some times.
func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

// resolvedLookup is Go's lookup of name through systemd-resolved's stub
// (stub), which has nothing cached and forwards both queries to the
// router (up). With dup, the router's A response arrives twice. It
// returns the time of the stub's last answer.
func resolvedLookup(stub, up *synth.Resolver, t time.Time, name string, a, aaaa []string, dup bool) time.Time {
	qa := stub.GoQuery(t, name, dns.TypeA)
	q6 := stub.GoQuery(t.Add(ms(0.07)), name, dns.TypeAAAA)
	ua := up.ForwardQuery(t.Add(ms(0.21)), name, dns.TypeA)
	u6 := up.ForwardQuery(t.Add(ms(0.26)), name, dns.TypeAAAA)
	upA := ua.Reply(dns.RcodeSuccess, a...)
	ua.Respond(ua.Sent.Add(up.RTT), upA)
	if dup {
		ua.Respond(ua.Sent.Add(up.RTT+ms(0.31)), upA)
	}
	u6.Respond(u6.Sent.Add(up.RTT+ms(0.12)), u6.Reply(dns.RcodeSuccess, aaaa...))
	done := u6.Sent.Add(up.RTT + ms(0.12))
	qa.Respond(ua.Sent.Add(up.RTT+ms(0.09)), qa.Reply(dns.RcodeSuccess, a...))
	q6.Respond(done.Add(ms(0.08)), q6.Reply(dns.RcodeSuccess, aaaa...))
	return done.Add(ms(0.08))
}

// The office network of the corporate scenarios: desktops in 10.20.4.0/24,
// servers in 10.20.0.0/16 behind the office router, the Squid proxy
// proxy.corp.example, and the internal GOPROXY goproxy.corp.internal.
var deskMAC = net.HardwareAddr{0x00, 0x1e, 0x06, 0x45, 0x1b, 0x3c}

const (
	squidName   = "proxy.corp.example"
	squidV4     = "10.20.0.8"
	corpGoproxy = "goproxy.corp.internal"
	corpMirror  = "10.20.8.20"
)

// desktop returns an office desktop running the go command.
func desktop() *synth.Host { return synth.Local("10.20.4.57", deskMAC) }

// corpServer returns a server two routed hops away in the office network.
func corpServer(addr string) *synth.Host { return synth.Remote(addr, 64, 2) }

// corpDNS returns the office's resolver (BIND: responses carry IP ID 0).
func corpDNS() *synth.Host {
	h := corpServer("10.20.0.53")
	h.IPID = synth.ZeroID
	return h
}

// proxied wraps a fetch in an HTTP CONNECT tunnel to target, answered
// with response.
func (g *gen) proxied(k *synth.Conn, t time.Time, target, response string, host string, srv synth.ServerSpec,
	roots *x509.CertPool, xs []synth.Exchange, tm synth.Timing) (time.Time, synth.Conversation) {
	client := synth.ConnectClient(target, synth.HTTPSClient(synth.GoClientConfig(host, roots, t, &g.keys), xs))
	server := synth.ConnectServer(response, synth.HTTPSServer(srv.Config(t), xs))
	return k.Run(t.Add(ms(0.09)), client, server, tm)
}

// established is the answer of a proxy that opens the tunnel.
const established = "HTTP/1.1 200 Connection established\r\n\r\n"

// overProxy is the timing of a conversation through a proxy: the proxy
// takes its time to reach the target before it answers the CONNECT, and
// every later answer crosses the proxy's own path.
func overProxy(connect, upstream time.Duration) synth.Timing {
	tm := synth.DefaultTiming
	tm.FirstThink = connect
	tm.ServerThink = upstream
	return tm
}
