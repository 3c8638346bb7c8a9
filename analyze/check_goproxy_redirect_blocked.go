package analyze

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/modsniff/modsniff/decode"
)

var checkGoproxyRedirectBlocked = &Check{ID: "goproxy-redirect-blocked", Layer: "http", Severity: Error, NeedsKeys: true,
	Title: "the module proxy works but its download host or the checksum database is blocked",
	Doc: "The GOPROXY answered (a redirect to the host that serves its downloads — storage.googleapis.com for " +
		"proxy.golang.org — or a successful response), but that download host, or the checksum database, failed in " +
		"the same capture: its DNS query unanswered or answered NXDOMAIN/SERVFAIL/REFUSED, its TCP connection " +
		"unanswered or refused, or its TLS handshake ended by an alert or a reset. The usual cause is an allow-list " +
		"that names only the proxy. One finding links both hosts' evidence. Needs the proxy's answer, so HTTPS needs " +
		"key logs.",
	Role: RoleCause,
	run:  runGoproxyRedirectBlocked}

// hostFailure says how reaching host failed in the capture — at DNS, TCP
// or TLS — with the packets that show it; "" when nothing failed.
func (ctx *Context) hostFailure(host string) (string, []Evidence) {
	if ctx.reached(host) {
		return "", nil // one way in worked: a dropped AAAA or a lost race is not a block
	}
	for _, x := range ctx.dnsFor(host) {
		if x.QType != dns.TypeA && x.QType != dns.TypeAAAA {
			continue
		}
		if len(x.Responses) == 0 && !x.Query.IsZero() && len(x.Retries()) > 0 {
			return "its DNS query was never answered", []Evidence{evidence(x.Query, "%s query for %s, unanswered", x.QuestionType(), host)}
		}
		for _, r := range x.Responses {
			switch r.RCode {
			case dns.RcodeNameError, dns.RcodeServerFailure, dns.RcodeRefused:
				rc := decode.RcodeName(r.RCode)
				return "DNS answered " + rc, []Evidence{evidence(x.Query, "%s query for %s", x.QuestionType(), host),
					evidence(r.At, "answer %s", rc)}
			}
		}
	}
	for _, c := range ctx.Events.TCP {
		name := ctx.hostFor(c.Server.Addr())
		if c.TLS != nil && sniOf(c.TLS) != "" {
			name = sniOf(c.TLS)
		}
		if !strings.EqualFold(name, host) || len(c.SYN()) == 0 {
			continue
		}
		switch {
		case c.SYNACK.IsZero() && len(c.Resets()) == 0 && len(c.SYN()) > 1:
			return fmt.Sprintf("its TCP connection to %s was never answered", c.Server), []Evidence{
				evidence(c.SYN()[0], "SYN to %s", c.Server), evidence(c.SYN()[len(c.SYN())-1], "SYN retransmitted, unanswered")}
		case c.SYNACK.IsZero() && slices.ContainsFunc(c.Resets(), func(r decode.TCPReset) bool { return !r.FromClient }):
			return fmt.Sprintf("its TCP connection to %s was refused", c.Server), []Evidence{
				evidence(c.SYN()[0], "SYN to %s", c.Server), evidence(c.Resets()[0].At, "reset")}
		}
		if s := c.TLS; s != nil && s.ServerHello == nil {
			for _, a := range s.Alerts {
				if a.Fatal() {
					return "its TLS handshake ended with a fatal " + a.Name() + " alert", []Evidence{
						evidence(s.ClientHelloAt, "ClientHello for %q", host), evidence(a.At, "%s alert %s", a.From, a.Name())}
				}
			}
			for _, r := range c.Resets() {
				if !r.FromClient {
					return "its connection was reset right after the ClientHello", []Evidence{
						evidence(s.ClientHelloAt, "ClientHello for %q", host), evidence(r.At, "reset")}
				}
			}
		}
	}
	return "", nil
}

