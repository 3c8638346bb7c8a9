package samples

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"time"

	"golang.org/x/crypto/x509roots/fallback/bundle"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/samples/synth"
)

// unknownCA is the error of a Go client that does not trust the chain.
const unknownCA = "certificate signed by unknown authority"

// rejectedTLS12 lays out a TLS 1.2 handshake that the client aborts with
// its alert, then closes; it returns the time of the last packet.
func (g *gen) rejectedTLS12(k *synth.Conn, t time.Time, host string, srv synth.ServerSpec, roots *x509.CertPool,
	clientWant string, tm synth.Timing) (time.Time, error) {
	end, conv := g.fetch(k, t, host, srv, roots, nil, tm)
	if err := ended(conv, clientWant, "bad certificate"); err != nil {
		return end, err
	}
	return k.Close(end.Add(ms(0.3))), nil
}

var tlsMitmproxy = scenario{
	name: "interception-mitmproxy-tls12",
	shows: "HTTPS_PROXY points at mitmproxy forced to TLS 1.2 without HTTP/2: it presents a certificate from its CA " +
		"(CN=mitmproxy, O=mitmproxy), and the go command, which does not trust it, aborts with bad_certificate.",
	made: "Go 1.26 crypto/tls client against a TLS 1.2, http/1.1 server holding a mitmproxy-named RSA CA and a leaf " +
		"signed for the CA's own key (as mitmproxy does), inside an HTTP CONNECT tunnel; Ethernet framing on lo",
	must: []analyze.ExpectedFinding{
		find("tls-foreign-issuer", proxyHost, "error"), find("tls-alert", proxyHost, "error"),
		find("tls-alpn-downgrade", proxyHost, "warning"), find("tls-version-downgrade", proxyHost, "warning"),
	},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "lo", "loopback",
			"go mod download with HTTPS_PROXY=http://127.0.0.1:8080, where mitmdump runs with "+
				"tls_version_client_max=TLS1_2 and http2=false; its CA is not in the client's trust store.")
		ca, err := g.is.MitmproxyCA(time.Date(2026, 3, 2, 14, 21, 7, 0, time.UTC))
		if err != nil {
			return err
		}
		leaf, err := g.is.MitmproxyLeaf(ca, proxyHost, at(0))
		if err != nil {
			return err
		}
		_, roots, err := g.publicChain(proxyHost)
		if err != nil {
			return err
		}
		srv := synth.ServerSpec{Chain: synth.NewChain(leaf, ca), ALPN: []string{"http/1.1"}, MaxVersion: tls.VersionTLS12}
		lo := synth.Loopback("127.0.0.1")
		k := c.Dial(lo, synth.Loopback("127.0.0.1"), 8080, ms(0.04))
		t := k.Handshake(at(0))
		// mitmproxy answers the CONNECT at once, then connects upstream to
		// learn the real certificate before it answers the ClientHello.
		end, conv := g.proxied(k, t, proxyHost+":443", established, proxyHost, srv, roots, nil, overProxy(ms(0.4), ms(46.8)))
		if err := ended(conv, unknownCA, "bad certificate"); err != nil {
			return err
		}
		k.Close(end.Add(ms(0.2)))
		return nil
	},
}

var tlsZscaler = scenario{
	name: "interception-zscaler-trusted",
	shows: "The office's Zscaler inspects TLS: proxy.golang.org presents a TLS 1.2 chain from \"Zscaler Intermediate " +
		"Root CA (zscalerthree.net) (t)\"; the machine trusts Zscaler's root, so the download goes on.",
	made: "Go 1.26 crypto/tls client trusting a Zscaler-named root, against a TLS 1.2 server with the Zscaler " +
		"chain; HTTP/2 inside; Ethernet",
	must: []analyze.ExpectedFinding{
		find("tls-foreign-issuer", proxyHost, "warning"), find("tls-version-downgrade", proxyHost, "warning"),
	},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download on a managed desktop whose trust store holds the Zscaler root; outbound traffic goes "+
				"through Zscaler's SSL inspection.")
		me := desktop()
		t := officeLookup(c, me)
		root, inter, issuing, err := g.is.ZscalerChain()
		if err != nil {
			return err
		}
		leaf, err := g.is.Leaf(issuing, synth.LeafSpec{Subject: pkix.Name{CommonName: proxyHost}, DNSNames: []string{proxyHost},
			NotBefore: at(-26 * time.Hour), NotAfter: at(13 * 24 * time.Hour), Key: synth.RSA2048})
		if err != nil {
			return err
		}
		srv := tls12(synth.ServerSpec{Chain: synth.NewChain(leaf, issuing, inter), ALPN: []string{"h2", "http/1.1"}})
		k := c.Dial(me, google(proxyV4), 443, ms(9.8))
		end, conv := g.fetch(k, k.Handshake(t.Add(ms(0.2))), proxyHost, srv, synth.Pool(root), g.quoteFetch(),
			overProxy(ms(31.5), ms(19.4)))
		if err := ended(conv, "", ""); err != nil {
			return err
		}
		k.Reset(synth.FromClient, end.Add(ms(2.2)))
		return nil
	},
}

