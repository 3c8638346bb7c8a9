package samples

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
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
	h2StreamResetZip,
	httpBodyTruncatedZip,
	httpNotModuleContentUI,
	goproxyRedirectBlocked,
	clockSkewBehind,
	vcsSSHBlocked,
	h2FramesOnHTTP1,
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

// quoteFetchWith is quoteFetch with the .zip's response changed by edit.
func (g *gen) quoteFetchWith(edit func(r *synth.Response)) []synth.Exchange {
	xs := g.quoteFetch()
	edit(&xs[3].Response)
	return xs
}

// ciFetch is a download from proxy.golang.org in a CI runner, decrypted
// with the key log, whose exchanges xs end as the client and server
// errors say; it returns the connection and the time of its last packet.
func (g *gen) ciFetch(comment string, xs []synth.Exchange, clientWant, serverWant string) (*synth.Conn, time.Time, error) {
	c := g.capture(synth.Ethernet, "eth0", "CI runner", comment)
	me := synth.Local("10.1.0.14", []byte{0x02, 0x00, 0x0a, 0x01, 0x00, 0x0e})
	dnsSrv := synth.Neighbor("10.1.0.2", routerMAC, 64)
	dnsSrv.IPID = synth.ZeroID
	r := c.Resolver(me, dnsSrv, ms(0.6), 1232)
	t := r.GoLookup(at(0), proxyHost, []string{proxyHost + ". 300 IN A " + proxyV4}, nil)
	chain, roots, err := g.publicChain(proxyHost)
	if err != nil {
		return nil, t, err
	}
	k := c.Dial(me, google(proxyV4), 443, ms(8.4))
	end, conv := g.fetch(k, k.Handshake(t.Add(ms(0.2))), proxyHost, frontEnd(chain), roots, xs, synth.DefaultTiming)
	return k, end, ended(conv, clientWant, serverWant)
}

var h2StreamResetZip = scenario{
	name: "h2-stream-reset-internal-error",
	shows: "proxy.golang.org's front end answers the list, .info and .mod, then starts the .zip and resets its " +
		"HTTP/2 stream with INTERNAL_ERROR after 1,000 bytes: the go command fails with `stream error: stream ID 7; " +
		"INTERNAL_ERROR; received from peer`. Decrypted with the key log.",
	made: "Go 1.26 crypto/tls (TLS 1.3) and the synthesizer's HTTP/2 over an in-memory pipe, the server sending " +
		"RST_STREAM INTERNAL_ERROR on the fourth stream; the expectation passes the key log and `--trust " +
		"synthetic-public-ca.pem`; Ethernet",
	must:        []analyze.ExpectedFinding{find("h2-stream-reset", proxyHost, "error")},
	keylog:      true,
	trustPublic: true,
	gen: func(g *gen) error {
		xs := g.quoteFetchWith(func(r *synth.Response) { r.ResetCode, r.Partial = 2, 1000 })
		k, end, err := g.ciFetch("go mod download rsc.io/quote@v1.5.2 in CI while the CDN in front of the module proxy fails.",
			xs, "stream error: stream ID 7; INTERNAL_ERROR", "")
		if err != nil {
			return err
		}
		k.Close(end.Add(ms(0.4)))
		return nil
	},
}

var httpBodyTruncatedZip = scenario{
	name: "http-body-truncated-zip",
	shows: "The .zip of rsc.io/quote starts arriving over HTTP/2 (content-length 1,800) but the connection is closed " +
		"from the server's side after 600 bytes, without END_STREAM: the go command says `unexpected EOF`. " +
		"Decrypted with the key log.",
	made: "Go 1.26 crypto/tls (TLS 1.3) and the synthesizer's HTTP/2 over an in-memory pipe; the server sends the " +
		"zip's headers and first 600 bytes, then FIN; the expectation passes the key log and `--trust " +
		"synthetic-public-ca.pem`; Ethernet",
	must:        []analyze.ExpectedFinding{find("http-body-truncated", proxyHost, "error")},
	keylog:      true,
	trustPublic: true,
	gen: func(g *gen) error {
		xs := g.quoteFetchWith(func(r *synth.Response) { r.Cut, r.Partial = true, 600 })
		k, end, err := g.ciFetch("go mod download rsc.io/quote@v1.5.2 in CI behind a gateway that drops long downloads.",
			xs, "EOF", "cut short")
		if err != nil {
			return err
		}
		end = end.Add(ms(0.3))
		k.Fin(synth.FromServer, end)
		end = end.Add(k.RTT)
		k.Fin(synth.FromClient, end)
		k.Ack(synth.FromServer, end.Add(ms(0.04)))
		return nil
	},
}

