package analyze

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/modsniff/modsniff/decode"
)

var checkProxyConnectFailed = &Check{ID: "proxy-connect-failed", Layer: "proxy", Severity: Error,
	Title: "the proxy refused the tunnel",
	Doc: "An HTTP CONNECT was answered with a non-2xx status (407, 403, 502 …), a SOCKS proxy replied with a " +
		"failure, the proxy closed the connection without any response (or during the SOCKS5 negotiation), " +
		"or the connection to the configured proxy was refused or never answered. Status lines and " +
		"authentication realms are quoted; credentials never are.",
	Role: RoleCause,
	GoErrors: []string{
		"socks connect tcp 127.0.0.1:1080->proxy.golang.org:443: EOF",
		"unexpected EOF",
		"proxyconnect tcp: dial tcp 127.0.0.1:7890: connect: connection refused",
		"dial tcp 127.0.0.1:7890: connect: connection refused",
		"Proxy Authentication Required",
		"tls: first record does not look like a TLS handshake",
		"reading https://goproxy.corp.example/m/@v/list: 502 Bad Gateway",
		"http: server gave HTTP response to HTTPS client",
	},
	run: runProxyConnectFailed}

func runProxyConnectFailed(ctx *Context) []Finding {
	var out []Finding
	for _, t := range ctx.Events.Proxy {
		if t.Response.IsZero() {
			if f, ok := proxyClosedSilently(ctx, t); ok {
				out = append(out, f)
			}
			continue
		}
		failed := false
		switch t.Kind {
		case "http-connect":
			failed = t.Status < 200 || t.Status > 299
		case "socks5":
			failed = t.Status != 0 || t.Method == 0xff
		case "socks4":
			failed = t.Status != 0x5a
		}
		if !failed {
			continue
		}
		host := strings.ToLower(hostOnly(t.Target))
		ev := []Evidence{
			evidence(t.Request, "%s request for %s to %s", t.Kind, t.Target, t.Proxy),
			evidence(t.Response, "answer: %s", t.StatusLine),
		}
		observed := fmt.Sprintf("%s answered %q", t.Proxy, t.StatusLine)
		if t.AuthRealm != "" || t.AuthScheme != "" {
			observed += fmt.Sprintf(" asking for %s authentication (realm %q)", t.AuthScheme, t.AuthRealm)
		}
		if t.ProxyAuthorization {
			observed += "; the request carried credentials (not shown)"
		}
		f := Finding{
			Severity: Error, Host: host,
			Summary:  fmt.Sprintf("the proxy %s refused to open a tunnel to %s: %s", t.Proxy, t.Target, t.StatusLine),
			Expected: "200 Connection established",
			Observed: observed,
			Evidence: ev,
			Hint:     strings.TrimSpace(proxyHint(t)),
		}
		if t.Kind != "http-connect" {
			f.Expected = "a SOCKS success reply"
		}
		out = append(out, f)
	}
	// Connections to a configured proxy that never got through: the first
	// of each proxy, found in one pass over the connections (an index of
	// every connection by server, for the few proxies, took 2 MB at 4 GiB).
	endpoints := ctx.proxyEndpoints()
	type failed struct {
		o  connOutcome
		ev []Evidence
	}
	first := make(map[netip.AddrPort]failed)
	for _, c := range ctx.Events.TCP {
		if _, ok := endpoints[c.Server]; !ok {
			continue
		}
		if _, ok := first[c.Server]; ok {
			continue
		}
		if o, ev := ctx.outcome(c); o == connRefused || o == connTimeout {
			first[c.Server] = failed{o, ev}
		}
	}
	for _, ap := range sortedAddrPorts(first) {
		o, ev := first[ap].o, first[ap].ev
		verb := "refused"
		if o == connTimeout {
			verb = "did not answer"
		}
		out = append(out, Finding{
			Severity: Error, Host: ap.String(),
			Summary:  fmt.Sprintf("the proxy %s %s the connection", ap, verb),
			Expected: fmt.Sprintf("a TCP connection to the proxy %s", ap),
			Observed: fmt.Sprintf("the connection to the proxy %s", verb),
			Evidence: ev,
			Hint: "The go command was told to use this proxy (HTTPS_PROXY/HTTP_PROXY/ALL_PROXY) but it is not " +
				"running or not reachable. Start it, fix the address, or unset the variable; hosts that must not " +
				"go through it belong in NO_PROXY.",
		})
	}
	return out
}

// sortedAddrPorts returns a map's keys in address order.
func sortedAddrPorts[V any](m map[netip.AddrPort]V) []netip.AddrPort {
	keys := make([]netip.AddrPort, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, netip.AddrPort.Compare)
	return keys
}

// proxyHint says what to do about a refused tunnel.
func proxyHint(t *decode.Tunnel) string {
	switch {
	case t.Kind == "http-connect" && t.Status == 407:
		h := "The proxy wants credentials. Put them in the proxy URL: HTTPS_PROXY=http://USER:PASSWORD@" + t.Proxy.String() +
			" (percent-encode special characters). "
		if t.ProxyAuthorization {
			h = "The proxy rejected the credentials that were sent: check the user name and password in HTTPS_PROXY " +
				"(percent-encode special characters). "
		}
		if strings.EqualFold(t.AuthScheme, "Negotiate") || strings.EqualFold(t.AuthScheme, "NTLM") {
			h += "It asks for " + t.AuthScheme + ", which the go command cannot do: run a local helper proxy " +
				"(cntlm, px) and point HTTPS_PROXY at it."
		}
		return h
	case t.Kind == "http-connect" && t.Status == 403:
		return "The proxy's policy forbids " + t.Target + ". Ask for proxy.golang.org and sum.golang.org " +
			"(and your VCS hosts) to be allowed, or use the company's module mirror in GOPROXY."
	case t.Kind == "http-connect" && t.Status >= 500:
		return "The proxy could not reach " + t.Target + " itself (its DNS or its upstream failed). Retry later, " +
			"or ask the proxy's owners; meanwhile a GOPROXY mirror reachable through the proxy may help."
	case t.Kind == "socks5" && t.Method == 0xff:
		return "The SOCKS5 proxy accepts none of the authentication methods offered: give credentials in the URL " +
			"(ALL_PROXY=socks5://USER:PASSWORD@" + t.Proxy.String() + ")."
	case t.Kind != "http-connect":
		return "The SOCKS proxy would not connect to " + t.Target + ": its rules forbid it or it cannot reach it. " +
			"Check the proxy client's rules, or use another GOPROXY."
	}
	return "The proxy refused the tunnel: check HTTPS_PROXY and NO_PROXY, and ask the proxy's owners what it expects."
}
