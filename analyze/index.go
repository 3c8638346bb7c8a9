package analyze

import (
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// index holds the events arranged for lookup, each table built once on
// first use, so that host verdicts and checks are linear in the number of
// events: no lookup scans every transaction, session or connection.
type index struct {
	byAddr map[netip.Addr][]string // names that resolved to an address, in first-seen order
	byName map[string][]netip.Addr // addresses a name resolved to
	// manyAddrs holds byName's list as a set for the names with more
	// than shortAddrs addresses, whose list is too long to search.
	manyAddrs map[string]map[netip.Addr]bool
	// loopback holds namesFor of loopback addresses: their own names and
	// those answered with the unspecified address.
	loopback map[netip.Addr][]string

	dnsByName   map[string][]*decode.DNSExchange // by lower-cased question name
	tlsByHost   map[string][]*decode.TLSSession  // by sessionHost
	sessionHost map[*decode.TLSSession]string
	proxyByHost map[string][]*decode.Tunnel // by lower-cased target host
	connected   map[hostPort]bool           // (host, port) pairs some connection reached
	usualTTL    map[netip.AddrPort]ttlCount
	proxies     map[netip.AddrPort]string

	// tcpDNS are the DNS exchanges over TCP and dns53 the TCP connections
	// to port 53, by (server, client) address; httpByConn the HTTP
	// exchanges of each connection; answersOf the address answers by
	// address. Each list is in capture order.
	// chains holds each distinct Certificate message's parsed chain and
	// its verdict (see chainOf).
	chains    map[*tlswire.CertificateMsg]int32 // index in chainList
	chainList []sessionChain

	tcpDNS     map[addrPair][]*decode.DNSExchange
	dns53      map[addrPair][]*decode.TCPConn
	httpByConn map[*decode.TCPConn][]*decode.HTTPExchange
	answersOf  map[netip.Addr][]addressAnswer

	// Each index is built once, by the first check that asks, while
	// the checks run in parallel; loopbackMu guards loopback, filled
	// address by address.
	resolved, sessions, byDNSName, byProxyTarget, connectedOnce, ttlOnce,
	tcpDNSOnce, dns53Once, httpOnce, answersOnce, chainsOnce sync.Once
	loopbackMu sync.Mutex
}

// addrPair is a server address and a client address.
type addrPair struct{ server, client netip.Addr }

// addressAnswer is an A or AAAA record, with the response and the
// exchange it belongs to.
type addressAnswer struct {
	x *decode.DNSExchange
	r *decode.DNSResponse
	a *decode.DNSRecord
}

// shortAddrs is the longest address list of a name that buildNames
// searches for a pair it has seen; a longer one gets a set (manyAddrs).
// Most names have one to four addresses, and a set per name, or one of
// every pair, took more than the lists themselves.
const shortAddrs = 16

type hostPort struct {
	host string
	port uint16
}

type ttlCount struct {
	ttl uint8
	n   int
}

// resolve builds the name ↔ address indexes from every DNS answer in the
// capture, following CNAME chains (RFC 1034 §3.6.2) so that a connection to
// an address is attributed to the name the client asked for.
func (ctx *Context) resolve() { ctx.ix.resolved.Do(ctx.buildNames) }

// buildNames builds the indexes of resolve.
func (ctx *Context) buildNames() {
	ix := &ctx.ix
	ix.byAddr = make(map[netip.Addr][]string)
	ix.byName = make(map[string][]netip.Addr)
	// Names one response makes equivalent to the question: at most one
	// per CNAME of its answers (the decoder keeps 32 records a section),
	// so a reused list, not a map per response.
	var alias []string
	isAlias := func(n string) bool { return slices.Contains(alias, strings.ToLower(n)) }
	for _, x := range ctx.Events.DNS {
		qname := strings.ToLower(x.Name)
		for _, r := range x.Responses {
			alias = append(alias[:0], qname)
			for range 8 {
				grew := false
				for _, a := range r.Answers {
					if a.Type == dns.TypeCNAME && isAlias(a.Name) && !isAlias(a.Target) {
						alias = append(alias, strings.ToLower(a.Target))
						grew = true
					}
				}
				if !grew {
					break
				}
			}
			for _, a := range r.Answers {
				if (a.Type != dns.TypeA && a.Type != dns.TypeAAAA) || !a.Addr.IsValid() || !isAlias(a.Name) {
					continue
				}
				addr := a.Addr.Unmap()
				if !ix.addPair(qname, addr) {
					continue
				}
				ix.byAddr[addr] = append(ix.byAddr[addr], qname)
			}
		}
	}
}

// releaseCheckState drops, once the checks have run, what host verdicts
// do not read: the trust store with its judged chains (3 MB on a dense
// 4 GiB capture) and the map of each session's host, so that the heap
// does not hold them while the verdicts are built. sessionHost still
// answers without its map; trust must not be called afterwards.
func (ctx *Context) releaseCheckState() {
	ctx.ts = nil
	ctx.ix.sessionHost = nil
	ctx.ix.chains, ctx.ix.chainList = nil, nil
}

// sessionChain is the chain a session received, parsed (parsedChain), and
// the trust store's verdict on it, nil for an empty chain.
type sessionChain struct {
	certs []*tlswire.CertData
	v     *chainVerdict
}

// chainOf returns the chain of s and its verdict. They are computed once
// per distinct Certificate message, which the sessions that received the
// same bytes share, in one pass before any check reads them: six checks
// asked for the chain and the verdict of every session, each parsing the
// list again and taking the trust store's lock for a lookup. It must not be
// called after releaseCheckState.
func (ctx *Context) chainOf(s *decode.TLSSession) sessionChain {
	ctx.ix.chainsOnce.Do(ctx.buildChains)
	if ctx.ix.chains == nil {
		panic("analyze: chainOf after releaseCheckState")
	}
	if i, ok := ctx.ix.chains[s.Certificates]; ok {
		return ctx.ix.chainList[i]
	}
	return sessionChain{}
}

func (ctx *Context) buildChains() {
	ix := &ctx.ix
	ix.chains = make(map[*tlswire.CertificateMsg]int32)
	var msgs []*tlswire.CertificateMsg // the distinct messages, in capture order
	for _, s := range ctx.Events.TLS {
		if m := s.Certificates; m != nil {
			if _, ok := ix.chains[m]; !ok {
				ix.chains[m] = int32(len(msgs))
				msgs = append(msgs, m)
			}
		}
	}
	// Judging a chain (crypto/x509's verification, the interception
	// table) is most of the analysis of a dense capture, and every check
	// that reads a chain waits for it: it runs on every core.
	ix.chainList = make([]sessionChain, len(msgs))
	eachParallel(len(msgs), chainBatch, func(i int) {
		sc := sessionChain{certs: parsedChain(msgs[i])}
		if len(sc.certs) > 0 {
			sc.v = ctx.trust().verify(sc.certs)
		}
		ix.chainList[i] = sc
	})
}

// chainBatch is the number of chains a goroutine of buildChains judges at
// a time.
const chainBatch = 32

// addPair appends addr to the addresses of name and reports whether it was
// not among them yet.
func (ix *index) addPair(name string, addr netip.Addr) bool {
	addrs := ix.byName[name]
	if len(addrs) < shortAddrs {
		if slices.Contains(addrs, addr) {
			return false
		}
		ix.byName[name] = append(addrs, addr)
		return true
	}
	set := ix.manyAddrs[name]
	if set == nil {
		if ix.manyAddrs == nil {
			ix.manyAddrs = make(map[string]map[netip.Addr]bool)
		}
		set = make(map[netip.Addr]bool, 2*len(addrs))
		for _, a := range addrs {
			set[a] = true
		}
		ix.manyAddrs[name] = set
	}
	if set[addr] {
		return false
	}
	set[addr] = true
	ix.byName[name] = append(addrs, addr)
	return true
}

// namesFor returns the names that resolved to addr in this capture. A
// dial to the unspecified address 0.0.0.0 (or ::) reaches this machine and
// shows up on the loopback interface, so loopback connections are also
// attributed to names answered with the unspecified address.
func (ctx *Context) namesFor(addr netip.Addr) []string {
	ctx.resolve()
	addr = addr.Unmap()
	names := ctx.ix.byAddr[addr]
	if !addr.IsLoopback() {
		return names
	}
	ctx.ix.loopbackMu.Lock()
	defer ctx.ix.loopbackMu.Unlock()
	if n, ok := ctx.ix.loopback[addr]; ok {
		return n
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		seen[n] = true
	}
	for _, u := range []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()} {
		for _, n := range ctx.ix.byAddr[u] {
			if !seen[n] {
				seen[n] = true
				names = append(slices.Clip(names), n)
			}
		}
	}
	if ctx.ix.loopback == nil {
		ctx.ix.loopback = make(map[netip.Addr][]string)
	}
	ctx.ix.loopback[addr] = names
	return names
}

