package samples

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"fmt"
	"time"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/decode/decodetest"
	"github.com/modsniff/modsniff/samples/synth"
)

// The scenarios below are analysed with TLS keys: the client's key log
// beside the capture (--keylog), or inside it (a Decryption Secrets Block).

var tls13WithKeys = scenario{
	name: "interception-tls13-with-keys",
	shows: "A contractor's laptop on a customer's network, where Zscaler inspects TLS 1.3: the certificate travels " +
		"encrypted, and the key log beside the capture shows it — a chain from \"Zscaler Intermediate Root CA " +
		"(zscalerthree.net) (t)\", which the laptop does not trust — and the client's bad_certificate alert.",
	made: "Go 1.26 crypto/tls client against a TLS 1.3 server holding a Zscaler-named chain; the expectation passes " +
		"the client's key log (--keylog); Ethernet",
	must: []analyze.ExpectedFinding{
		find("tls-foreign-issuer", proxyHost, "error"), find("tls-alert", proxyHost, "error"),
	},
	keylog: true,
	issuer: "Zscaler",
	gen:    zscalerTLS13Rejected,
}

var tls13KeysEmbedded = scenario{
	name: "interception-tls13-keys-embedded",
	shows: "The capture of interception-tls13-with-keys with the client's key log inside it, as a pcapng " +
		"Decryption Secrets Block before the first packet: analysed with no flags at all, it gives the same " +
		"decrypted verdict (Zscaler's chain, the client's bad_certificate alert).",
	made: "the packets of interception-tls13-with-keys (the same seed) with the key log written into the file as a " +
		"Decryption Secrets Block, as `modsniff keys inject` or `editcap --inject-secrets` do; Ethernet",
	must: []analyze.ExpectedFinding{
		find("tls-foreign-issuer", proxyHost, "error"), find("tls-alert", proxyHost, "error"),
	},
	embedKeys: true,
	seedFrom:  "interception-tls13-with-keys",
	issuer:    "Zscaler",
	gen:       zscalerTLS13Rejected,
}

// zscalerTLS13Rejected is a download through Zscaler's TLS 1.3 inspection
// by a client that does not trust Zscaler's root.
func zscalerTLS13Rejected(g *gen) error {
	comment := "go mod download on a laptop without the Zscaler root, on a network whose traffic Zscaler inspects."
	if g.embedKeys {
		comment += " The client's key log is embedded (Decryption Secrets Block)."
	}
	c := g.capture(synth.Ethernet, "wlan0", "laptop on the customer's Wi-Fi", comment)
	me := laptop()
	r := c.Resolver(me, router(), ms(2.9), 1232)
	t := r.GoLookup(at(0), proxyHost, []string{proxyHost + ". 300 IN A " + proxyV4}, nil)
	_, inter, issuing, err := g.is.ZscalerChain()
	if err != nil {
		return err
	}
	leaf, err := g.is.Leaf(issuing, synth.LeafSpec{Subject: pkix.Name{CommonName: proxyHost}, DNSNames: []string{proxyHost},
		NotBefore: at(-26 * time.Hour), NotAfter: at(13 * 24 * time.Hour), Key: synth.RSA2048})
	if err != nil {
		return err
	}
	_, roots, err := g.publicChain(proxyHost)
	if err != nil {
		return err
	}
	k := c.Dial(me, google(proxyV4), 443, ms(11.6))
	// Zscaler fetches the real certificate before it answers.
	end, conv := g.fetch(k, k.Handshake(t.Add(ms(0.2))), proxyHost, frontEnd(synth.NewChain(leaf, issuing, inter)), roots, nil,
		overProxy(ms(34.2), ms(0.3)))
	if err := ended(conv, unknownCA, "bad certificate"); err != nil {
		return err
	}
	k.Close(end.Add(ms(0.2)))
	return nil
}