var tlsKaspersky = scenario{
	name: "interception-kaspersky-docker",
	shows: "In a Docker container on a Windows machine, Kaspersky's encrypted-connections scan re-signs " +
		"proxy.golang.org (TLS 1.2, no ALPN) with its personal root, which the host trusts but the container's Go does not.",
	made: "Go 1.26 crypto/tls client against a TLS 1.2 server without ALPN holding a Kaspersky-named RSA root; Ethernet " +
		"in the container",
	must: []analyze.ExpectedFinding{
		find("tls-foreign-issuer", proxyHost, "error"), find("tls-alert", proxyHost, "error"),
		find("tls-alpn-downgrade", proxyHost, "warning"), find("tls-version-downgrade", proxyHost, "warning"),
	},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eth0", "container interface (Docker Desktop)",
			"go mod download in a Linux container under Docker Desktop on Windows with Kaspersky's HTTPS scanning on.")
		me := synth.Local("172.17.0.3", []byte{0x02, 0x42, 0xac, 0x11, 0x00, 0x03})
		gw := synth.Neighbor("172.17.0.1", []byte{0x02, 0x42, 0x91, 0x2d, 0x6f, 0x10}, 64)
		gw.IPID = synth.ZeroID
		r := c.Resolver(me, gw, ms(3.2), 1232)
		t := r.GoLookup(at(0), proxyHost, []string{proxyHost + ". 174 IN A " + proxyV4}, nil)
		ca, err := g.is.KasperskyCA()
		if err != nil {
			return err
		}
		leaf, err := g.is.Leaf(ca, synth.LeafSpec{Subject: pkix.Name{CommonName: proxyHost}, DNSNames: []string{proxyHost},
			NotBefore: at(-24 * time.Hour), NotAfter: at(364 * 24 * time.Hour), Key: synth.RSA2048})
		if err != nil {
			return err
		}
		_, roots, err := g.publicChain(proxyHost)
		if err != nil {
			return err
		}
		// The host's NAT terminates and re-originates the connection: its
		// packets arrive with TTL 63.
		host := synth.Remote(proxyV4, 64, 1)
		host.MAC = gw.MAC
		k := c.Dial(me, host, 443, ms(19.1))
		_, err = g.rejectedTLS12(k, k.Handshake(t.Add(ms(0.2))), proxyHost, tls12(synth.ServerSpec{Chain: synth.NewChain(leaf)}),
			roots, unknownCA, overProxy(ms(22.7), ms(0.3)))
		return err
	},
}

var tlsImpersonation = scenario{
	name: "interception-forged-gts-chain",
	shows: "An unknown middlebox presents proxy.golang.org with an intermediate named \"GTS CA 1C3\" whose issuer is, " +
		"byte for byte, Google's \"GTS Root R1\" — but whose signature that root's key does not verify.",
	made: "Go 1.26 crypto/tls client against a TLS 1.2 server; the intermediate's issuer copies GTS Root R1's subject " +
		"from the Mozilla bundle and is signed by a made-up key; Ethernet",
	must: []analyze.ExpectedFinding{
		find("tls-foreign-issuer", proxyHost, "error"), find("tls-alert", proxyHost, "error"),
		find("tls-version-downgrade", proxyHost, "warning"),
	},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "wlan0", "laptop on a hotel Wi-Fi",
			"go mod download on a network whose gateway forges certificates that claim Google Trust Services.")
		me := laptop()
		r := c.Resolver(me, router(), ms(3.3), 1232)
		t := r.GoLookup(at(0), proxyHost, []string{proxyHost + ". 300 IN A " + proxyV4}, nil)
		gts, err := mozillaRoot("GTS Root R1")
		if err != nil {
			return err
		}
		inter, err := g.is.Impersonator(gts, synth.CASpec{Subject: pkix.Name{CommonName: "GTS CA 1C3",
			Organization: []string{"Google Trust Services LLC"}, Country: []string{"US"}},
			NotBefore: time.Date(2020, 8, 13, 0, 0, 42, 0, time.UTC), NotAfter: time.Date(2027, 9, 30, 0, 0, 42, 0, time.UTC)})
		if err != nil {
			return err
		}
		leaf, err := g.is.Leaf(inter, synth.LeafSpec{Subject: pkix.Name{CommonName: proxyHost}, DNSNames: []string{proxyHost},
			NotBefore: time.Date(2026, 10, 27, 8, 14, 2, 0, time.UTC), NotAfter: time.Date(2027, 1, 19, 8, 14, 1, 0, time.UTC)})
		if err != nil {
			return err
		}
		_, roots, err := g.publicChain(proxyHost)
		if err != nil {
			return err
		}
		srv := tls12(synth.ServerSpec{Chain: synth.NewChain(leaf, inter), ALPN: []string{"h2", "http/1.1"}})
		k := c.Dial(me, google(proxyV4), 443, ms(27.2))
		_, err = g.rejectedTLS12(k, k.Handshake(t.Add(ms(0.2))), proxyHost, srv, roots, unknownCA, synth.DefaultTiming)
		return err
	},
}