// addrsOf returns the addresses name resolved to in this capture.
func (ctx *Context) addrsOf(name string) []netip.Addr {
	ctx.resolve()
	return ctx.ix.byName[strings.ToLower(name)]
}

// hostFor names the host behind a server address: the name it was
// resolved from, else the address itself.
func (ctx *Context) hostFor(addr netip.Addr) string {
	if names := ctx.namesFor(addr); len(names) > 0 {
		return names[0]
	}
	return addr.Unmap().String()
}

// dnsFor returns the transactions whose question is name (any case), in
// capture order.
func (ctx *Context) dnsFor(name string) []*decode.DNSExchange {
	ctx.ix.byDNSName.Do(func() {
		ctx.ix.dnsByName = make(map[string][]*decode.DNSExchange)
		for _, x := range ctx.Events.DNS {
			k := strings.ToLower(x.Name)
			ctx.ix.dnsByName[k] = append(ctx.ix.dnsByName[k], x)
		}
	})
	return ctx.ix.dnsByName[strings.ToLower(name)]
}

// sessionsFor returns the TLS sessions for a host (sessionHost), in
// capture order.
func (ctx *Context) sessionsFor(host string) []*decode.TLSSession {
	ctx.indexSessions()
	return ctx.ix.tlsByHost[host]
}

