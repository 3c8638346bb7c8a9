package analyze

import (
	"fmt"
	"strings"

	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// hosts builds the per-host verdicts: for every host name seen, its role
// and one line across the three layers — DNS, TLS and interception.
func hosts(ctx *Context, findings []Finding) []Host {
	out := []Host{}
	for _, name := range ctx.hostNames() {
		h := Host{Name: name, Role: ctx.roleOf(name), Layers: &Layers{}}
		for _, a := range ctx.addrsOf(name) {
			h.Addrs = append(h.Addrs, a.String())
		}
		h.Layers.DNS = ctx.dnsVerdict(name, findings)
		h.Layers.TLS = ctx.tlsVerdict(name, findings)
		h.Layers.Interception = interceptionVerdict(name, findings)
		parts := []string{h.Layers.DNS, h.Layers.TLS}
		if h.Layers.Interception != "" {
			parts = append(parts, h.Layers.Interception)
		}
		h.Verdict = strings.Join(parts, " · ")
		out = append(out, h)
	}
	return out
}

// worst returns the most severe warning or error for host that keep
// accepts.
func worst(findings []Finding, host string, keep func(*Finding) bool) *Finding {
	var w *Finding
	for i := range findings {
		f := &findings[i]
		if f.Host != host || f.Severity == Info || !keep(f) {
			continue
		}
		if w == nil || f.Severity > w.Severity {
			w = f
		}
	}
	return w
}

// dnsVerdict summarises name resolution for a host.
func (ctx *Context) dnsVerdict(host string, findings []Finding) string {
	if f := worst(findings, host, func(f *Finding) bool { return f.Layer == "dns" }); f != nil {
		return "DNS ✗ " + f.Summary
	}
	var answered, asked *decode.DNSExchange
	for _, x := range ctx.Events.DNS {
		if !strings.EqualFold(x.Name, host) || (x.Type != "A" && x.Type != "AAAA") {
			continue
		}
		if asked == nil {
			asked = x
		}
		for _, r := range x.Responses {
			for _, a := range r.Answers {
				if a.Type == "A" || a.Type == "AAAA" {
					if answered == nil {
						answered = x
					}
				}
			}
		}
	}
	switch {
	case answered != nil:
		var addrs []string
		var typ string
		for _, a := range answered.Responses[0].Answers {
			if a.Type == "A" || a.Type == "AAAA" {
				typ = a.Type
				addrs = append(addrs, a.Data)
			}
		}
		list := ""
		if len(addrs) > 0 {
			list = addrs[0]
			if len(addrs) > 1 {
				list += fmt.Sprintf(" (+%d)", len(addrs)-1)
			}
		}
		return fmt.Sprintf("DNS ok: %s %s from %s", typ, list, answered.Server.Addr())
	case asked != nil:
		return "DNS: no address in the answers seen"
	}
	for _, t := range ctx.Events.Proxy {
		if strings.EqualFold(hostOnly(t.Target), host) {
			return fmt.Sprintf("DNS: resolved by the proxy %s (%s)", t.Proxy, t.Kind)
		}
	}
	return "DNS: not looked up in this capture"
}

// sessionsFor returns the TLS sessions for a host: by SNI, else by the
// tunnel target.
func (ctx *Context) sessionsFor(host string) []*decode.TLSSession {
	var out []*decode.TLSSession
	for _, s := range ctx.Events.TLS {
		if sessionHost(ctx, s) == host {
			out = append(out, s)
		}
	}
	return out
}

// sessionHost names the host a TLS session was for: its SNI, else the
// tunnel target, else the name the server address resolved from.
func sessionHost(ctx *Context, s *decode.TLSSession) string {
	if s.ClientHello != nil && s.ClientHello.ServerName != "" {
		return strings.ToLower(s.ClientHello.ServerName)
	}
	if s.Tunnel != nil && s.Tunnel.Target != "" {
		return strings.ToLower(hostOnly(s.Tunnel.Target))
	}
	return ctx.hostFor(s.Server.Addr())
}

// tlsVerdict summarises the TLS sessions of a host.
func (ctx *Context) tlsVerdict(host string, findings []Finding) string {
	// The TLS line names a failure of its own; a symptom of interception
	// (the client's alert after a foreign certificate) is left to the
	// interception line.
	icpt := worst(findings, host, isInterception)
	if f := worst(findings, host, func(f *Finding) bool {
		return f.Layer != "dns" && f.Layer != "input" && !isInterception(f) && !(icpt != nil && explainedBy(f, icpt))
	}); f != nil {
		return strings.ToUpper(f.Layer) + " ✗ " + f.Summary
	}
	ss := ctx.sessionsFor(host)
	if len(ss) == 0 {
		return "no TLS seen"
	}
	// Summarise the first session that got a ServerHello.
	s := ss[0]
	for _, x := range ss {
		if x.ServerHello != nil {
			s = x
			break
		}
	}
	if s.ServerHello == nil {
		return fmt.Sprintf("TLS: no ServerHello (%d sessions)", len(ss))
	}
	v := s.ServerHello.Version()
	parts := []string{tlswire.VersionName(v)}
	alpn := s.ServerALPN()
	switch {
	case alpn != "":
		parts = append(parts, alpn)
	case s.TLS13() && s.EncryptedExtensions == nil:
		// The server's ALPN is encrypted in TLS 1.3.
	default:
		parts = append(parts, "no ALPN")
	}
	verdict := strings.Join(parts, ", ")
	switch {
	case s.Certificates != nil && len(s.Certificates.Certificates) > 0:
		if leaf := s.Certificates.Leaf(); leaf.Cert != nil {
			verdict += " · certificate from " + issuerShort(leaf)
		}
	case v == 0x0304:
		verdict += " · certificate hidden: no keys"
	}
	return verdict
}

// issuerShort names a certificate's issuer briefly: its organisation, else
// its common name.
func issuerShort(c *tlswire.Certificate) string {
	x := c.Cert
	if len(x.Issuer.Organization) > 0 {
		return x.Issuer.Organization[0]
	}
	if x.Issuer.CommonName != "" {
		return x.Issuer.CommonName
	}
	return c.Issuer
}

// isInterception reports whether a finding's check speaks of
// interception.
func isInterception(f *Finding) bool {
	c := CheckByID(f.ID)
	return c != nil && c.Interception
}

// explainedBy reports whether f is a symptom that the interception
// finding icpt explains: a symptom at the interception's layer (the
// client's alert after a foreign certificate).
func explainedBy(f, icpt *Finding) bool {
	c := CheckByID(f.ID)
	return c != nil && c.Role == RoleSymptom && f.Layer == icpt.Layer
}

// interceptionVerdict says whether someone stands between the client and
// the host.
func interceptionVerdict(host string, findings []Finding) string {
	if w := worst(findings, host, isInterception); w != nil {
		return "interception ✗ " + w.Summary
	}
	return ""
}
