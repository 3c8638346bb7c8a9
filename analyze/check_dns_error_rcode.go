package analyze

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
	"github.com/modsniff/modsniff/decode"
)

var checkDNSErrorRcode = &Check{ID: "dns-error-rcode", Layer: "dns", Severity: Error,
	Title: "the resolver answered SERVFAIL, REFUSED, or NXDOMAIN for a name that exists",
	Doc: "SERVFAIL and REFUSED always; NXDOMAIN for a module host or a name answered elsewhere in the capture. " +
		"An empty AAAA answer (NODATA) is normal and never reported.",
	Role: RoleCause,
	GoErrors: []string{
		"lookup proxy.golang.org on 127.0.0.53:53: server misbehaving",
		"lookup proxy.golang.org: no such host",
		"lookup proxy.golang.org on 10.0.0.1:53: no answer from DNS server",
	},
	run: runDNSErrorRcode}

func runDNSErrorRcode(ctx *Context) []Finding {
	// Names that some response answered with addresses exist publicly.
	exists := make(map[string]bool)
	for _, x := range ctx.Events.DNS {
		for _, r := range x.Responses {
			if r.RCode == dns.RcodeSuccess && len(r.Answers) > 0 {
				exists[strings.ToLower(x.Name)] = true
			}
		}
	}
	bad := func(x *decode.DNSExchange, r *decode.DNSResponse) bool {
		switch r.RCode {
		case dns.RcodeServerFailure, dns.RcodeRefused:
			return true
		case dns.RcodeNameError:
			name := strings.ToLower(x.Name)
			if _, suffixed := ctx.searchSuffixOf(name); suffixed {
				return false // the search-suffix check reports these
			}
			return ctx.isModuleHost(name) || exists[name]
		}
		return false
	}
	type key struct {
		server netip.Addr
		name   string
		rcode  uint16
	}
	var order []key
	groups := make(map[key][]Evidence)
	for _, x := range ctx.Events.DNS {
		if !isResolverQuery(x) {
			continue
		}
		for _, r := range x.Responses {
			if !bad(x, r) {
				continue
			}
			k := key{x.Server.Addr(), strings.ToLower(x.Name), r.RCode}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
				groups[k] = queryEvidence(x)
			}
			groups[k] = append(groups[k], evidence(r.At, "response %s from %s", decode.RcodeName(r.RCode), x.Server))
		}
	}
	var out []Finding
	for _, k := range order {
		f := Finding{
			Severity: Error, Host: k.name,
			Summary:  fmt.Sprintf("%s answered %s for %s", k.server, decode.RcodeName(k.rcode), k.name),
			Evidence: capEvidence(groups[k], 12),
		}
		if (k.rcode == dns.RcodeServerFailure || k.rcode == dns.RcodeRefused) && exists[k.name] {
			// Go's resolver returns the addresses of whichever query type
			// succeeded: a refused AAAA beside an answered A slows the
			// lookup but does not break it.
			f.Severity = Warning
			f.Summary += " (another query type for it was answered)"
		}
		switch k.rcode {
		case dns.RcodeServerFailure:
			f.Expected = "NOERROR with the name's addresses"
			f.Observed = fmt.Sprintf("SERVFAIL from %s: the resolver could not get an answer", k.server)
			f.Hint = "The resolver failed upstream: its own upstream is unreachable, or DNSSEC validation failed " +
				"(a wrong clock breaks it too). Compare `dig @" + k.server.String() + " " + k.name + "` with `dig +cd …`; " +
				"flush the cache (`resolvectl flush-caches`), or use another resolver."
		case dns.RcodeRefused:
			f.Expected = "NOERROR with the name's addresses"
			f.Observed = fmt.Sprintf("REFUSED from %s: it will not resolve names for this client", k.server)
			f.Hint = "This server does not offer recursion to this client (an authoritative-only server, an ACL, " +
				"or a resolver for another network such as a VPN's). Point /etc/resolv.conf at the resolver you are " +
				"meant to use."
		default:
			f.Expected = fmt.Sprintf("the addresses of %s, which exists in the public DNS", k.name)
			f.Observed = fmt.Sprintf("NXDOMAIN from %s", k.server)
			f.Hint = "The resolver claims the name does not exist: DNS filtering (a security product or a " +
				"corporate policy blocking the module proxy), or a split-horizon zone that hides it. Ask for " +
				k.name + " to be allowed, or set GOPROXY to a mirror you can resolve (GOPROXY=https://goproxy.io,direct). " +
				"Check /etc/hosts too."
		}
		out = append(out, f)
	}
	return out
}