// sessionHost names the host a TLS session was for: its SNI, else the
// tunnel target, else the name the server address resolved from.
func sessionHost(ctx *Context, s *decode.TLSSession) string {
	ctx.indexSessions()
	if h, ok := ctx.ix.sessionHost[s]; ok {
		return h
	}
	return findSessionHost(ctx, s) // a session that is not among the events
}

func (ctx *Context) indexSessions() { ctx.ix.sessions.Do(ctx.buildSessions) }

// buildSessions builds the indexes of indexSessions.
func (ctx *Context) buildSessions() {
	ctx.ix.sessionHost = make(map[*decode.TLSSession]string, len(ctx.Events.TLS))
	ctx.ix.tlsByHost = make(map[string][]*decode.TLSSession)
	for _, s := range ctx.Events.TLS {
		h := findSessionHost(ctx, s)
		ctx.ix.sessionHost[s] = h
		ctx.ix.tlsByHost[h] = append(ctx.ix.tlsByHost[h], s)
	}
}

func findSessionHost(ctx *Context, s *decode.TLSSession) string {
	if s.ClientHello != nil && s.ClientHello.ServerName != "" {
		return strings.ToLower(s.ClientHello.ServerName)
	}
	if s.Tunnel != nil && s.Tunnel.Target != "" {
		return strings.ToLower(hostOnly(s.Tunnel.Target))
	}
	return ctx.hostFor(s.Server().Addr())
}

// tunnelsFor returns the proxy tunnels whose target is host (any case), in
// capture order.
func (ctx *Context) tunnelsFor(host string) []*decode.Tunnel {
	ctx.ix.byProxyTarget.Do(func() {
		ctx.ix.proxyByHost = make(map[string][]*decode.Tunnel)
		for _, t := range ctx.Events.Proxy {
			k := strings.ToLower(hostOnly(t.Target))
			ctx.ix.proxyByHost[k] = append(ctx.ix.proxyByHost[k], t)
		}
	})
	return ctx.ix.proxyByHost[strings.ToLower(host)]
}