// mozillaRoot returns the root of the embedded Mozilla bundle with the
// given common name.
func mozillaRoot(cn string) (*x509.Certificate, error) {
	for r := range bundle.Roots() {
		c, err := x509.ParseCertificate(r.Certificate)
		if err == nil && c.Subject.CommonName == cn {
			return c, nil
		}
	}
	return nil, errors.New("no Mozilla root named " + cn)
}

// internalServer returns the office GOPROXY host, a server for it whose
// certificate (from the corporate CA) is shaped by leaf, and the roots of
// a client that trusts the corporate CA.
func (g *gen) internalServer(leaf synth.LeafSpec) (synth.ServerSpec, *x509.CertPool, error) {
	root, issuing, err := g.is.CorpCA("Example Corp Issuing CA 01")
	if err != nil {
		return synth.ServerSpec{}, nil, err
	}
	l, err := g.is.Leaf(issuing, leaf)
	if err != nil {
		return synth.ServerSpec{}, nil, err
	}
	return tls12(synth.ServerSpec{Chain: synth.NewChain(l, issuing), ALPN: []string{"h2", "http/1.1"}}), synth.Pool(root), nil
}

// internalRejected is a fetch from goproxy.corp.internal that the client
// aborts because of the certificate leaf describes.
func internalRejected(comment, clientWant string, leaf synth.LeafSpec) func(g *gen) error {
	return func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop", comment)
		me := desktop()
		r := c.Resolver(me, corpDNS(), ms(0.7), 1232)
		t := r.GoLookup(at(0), corpGoproxy, []string{corpGoproxy + ". 300 IN A " + corpMirror}, nil)
		srv, roots, err := g.internalServer(leaf)
		if err != nil {
			return err
		}
		k := c.Dial(me, corpServer(corpMirror), 443, ms(0.9))
		_, err = g.rejectedTLS12(k, k.Handshake(t.Add(ms(0.2))), corpGoproxy, srv, roots, clientWant, synth.DefaultTiming)
		return err
	}
}

var tlsHostnameMismatch = scenario{
	name: "tls-hostname-mismatch-internal",
	shows: "goproxy.corp.internal is an alias of the Artifactory host, whose certificate names only " +
		"artifactory.corp.internal: the client, which trusts the corporate CA, aborts with bad_certificate.",
	made: "Go 1.26 crypto/tls client trusting the corporate root, against a TLS 1.2 server with a leaf for another " +
		"name; Ethernet",
	must: []analyze.ExpectedFinding{
		find("tls-hostname-mismatch", corpGoproxy, "error"), find("tls-alert", corpGoproxy, "error"),
		find("tls-foreign-issuer", corpGoproxy, "info"), find("tls-version-downgrade", corpGoproxy, "info"),
	},
	gen: internalRejected("go mod download with GOPROXY=https://goproxy.corp.internal, a DNS alias of the Artifactory server.",
		"not goproxy.corp.internal",
		synth.LeafSpec{Subject: pkix.Name{CommonName: "artifactory.corp.internal", Organization: []string{"Example Corp"}},
			DNSNames: []string{"artifactory.corp.internal"}, NotBefore: at(-120 * 24 * time.Hour), NotAfter: at(245 * 24 * time.Hour)}),
}

var tlsExpired = scenario{
	name: "tls-expired-internal",
	shows: "The company GOPROXY's certificate expired on 2026-11-14, six days before the capture (judged at the " +
		"packet's time): the client aborts with bad_certificate.",
	made: "Go 1.26 crypto/tls client (clock fixed at the capture time) trusting the corporate root, against a TLS 1.2 " +
		"server with an expired leaf; Ethernet",
	must: []analyze.ExpectedFinding{
		find("tls-expired", corpGoproxy, "error"), find("tls-alert", corpGoproxy, "error"),
		find("tls-foreign-issuer", corpGoproxy, "info"), find("tls-version-downgrade", corpGoproxy, "info"),
	},
	gen: internalRejected("go mod download with GOPROXY=https://goproxy.corp.internal after its certificate expired.",
		"certificate has expired",
		synth.LeafSpec{Subject: pkix.Name{CommonName: corpGoproxy, Organization: []string{"Example Corp"}}, DNSNames: []string{corpGoproxy},
			NotBefore: time.Date(2025, 11, 14, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2026, 11, 14, 0, 0, 0, 0, time.UTC)}),
}
