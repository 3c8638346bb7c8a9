package analyze

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

func init() {
	register(&Check{ID: "tcp-connect-timeout", Layer: "tcp", Severity: Error,
		SeverityNote: "warning when another address of the same host connected (e.g. broken IPv6 beside working IPv4)",
		Title:        "a SYN to the resolved address was never answered",
		Doc: "The client's SYN (and its retransmissions) got no SYN-ACK, no reset and no ICMP error — or a router " +
			"said the host is unreachable. The host is named from the DNS answers in the capture.",
		run: checkTCPConnectTimeout})
	register(&Check{ID: "tcp-connect-refused", Layer: "tcp", Severity: Error,
		SeverityNote: "warning when another address of the same host connected",
		Title:        "a SYN was answered with a reset",
		Doc:          "Nothing listens at that address and port, or a firewall rejects the connection (RST or ICMP port/admin unreachable).",
		run:          checkTCPConnectRefused})
	register(&Check{ID: "tcp-reset-after-hello", Layer: "tcp", Severity: Error,
		Title: "the connection was reset right after the ClientHello",
		Doc: "A reset arrived from the server's side after the ClientHello and before any ServerHello: the mark of " +
			"SNI-based filtering. An IP TTL or IP ID unlike the server's SYN-ACK shows the reset was injected. " +
			"Resets the client sends (the go command closes the losers of its parallel dials) are never reported.",
		run: checkTCPResetAfterHello})
	register(&Check{ID: "tls-large-hello-dropped", Layer: "tcp", Severity: Error,
		Title: "a multi-segment ClientHello was followed by silence",
		Doc: "The ClientHello spanned several TCP segments — Go's default post-quantum key share (X25519MLKEM768) " +
			"makes it about 1.5 KB — and the server never answered while the client retransmitted: a middlebox " +
			"drops large or fragmented hellos.",
		run: checkLargeHelloDropped})
	register(&Check{ID: "proxy-connect-failed", Layer: "proxy", Severity: Error,
		Title: "the proxy refused the tunnel",
		Doc: "An HTTP CONNECT was answered with a non-2xx status (407, 403, 502 …), a SOCKS proxy replied with a " +
			"failure, the proxy closed the connection without any response (or during the SOCKS5 negotiation), " +
			"or the connection to the configured proxy was refused or never answered. Status lines and " +
			"authentication realms are quoted; credentials never are.",
		run: checkProxyConnectFailed})
	register(&Check{ID: "http-error-status", Layer: "http", Severity: Error,
		Title: "the module proxy or checksum database answered 4xx/5xx",
		Doc: "A GOPROXY or sumdb request got an error status. 404 and 410 mean \"not here\": the go command tries " +
			"the next GOPROXY entry only when entries are separated by `,`; with `|` it falls back on any error. " +
			"Plain HTTP is read directly; HTTPS needs key logs.",
		run: checkHTTPErrorStatus})
}

// connOutcome classifies how a connection attempt ended.
type connOutcome int

const (
	connOK connOutcome = iota
	connRefused
	connTimeout
	connUnknown // the capture ended too soon to tell
)

// outcome tells whether a connection attempt succeeded, was refused, or
// timed out, with the packet that says so.
func (ctx *Context) outcome(c *decode.TCPConn) (connOutcome, []Evidence) {
	if len(c.SYN) == 0 || !c.SYNACK.IsZero() {
		return connOK, nil
	}
	var ev []Evidence
	for i, s := range c.SYN {
		if i == 0 {
			ev = append(ev, evidence(s, "SYN from %s to %s (IP TTL %d)", c.Client, c.Server, c.SYNIP.TTL))
		} else {
			ev = append(ev, evidence(s, "SYN retransmitted, %s after the first", duration(s.Time.Sub(c.SYN[0].Time))))
		}
	}
	for _, r := range c.Resets {
		if !r.FromClient {
			ev = append(ev, evidence(r.At, "RST from %s (IP TTL %d)", c.Server, r.IP.TTL))
			return connRefused, ev
		}
	}
	for _, e := range c.ICMP {
		ev = append(ev, evidence(e.At, "ICMP %s from %s", e.Kind, e.From))
		switch e.Kind {
		case "port-unreachable", "admin-prohibited", "policy-rejected", "protocol-unreachable":
			return connRefused, ev
		case "host-unreachable", "net-unreachable", "no-route", "unreachable":
			return connTimeout, ev
		}
	}
	first := c.SYN[0]
	if len(c.SYN) > 1 || ctx.inputEnd(first.Input).Sub(first.Time) >= time.Second {
		return connTimeout, ev
	}
	return connUnknown, ev
}

