package samples

import (
	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/samples/synth"
)

var httpErrorStatus = scenario{
	name: "http-goproxy-404",
	shows: "GOPROXY=http://goproxy.corp.internal (plain HTTP) answers 404 Not Found for the private module " +
		"github.com/acme/widgets: the list and @latest queries both fail, and GOPROXY has no fallback.",
	made: "Go's HTTP/1.1 requests and an Athens-style 404 over an in-memory pipe; Ethernet",
	must: []analyze.ExpectedFinding{find("http-error-status", corpGoproxy, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop",
			"go get github.com/acme/widgets with GOPROXY=http://goproxy.corp.internal; the module is not on the proxy.")
		me := desktop()
		r := c.Resolver(me, corpDNS(), ms(0.7), 1232)
		t := r.GoLookup(at(0), corpGoproxy, []string{corpGoproxy + ". 300 IN A " + corpMirror}, nil)
		notFound := func(body string) synth.Response {
			return synth.Response{Delay: ms(38.5), Status: 404, Body: []byte(body),
				Header: [][2]string{{"Content-Type", "text/plain; charset=utf-8"}, {"X-Content-Type-Options", "nosniff"},
					{"Date", "Fri, 20 Nov 2026 10:00:00 GMT"}}}
		}
		xs := []synth.Exchange{
			{Method: "GET", Path: "/github.com/acme/widgets/@v/list",
				Response: notFound("not found: github.com/acme/widgets: 404 Not Found\n")},
			{Method: "GET", Path: "/github.com/acme/widgets/@latest",
				Response: notFound("not found: github.com/acme/widgets@latest: 404 Not Found\n")},
		}
		k := c.Dial(me, corpServer(corpMirror), 80, ms(0.9))
		end, conv := k.Run(k.Handshake(t.Add(ms(0.2))).Add(ms(0.08)), synth.HTTPClient(corpGoproxy, xs),
			synth.HTTPServer(xs), synth.DefaultTiming)
		if err := ended(conv, "", ""); err != nil {
			return err
		}
		k.Close(end.Add(ms(1.1)))
		return nil
	},
}

var inputTruncated = scenario{
	name: "input-truncated",
	shows: "A capture of a working TLS 1.3 download that was copied while still being written: the file ends in " +
		"the middle of a packet block; what precedes it is analysed.",
	made: "a synthesized direct download (Go 1.26 crypto/tls, HTTP/2) cut inside its third-last packet block; Ethernet",
	must: []analyze.ExpectedFinding{find("input-damaged", "", "warning"), find("tls-cert-hidden", proxyHost, "info")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "wlan0", "home laptop on Wi-Fi",
			"go mod download rsc.io/quote, direct; the file was cut short when it was copied.")
		me := laptop()
		r := c.Resolver(me, router(), ms(11.2), 1232)
		t := r.GoLookup(at(0), proxyHost, []string{proxyHost + ". 300 IN A " + proxyV4}, nil)
		chain, roots, err := g.publicChain(proxyHost)
		if err != nil {
			return err
		}
		k := c.Dial(me, google(proxyV4), 443, ms(18.1))
		end, conv := g.fetch(k, k.Handshake(t.Add(ms(0.2))), proxyHost, frontEnd(chain), roots, g.quoteFetch(), synth.DefaultTiming)
		if err := ended(conv, "", ""); err != nil {
			return err
		}
		k.Reset(synth.FromClient, end.Add(ms(2.1)))
		g.post = func(b []byte) []byte { return synth.CutInsideBlock(b, 4) }
		return nil
	},
}