var httpNotModuleContentUI = scenario{
	name: "http-not-module-content-artifactory-ui",
	shows: "GOPROXY=https://goproxy.corp.internal/artifactory/ names Artifactory's web UI instead of its Go API " +
		"(/artifactory/api/go/REPO): the version list request is answered 200 with the UI's HTML page titled " +
		"\"JFrog\", and the go command fails to parse it. Decrypted with the key log.",
	made: "Go 1.26 crypto/tls client trusting the corporate root, against a TLS 1.2 server speaking the " +
		"synthesizer's HTTP/2, answering 200 text/html; the expectation passes the key log; Ethernet",
	must: []analyze.ExpectedFinding{
		find("http-not-module-content", corpGoproxy, "error"), find("tls-foreign-issuer", corpGoproxy, "info"),
		find("tls-version-downgrade", corpGoproxy, "warning"),
	},
	keylog: true,
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download with GOPROXY=https://goproxy.corp.internal/artifactory/ (the UI, not /artifactory/api/go/golang).")
		me := desktop()
		r := c.Resolver(me, corpDNS(), ms(0.7), 1232)
		t := r.GoLookup(at(0), corpGoproxy, []string{corpGoproxy + ". 300 IN A " + corpMirror}, nil)
		srv, roots, err := g.internalServer(synth.LeafSpec{Subject: pkix.Name{CommonName: corpGoproxy, Organization: []string{"Example Corp"}},
			DNSNames: []string{corpGoproxy}, NotBefore: at(-30 * 24 * time.Hour), NotAfter: at(335 * 24 * time.Hour)})
		if err != nil {
			return err
		}
		page := "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>JFrog</title>" +
			"<base href=\"/ui/\"><link rel=\"stylesheet\" href=\"styles.css\"></head><body><jf-root></jf-root>" +
			"<script src=\"main.js\"></script></body></html>\n"
		xs := []synth.Exchange{{Method: "GET", Path: "/artifactory/example.com/internal/lib/@v/list",
			Response: synth.Response{Delay: ms(14.2), Status: 200, Body: []byte(page),
				Header: [][2]string{{"content-type", "text/html;charset=utf-8"}, {"x-artifactory-node-id", "art-01"}}}}}
		k := c.Dial(me, corpServer(corpMirror), 443, ms(0.9))
		end, conv := g.fetch(k, k.Handshake(t.Add(ms(0.2))), corpGoproxy, srv, roots, xs, synth.DefaultTiming)
		if err := ended(conv, "", ""); err != nil {
			return err
		}
		k.Close(end.Add(ms(1.1)))
		return nil
	},
}