// connHost names the host a connection was for.
func (ctx *Context) connHost(c *decode.TCPConn) string {
	if c.TLS != nil && c.TLS.ClientHello != nil && c.TLS.ClientHello.ServerName != "" {
		return strings.ToLower(c.TLS.ClientHello.ServerName)
	}
	return ctx.hostFor(c.Server.Addr())
}

// hostConnected reports whether some connection to host completed its
// handshake.
func (ctx *Context) hostConnected(host string, port uint16) bool {
	for _, c := range ctx.Events.TCP {
		if !c.SYNACK.IsZero() && c.Server.Port() == port && ctx.connHost(c) == host {
			return true
		}
	}
	return false
}

// failedConnects groups failed connection attempts by (host, server) and
// builds one finding per group.
func (ctx *Context) failedConnects(want connOutcome, build func(host string, server netip.AddrPort, attempts string, ev []Evidence) Finding) []Finding {
	proxies := ctx.proxyEndpoints()
	type key struct {
		host   string
		server netip.AddrPort
	}
	index := make(map[key]int)
	var keys []key
	var evs [][]Evidence
	var counts, syns []int
	for _, c := range ctx.Events.TCP {
		if c.Server.Port() == 53 || c.RoleGuessed {
			continue // DNS over TCP is dns-unreachable's; a flow without SYN shows no attempt
		}
		if _, isProxy := proxies[c.Server]; isProxy {
			continue // proxy-connect-failed reports these
		}
		o, ev := ctx.outcome(c)
		if o != want || ctx.ipv6Covered(c) {
			continue // tcp-ipv6-broken reports the IPv6 ones, once per host
		}
		k := key{ctx.connHost(c), c.Server}
		i, ok := index[k]
		if !ok {
			i = len(keys)
			index[k] = i
			keys = append(keys, k)
			evs = append(evs, nil)
			counts = append(counts, 0)
			syns = append(syns, 0)
		}
		evs[i] = append(evs[i], ev...)
		counts[i]++
		syns[i] += len(c.SYN)
	}
	var out []Finding
	for i, k := range keys {
		attempts := plural(counts[i], "connection attempt")
		if syns[i] > counts[i] {
			attempts += fmt.Sprintf(" (%d SYNs with retransmissions)", syns[i])
		}
		out = append(out, build(k.host, k.server, attempts, capEvidence(evs[i], 12)))
	}
	return out
}

func checkTCPConnectTimeout(ctx *Context) []Finding {
	return ctx.failedConnects(connTimeout, func(host string, server netip.AddrPort, attempts string, ev []Evidence) Finding {
		f := Finding{
			Severity: Error, Host: host,
			Summary:  fmt.Sprintf("connections to %s (%s) time out", server, host),
			Expected: fmt.Sprintf("a SYN-ACK from %s", server),
			Observed: attempts + ", no answer",
			Evidence: ev,
		}
		via := ""
		if names := ctx.namesFor(server.Addr()); len(names) > 0 {
			via = fmt.Sprintf(" (%s resolved to it in this capture)", names[0])
		}
		f.Hint = fmt.Sprintf("Packets to %s%s vanish: a firewall drops them, the route is broken, or the address "+
			"itself is wrong (see any DNS finding above). ", server, via)
		if server.Addr().Is6() {
			f.Hint += "This is IPv6: if the host has no working IPv6 route, fix it or disable IPv6 on the interface; " +
				"the go command falls back to IPv4 only after a delay. "
		}
		f.Hint += "If you must use a proxy to reach the internet, set HTTPS_PROXY; behind a firewall that blocks " +
			host + ", set GOPROXY to a mirror you can reach (a corporate Athens/Artifactory, or https://goproxy.io)."
		if ctx.hostConnected(host, server.Port()) {
			f.Severity = Warning
			f.Summary += " (another address of it worked)"
		}
		return f
	})
}

