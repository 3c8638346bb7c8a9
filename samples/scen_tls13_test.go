package samples

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"time"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/samples/synth"
)

var tlsCharlesReordered = scenario{
	name: "interception-charles-reordered",
	shows: "HTTPS_PROXY points at Charles Proxy on a colleague's Mac; its TLS 1.2 certificate flight arrives over " +
		"Wi-Fi out of order with a tail-loss-probe retransmission, and the client rejects Charles's CA.",
	made: "Go 1.26 crypto/tls client against a TLS 1.2 server holding a Charles-named RSA CA, in an HTTP CONNECT " +
		"tunnel; the server flight's segments delivered 2, 2 again, 1; Ethernet",
	must: []analyze.ExpectedFinding{
		find("tls-foreign-issuer", proxyHost, "error"), find("tls-alert", proxyHost, "error"),
		find("tls-version-downgrade", proxyHost, "warning"),
	},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "wlan0", "laptop on the office Wi-Fi",
			"go mod download with HTTPS_PROXY=http://192.168.1.50:8888 (Charles Proxy, SSL proxying on) from a "+
				"machine that does not trust Charles's CA.")
		ca, err := g.is.CharlesCA()
		if err != nil {
			return err
		}
		leaf, err := g.is.Leaf(ca, synth.LeafSpec{Subject: pkix.Name{CommonName: proxyHost, OrganizationalUnit: []string{"Charles Proxy CA"}},
			DNSNames: []string{proxyHost}, NotBefore: at(-24 * time.Hour), NotAfter: at(364 * 24 * time.Hour), Key: synth.RSA2048})
		if err != nil {
			return err
		}
		_, roots, err := g.publicChain(proxyHost)
		if err != nil {
			return err
		}
		srv := tls12(synth.ServerSpec{Chain: synth.NewChain(leaf, ca), ALPN: []string{"h2", "http/1.1"}})
		conv := synth.Converse(
			synth.ConnectClient(proxyHost+":443", synth.HTTPSClient(synth.GoClientConfig(proxyHost, roots, at(0), &g.keys), nil)),
			synth.ConnectServer(established, synth.HTTPSServer(srv.Config(at(0)), nil)))
		if err := ended(conv, unknownCA, "bad certificate"); err != nil {
			return err
		}
		tr := conv.Transcript
		if len(tr) != 5 || tr[3].Dir != synth.FromServer {
			return fmt.Errorf("unexpected conversation shape: %d writes", len(tr))
		}
		me := laptop()
		mac := synth.Neighbor("192.168.1.50", net.HardwareAddr{0xf0, 0x18, 0x98, 0x2a, 0x61, 0x07}, 64)
		k := c.Dial(me, mac, 8888, ms(4.3))
		t := k.Handshake(at(0))
		t = k.Data(synth.FromClient, t.Add(ms(0.09)), 0, tr[0].Data)
		t = k.Data(synth.FromServer, t.Add(k.RTT+ms(0.6)), 0, tr[1].Data)
		t = k.Data(synth.FromClient, t.Add(ms(0.35)), ms(0.015), tr[2].Data)

		// Charles connects upstream before answering. Its flight's first
		// segment is held up by Wi-Fi retries; a tail-loss probe resends
		// the last one; the client acknowledges what it has each time.
		segs := k.Segments(synth.FromServer, tr[3].Data)
		if len(segs) < 2 {
			return fmt.Errorf("the server flight has %d segment, want several", len(segs))
		}
		k.Advance(synth.FromServer, len(tr[3].Data))
		last := len(segs) - 1
		type delivery struct {
			seg int
			at  time.Duration
		}
		var order []delivery
		for i := 1; i <= last; i++ {
			order = append(order, delivery{i, ms(0.14 * float64(i-1))})
		}
		order = append(order, delivery{last, ms(9.8)}, delivery{0, ms(24.6)})
		first := t.Add(k.RTT + ms(41.3))
		for _, d := range order {
			when := first.Add(d.at)
			k.Send(synth.FromServer, when, segs[d.seg])
			k.Ack(synth.FromClient, when.Add(ms(0.04)))
			t = when.Add(ms(0.04))
		}
		t = k.Data(synth.FromClient, t.Add(ms(1.4)), 0, tr[4].Data)
		k.Close(t.Add(ms(0.3)))
		return nil
	},
}

