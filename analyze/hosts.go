package analyze

import (
	"cmp"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Roles a host plays for the go command.
const (
	RoleGoproxy = "goproxy"
	RoleSumdb   = "sumdb"
	RoleVCS     = "vcs"
	RoleOther   = "other"
)

// knownRoles maps well-known hosts to their role. GOPROXY and GOSUMDB from
// the capture's metadata, and any host serving /@v/ paths, add to it.
var knownRoles = map[string]string{
	"proxy.golang.org":       RoleGoproxy,
	"goproxy.cn":             RoleGoproxy,
	"goproxy.io":             RoleGoproxy,
	"proxy.golang.com.cn":    RoleGoproxy,
	"goproxy.baidu.com":      RoleGoproxy,
	"mirrors.aliyun.com":     RoleGoproxy,
	"mirrors.tencent.com":    RoleGoproxy,
	"sum.golang.org":         RoleSumdb,
	"sum.golang.google.cn":   RoleSumdb,
	"github.com":             RoleVCS,
	"codeload.github.com":    RoleVCS,
	"gitlab.com":             RoleVCS,
	"bitbucket.org":          RoleVCS,
	"go.googlesource.com":    RoleVCS,
	"golang.org":             RoleVCS,
	"go.dev":                 RoleOther,
	"gopkg.in":               RoleVCS,
	"codeberg.org":           RoleVCS,
	"gitee.com":              RoleVCS,
	"storage.googleapis.com": RoleGoproxy,
}

// roleOf returns a host's role.
func (ctx *Context) roleOf(host string) string {
	if r, ok := ctx.roles()[host]; ok {
		return r
	}
	if r, ok := knownRoles[host]; ok {
		return r
	}
	return RoleOther
}

// roles returns the roles learnt from the capture itself: hosts that
// served /@v/ or sumdb paths. It is computed once.
func (ctx *Context) roles() map[string]string {
	ctx.learntOnce.Do(ctx.learnRoles)
	return ctx.learnt
}

// learnRoles fills ctx.learnt for roles.
func (ctx *Context) learnRoles() {
	ctx.learnt = make(map[string]string)
	for _, h := range ctx.Events.HTTP {
		host := hostOnly(h.Host)
		switch {
		case strings.Contains(h.Path, "/@v/") || strings.HasSuffix(h.Path, "/@latest"):
			ctx.learnt[host] = RoleGoproxy
		case strings.HasPrefix(h.Path, "/lookup/") || strings.HasPrefix(h.Path, "/tile/") || h.Path == "/latest":
			if _, ok := ctx.learnt[host]; !ok {
				ctx.learnt[host] = RoleSumdb
			}
		}
	}
	// git's own transports: smart-HTTP discovery, and SSH to port 22 of a
	// name the capture resolved (direct mode, RFC 4253 for SSH).
	for _, h := range ctx.Events.HTTP {
		if strings.HasSuffix(h.Path, "/info/refs") || strings.HasSuffix(h.Path, "/git-upload-pack") {
			if host := hostOnly(h.Host); ctx.learnt[host] == "" {
				ctx.learnt[host] = RoleVCS
			}
		}
	}
	ssh := make(map[netip.Addr]bool) // addresses done: their names are set
	for _, c := range ctx.Events.TCP {
		if c.Server.Port() != 22 || ssh[c.Server.Addr()] {
			continue
		}
		ssh[c.Server.Addr()] = true
		for _, name := range ctx.namesFor(c.Server.Addr()) {
			if ctx.learnt[name] == "" {
				ctx.learnt[name] = RoleVCS
			}
		}
	}
	for host, role := range ctx.metaRoles() {
		ctx.learnt[host] = role
	}
}

// hostOnly strips a port from host:port.
func hostOnly(hp string) string {
	if h, _, err := net.SplitHostPort(hp); err == nil {
		return h
	}
	return hp
}

// hostNames returns every host name the capture mentions: DNS questions
// (and CNAME targets), SNI, tunnel targets and HTTP hosts, sorted.
func (ctx *Context) hostNames() []string {
	seen := make(map[string]bool)
	// other holds the names as written that are not host names as
	// seen holds them (upper case, a final dot, an address), so that a
	// name every session repeats is lower-cased and parsed once; the
	// usual name, written as seen holds it, is found in seen itself.
	other := make(map[string]bool)
	add := func(n string) {
		if seen[n] || other[n] {
			return
		}
		m := strings.ToLower(strings.TrimSuffix(n, "."))
		isAddr := isIPAddress(m)
		if m != n || m == "" || isAddr {
			other[n] = true
		}
		if m == "" || isAddr {
			return
		}
		seen[m] = true
	}
	for _, x := range ctx.Events.DNS {
		if x.QType == dns.TypeA || x.QType == dns.TypeAAAA || x.QType == dns.TypeHTTPS {
			add(x.Name)
		}
	}
	for _, s := range ctx.Events.TLS {
		if s.ClientHello != nil {
			add(s.ClientHello.ServerName)
		}
	}
	for _, t := range ctx.Events.Proxy {
		add(hostOnly(t.Target))
	}
	for _, h := range ctx.Events.HTTP {
		add(hostOnly(h.Host))
	}
	// Each name's role is looked up once, not per comparison.
	type ranked struct {
		rank int
		name string
	}
	rs := make([]ranked, 0, len(seen))
	for n := range seen {
		rs = append(rs, ranked{roleRank(ctx.roleOf(n)), n})
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		if c := cmp.Compare(a.rank, b.rank); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.name
	}
	return names
}

func roleRank(r string) int {
	return slices.Index([]string{RoleGoproxy, RoleSumdb, RoleVCS, RoleOther}, r)
}

// isIPAddress reports whether s is an IP address as net.ParseIP reads one.
// Only a string of digits and dots or one with a colon can be: the others,
// every host name, are answered without parsing, since a failed parse
// allocates its error.
func isIPAddress(s string) bool {
	if !strings.Contains(s, ":") && strings.Trim(s, "0123456789.") != "" {
		return false
	}
	return net.ParseIP(s) != nil
}