var http2GoproxyGone = scenario{
	name: "http-goproxy-410-h2",
	shows: "With GOPROXY=https://proxy.golang.org (no `direct` fallback) and GOPRIVATE unset, the private module " +
		"github.com/acme/widgets is asked of the public proxy, which answers 410 Gone over HTTP/2 (it cannot clone the " +
		"repository); decrypted with the key log, and the synthetic public CA trusted.",
	made: "Go 1.26 crypto/tls (TLS 1.3) and HTTP/2 over an in-memory pipe, the proxy's 410 with its `not found:` " +
		"body; the expectation passes the key log and `--trust synthetic-public-ca.pem`; Ethernet",
	must: []analyze.ExpectedFinding{find("http-error-status", proxyHost, "error"),
		find("goproxy-private-path", proxyHost, "error")},
	keylog:      true,
	trustPublic: true,
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eth0", "CI runner",
			"go mod download github.com/acme/widgets@v1.4.0 in a CI image with GOPROXY=https://proxy.golang.org and "+
				"no GOPRIVATE; the module lives in a private GitHub repository.")
		me := synth.Local("10.1.0.14", []byte{0x02, 0x00, 0x0a, 0x01, 0x00, 0x0e})
		dnsSrv := synth.Neighbor("10.1.0.2", routerMAC, 64)
		dnsSrv.IPID = synth.ZeroID
		r := c.Resolver(me, dnsSrv, ms(0.6), 1232)
		t := r.GoLookup(at(0), proxyHost, []string{proxyHost + ". 300 IN A " + proxyV4}, nil)
		chain, roots, err := g.publicChain(proxyHost)
		if err != nil {
			return err
		}
		const path = "github.com/acme/widgets@v1.4.0"
		body := "not found: " + path + ": invalid version: git ls-remote -q origin in " +
			"/tmp/gopath/pkg/mod/cache/vcs/3f6c0a1c2b9e8d7f5a4e1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e: exit status 128:\n" +
			"\tfatal: could not read Username for 'https://github.com': terminal prompts disabled\n" +
			"Confirm the import path was entered correctly.\n" +
			"If this is a private repository, see https://golang.org/doc/faq#git_https for additional information.\n"
		xs := []synth.Exchange{{Method: "GET", Path: "/github.com/acme/widgets/@v/v1.4.0.info",
			Response: synth.Response{Delay: ms(412.6), Status: 410, Body: []byte(body),
				Header: [][2]string{{"content-type", "text/plain; charset=UTF-8"}, {"x-content-type-options", "nosniff"}}}}}
		k := c.Dial(me, google(proxyV4), 443, ms(8.4))
		end, conv := g.fetch(k, k.Handshake(t.Add(ms(0.2))), proxyHost, frontEnd(chain), roots, xs, synth.DefaultTiming)
		if err := ended(conv, "", ""); err != nil {
			return err
		}
		// The go command reports the 410 and exits; the session tickets it
		// never read make the kernel reset the connection.
		k.Reset(synth.FromClient, end.Add(ms(1.9)))
		return nil
	},
}

var h2GoAwayInadequateSecurity = scenario{
	name: "h2-goaway-inadequate-security",
	shows: "The office's TLS inspection gateway (whose CA the desktop trusts) answers for proxy.golang.org in TLS 1.2 " +
		"with ECDHE-RSA-AES128-SHA, a CBC suite HTTP/2 forbids (RFC 9113 §9.2.2), and still accepts h2; its HTTP/2 " +
		"layer then sends GOAWAY INADEQUATE_SECURITY and closes, and the go command fails with `http2: Transport " +
		"received GOAWAY from server ErrCode:INADEQUATE_SECURITY`. Decrypted with the client's key log.",
	made: "Go 1.26 crypto/tls client trusting the corporate root, against a TLS 1.2 server limited to ECDHE-RSA " +
		"AES-CBC suites with ALPN h2, whose HTTP/2 layer sends SETTINGS and GOAWAY (last stream 0) right after the " +
		"handshake, then close_notify and FIN, and resets the client's late preface and request; the expectation " +
		"passes the key log (CLIENT_RANDOM); Ethernet",
	must: []analyze.ExpectedFinding{
		find("h2-goaway", proxyHost, "error"), find("tls-foreign-issuer", proxyHost, "warning"),
		find("tls-version-downgrade", proxyHost, "warning"),
	},
	keylog: true,
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download on a desktop whose trust store holds the office's TLS inspection CA; the inspection "+
				"gateway's client-side TLS 1.2 cipher list puts AES-CBC first.")
		me := desktop()
		t := officeLookup(c, me)
		root, issuing, err := g.is.CorpCA("Example Corp TLS Inspection CA")
		if err != nil {
			return err
		}
		leaf, err := g.is.Leaf(issuing, synth.LeafSpec{Subject: pkix.Name{CommonName: proxyHost}, DNSNames: []string{proxyHost},
			NotBefore: at(-7 * 24 * time.Hour), NotAfter: at(23 * 24 * time.Hour), Key: synth.RSA2048})
		if err != nil {
			return err
		}
		srv := tls12(synth.ServerSpec{Chain: synth.NewChain(leaf, issuing), ALPN: []string{"h2", "http/1.1"},
			CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA}})
		// The gateway, two hops away at the office's edge, answers for
		// proxy.golang.org; it connects upstream before its ServerHello.
		gw := synth.Remote(proxyV4, 64, 2)
		k := c.Dial(me, gw, 443, ms(1.3))
		t = k.Handshake(t.Add(ms(0.2)))
		client := synth.HTTPSClient(synth.GoClientConfig(proxyHost, synth.Pool(root), t, &g.keys), g.quoteFetch()[:1])
		conv := synth.Converse(client, synth.H2RejectServer(srv.Config(t), synth.H2InadequateSecurity, ""))
		if err := ended(conv, "ErrCode:INADEQUATE_SECURITY", ""); err != nil {
			return err
		}
		// Everything the gateway writes — its handshake's end, SETTINGS
		// and GOAWAY, close_notify — precedes the client's HTTP/2 bytes:
		// a TLS 1.2 client sends none before the server's Finished.
		tr := conv.Transcript
		split := 0
		for i, ch := range tr {
			if ch.Dir == synth.FromServer && ch.Data != nil {
				split = i + 1
			}
		}
		end := k.Play(t.Add(ms(0.11)), tr[:split], overProxy(ms(19.6), ms(0.3)))
		// The gateway closed the socket after close_notify: its FIN comes
		// with the flight, after the client's acknowledgement of it.
		fin := end.Add(ms(0.03))
		k.Fin(synth.FromServer, fin)
		// The client, not yet aware, sends its preface, the request and
		// the SETTINGS acknowledgement, reads the GOAWAY and closes
		// (close_notify, FIN). Each of its segments reaches a closed
		// socket and draws a reset (RST without ACK, as Linux answers).
		var sent []time.Time
		at := fin.Add(synth.DefaultTiming.ClientThink)
		for _, ch := range tr[split:] {
			if ch.Data == nil {
				continue
			}
			at = k.Data(synth.FromClient, at, 0, ch.Data)
			sent = append(sent, at)
			at = at.Add(ms(0.02))
		}
		if len(sent) != 4 {
			return fmt.Errorf("the client wrote %d times after the handshake, want 4 (preface, request, SETTINGS ACK, close_notify)", len(sent))
		}
		k.Fin(synth.FromClient, at)
		sent = append(sent, at)
		for _, s := range sent {
			k.Send(synth.FromServer, s.Add(k.RTT), synth.Seg{Flags: synth.RST})
		}
		return nil
	},
}

