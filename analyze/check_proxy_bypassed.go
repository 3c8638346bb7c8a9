package analyze

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/modsniff/modsniff/decode"
)

// checkProxyBypassed reports module hosts dialed directly, and failing, while
// a proxy is known: recorded HTTPS_PROXY/HTTP_PROXY, or other connections in
// the capture going through an HTTP CONNECT (RFC 9110 §9.3.6) or SOCKS
// (RFC 1928) proxy.
var checkProxyBypassed = &Check{ID: "proxy-bypassed", Layer: "proxy", Severity: Error,
	SeverityNote: "warning when the proxy is known only from the recorded settings, not seen working in the capture",
	Title:        "a proxy is known, but module hosts were dialed directly and failed",
	Doc: "The capture shows a proxy (tunnels through it, or HTTPS_PROXY/HTTP_PROXY in the recorded metadata), " +
		"yet the go command connected straight to a module host, and those direct connections failed (unanswered, " +
		"refused, reset or never answered the ClientHello). The proxy variables did not reach the command (docker " +
		"build without --build-arg, sudo without -E, a systemd service) or NO_PROXY matched the host.",
	Role: RoleCause,
	run:  runProxyBypassed}

// directFailed reports whether a direct connection attempt failed, with the
// packets that show it.
func (ctx *Context) directFailed(c *decode.TCPConn) (bool, []Evidence) {
	if o, ev := ctx.outcome(c); o == connTimeout || o == connRefused {
		return true, ev
	}
	if c.SYNACK.IsZero() || c.TLS == nil || c.TLS.ClientHello == nil || c.TLS.ServerHello != nil {
		return false, nil
	}
	for _, r := range c.Resets() {
		if !r.FromClient {
			return true, []Evidence{evidence(c.TLS.ClientHelloAt, "ClientHello for %q", c.TLS.ClientHello.ServerName),
				evidence(r.At, "RST from %s before any ServerHello", c.Server)}
		}
	}
	return false, nil
}

func runProxyBypassed(ctx *Context) []Finding {
	proxies := ctx.proxyEndpoints()
	var working *decode.Tunnel
	for _, t := range ctx.Events.Proxy {
		if t.Established {
			working = t
			break
		}
	}
	m := ctx.Meta()
	configured := ""
	noProxy := ""
	if m != nil {
		for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
			if v := m.Env[k]; v != "" && configured == "" {
				configured = k + "=" + v
			}
		}
		noProxy = m.Env["NO_PROXY"] + "," + m.Env["no_proxy"]
	}
	if working == nil && configured == "" {
		return nil
	}
	type hostState struct {
		ev     []Evidence
		failed int
		ok     bool
		server netip.AddrPort
	}
	hosts := make(map[string]*hostState)
	var order []string
	for _, c := range ctx.Events.TCP {
		if c.RoleGuessed || len(c.SYN()) == 0 || c.Server.Port() == 53 || c.Tunnel() != nil {
			continue
		}
		if _, isProxy := proxies[c.Server]; isProxy {
			continue
		}
		host := ctx.connHost(c)
		if !ctx.isModuleHost(host) {
			continue
		}
		s := hosts[host]
		if s == nil {
			s = &hostState{server: c.Server}
			hosts[host] = s
			order = append(order, host)
		}
		if failed, ev := ctx.directFailed(c); failed {
			s.failed++
			s.ev = append(s.ev, ev...)
		} else if !c.SYNACK.IsZero() {
			s.ok = true
		}
	}
	var out []Finding
	for _, host := range order {
		s := hosts[host]
		if s.ok || s.failed == 0 {
			continue
		}
		f := Finding{
			Severity: Error, Host: host,
			Expected: "the connection to " + host + " going through the proxy",
			Evidence: capEvidence(s.ev, 10),
		}
		var known []string
		if working != nil {
			known = append(known, fmt.Sprintf("%s tunnelled %s through %s", working.Client.Addr(), working.Target, working.Proxy))
			f.Evidence = append(f.Evidence, evidence(working.Request, "%s request for %s through %s: the proxy works", working.Kind, working.Target, working.Proxy))
		} else {
			f.Severity = Warning
		}
		if configured != "" {
			known = append(known, "the recorded environment has "+redactProxy(configured))
		}
		f.Summary = fmt.Sprintf("%s was dialed directly (%s) and failed, although a proxy is known", host, s.server)
		f.Observed = fmt.Sprintf("%s to %s failed; %s", plural(s.failed, "direct connection"), s.server, strings.Join(known, "; "))
		if e, ok := noProxyMatch(noProxy, host); ok {
			f.Observed += fmt.Sprintf("; NO_PROXY entry %q matches %s", e, host)
			f.Hint = fmt.Sprintf("NO_PROXY contains %q, which matches %s, so the go command connects directly. Remove it "+
				"from NO_PROXY (keep only internal hosts there).", e, host)
		} else {
			f.Hint = "The go command did not get the proxy settings. Pass them where the environment is lost: " +
				"`docker build --build-arg HTTPS_PROXY=$HTTPS_PROXY --build-arg HTTP_PROXY=… --build-arg NO_PROXY=…` " +
				"(BuildKit does not pass the host's variables; or set \"proxies\" in ~/.docker/config.json), " +
				"`sudo -E` or an env_keep line in sudoers, `Environment=HTTPS_PROXY=…` in the systemd unit, the CI " +
				"runner's variables. Also check that NO_PROXY does not name " + host + "."
		}
		out = append(out, f)
	}
	return out
}

// redactProxy hides credentials in a VAR=URL setting.
func redactProxy(s string) string {
	k, v, _ := strings.Cut(s, "=")
	if i := strings.Index(v, "@"); i >= 0 {
		if j := strings.Index(v, "://"); j >= 0 && j < i {
			v = v[:j+3] + "…@" + v[i+1:]
		} else {
			v = "…@" + v[i+1:]
		}
	}
	return k + "=" + v
}

// noProxyMatch reports the NO_PROXY entry that exempts host, following
// golang.org/x/net/http/httpproxy: "*" matches everything, "example.com"
// the name and its subdomains, ".example.com" and "*.example.com" only
// subdomains. Entries with ports or CIDRs are left out.
func noProxyMatch(list, host string) (string, bool) {
	host = strings.ToLower(host)
	for _, e := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' }) {
		e = strings.ToLower(strings.TrimSpace(e))
		switch {
		case e == "":
		case e == "*":
			return e, true
		case strings.HasPrefix(e, "*."):
			if strings.HasSuffix(host, e[1:]) {
				return e, true
			}
		case strings.HasPrefix(e, "."):
			if strings.HasSuffix(host, e) {
				return e, true
			}
		case host == e || strings.HasSuffix(host, "."+e):
			return e, true
		}
	}
	return "", false
}
