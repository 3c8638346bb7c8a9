package analyze

import (
	"github.com/miekg/dns"

	"fmt"
	"strings"
)

// checkProxyPACRequired reports networks that announce their proxy through
// WPAD / PAC (a wpad.<domain> name that resolves, a PAC file fetched over
// HTTP) while the go command's direct connections to module hosts fail:
// the go command reads only HTTPS_PROXY, HTTP_PROXY and NO_PROXY.
var checkProxyPACRequired = &Check{ID: "proxy-pac-required", Layer: "proxy", Severity: Warning,
	Title: "the network expects a PAC-configured proxy, which the go command does not read",
	Doc: "WPAD / PAC discovery shows in the capture (a `wpad` name that resolves, a `wpad.dat` or `.pac` file " +
		"fetched over HTTP) and direct connections to module hosts fail. Browsers and the OS follow the PAC " +
		"file; the go command reads only HTTPS_PROXY/HTTP_PROXY/NO_PROXY, so it goes direct and is blocked.",
	Role: RoleCause,
	run:  runProxyPACRequired}

// isWPADName reports a WPAD discovery name: "wpad" or "wpad.<domain>".
func isWPADName(name string) bool {
	name = strings.ToLower(name)
	return name == "wpad" || strings.HasPrefix(name, "wpad.")
}

// isPACPath reports the path of a proxy auto-configuration file.
func isPACPath(p string) bool {
	p = strings.ToLower(p)
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	return strings.HasSuffix(p, "/wpad.dat") || strings.HasSuffix(p, ".pac")
}

func runProxyPACRequired(ctx *Context) []Finding {
	var ev []Evidence
	pacURL := ""
	for _, x := range ctx.Events.DNS {
		if !isWPADName(x.Name) {
			continue
		}
		for _, r := range x.Responses {
			if r.RCode == dns.RcodeSuccess && len(r.Answers) > 0 && len(ev) < 2 {
				ev = append(ev, evidence(r.At, "WPAD lookup %s answered: the network announces a proxy auto-configuration", x.Name))
				if pacURL == "" {
					pacURL = "http://" + strings.ToLower(x.Name) + "/wpad.dat"
				}
				break
			}
		}
	}
	for _, h := range ctx.Events.HTTP {
		if isPACPath(h.Path) {
			ev = append(ev, evidence(h.Request, "%s http://%s%s: a PAC file fetched (status %d)", h.Method, h.Host, h.Path, h.Status))
			pacURL = "http://" + h.Host + h.Path
			break
		}
	}
	if len(ev) == 0 {
		return nil
	}
	// Module hosts whose direct connections all failed.
	failed := make(map[string]bool)
	worked := make(map[string]bool)
	var order []string
	proxies := ctx.proxyEndpoints()
	for _, c := range ctx.Events.TCP {
		if c.RoleGuessed || len(c.SYN()) == 0 || c.Tunnel() != nil || c.Server.Port() == 53 {
			continue
		}
		if _, isProxy := proxies[c.Server]; isProxy {
			continue
		}
		host := ctx.connHost(c)
		if !ctx.isModuleHost(host) {
			continue
		}
		if bad, fev := ctx.directFailed(c); bad {
			if !failed[host] {
				order = append(order, host)
				ev = append(ev, fev...)
			}
			failed[host] = true
		} else if !c.SYNACK.IsZero() {
			worked[host] = true
		}
	}
	var hosts []string
	for _, h := range order {
		if !worked[h] {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return nil
	}
	return []Finding{{
		Severity: Warning, Host: hosts[0],
		Summary:  fmt.Sprintf("the network announces a PAC proxy (WPAD), and direct connections to %s fail", joinAnd(hosts)),
		Expected: "the go command told about the proxy the PAC file names (HTTPS_PROXY)",
		Observed: fmt.Sprintf("WPAD/PAC discovery in the capture (%s); direct connections to %s failed", pacURL, joinAnd(hosts)),
		Evidence: capEvidence(ev, 12),
		Hint: fmt.Sprintf("Browsers and the OS find their proxy through the PAC file %s, but the go command reads only "+
			"HTTPS_PROXY/HTTP_PROXY/NO_PROXY. Fetch the PAC once (`curl %s`), see which PROXY it returns for "+
			"https://%s/ (`pactester -p wpad.dat -u https://%s/`), and set HTTPS_PROXY=http://<that proxy:port> "+
			"(and NO_PROXY for the hosts it sends DIRECT).", pacURL, pacURL, hosts[0], hosts[0]),
	}}
}
