package samples

import (
	"fmt"
	"strings"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/samples/synth"
)

// squidError is the response Squid 6 sends with one of its error pages
// (the page itself shortened).
func squidError(status, reason, squidErr string, extra ...string) string {
	body := "<!DOCTYPE html>\n<html><head><title>ERROR: The requested URL could not be retrieved</title></head>\n" +
		"<body id=" + strings.ToLower(squidErr) + "><div id=\"titles\"><h1>ERROR</h1><h2>The requested URL could not be retrieved</h2></div>\n" +
		"<p>The following error was encountered while trying to retrieve the URL: <a href=\"proxy.golang.org:443\">proxy.golang.org:443</a></p>\n" +
		"<p>Generated Fri, 20 Nov 2026 10:00:00 GMT by proxy.corp.example (squid/6.10)</p>\n</body></html>\n"
	head := fmt.Sprintf("HTTP/1.1 %s %s\r\nServer: squid/6.10\r\nMime-Version: 1.0\r\nDate: Fri, 20 Nov 2026 10:00:00 GMT\r\n"+
		"Content-Type: text/html;charset=utf-8\r\nContent-Length: %d\r\nX-Squid-Error: %s 0\r\n", status, reason, len(body), squidErr)
	for _, h := range extra {
		head += h + "\r\n"
	}
	return head + "Vary: Accept-Language\r\nContent-Language: en\r\nConnection: keep-alive\r\n\r\n" + body
}

// refusedTunnel is a CONNECT to proxy.golang.org through the office Squid
// that is answered with response; the client then closes the connection.
func refusedTunnel(comment, response string) func(g *gen) error {
	return func(g *gen) error {
		c := g.capture(synth.Ethernet, "eno1", "office desktop", comment)
		me := desktop()
		r := c.Resolver(me, corpDNS(), ms(0.8), 1232)
		t := r.GoLookup(at(0), squidName, []string{squidName + ". 3600 IN A " + squidV4}, nil)
		k := c.Dial(me, corpServer(squidV4), 3128, ms(0.6))
		t = k.Handshake(t.Add(ms(0.2)))
		client := synth.ConnectClient(proxyHost+":443", noServer)
		server := synth.ConnectServer(response, noServer)
		tm := synth.DefaultTiming
		tm.FirstThink = ms(0.3)
		end, conv := k.Run(t.Add(ms(0.09)), client, server, tm)
		if err := ended(conv, "refused", ""); err != nil {
			return err
		}
		k.Close(end.Add(ms(0.2)))
		return nil
	}
}

var proxyConnect407 = scenario{
	name: "proxy-connect-407",
	shows: "The office Squid answers the CONNECT for proxy.golang.org:443 with 407 Proxy Authentication Required " +
		"(Basic, realm \"Example Corp Internet Access\"): HTTPS_PROXY carries no credentials.",
	made: "Go's CONNECT request and Squid 6's 407 response over an in-memory pipe; Ethernet",
	must: []analyze.ExpectedFinding{find("proxy-connect-failed", proxyHost, "error")},
	gen: refusedTunnel("go mod download with HTTPS_PROXY=http://proxy.corp.example:3128 (no user or password).",
		squidError("407", "Proxy Authentication Required", "ERR_CACHE_ACCESS_DENIED",
			`Proxy-Authenticate: Basic realm="Example Corp Internet Access"`)),
}

var proxyConnect403 = scenario{
	name: "proxy-connect-403",
	shows: "The office Squid's policy forbids proxy.golang.org: the CONNECT is answered 403 Forbidden " +
		"(X-Squid-Error: ERR_ACCESS_DENIED).",
	made: "Go's CONNECT request and Squid 6's 403 response over an in-memory pipe; Ethernet",
	must: []analyze.ExpectedFinding{find("proxy-connect-failed", proxyHost, "error")},
	gen: refusedTunnel("go mod download with HTTPS_PROXY=http://proxy.corp.example:3128, whose ACLs deny the module proxy.",
		squidError("403", "Forbidden", "ERR_ACCESS_DENIED")),
}

var proxySOCKS5Failure = scenario{
	name: "proxy-socks5-failure",
	shows: "HTTPS_PROXY=socks5://127.0.0.1:1080 names a local SOCKS5 proxy that accepts the greeting but refuses " +
		"to connect to proxy.golang.org (reply 2, not allowed by ruleset).",
	made: "Go's SOCKS5 greeting and CONNECT (domain name) and the proxy's failure reply over an in-memory pipe; " +
		"Ethernet framing on lo",
	must: []analyze.ExpectedFinding{find("proxy-connect-failed", proxyHost, "error")},
	gen: func(g *gen) error {
		c := g.capture(synth.Ethernet, "lo", "loopback",
			"go mod download with HTTPS_PROXY=socks5://127.0.0.1:1080 (a local SOCKS proxy whose rules forbid the host).")
		lo := synth.Loopback("127.0.0.1")
		k := c.Dial(lo, synth.Loopback("127.0.0.1"), 1080, ms(0.03))
		t := k.Handshake(at(0))
		client := synth.SOCKS5Client(proxyHost, 443, noServer)
		server := synth.SOCKS5Server(2, noServer)
		tm := synth.DefaultTiming
		tm.FirstThink, tm.ServerThink = ms(0.05), ms(0.4)
		end, conv := k.Run(t.Add(ms(0.05)), client, server, tm)
		if err := ended(conv, "refused", ""); err != nil {
			return err
		}
		k.Close(end.Add(ms(0.05)))
		return nil
	},
}