func checkTCPConnectRefused(ctx *Context) []Finding {
	return ctx.failedConnects(connRefused, func(host string, server netip.AddrPort, attempts string, ev []Evidence) Finding {
		f := Finding{
			Severity: Error, Host: host,
			Summary:  fmt.Sprintf("%s refused connections to port %d (%s)", server.Addr(), server.Port(), host),
			Expected: fmt.Sprintf("a SYN-ACK from %s", server),
			Observed: attempts + " answered with a reset or an ICMP rejection",
			Evidence: ev,
			Hint: fmt.Sprintf("Nothing accepts connections at %s, or a firewall rejects them. Check the address "+
				"and port in GOPROXY (and HTTPS_PROXY); if %s is a local proxy client (Clash on 7890, a corporate "+
				"agent), start it. A bogus DNS answer also leads here: see the DNS findings.", server, server.Addr()),
		}
		if server.Addr().IsLoopback() {
			f.Hint = fmt.Sprintf("Nothing listens on %s on this machine: a proxy or mirror expected there is not "+
				"running. Start it, or remove it from GOPROXY/HTTPS_PROXY.", server)
		}
		if ctx.hostConnected(host, server.Port()) {
			f.Severity = Warning
			f.Summary += " (another address of it worked)"
		}
		return f
	})
}

func checkTCPResetAfterHello(ctx *Context) []Finding {
	var out []Finding
	for _, s := range ctx.Events.TLS {
		c := s.Conn
		if s.ClientHello == nil || c == nil || s.Tunnel != nil {
			continue
		}
		var rst *decode.TCPReset
		for i := range c.Resets {
			r := &c.Resets[i]
			if r.FromClient || r.At.Packet < s.ClientHelloAt.Packet {
				continue
			}
			if s.ServerHello != nil && s.ServerHelloAt.Packet < r.At.Packet {
				continue
			}
			rst = r
			break
		}
		if rst == nil {
			continue
		}
		host := ctx.connHost(c)
		ev := []Evidence{
			evidence(s.ClientHelloAt, "ClientHello for %q", s.ClientHello.ServerName),
			evidence(rst.At, "RST from %s, %s after the ClientHello (IP TTL %d, IP ID 0x%04x)", c.Server,
				duration(rst.At.Time.Sub(s.ClientHelloAt.Time)), rst.IP.TTL, rst.IP.ID),
		}
		observed := fmt.Sprintf("a reset from %s's side %s after the ClientHello", c.Server.Addr(), duration(rst.At.Time.Sub(s.ClientHelloAt.Time)))
		if !c.SYNACK.IsZero() {
			ev = append(ev, evidence(c.SYNACK, "SYN-ACK from %s (IP TTL %d, IP ID 0x%04x)", c.Server, c.SYNACKIP.TTL, c.SYNACKIP.ID))
			if c.SYNACKIP.TTL != rst.IP.TTL {
				observed += fmt.Sprintf("; its IP TTL %d differs from the server's SYN-ACK (%d): it came from a different hop — injected", rst.IP.TTL, c.SYNACKIP.TTL)
			} else {
				observed += fmt.Sprintf("; its IP TTL matches the server's SYN-ACK (%d)", c.SYNACKIP.TTL)
			}
		}
		if s.ServerHello != nil {
			ev = append(ev, evidence(s.ServerHelloAt, "ServerHello after the reset: the real server went on"))
			observed += "; the real ServerHello arrived afterwards"
		}
		out = append(out, Finding{
			Severity: Error, Host: host,
			Summary:  fmt.Sprintf("the connection to %s was reset right after the ClientHello named %s", c.Server, s.ClientHello.ServerName),
			Expected: "a ServerHello",
			Observed: observed,
			Evidence: ev,
			Hint: "Something on the path inspects the server name in the ClientHello and tears the connection down " +
				"(a censoring or corporate firewall). Use a module proxy that is allowed on this network (GOPROXY=" +
				"https://goproxy.cn,direct in mainland China, or your company's mirror), or go through the proxy you " +
				"are meant to use (HTTPS_PROXY).",
		})
	}
	return out
}

func checkLargeHelloDropped(ctx *Context) []Finding {
	var out []Finding
	for _, s := range ctx.Events.TLS {
		if f, ok := largeHelloDropped(ctx, s); ok {
			out = append(out, f)
		}
	}
	return out
}