var goproxyRedirectBlocked = scenario{
	name: "goproxy-redirect-blocked-storage",
	shows: "A CI network's allow-list names proxy.golang.org but not storage.googleapis.com: the list, .info and .mod " +
		"arrive, the .zip is answered 302 to storage.googleapis.com, whose SYNs the firewall drops until Go's 30 s dial " +
		"timeout. Decrypted with the key log.",
	made: "Go 1.26 crypto/tls (TLS 1.3) and the synthesizer's HTTP/2 over an in-memory pipe, the .zip answered with a " +
		"302 to storage.googleapis.com; then its lookup and unanswered SYNs with Linux's backoff; the expectation passes " +
		"the key log and `--trust synthetic-public-ca.pem`; Ethernet",
	must: []analyze.ExpectedFinding{
		find("goproxy-redirect-blocked", "storage.googleapis.com", "error"),
		find("tcp-connect-timeout", "storage.googleapis.com", "error"),
	},
	keylog:      true,
	trustPublic: true,
	gen: func(g *gen) error {
		const storage, storageV4 = "storage.googleapis.com", "142.250.185.155"
		xs := g.quoteFetchWith(func(r *synth.Response) {
			*r = synth.Response{Delay: ms(8.1), Status: 302, Header: [][2]string{{"location",
				"https://" + storage + "/proxy-golang-org-prod/1c2c5d6e7f-rsc.io:quote-v1.5.2.zip?Expires=1795168800&GoogleAccessId=x&Signature=y"},
				{"content-type", "text/html; charset=utf-8"}}}
		})
		k, end, err := g.ciFetch("go mod download rsc.io/quote@v1.5.2 in CI behind a firewall whose allow-list names only proxy.golang.org.",
			xs, "", "")
		if err != nil {
			return err
		}
		r := g.cap.Resolver(synth.Local("10.1.0.14", []byte{0x02, 0x00, 0x0a, 0x01, 0x00, 0x0e}),
			func() *synth.Host { h := synth.Neighbor("10.1.0.2", routerMAC, 64); h.IPID = synth.ZeroID; return h }(), ms(0.6), 1232)
		t := r.GoLookup(end.Add(ms(0.3)), storage, []string{storage + ". 300 IN A " + storageV4}, nil)
		k2 := g.cap.Dial(synth.Local("10.1.0.14", []byte{0x02, 0x00, 0x0a, 0x01, 0x00, 0x0e}), google(storageV4), 443, ms(8.4))
		k2.SYNTimeout(t.Add(ms(0.2)), t.Add(30*time.Second))
		k.Close(t.Add(30*time.Second + ms(0.5)))
		return nil
	},
}

var clockSkewBehind = scenario{
	name: "tls-clock-skew-vm-snapshot",
	shows: "A build VM restored from a snapshot runs three days behind: proxy.golang.org's certificate, issued a day " +
		"earlier by the (synthetic) public CA, is not valid for another two days by the VM's clock, so the go command " +
		"rejects it (`x509: certificate has expired or is not yet valid: current time …`). Decrypted with the key log.",
	made: "Go 1.26 crypto/tls client whose clock is the packets' time, against a TLS 1.3 server with a leaf from the " +
		"synthetic public CA whose notBefore is two days after the capture; the expectation passes the key log and " +
		"`--trust synthetic-public-ca.pem`; Ethernet",
	must: []analyze.ExpectedFinding{
		find("tls-clock-skew", proxyHost, "error"), find("tls-expired", proxyHost, "error"), find("tls-alert", proxyHost, "error"),
	},
	keylog:      true,
	trustPublic: true,
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "ens3", "build VM",
			"go mod download in a build VM restored from a three-day-old snapshot; its clock was not resynchronised.")
		me := synth.Local("192.168.122.40", []byte{0x52, 0x54, 0x00, 0x3a, 0x1c, 0x7e})
		gw := synth.Neighbor("192.168.122.1", []byte{0x52, 0x54, 0x00, 0x90, 0x11, 0x02}, 64)
		gw.IPID = synth.ZeroID
		r := c.Resolver(me, gw, ms(1.4), 1232)
		t := r.GoLookup(at(0), proxyHost, []string{proxyHost + ". 300 IN A " + proxyV4}, nil)
		leaf, err := g.is.Leaf(g.public[1], synth.LeafSpec{Subject: pkix.Name{CommonName: proxyHost}, DNSNames: []string{proxyHost},
			NotBefore: at(48 * time.Hour), NotAfter: at(48*time.Hour + 84*24*time.Hour)})
		if err != nil {
			return err
		}
		_, roots, err := g.publicChain(proxyHost)
		if err != nil {
			return err
		}
		k := c.Dial(me, google(proxyV4), 443, ms(12.3))
		end, conv := g.fetch(k, k.Handshake(t.Add(ms(0.2))), proxyHost, frontEnd(synth.NewChain(leaf, g.public[1])), roots, nil, synth.DefaultTiming)
		if err := ended(conv, "certificate has expired or is not yet valid", "bad certificate"); err != nil {
			return err
		}
		k.Close(end.Add(ms(0.2)))
		return nil
	},
}

