package analyze

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/modsniff/modsniff/capture"
)

// Meta returns the capture metadata modsniff recorded with the first input
// that has it, or nil for captures made by other tools.
func (ctx *Context) Meta() *capture.Metadata {
	for _, in := range ctx.Inputs {
		if m, ok := capture.ParseMetadata(in.Sections); ok {
			return m
		}
	}
	return nil
}

// metaResolverTimeout reads "options timeout:n" from the recorded
// resolv.conf (resolv.conf(5)).
func (ctx *Context) metaResolverTimeout() time.Duration {
	m := ctx.Meta()
	if m == nil {
		return 0
	}
	for _, line := range strings.Split(m.ResolvConf, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "options" {
			continue
		}
		for _, o := range f[1:] {
			if v, ok := strings.CutPrefix(o, "timeout:"); ok {
				if n, err := strconv.Atoi(v); err == nil && n > 0 {
					return time.Duration(min(n, 30)) * time.Second
				}
			}
		}
	}
	return 0
}

// metaRoles reads host roles from the recorded GOPROXY and GOSUMDB.
func (ctx *Context) metaRoles() map[string]string {
	m := ctx.Meta()
	if m == nil {
		return nil
	}
	roles := make(map[string]string)
	for _, entry := range strings.FieldsFunc(m.GoEnv["GOPROXY"], func(r rune) bool { return r == ',' || r == '|' }) {
		if u, err := url.Parse(strings.TrimSpace(entry)); err == nil && u.Hostname() != "" {
			roles[strings.ToLower(u.Hostname())] = RoleGoproxy
		}
	}
	// GOSUMDB is "name", "name+key" or "name+key url" (cmd/go help module-auth).
	if f := strings.Fields(m.GoEnv["GOSUMDB"]); len(f) > 0 && f[0] != "off" {
		host := f[0]
		if len(f) > 1 {
			if u, err := url.Parse(f[len(f)-1]); err == nil && u.Hostname() != "" {
				host = u.Hostname()
			}
		}
		host, _, _ = strings.Cut(host, "+")
		roles[strings.ToLower(host)] = RoleSumdb
	}
	return roles
}

// proxyEndpoints returns the proxies the go command was told to use
// (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY from the metadata) and the proxies
// seen answering tunnel requests.
func (ctx *Context) proxyEndpoints() map[netip.AddrPort]string {
	out := make(map[netip.AddrPort]string)
	for _, t := range ctx.Events.Proxy {
		out[t.Proxy] = t.Kind
	}
	m := ctx.Meta()
	if m == nil {
		return out
	}
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"} {
		v := m.Env[k]
		if v == "" {
			continue
		}
		if !strings.Contains(v, "://") {
			v = "http://" + v
		}
		u, err := url.Parse(v)
		if err != nil {
			continue
		}
		port := u.Port()
		if port == "" {
			port = map[string]string{"https": "443", "socks5": "1080", "socks5h": "1080"}[u.Scheme]
			if port == "" {
				port = "80"
			}
		}
		p, _ := strconv.Atoi(port)
		for _, a := range ctx.lookupHost(u.Hostname()) {
			out[netip.AddrPortFrom(a, uint16(p))] = "proxy " + k
		}
	}
	return out
}

// lookupHost turns a host from the metadata into addresses: a literal, or
// the answers seen in the capture (never a live lookup).
func (ctx *Context) lookupHost(h string) []netip.Addr {
	if a, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return []netip.Addr{a.Unmap()}
	}
	if h == "localhost" {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
	}
	return ctx.addrsOf(h)
}
