package analyze

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/modsniff/modsniff/decode"
)

// checkSOCKSLocalDNS reports SOCKS5 tunnels requested by address (RFC 1928
// §5, ATYP 1 or 4) right after a local DNS lookup answered that address:
// the local resolver, not the proxy, decided where the tunnel goes. The go
// command's own HTTP client sends the host name (ATYP 3) for socks5:// and
// socks5h:// alike; git and curl with socks5:// (direct mode, GOPROXY=direct
// or GOPRIVATE modules) resolve locally.
var checkSOCKSLocalDNS = &Check{ID: "socks-local-dns", Layer: "proxy", Severity: Info,
	SeverityNote: "warning when the local answer was itself bogus (a private or reserved address for a public name, a fake-IP, a known forged address)",
	Title:        "a SOCKS5 tunnel was requested by address after a local DNS lookup",
	Doc: "The client resolved the host itself and asked the SOCKS5 proxy for the address instead of the name. " +
		"The go command's own HTTP client (Go 1.26) sends the name for socks5:// and socks5h://, but git and curl " +
		"with socks5:// — direct mode, GOPRIVATE modules — resolve locally (socks5h:// would hand the name to the " +
		"proxy). Whatever the local resolver answered decides where the tunnel goes: context normally, a warning " +
		"when that answer was bogus, forged or fake-IP, because the proxy then faithfully connects to the wrong place.",
	Role: RoleContext,
	run:  runSOCKSLocalDNS}

// localLookupWindow is how long before a tunnel request a lookup counts
// as the one that chose its address.
const localLookupWindow = 30 * time.Second

func runSOCKSLocalDNS(ctx *Context) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	for _, t := range ctx.Events.Proxy {
		if t.Kind != "socks5" || t.Request.IsZero() {
			continue
		}
		h, _, err := net.SplitHostPort(t.Target)
		if err != nil {
			continue
		}
		addr, err := netip.ParseAddr(h)
		if err != nil {
			continue // by name: the proxy resolves it
		}
		name, r := ctx.lookupBefore(addr.Unmap(), t)
		if r == nil || seen[name+" "+t.Target] {
			continue
		}
		seen[name+" "+t.Target] = true
		f := Finding{
			Severity: Info, Host: name,
			Summary:  fmt.Sprintf("the SOCKS5 tunnel to %s was requested by address, as resolved locally for %s", t.Target, name),
			Expected: fmt.Sprintf("the proxy resolving %s (socks5h), or a local answer that is right", name),
			Observed: fmt.Sprintf("the local resolver answered %s for %s; the client then asked %s for %s", addr, name, t.Proxy, t.Target),
			Evidence: []Evidence{evidence(r.At, "local DNS answer %s for %s", addr, name),
				evidence(t.Request, "SOCKS5 CONNECT to %s (an address) via %s", t.Target, t.Proxy)},
			Hint: "The client resolved the name itself and gave the SOCKS5 proxy only the address, so the local " +
				"resolver decides where the tunnel goes. For git (direct mode) write the proxy as socks5h://… " +
				"(ALL_PROXY, http.proxy in ~/.gitconfig) so the proxy resolves the name; the go command's own fetches " +
				"already send the name.",
		}
		why := ""
		switch {
		case isFakeIP(addr):
			why = "a fake-IP address, meaningful only to the local tunnelling client"
		case isPublicName(name):
			if what, ok := specialPurpose(addr); ok {
				why = what + " for a public name"
			} else if src, ok := forgedFor(name, addr); ok {
				why = "a known forged address (" + src + ")"
			}
		}
		if why != "" {
			f.Severity = Warning
			f.Summary = fmt.Sprintf("the SOCKS5 tunnel for %s goes to %s, a bogus local DNS answer", name, addr)
			f.Observed += "; that answer is " + why
			f.Hint = "The local resolver's answer for " + name + " is bogus (" + why + "), and the client handed that " +
				"address to the SOCKS5 proxy, which connects wherever it is told. Fix local DNS (see the DNS findings), " +
				"or let the proxy resolve: socks5h://… for git and curl (ALL_PROXY, http.proxy in ~/.gitconfig)."
		}
		out = append(out, f)
	}
	return out
}

// lookupBefore finds the latest DNS response before the tunnel request
// (within localLookupWindow) that answered addr, and the name asked.
func (ctx *Context) lookupBefore(addr netip.Addr, t *decode.Tunnel) (string, *decode.DNSResponse) {
	var best *decode.DNSResponse
	name := ""
	for _, aa := range ctx.answersFor(addr.Unmap()) {
		r := aa.r
		if r.At.Input != t.Request.Input || r.At.Packet > t.Request.Packet || t.Request.Time().Sub(r.At.Time()) > localLookupWindow {
			continue
		}
		if best == nil || r.At.Packet > best.At.Packet {
			best, name = r, strings.ToLower(aa.x.Name)
		}
	}
	return name, best
}