var vcsSSHBlocked = scenario{
	name: "vcs-ssh-port22-dropped",
	shows: "GOPRIVATE=git.corp.internal and git configured to fetch it over SSH " +
		"(url.\"git@git.corp.internal:\".insteadOf): the office firewall drops port 22, so git's SYNs go unanswered " +
		"and the go command fails with `ssh: connect to host git.corp.internal port 22: Connection timed out`.",
	made: "the office DNS answering git.corp.internal, then TCP SYNs to its port 22 retransmitted with Linux's backoff " +
		"until ssh's connect timeout (30 s here), nothing answering; Ethernet",
	must: []analyze.ExpectedFinding{find("vcs-unreachable", "git.corp.internal", "error"),
		find("tcp-connect-timeout", "git.corp.internal", "error")},
	gen: func(g *gen) error {
		const gitHost, gitV4 = "git.corp.internal", "10.20.9.9"
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download git.corp.internal/team/lib with GOPRIVATE=git.corp.internal and an SSH insteadOf rule.")
		me := desktop()
		r := c.Resolver(me, corpDNS(), ms(0.7), 1232)
		t := r.GoLookup(at(0), gitHost, []string{gitHost + ". 300 IN A " + gitV4}, nil)
		k := c.Dial(me, corpServer(gitV4), 22, ms(0.9))
		k.SYNTimeout(t.Add(ms(3.1)), t.Add(30*time.Second))
		return nil
	},
}

var h2FramesOnHTTP1 = scenario{
	name: "http-not-module-content-h2c-only",
	shows: "GOPROXY=http://goproxy.corp.internal points at a gateway configured for HTTP/2 with prior knowledge " +
		"(h2c) only: it answers the go command's HTTP/1.1 request with a SETTINGS frame and GOAWAY PROTOCOL_ERROR, and " +
		"the go command fails with `malformed HTTP response \"\\x00\\x00\\x12\\x04…\"`.",
	made: "Go's HTTP/1.1 request over an in-memory pipe to a server that answers with the HTTP/2 frames an h2c-only " +
		"listener sends (SETTINGS, GOAWAY) and closes; Ethernet",
	must: []analyze.ExpectedFinding{find("http-not-module-content", corpGoproxy, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go mod download with GOPROXY=http://goproxy.corp.internal, a gateway whose listener speaks only h2c.")
		me := desktop()
		r := c.Resolver(me, corpDNS(), ms(0.7), 1232)
		t := r.GoLookup(at(0), corpGoproxy, []string{corpGoproxy + ". 300 IN A " + corpMirror}, nil)
		xs := []synth.Exchange{{Method: "GET", Path: "/rsc.io/quote/@v/list"}}
		server := func(c net.Conn) error {
			br := bufio.NewReader(c)
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					return err
				}
				if line == "\r\n" {
					break
				}
			}
			settings := []byte{0, 0, 18, 0x4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100, 0, 4, 0, 1, 0, 0, 0, 5, 0, 0, 64, 0}
			goaway := append([]byte{0, 0, 8 + 22, 0x7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "invalid client preface"...)
			_, err := c.Write(append(settings, goaway...))
			return err
		}
		k := c.Dial(me, corpServer(corpMirror), 80, ms(0.9))
		end, conv := k.Run(k.Handshake(t.Add(ms(0.2))).Add(ms(0.08)), synth.HTTPClient(corpGoproxy, xs), server, synth.DefaultTiming)
		if conv.ServerErr != nil || conv.ClientErr == nil {
			return errors.Join(errors.New("want the client to fail on the HTTP/2 frames"), conv.ClientErr, conv.ServerErr)
		}
		end = end.Add(ms(0.1))
		k.Fin(synth.FromServer, end)
		k.Fin(synth.FromClient, end.Add(k.RTT))
		k.Ack(synth.FromServer, end.Add(k.RTT+ms(0.04)))
		return nil
	},
}