var tls13CompressedCert = scenario{
	name: "interception-tls13-compressed-cert",
	shows: "Zscaler's TLS 1.3 inspection sends its certificate brotli-compressed (an RFC 8879 CompressedCertificate, " +
		"as Chrome's and Cloudflare's stacks negotiate); decrypted with the key log and decompressed, the chain is " +
		"Zscaler's, which the laptop does not trust, and the client sends bad_certificate.",
	made: "Go 1.26 crypto/tls client against a TLS 1.3 server holding a Zscaler-named chain; the server's encrypted " +
		"Certificate is rewritten into a brotli CompressedCertificate and sealed again with the logged handshake " +
		"key (decodetest.CompressServerCertificate); the expectation passes the key log; Ethernet",
	must: []analyze.ExpectedFinding{
		find("tls-foreign-issuer", proxyHost, "error"), find("tls-alert", proxyHost, "error"),
	},
	keylog: true,
	issuer: "Zscaler",
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "wlan0", "laptop on the customer's Wi-Fi",
			"go mod download on a laptop without the Zscaler root; the inspecting proxy compresses its certificate (RFC 8879).")
		me := laptop()
		r := c.Resolver(me, router(), ms(2.9), 1232)
		t := r.GoLookup(at(0), proxyHost, []string{proxyHost + ". 300 IN A " + proxyV4}, nil)
		_, inter, issuing, err := g.is.ZscalerChain()
		if err != nil {
			return err
		}
		leaf, err := g.is.Leaf(issuing, synth.LeafSpec{Subject: pkix.Name{CommonName: proxyHost}, DNSNames: []string{proxyHost},
			NotBefore: at(-26 * time.Hour), NotAfter: at(13 * 24 * time.Hour), Key: synth.RSA2048})
		if err != nil {
			return err
		}
		_, roots, err := g.publicChain(proxyHost)
		if err != nil {
			return err
		}
		k := c.Dial(me, google(proxyV4), 443, ms(11.6))
		start := k.Handshake(t.Add(ms(0.2))).Add(ms(0.11))
		conv := synth.Converse(synth.HTTPSClient(synth.GoClientConfig(proxyHost, roots, start, &g.keys), nil),
			synth.HTTPSServer(frontEnd(synth.NewChain(leaf, issuing, inter)).Config(start), nil))
		if err := ended(conv, unknownCA, "bad certificate"); err != nil {
			return err
		}
		var server [][]byte
		var idx []int
		for i, ch := range conv.Transcript {
			if ch.Dir == synth.FromServer && ch.Data != nil {
				server, idx = append(server, ch.Data), append(idx, i)
			}
		}
		if err := decodetest.CompressServerCertificate(conv.Transcript.Bytes(synth.FromClient), server, g.keys.Bytes(), decodetest.CertBrotli); err != nil {
			return err
		}
		for j, i := range idx {
			conv.Transcript[i].Data = server[j]
		}
		end := k.Play(start, conv.Transcript, overProxy(ms(34.2), ms(0.3)))
		k.Close(end.Add(ms(0.2)))
		return nil
	},
}
