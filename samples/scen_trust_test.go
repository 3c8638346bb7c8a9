package samples

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"time"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/samples/synth"
)

// The scenarios below are failures of trust and of the module protocol
// that only the client's side explains: its own trust store, the go
// command's TLS policy.

func init() { scenarios = append(scenarios, trustScenarios...) }

var trustScenarios = []scenario{
	trustStoreEmptyImage,
	goPolicyRSAKexOnly,
}

var trustStoreEmptyImage = scenario{
	name: "tls-client-trust-store-empty-image",
	shows: "A CI job runs `go mod download` in a slim image without the ca-certificates package: proxy.golang.org " +
		"presents its ordinary public chain over TLS 1.3, and the client, whose trust store is empty, aborts with " +
		"bad_certificate (`x509: certificate signed by unknown authority`). Decrypted with the key log, the chain " +
		"verifies (the synthetic public CA stands in for the real root), so the fault is the client's store.",
	made: "Go 1.26 crypto/tls client with an empty root pool against a TLS 1.3 server holding the synthetic public " +
		"chain; the expectation passes the key log and `--trust synthetic-public-ca.pem`; Ethernet in the container",
	must: []analyze.ExpectedFinding{
		find("tls-client-trust-store", proxyHost, "error"), find("tls-alert", proxyHost, "error"),
	},
	keylog:      true,
	trustPublic: true,
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eth0", "CI job container",
			"go mod download in a debian:bookworm-slim based CI image without the ca-certificates package; "+
				"/etc/ssl/certs is empty.")
		me := synth.Local("172.17.0.5", []byte{0x02, 0x42, 0xac, 0x11, 0x00, 0x05})
		gw := synth.Neighbor("172.17.0.1", []byte{0x02, 0x42, 0x5e, 0x0c, 0x21, 0x7a}, 64)
		gw.IPID = synth.ZeroID
		r := c.Resolver(me, gw, ms(2.1), 1232)
		t := r.GoLookup(at(0), proxyHost, []string{proxyHost + ". 241 IN A " + proxyV4}, nil)
		chain, _, err := g.publicChain(proxyHost)
		if err != nil {
			return err
		}
		host := synth.Remote(proxyV4, 64, 1)
		host.MAC = gw.MAC
		k := c.Dial(me, host, 443, ms(9.6))
		end, conv := g.fetch(k, k.Handshake(t.Add(ms(0.2))), proxyHost, frontEnd(chain), x509.NewCertPool(), nil, synth.DefaultTiming)
		if err := ended(conv, unknownCA, "bad certificate"); err != nil {
			return err
		}
		k.Close(end.Add(ms(0.2)))
		return nil
	},
}

var goPolicyRSAKexOnly = scenario{
	name: "tls-go-policy-rsa-kex-only",
	shows: "After a Go upgrade, the company's old Artifactory (goproxy.corp.internal) stops working: its TLS " +
		"terminator accepts only RSA key exchange (TLS_RSA_WITH_AES_128_GCM_SHA256), which Go 1.22 dropped from " +
		"its defaults, so it answers the go command's ClientHello (ECDHE suites only) with handshake_failure.",
	made: "Go 1.26 crypto/tls client trusting the corporate root, against a TLS 1.2 server restricted to " +
		"TLS_RSA_WITH_AES_128_GCM_SHA256; Ethernet",
	must: []analyze.ExpectedFinding{
		find("tls-go-policy", corpGoproxy, "error"), find("tls-alert", corpGoproxy, "error"),
	},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download with GOPROXY=https://goproxy.corp.internal after upgrading to Go 1.26; the server's "+
				"TLS terminator was configured years ago with RSA key exchange suites only.")
		me := desktop()
		r := c.Resolver(me, corpDNS(), ms(0.7), 1232)
		t := r.GoLookup(at(0), corpGoproxy, []string{corpGoproxy + ". 300 IN A " + corpMirror}, nil)
		srv, roots, err := g.internalServer(synth.LeafSpec{Subject: pkix.Name{CommonName: corpGoproxy, Organization: []string{"Example Corp"}},
			DNSNames: []string{corpGoproxy}, NotBefore: at(-200 * 24 * time.Hour), NotAfter: at(165 * 24 * time.Hour), Key: synth.RSA2048})
		if err != nil {
			return err
		}
		srv.CipherSuites = []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
		k := c.Dial(me, corpServer(corpMirror), 443, ms(0.9))
		end, conv := g.fetch(k, k.Handshake(t.Add(ms(0.2))), corpGoproxy, srv, roots, nil, synth.DefaultTiming)
		if err := ended(conv, "handshake failure", "no cipher suite supported by both client and server"); err != nil {
			return err
		}
		k.Close(end.Add(ms(0.2)))
		return nil
	},
}