var tls13ClientRejected = scenario{
	name: "tls13-client-rejected-fortigate",
	shows: "A FortiGate's deep inspection answers in TLS 1.3, so its certificate is encrypted; the client, which " +
		"does not trust the FortiGate CA, answers the server's flight with one 19-byte encrypted record (its alert) and closes.",
	made: "Go 1.26 crypto/tls client against a TLS 1.3 server holding a FortiGate-named CA (O=Fortinet); the key log " +
		"is kept beside the capture; Ethernet",
	must: []analyze.ExpectedFinding{find("tls-client-rejected", proxyHost, "error"), find("tls-cert-hidden", proxyHost, "info")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download on a desktop whose trust store lacks the FortiGate's SSL inspection CA.")
		me := desktop()
		t := officeLookup(c, me)
		ca, err := g.is.FortiGateCA()
		if err != nil {
			return err
		}
		leaf, err := g.is.Leaf(ca, synth.LeafSpec{Subject: pkix.Name{CommonName: proxyHost}, DNSNames: []string{proxyHost},
			NotBefore: time.Date(2026, 10, 27, 8, 14, 2, 0, time.UTC), NotAfter: time.Date(2027, 1, 19, 8, 14, 1, 0, time.UTC)})
		if err != nil {
			return err
		}
		_, roots, err := g.publicChain(proxyHost)
		if err != nil {
			return err
		}
		k := c.Dial(me, google(proxyV4), 443, ms(18.3))
		end, conv := g.fetch(k, k.Handshake(t.Add(ms(0.2))), proxyHost, frontEnd(synth.NewChain(leaf, ca)), roots, nil,
			overProxy(ms(23.9), ms(0.3)))
		if err := ended(conv, unknownCA, "bad certificate"); err != nil {
			return err
		}
		k.Close(end.Add(ms(0.2)))
		return nil
	},
}

var tls13ClassicalKeyShare = scenario{
	name: "tls13-classical-key-share",
	shows: "\"proxy.golang.org\" answers the post-quantum ClientHello with an X25519 key share: the peer is the " +
		"company's TLS inspection gateway (an older TLS library), whose CA the desktop trusts.",
	made: "Go 1.26 crypto/tls client trusting the corporate root, against a TLS 1.3 server limited to X25519 with " +
		"the gateway's chain; HTTP/2 inside; the key log is kept beside the capture; Ethernet",
	must: []analyze.ExpectedFinding{find("tls-classical-key-share", proxyHost, "warning"), find("tls-cert-hidden", proxyHost, "info")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download through the office's TLS inspection gateway; the download works.")
		me := desktop()
		t := officeLookup(c, me)
		root, issuing, err := g.is.CorpCA("Example Corp TLS Inspection CA")
		if err != nil {
			return err
		}
		leaf, err := g.is.Leaf(issuing, synth.LeafSpec{Subject: pkix.Name{CommonName: proxyHost}, DNSNames: []string{proxyHost},
			NotBefore: at(-7 * 24 * time.Hour), NotAfter: at(23 * 24 * time.Hour)})
		if err != nil {
			return err
		}
		srv := frontEnd(synth.NewChain(leaf, issuing))
		srv.Curves = []tls.CurveID{tls.X25519}
		k := c.Dial(me, google(proxyV4), 443, ms(18.3))
		end, conv := g.fetch(k, k.Handshake(t.Add(ms(0.2))), proxyHost, srv, synth.Pool(root), g.quoteFetch(),
			overProxy(ms(22.1), ms(18.6)))
		if err := ended(conv, "", ""); err != nil {
			return err
		}
		k.Reset(synth.FromClient, end.Add(ms(2.8)))
		return nil
	},
}
