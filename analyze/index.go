package analyze

import (
	"net/netip"
	"slices"
	"strings"
)

// resolve builds the name ↔ address indexes from every DNS answer in the
// capture, following CNAME chains (RFC 1034 §3.6.2) so that a connection to
// an address is attributed to the name the client asked for.
func (ctx *Context) resolve() {
	if ctx.byAddr != nil {
		return
	}
	ctx.byAddr = make(map[netip.Addr][]string)
	ctx.byName = make(map[string][]netip.Addr)
	for _, x := range ctx.Events.DNS {
		qname := strings.ToLower(x.Name)
		for _, r := range x.Responses {
			// Names this response makes equivalent to the question.
			alias := map[string]bool{qname: true}
			for range 8 {
				grew := false
				for _, a := range r.Answers {
					if a.Type == "CNAME" && alias[strings.ToLower(a.Name)] && !alias[strings.ToLower(a.Data)] {
						alias[strings.ToLower(a.Data)] = true
						grew = true
					}
				}
				if !grew {
					break
				}
			}
			for _, a := range r.Answers {
				if (a.Type != "A" && a.Type != "AAAA") || !alias[strings.ToLower(a.Name)] {
					continue
				}
				addr, err := netip.ParseAddr(a.Data)
				if err != nil {
					continue
				}
				addr = addr.Unmap()
				if !slices.Contains(ctx.byAddr[addr], qname) {
					ctx.byAddr[addr] = append(ctx.byAddr[addr], qname)
				}
				if !slices.Contains(ctx.byName[qname], addr) {
					ctx.byName[qname] = append(ctx.byName[qname], addr)
				}
			}
		}
	}
}

// namesFor returns the names that resolved to addr in this capture. A
// dial to the unspecified address 0.0.0.0 (or ::) reaches this machine and
// shows up on the loopback interface, so loopback connections are also
// attributed to names answered with the unspecified address.
func (ctx *Context) namesFor(addr netip.Addr) []string {
	ctx.resolve()
	addr = addr.Unmap()
	names := ctx.byAddr[addr]
	if addr.IsLoopback() {
		for _, u := range []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()} {
			for _, n := range ctx.byAddr[u] {
				if !slices.Contains(names, n) {
					names = append(slices.Clone(names), n)
				}
			}
		}
	}
	return names
}

// addrsOf returns the addresses name resolved to in this capture.
func (ctx *Context) addrsOf(name string) []netip.Addr {
	ctx.resolve()
	return ctx.byName[strings.ToLower(name)]
}

// hostFor names the host behind a server address: the name it was
// resolved from, else the address itself.
func (ctx *Context) hostFor(addr netip.Addr) string {
	if names := ctx.namesFor(addr); len(names) > 0 {
		return names[0]
	}
	return addr.Unmap().String()
}