// largeHelloDropped reports a session whose multi-segment ClientHello met
// only silence.
func largeHelloDropped(ctx *Context, s *decode.TLSSession) (Finding, bool) {
	c := s.Conn
	if s.ClientHello == nil || s.ServerHello != nil || c == nil || s.ClientHelloPackets < 2 || len(s.Alerts) > 0 {
		return Finding{}, false
	}
	if c.Payload[1] > 0 && s.Tunnel == nil {
		return Finding{}, false // the server said something
	}
	for _, r := range c.Resets {
		if !r.FromClient {
			return Finding{}, false // a server reset is tcp-reset-after-hello's
		}
	}
	if c.Stream[0].Retransmitted == 0 && ctx.inputEnd(s.ClientHelloAt.Input).Sub(s.ClientHelloAt.Time) < 3*time.Second {
		return Finding{}, false // neither retransmissions nor a long silence: too soon to say
	}
	host := ctx.connHost(c)
	pq := ""
	for _, g := range s.ClientHello.KeyShareGroups {
		if tlswire.IsPostQuantumGroup(g) {
			pq = tlswire.GroupName(g)
		}
	}
	ev := []Evidence{evidence(s.ClientHelloFirstAt, "first segment of the ClientHello"),
		evidence(s.ClientHelloAt, "ClientHello completed, %d bytes over %d segments", s.ClientHello.Length, s.ClientHelloPackets)}
	observed := fmt.Sprintf("a %d-byte ClientHello over %d segments, then nothing from %s", s.ClientHello.Length, s.ClientHelloPackets, c.Server)
	if n := c.Stream[0].Retransmitted; n > 0 {
		observed += fmt.Sprintf("; the client retransmitted %d times", n)
	}
	if pq != "" {
		observed += "; it carries a " + pq + " key share"
	}
	return Finding{
		Severity: Error, Host: host,
		Summary:  fmt.Sprintf("%s never answered a %d-segment ClientHello", host, s.ClientHelloPackets),
		Expected: "a ServerHello",
		Observed: observed,
		Evidence: ev,
		Hint: "A middlebox on the path drops ClientHellos that do not fit in one segment (an old firewall or " +
			"DPI box, or a broken path MTU). The post-quantum key share Go sends by default makes the hello " +
			"about 1.5 KB: run the go command with `GODEBUG=tlsmlkem=0` (Go 1.24+; `tlskyber=0` on Go 1.23) " +
			"to send a small one, and report the middlebox to whoever runs the network.",
	}, true
}

func checkProxyConnectFailed(ctx *Context) []Finding {
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
	// Connections to a configured proxy that never got through.
	for _, ap := range sortedAddrPorts(ctx.proxyEndpoints()) {
		for _, c := range ctx.Events.TCP {
			if c.Server != ap {
				continue
			}
			o, ev := ctx.outcome(c)
			if o != connRefused && o != connTimeout {
				continue
			}
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
			break
		}
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

func checkHTTPErrorStatus(ctx *Context) []Finding {
	var out []Finding
	for _, h := range ctx.Events.HTTP {
		if h.Status < 400 {
			continue
		}
		host := strings.ToLower(hostOnly(h.Host))
		role := ctx.roleOf(host)
		if role == RoleOther && !strings.Contains(h.Path, "/@v/") {
			continue
		}
		f := Finding{
			Severity: Error, Host: host,
			Summary:  fmt.Sprintf("%s answered %d to %s %s", host, h.Status, h.Method, h.Path),
			Expected: "200 OK",
			Observed: fmt.Sprintf("HTTP %d for %s %s (%s)", h.Status, h.Method, h.Path, h.Proto),
			Evidence: []Evidence{evidence(h.Request, "%s %s", h.Method, h.Path)},
		}
		if !h.Response.IsZero() {
			f.Evidence = append(f.Evidence, evidence(h.Response, "status %d", h.Status))
		}
		switch {
		case (h.Status == 404 || h.Status == 410) && role == RoleGoproxy:
			f.Hint = "404/410 from a module proxy means \"not found here\". With GOPROXY entries separated by `,` " +
				"the go command then tries the next entry (e.g. GOPROXY=https://proxy.golang.org,direct); with `|` " +
				"it tries the next one after any error. A private module must not go to a public proxy at all: " +
				"list it in GOPRIVATE (or GONOPROXY) so the go command fetches it directly."
		case (h.Status == 404 || h.Status == 410) && role == RoleSumdb:
			f.Hint = "The checksum database does not know this module version (private modules never are): list " +
				"the module in GONOSUMDB or GOPRIVATE."
		case h.Status == 401 || h.Status == 403:
			f.Hint = "The server wants credentials: put them in ~/.netrc (machine " + host + " login … password …) " +
				"or GOAUTH, or list the module in GOPRIVATE if it must not go through this proxy."
		case h.Status >= 500:
			f.Hint = "The server failed: retry later. With `|` between GOPROXY entries the go command would fall " +
				"back to the next one on such errors."
		default:
			f.Hint = "Check the GOPROXY URL and the module path."
		}
		out = append(out, f)
	}
	return out
}