func runGoproxyRedirectBlocked(ctx *Context) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	var proxyOK *decode.HTTPExchange // a successful answer of a module proxy
	for _, h := range ctx.Events.HTTP {
		host := httpHost(ctx, h)
		if ctx.roleOf(host) != RoleGoproxy || !ctx.isModuleExchange(h) {
			continue
		}
		if h.Status >= 200 && h.Status < 300 && proxyOK == nil {
			proxyOK = h
		}
		if h.Status < 300 || h.Status >= 400 || h.Location == "" {
			continue
		}
		target := strings.ToLower(hostOnly(h.Location))
		if target == host || seen[target] {
			continue
		}
		why, ev := ctx.hostFailure(target)
		if why == "" {
			continue
		}
		seen[target] = true
		out = append(out, Finding{Severity: Error, Host: target,
			Summary:  fmt.Sprintf("%s works, but %s, where it redirects downloads, is blocked: %s", host, target, why),
			Expected: fmt.Sprintf("the download host %s reachable like %s", target, host),
			Observed: fmt.Sprintf("%s answered %s %s with %d → %s; then %s", host, h.Method, h.Path, h.Status, target, why),
			Evidence: append([]Evidence{evidence(h.Request, "%s %s", h.Method, h.Path), evidence(h.Response, "%d redirect to %s", h.Status, target)}, ev...),
			Hint: fmt.Sprintf("The network allows %s but not %s. Add %s to the firewall or proxy allow-list (for "+
				"proxy.golang.org: storage.googleapis.com, and sum.golang.org for checksums), or use a GOPROXY that serves "+
				"downloads itself (an internal Athens or Artifactory).", host, target, target),
		})
	}
	if proxyOK == nil {
		return out
	}
	proxyHost := httpHost(ctx, proxyOK)
	for _, sum := range ctx.sumdbHosts() {
		if seen[sum] {
			continue
		}
		why, ev := ctx.hostFailure(sum)
		if why == "" {
			continue
		}
		seen[sum] = true
		out = append(out, Finding{Severity: Error, Host: sum,
			Summary:  fmt.Sprintf("%s works, but the checksum database %s is blocked: %s", proxyHost, sum, why),
			Expected: fmt.Sprintf("the checksum database %s reachable like %s", sum, proxyHost),
			Observed: fmt.Sprintf("%s answered %s %s with %d; %s: %s", proxyHost, proxyOK.Method, proxyOK.Path, proxyOK.Status, sum, why),
			Evidence: append([]Evidence{evidence(proxyOK.Request, "%s %s", proxyOK.Method, proxyOK.Path),
				evidence(proxyOK.Response, "status %d", proxyOK.Status)}, ev...),
			Hint: fmt.Sprintf("The network allows %s but not %s. Allow %s too (the go command verifies every "+
				"new module against it), or, if your proxy verifies checksums itself, set GOSUMDB to the sumdb it proxies "+
				"(`go env -w GOSUMDB=\"sum.golang.org https://%s/sumdb/sum.golang.org\"`). GONOSUMDB or GOSUMDB=off only "+
				"for modules you fully control.", proxyHost, sum, sum, proxyHost),
		})
	}
	return out
}

// sumdbHosts are the checksum databases the go command would ask: those
// the capture shows with that role and sum.golang.org, unless GOSUMDB says
// otherwise.
func (ctx *Context) sumdbHosts() []string {
	var out []string
	for h, r := range ctx.roles() {
		if r == RoleSumdb {
			out = append(out, h)
		}
	}
	if m := ctx.Meta(); m == nil || m.GoEnv["GOSUMDB"] == "" || strings.HasPrefix(m.GoEnv["GOSUMDB"], "sum.golang.org") {
		if !slices.Contains(out, "sum.golang.org") {
			out = append(out, "sum.golang.org")
		}
	}
	slices.Sort(out)
	return out
}

// reached reports whether the capture shows a connection to host that
// the server accepted (and, for TLS, answered with a ServerHello).
func (ctx *Context) reached(host string) bool {
	for _, c := range ctx.Events.TCP {
		name := ctx.hostFor(c.Server.Addr())
		if c.TLS != nil && sniOf(c.TLS) != "" {
			name = sniOf(c.TLS)
		}
		if strings.EqualFold(name, host) && !c.SYNACK.IsZero() && (c.TLS == nil || c.TLS.ServerHello != nil) {
			return true
		}
	}
	return false
}