// hostConnected reports whether some connection to host completed its
// handshake.
func (ctx *Context) hostConnected(host string, port uint16) bool {
	ctx.ix.connectedOnce.Do(func() {
		ctx.ix.connected = make(map[hostPort]bool)
		for _, c := range ctx.Events.TCP {
			if !c.SYNACK.IsZero() {
				ctx.ix.connected[hostPort{ctx.connHost(c), c.Server.Port()}] = true
			}
		}
	})
	return ctx.ix.connected[hostPort{host, port}]
}

// usualTTL returns the most common IP TTL of responses from a resolver
// across the capture, and how many responses had it.
func (ctx *Context) usualTTL(server netip.AddrPort) (uint8, int) {
	ctx.ix.ttlOnce.Do(func() {
		counts := make(map[netip.AddrPort]map[uint8]int)
		for _, x := range ctx.Events.DNS {
			for _, r := range x.Responses {
				if counts[x.Server] == nil {
					counts[x.Server] = make(map[uint8]int)
				}
				counts[x.Server][r.IP.TTL]++
			}
		}
		ctx.ix.usualTTL = make(map[netip.AddrPort]ttlCount, len(counts))
		for srv, byTTL := range counts {
			var best ttlCount
			for ttl, c := range byTTL {
				if c > best.n || (c == best.n && ttl > best.ttl) {
					best = ttlCount{ttl, c}
				}
			}
			ctx.ix.usualTTL[srv] = best
		}
	})
	b := ctx.ix.usualTTL[server]
	return b.ttl, b.n
}

// tcpDNSBetween returns the DNS exchanges over TCP between a server and a
// client address, in capture order.
func (ctx *Context) tcpDNSBetween(server, client netip.Addr) []*decode.DNSExchange {
	ctx.ix.tcpDNSOnce.Do(func() {
		ctx.ix.tcpDNS = make(map[addrPair][]*decode.DNSExchange)
		for _, y := range ctx.Events.DNS {
			if y.Transport == decode.DNSOverTCP {
				k := addrPair{y.Server.Addr(), y.Client.Addr()}
				ctx.ix.tcpDNS[k] = append(ctx.ix.tcpDNS[k], y)
			}
		}
	})
	return ctx.ix.tcpDNS[addrPair{server, client}]
}

// dnsConnsBetween returns the TCP connections from a client address to
// port 53 of a server address, in capture order.
func (ctx *Context) dnsConnsBetween(server, client netip.Addr) []*decode.TCPConn {
	ctx.ix.dns53Once.Do(func() {
		ctx.ix.dns53 = make(map[addrPair][]*decode.TCPConn)
		for _, c := range ctx.Events.TCP {
			if c.Server.Port() == 53 {
				k := addrPair{c.Server.Addr(), c.Client.Addr()}
				ctx.ix.dns53[k] = append(ctx.ix.dns53[k], c)
			}
		}
	})
	return ctx.ix.dns53[addrPair{server, client}]
}

// httpOn returns the HTTP exchanges carried by a connection, in capture
// order.
func (ctx *Context) httpOn(c *decode.TCPConn) []*decode.HTTPExchange {
	ctx.ix.httpOnce.Do(func() {
		ctx.ix.httpByConn = make(map[*decode.TCPConn][]*decode.HTTPExchange)
		for _, h := range ctx.Events.HTTP {
			if h.Conn != nil {
				ctx.ix.httpByConn[h.Conn] = append(ctx.ix.httpByConn[h.Conn], h)
			}
		}
	})
	return ctx.ix.httpByConn[c]
}

// answersFor returns the A and AAAA records for addr (compared as
// recorded) with their responses, in capture order.
func (ctx *Context) answersFor(addr netip.Addr) []addressAnswer {
	ctx.ix.answersOnce.Do(func() {
		ctx.ix.answersOf = make(map[netip.Addr][]addressAnswer)
		for _, x := range ctx.Events.DNS {
			for _, r := range x.Responses {
				for i := range r.Answers {
					if a := &r.Answers[i]; a.Type == dns.TypeA || a.Type == dns.TypeAAAA {
						ctx.ix.answersOf[a.Addr] = append(ctx.ix.answersOf[a.Addr], addressAnswer{x, r, a})
					}
				}
			}
		}
	})
	return ctx.ix.answersOf[addr]
}
