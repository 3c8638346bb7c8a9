package analyze

import (
	"net/netip"

	"github.com/miekg/dns"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// State is what one layer of a host's verdict concluded.
type State int

const (
	// Unknown: nothing was judged (no traffic, or nothing conclusive).
	Unknown State = iota
	// OK: the layer worked (an address came back, a TLS server answered).
	OK
	// Failed: a warning or error finding names this layer's failure.
	Failed
)

// LayerVerdict is one layer of a host's verdict: its state and the finding
// that failed it; Evidence gives the packets it rests on. Renderers word
// it (render_verdict.go); nothing here is text.
type LayerVerdict struct {
	State State
	// Finding is the most severe warning or error that failed the layer.
	Finding *Finding
}

// Evidence locates the packets behind a failed layer: its finding's
// evidence. It is derived, not stored: a dense capture has tens of
// thousands of hosts.
func (v LayerVerdict) Evidence() []capture.Ref {
	if v.Finding == nil {
		return nil
	}
	f := v.Finding.withText()
	if len(f.Evidence) == 0 {
		return nil
	}
	refs := make([]capture.Ref, len(f.Evidence))
	for i, e := range f.Evidence {
		refs[i] = e.At
	}
	return refs
}

// DNSVerdict is the name-resolution layer of a host's verdict.
type DNSVerdict struct {
	LayerVerdict
	// Answered is the first transaction for the host answered with
	// addresses; its first response is the one summarised.
	Answered *decode.DNSExchange
	// Asked is set when the host was asked for (A/AAAA) but never
	// answered with an address.
	Asked bool
	// Proxy is the first tunnel to the host: the proxy resolved it.
	Proxy *decode.Tunnel
}

// Evidence locates the packets behind the verdict: the failing finding's
// evidence, the answer summarised, or the request of the tunnel.
func (v DNSVerdict) Evidence() []capture.Ref {
	switch {
	case v.State == Failed:
		return v.LayerVerdict.Evidence()
	case v.Answered != nil:
		return []capture.Ref{v.Answered.Responses[0].At}
	case !v.Asked && v.Proxy != nil:
		return []capture.Ref{v.Proxy.Request}
	}
	return nil
}

// TLSVerdict is the TLS layer (or the TCP, proxy or HTTP layer when one of
// them failed) of a host's verdict.
type TLSVerdict struct {
	LayerVerdict
	// Sessions counts the host's TLS sessions; Session is the one
	// summarised, the first that got a ServerHello.
	Sessions int
	Session  *decode.TLSSession
	// Issuer names the leaf certificate's issuer briefly, when seen.
	Issuer string
}

// Evidence locates the packets behind the verdict: the failing finding's
// evidence, or the ServerHello of the session summarised.
func (v TLSVerdict) Evidence() []capture.Ref {
	switch {
	case v.State == Failed:
		return v.LayerVerdict.Evidence()
	case v.Session != nil:
		return []capture.Ref{v.Session.ServerHelloAt}
	}
	return nil
}

// Host is one host name seen, its role for the go command and its verdict
// across the layers: DNS, TLS and interception. Its JSON form (DESIGN §3)
// words the verdict (render_verdict.go).
type Host struct {
	Name  string
	Role  string
	Addrs []netip.Addr
	DNS   DNSVerdict
	TLS   TLSVerdict
	// Interception is Failed, with its finding, when someone stands between
	// the client and the host; Unknown otherwise.
	Interception LayerVerdict
}

// hostFindings indexes the warnings and errors by host, once: each host's
// findings are a chain through next, in report order, from first (one
// map entry and one slot per finding, where a list per host took an
// allocation per host).
type hostFindings struct {
	findings []Finding
	first    map[string]int32 // index+1 of the host's first finding
	next     []int32          // index+1 of the host's next finding, 0 at the end
}

func indexFindings(findings []Finding) hostFindings {
	hf := hostFindings{findings: findings, first: make(map[string]int32), next: make([]int32, len(findings))}
	for i := len(findings) - 1; i >= 0; i-- {
		if f := &findings[i]; f.Severity != Info {
			hf.next[i] = hf.first[f.Host]
			hf.first[f.Host] = int32(i + 1)
		}
	}
	return hf
}

// worst returns the most severe warning or error for host that keep
// accepts (the first of equal severity, in report order).
func (hf hostFindings) worst(host string, keep func(*Finding) bool) *Finding {
	var w *Finding
	for i := hf.first[host]; i != 0; i = hf.next[i-1] {
		if f := &hf.findings[i-1]; keep(f) && (w == nil || f.Severity > w.Severity) {
			w = f
		}
	}
	return w
}

// hosts builds the per-host verdicts: for every host name seen, its role
// and its verdict across DNS, TLS and interception.
func hosts(ctx *Context, findings []Finding) []Host {
	hf := indexFindings(findings)
	names := ctx.hostNames()
	out := make([]Host, 0, len(names))
	for _, name := range names {
		h := Host{Name: name, Role: ctx.roleOf(name), Addrs: ctx.addrsOf(name)}
		h.DNS = ctx.dnsVerdict(name, hf)
		h.TLS = ctx.tlsVerdict(name, hf)
		if w := hf.worst(name, isInterception); w != nil {
			h.Interception = failed(w)
		}
		out = append(out, h)
	}
	return out
}

// failed is the verdict of a layer that f failed.
func failed(f *Finding) LayerVerdict {
	return LayerVerdict{State: Failed, Finding: f}
}

// dnsVerdict judges name resolution for a host.
func (ctx *Context) dnsVerdict(host string, hf hostFindings) DNSVerdict {
	if f := hf.worst(host, func(f *Finding) bool { return f.Layer == "dns" }); f != nil {
		return DNSVerdict{LayerVerdict: failed(f)}
	}
	var v DNSVerdict
	for _, x := range ctx.dnsFor(host) {
		if x.QType != dns.TypeA && x.QType != dns.TypeAAAA {
			continue
		}
		v.Asked = true
		if v.Answered == nil && hasAddress(x) {
			v.Answered = x
			v.State = OK
		}
	}
	if v.Answered != nil || v.Asked {
		return v
	}
	if ts := ctx.tunnelsFor(host); len(ts) > 0 {
		v.Proxy = ts[0]
	}
	return v
}

// hasAddress reports whether some response to x carries an A or AAAA
// record.
func hasAddress(x *decode.DNSExchange) bool {
	for _, r := range x.Responses {
		for _, a := range r.Answers {
			if a.Type == dns.TypeA || a.Type == dns.TypeAAAA {
				return true
			}
		}
	}
	return false
}

// tlsVerdict judges the TLS sessions of a host.
func (ctx *Context) tlsVerdict(host string, hf hostFindings) TLSVerdict {
	// The TLS line names a failure of its own; a symptom of interception
	// (the client's alert after a foreign certificate) is left to the
	// interception line.
	icpt := hf.worst(host, isInterception)
	if f := hf.worst(host, func(f *Finding) bool {
		return f.Layer != "dns" && f.Layer != "input" && !isInterception(f) && !(icpt != nil && explainedBy(f, icpt))
	}); f != nil {
		return TLSVerdict{LayerVerdict: failed(f)}
	}
	ss := ctx.sessionsFor(host)
	v := TLSVerdict{Sessions: len(ss)}
	for _, s := range ss {
		if s.ServerHello != nil {
			v.Session = s
			break
		}
	}
	s := v.Session
	if s == nil {
		return v
	}
	if ver := s.ServerHello.Version(); ver >= tlswire.VersionTLS10 && ver <= tlswire.VersionTLS13 || ver>>8 == 0x7f {
		v.State = OK
	}
	if s.Certificates != nil && len(s.Certificates.Certificates) > 0 {
		if leaf := s.Certificates.Leaf(); leaf.Info != nil {
			v.Issuer = issuerShort(leaf)
		}
	}
	return v
}

// issuerShort names a certificate's issuer briefly: its organisation, else
// its common name.
func issuerShort(c *tlswire.Certificate) string {
	x := c.Info
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
