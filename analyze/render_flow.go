package analyze

import (
	"cmp"
	"fmt"
	"html"
	"html/template"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// The flow graph of the HTML report is a sequence diagram in the manner of
// Wireshark's Flow Graph: one column per party (client, resolver, proxy,
// middlebox, server), one arrow per protocol message, time downwards. It is
// plain inline SVG styled by CSS, so the page needs no script and no font
// from elsewhere, follows the reader's dark mode and prints.

// Flow graph limits: a capture of 10,000 connections must still give a page
// a browser opens. Hosts and connections without findings are folded, and
// past these budgets they are counted instead of drawn.
const (
	flowMaxRows        = 300    // arrows in one diagram
	flowMaxConnDrawn   = 40     // per-connection diagrams per host
	flowMaxHostsDrawn  = 150    // host sections with diagrams
	flowRowBudget      = 25_000 // arrows in the whole page
	flowGap            = time.Second
	flowOverviewConns  = 12 // connections without findings in a host's overview
	flowRowH           = 24
	flowGapH           = 30
	flowLaneW          = 165
	flowLeftW          = 104
	flowRightW         = 150
	flowHeadH          = 46
	flowCharW          = 7.0 // width of a 12px sans-serif character, generously
	flowBoldCharW      = 7.8 // the same, bold (highlighted arrows)
	flowMaxLabelLength = 160
)

// Lanes of a diagram, left to right.
const (
	laneClient = iota
	laneResolver
	laneProxy
	laneMiddlebox
	laneServer
	laneCount
)

var laneNames = [laneCount]string{"client", "resolver", "proxy", "middlebox", "server"}

// flowMsg is one arrow.
type flowMsg struct {
	ref      capture.Ref
	seq      int // order among messages of the same packet
	from, to int
	label    string
	kind     string // dns, tcp, tls, proxy, http, icmp: the CSS class
	reply    bool   // an answer to request (drawn dashed)
	request  bool   // expects an answer: a gap after it is "no answer"
	answers  bool   // the message answers an earlier request
	dec      bool   // travelled encrypted and was decrypted with keys
	conn     int    // index of the connection in its host (-1: DNS)
	flagSev  Severity
	flagIDs  []string
	flagged  bool
	fromAddr string
	racing   bool // the first of several differing DNS responses
}

// flowConn is one TCP connection (or tunnel) and its messages.
type flowConn struct {
	title    string
	outcome  string
	first    capture.Ref
	msgs     []flowMsg
	flagged  bool
	worst    Severity
	lanes    [laneCount]map[string]bool
	viaProxy bool
}

// flowHost is everything the capture shows about one host name.
type flowHost struct {
	name    string
	verdict string
	dns     []flowMsg
	conns   []*flowConn
	flagged bool
	worst   Severity
	order   int
	first   capture.Ref
	lanes   [laneCount]map[string]bool
	middle  bool
}

// flowFlags maps the packets findings cite to the worst severity and the
// check IDs citing them.
type flowFlags map[[2]int]*flowFlag

type flowFlag struct {
	sev Severity
	ids []string
	// middle lists the checks of warning or error findings that say a
	// middlebox sent this packet.
	middle []string
}

func newFlowFlags(rep *Report) flowFlags {
	fl := flowFlags{}
	for _, f := range rep.Findings {
		for _, e := range f.Evidence {
			k := [2]int{int(e.At.Input), int(e.At.Packet)}
			x := fl[k]
			if x == nil {
				x = &flowFlag{sev: f.Severity}
				fl[k] = x
			}
			x.sev = max(x.sev, f.Severity)
			if !slices.Contains(x.ids, f.ID) {
				x.ids = append(x.ids, f.ID)
			}
			if middleboxChecks[f.ID] && f.Severity >= Warning && !slices.Contains(x.middle, f.ID) {
				x.middle = append(x.middle, f.ID)
			}
		}
	}
	return fl
}

// middleboxChecks are the findings whose cited answers come from something
// on the path rather than from the party that should have sent them: a
// forged DNS answer, an injected reset, an interceptor's certificate.
var middleboxChecks = map[string]bool{
	"dns-injected-answer":     true,
	"dns-forged-ip":           true,
	"tcp-reset-after-hello":   true,
	"tls-foreign-issuer":      true,
	"tls-classical-key-share": true,
}

// middlebox reports whether a finding says m came from a middlebox. Of
// the differing responses an injected-answer finding cites, only the racing
// first one is forged.
func (fl flowFlags) middlebox(m *flowMsg) bool {
	x := fl[[2]int{int(m.ref.Input), int(m.ref.Packet)}]
	if x == nil {
		return false
	}
	for _, id := range x.middle {
		if id != "dns-injected-answer" || m.racing {
			return true
		}
	}
	return false
}

// flowModel builds the hosts of the flow graph from the decoded events.
func flowModel(rep *Report, ev *decode.Events) []*flowHost {
	fl := newFlowFlags(rep)
	hosts := map[string]*flowHost{}
	get := func(name string, at capture.Ref) *flowHost {
		h := hosts[name]
		if h == nil {
			h = &flowHost{name: name, order: len(rep.Hosts) + len(hosts), first: at}
			for i := range h.lanes {
				h.lanes[i] = map[string]bool{}
			}
			hosts[name] = h
		}
		if refLess(at, h.first) {
			h.first = at
		}
		return h
	}
	for i, h := range rep.Hosts {
		x := get(h.Name, capture.Ref{Input: 1 << 30})
		x.order, x.verdict = i, h.Verdict()
	}
	// Names by address, from DNS answers, to place connections that carry
	// no SNI or Host of their own.
	byAddr := map[netip.Addr]string{}
	for _, x := range ev.DNS {
		for _, r := range x.Responses {
			for _, a := range r.Answers {
				if ad := a.Addr; ad.IsValid() {
					if _, ok := byAddr[ad]; !ok {
						byAddr[ad] = x.Name
					}
				}
			}
		}
	}
	for _, x := range ev.DNS {
		h := get(x.Name, firstRef(x))
		h.lanes[laneClient][x.Client.Addr().String()] = true
		h.lanes[laneResolver][addrPort(x.Server)] = true
		h.dns = append(h.dns, dnsMsgs(x, fl)...)
	}
	httpByConn := map[*decode.TCPConn][]*decode.HTTPExchange{}
	for _, x := range ev.HTTP {
		if x.Conn != nil {
			httpByConn[x.Conn] = append(httpByConn[x.Conn], x)
		}
	}
	tlsByConn := map[*decode.TCPConn]*decode.TLSSession{}
	for _, s := range ev.TLS {
		if s.Conn != nil && tlsByConn[s.Conn] == nil {
			tlsByConn[s.Conn] = s
		}
	}
	tunByConn := map[*decode.TCPConn]*decode.Tunnel{}
	for _, t := range ev.Proxy {
		if t.Conn != nil && tunByConn[t.Conn] == nil {
			tunByConn[t.Conn] = t
		}
	}
	for _, c := range ev.TCP {
		s := tlsByConn[c]
		if s == nil {
			s = c.TLS
		}
		tun := tunByConn[c]
		if tun == nil {
			tun = c.Tunnel()
		}
		name := connHost(c, s, tun, httpByConn[c], byAddr)
		if c.App == decode.AppDNS {
			// DNS over TCP belongs with the DNS exchanges it carried.
			continue
		}
		h := get(name, c.First)
		fc := connMsgs(c, s, tun, httpByConn[c], fl, len(h.conns))
		for i, set := range fc.lanes {
			for k := range set {
				h.lanes[i][k] = true
			}
		}
		h.conns = append(h.conns, fc)
	}
	var out []*flowHost
	for _, h := range hosts {
		if len(h.dns) == 0 && len(h.conns) == 0 {
			continue
		}
		for i := range h.dns {
			h.mark(&h.dns[i], fl)
			h.router(&h.dns[i])
		}
		for _, c := range h.conns {
			for i := range c.msgs {
				h.mark(&c.msgs[i], fl)
				h.router(&c.msgs[i])
				if c.msgs[i].flagged {
					c.flagged = true
					c.worst = max(c.worst, c.msgs[i].flagSev)
				}
			}
		}
		for _, f := range rep.Findings {
			if f.Host == h.name {
				h.flagged = true
				h.worst = max(h.worst, f.Severity)
			}
		}
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b *flowHost) int {
		// Hosts with findings first, worst first; then report order; then
		// capture order.
		if a.flagged != b.flagged {
			if a.flagged {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.worst, a.worst); c != 0 && a.flagged {
			return c
		}
		ra, rb := a.order < len(rep.Hosts), b.order < len(rep.Hosts)
		switch {
		case ra && rb:
			return cmp.Compare(a.order, b.order)
		case ra != rb && ra:
			return -1
		case ra != rb:
			return 1
		}
		if c := refCompare(a.first, b.first); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})
	return out
}

// mark flags a message cited by a finding and moves answers a finding
// attributes to a middlebox into its lane.
func (h *flowHost) mark(m *flowMsg, fl flowFlags) {
	x := fl[[2]int{int(m.ref.Input), int(m.ref.Packet)}]
	if x == nil {
		return
	}
	m.flagged, m.flagSev, m.flagIDs = true, x.sev, x.ids
	if fl.middlebox(m) && (m.from == laneServer || m.from == laneResolver || m.from == laneProxy) {
		m.from = laneMiddlebox
		h.middle = true
		h.lanes[laneMiddlebox]["on path"] = true
	}
}

// router names the router that sent an ICMP error in the middlebox lane.
func (h *flowHost) router(m *flowMsg) {
	if m.from == laneMiddlebox && m.fromAddr != "" {
		h.lanes[laneMiddlebox]["router "+m.fromAddr] = true
	}
}

func refLess(a, b capture.Ref) bool { return refCompare(a, b) < 0 }

func refCompare(a, b capture.Ref) int {
	if c := cmp.Compare(a.Input, b.Input); c != 0 {
		return c
	}
	return cmp.Compare(a.Packet, b.Packet)
}

// connHost names the host a connection belongs to: its SNI, its tunnel's
// target, its HTTP Host, the DNS name that resolved to its server, or the
// server's address.
func connHost(c *decode.TCPConn, s *decode.TLSSession, tun *decode.Tunnel, hx []*decode.HTTPExchange, byAddr map[netip.Addr]string) string {
	if s != nil && s.ClientHello != nil && s.ClientHello.ServerName != "" {
		return s.ClientHello.ServerName
	}
	if tun != nil && tun.Target != "" {
		host := tun.Target
		if i := strings.LastIndexByte(host, ':'); i > 0 {
			host = strings.Trim(host[:i], "[]")
		}
		return host
	}
	for _, x := range hx {
		if x.Host != "" {
			host := x.Host
			if i := strings.LastIndexByte(host, ':'); i > 0 && !strings.Contains(host[i:], "]") {
				host = host[:i]
			}
			return host
		}
	}
	if n, ok := byAddr[c.Server.Addr()]; ok {
		return n
	}
	return c.Server.Addr().String()
}

func dnsMsgs(x *decode.DNSExchange, fl flowFlags) []flowMsg {
	var out []flowMsg
	add := func(m flowMsg) {
		m.conn = -1
		m.kind = "dns"
		m.seq = len(out)
		out = append(out, m)
	}
	q := fmt.Sprintf("%s %s? id %d", x.QuestionType(), x.Name, x.ID)
	if x.Transport == decode.DNSOverTCP {
		q += " (TCP)"
	}
	if !x.Query.IsZero() {
		add(flowMsg{ref: x.Query, from: laneClient, to: laneResolver, label: "query " + q, request: true})
	}
	for _, r := range x.Retries() {
		add(flowMsg{ref: r, from: laneClient, to: laneResolver, label: "query " + q + " (again)", request: true})
	}
	for _, r := range x.Responses {
		var ans []string
		for i, a := range r.Answers {
			if i == 3 {
				ans = append(ans, fmt.Sprintf("+%d", len(r.Answers)-3))
				break
			}
			ans = append(ans, decode.TypeName(a.Type)+" "+a.Data())
		}
		label := decode.RcodeName(r.RCode)
		if len(ans) > 0 {
			label += " " + strings.Join(ans, ", ")
		}
		if r.Truncated {
			label += " (truncated)"
		}
		add(flowMsg{ref: r.At, from: laneResolver, to: laneClient, reply: true, answers: true, label: label + fmt.Sprintf(" · TTL %d", r.IP.TTL),
			racing: len(x.Responses) > 1 && r == x.Responses[0]})
	}
	for _, e := range x.ICMP() {
		add(icmpMsg(e, laneResolver, x.Client.Addr(), x.Server.Addr()))
	}
	if x.Reset() != nil {
		add(flowMsg{ref: *x.Reset(), from: laneResolver, to: laneClient, reply: true, answers: true, label: "RST (DNS over TCP)"})
	}
	_ = fl
	return out
}

// icmpMsg draws an ICMP error from the party that sent it: the client (a
// late answer to a closed socket), the peer, or a router on the path.
func icmpMsg(e *decode.ICMPError, peer int, clientAddr, peerAddr netip.Addr) flowMsg {
	m := flowMsg{ref: e.At, from: laneMiddlebox, to: laneClient, kind: "icmp", reply: true, answers: true,
		label: "ICMP " + e.Kind + " from router " + e.From.String(), conn: -1, fromAddr: e.From.String()}
	switch e.From {
	case clientAddr:
		m.from, m.to, m.label, m.answers, m.fromAddr = laneClient, peer, "ICMP "+e.Kind+" (socket already closed)", false, ""
	case peerAddr:
		m.from, m.label, m.fromAddr = peer, "ICMP "+e.Kind, ""
	}
	return m
}

func connMsgs(c *decode.TCPConn, s *decode.TLSSession, tun *decode.Tunnel, hx []*decode.HTTPExchange, fl flowFlags, idx int) *flowConn {
	fc := &flowConn{first: c.First}
	for i := range fc.lanes {
		fc.lanes[i] = map[string]bool{}
	}
	fc.lanes[laneClient][c.Client.Addr().String()] = true
	peer := laneServer
	if tun != nil {
		peer = laneProxy
		fc.viaProxy = true
		fc.lanes[laneProxy][addrPort(c.Server)] = true
		if tun.Target != "" {
			fc.lanes[laneServer][tun.Target] = true
		}
	} else {
		fc.lanes[laneServer][addrPort(c.Server)] = true
	}
	add := func(m flowMsg) {
		m.conn = idx
		if m.kind == "" {
			m.kind = "tcp"
		}
		m.seq = len(fc.msgs)
		fc.msgs = append(fc.msgs, m)
	}
	for i, r := range c.SYN() {
		l := "SYN"
		if i > 0 {
			l = "SYN (retransmission)"
		}
		add(flowMsg{ref: r, from: laneClient, to: peer, label: l, request: true})
	}
	if !c.SYNACK.IsZero() {
		add(flowMsg{ref: c.SYNACK, from: peer, to: laneClient, label: "SYN-ACK", reply: true, answers: true})
	}
	if tun != nil {
		kind := "proxy"
		req := "CONNECT " + tun.Target
		if tun.Kind != "http-connect" {
			req = strings.ToUpper(tun.Kind) + " connect " + tun.Target
		}
		if !tun.Request.IsZero() {
			add(flowMsg{ref: tun.Request, from: laneClient, to: laneProxy, kind: kind, label: req, request: true})
		}
		if !tun.Response.IsZero() {
			l := tun.StatusLine
			if l == "" {
				l = fmt.Sprintf("status %d", tun.Status)
			}
			add(flowMsg{ref: tun.Response, from: laneProxy, to: laneClient, kind: kind, label: l, reply: true, answers: true})
		}
	}
	if s != nil {
		tlsMsgs(s, add)
	}
	for _, x := range hx {
		if !x.Request.IsZero() && x.Method != "" {
			add(flowMsg{ref: x.Request, from: laneClient, to: laneServer, kind: "http", request: true,
				label: fmt.Sprintf("%s %s (%s)", x.Method, x.Path, x.Proto), dec: s != nil && s.Decrypted})
		}
		switch {
		case x.GoAway != "" && x.GoAwayFromClient:
			add(flowMsg{ref: x.Response, from: laneClient, to: laneServer, kind: "http", label: "GOAWAY " + x.GoAway, dec: s != nil && s.Decrypted})
		case x.GoAway != "":
			add(flowMsg{ref: x.Response, from: laneServer, to: laneClient, kind: "http", reply: true, answers: true, label: "GOAWAY " + x.GoAway, dec: s != nil && s.Decrypted})
		case x.Status != 0 && !x.Response.IsZero():
			add(flowMsg{ref: x.Response, from: laneServer, to: laneClient, kind: "http", reply: true, answers: true,
				label: fmt.Sprintf("%d for %s", x.Status, x.Path), dec: s != nil && s.Decrypted})
		}
	}
	for _, r := range c.Resets() {
		m := flowMsg{ref: r.At, from: peer, to: laneClient, label: fmt.Sprintf("RST · TTL %d", r.IP.TTL), answers: true}
		if r.FromClient {
			m.from, m.to, m.label = laneClient, peer, "RST"
		}
		add(m)
	}
	if !c.FIN[0].IsZero() {
		add(flowMsg{ref: c.FIN[0], from: laneClient, to: peer, label: "FIN"})
	}
	if !c.FIN[1].IsZero() {
		add(flowMsg{ref: c.FIN[1], from: peer, to: laneClient, label: "FIN", answers: true})
	}
	for _, e := range c.ICMP() {
		add(icmpMsg(e, peer, c.Client.Addr(), c.Server.Addr()))
	}
	slices.SortStableFunc(fc.msgs, func(a, b flowMsg) int { return refCompare(a.ref, b.ref) })
	// One GOAWAY answers every request it left unanswered: draw it once.
	fc.msgs = slices.CompactFunc(fc.msgs, func(a, b flowMsg) bool {
		return a.ref == b.ref && a.from == b.from && a.to == b.to && a.label == b.label
	})
	// Title and outcome.
	dst := addrPort(c.Server)
	if tun != nil {
		dst = tun.Target + " via " + addrPort(c.Server)
	}
	fc.title = fmt.Sprintf("%s → %s", addrPort(c.Client), dst)
	fc.outcome = flowConnOutcome(c, s, tun, hx)
	return fc
}

// tlsMsgs adds the handshake messages and alerts of a session. TLS runs
// end to end: through a tunnel the arrows cross the proxy's lifeline.
func tlsMsgs(s *decode.TLSSession, add func(flowMsg)) {
	tls13 := s.Version() == tlswire.VersionTLS13
	if ch := s.ClientHello; ch != nil {
		l := "ClientHello"
		if ch.ServerName != "" {
			l += " SNI " + ch.ServerName
		}
		if len(ch.ALPN) > 0 {
			l += " · ALPN " + strings.Join(ch.ALPN, ",")
		}
		if s.ClientHelloPackets > 1 {
			l += fmt.Sprintf(" · %d segments", s.ClientHelloPackets)
		}
		add(flowMsg{ref: s.ClientHelloAt, from: laneClient, to: laneServer, kind: "tls", label: l, request: true})
	}
	if s.HelloRetry() != nil {
		add(flowMsg{ref: s.HelloRetryAt(), from: laneServer, to: laneClient, kind: "tls", label: "HelloRetryRequest", reply: true, answers: true})
	}
	if s.SecondClientHello() != nil {
		add(flowMsg{ref: s.SecondClientHelloAt(), from: laneClient, to: laneServer, kind: "tls", label: "ClientHello (second)", request: true})
	}
	if sh := s.ServerHello; sh != nil {
		l := "ServerHello " + tlswire.VersionName(sh.Version()) + " " + tlswire.CipherSuiteName(sh.CipherSuite)
		if a := s.ServerALPN(); a != "" {
			l += " · ALPN " + a
		}
		add(flowMsg{ref: s.ServerHelloAt, from: laneServer, to: laneClient, kind: "tls", label: l, reply: true, answers: true})
	}
	if cm := s.Certificates; cm != nil {
		l := "Certificate"
		if len(cm.Certificates) > 0 {
			leaf := cm.Certificates[0]
			l += " " + leaf.Subject
			if leaf.Issuer != "" {
				l += " · issuer " + leaf.Issuer
			}
			if n := len(cm.Certificates); n > 1 {
				l += fmt.Sprintf(" · %d certificates", n)
			}
		}
		add(flowMsg{ref: s.CertificatesAt, from: laneServer, to: laneClient, kind: "tls", label: l, reply: true, answers: true, dec: tls13 && s.Decrypted})
	} else if tls13 && !s.Decrypted && !s.Dirs[tlswire.ServerToClient].ProtectedFrom.IsZero() {
		add(flowMsg{ref: s.Dirs[tlswire.ServerToClient].ProtectedFrom, from: laneServer, to: laneClient, kind: "tls", label: "encrypted handshake (certificate not visible without keys)", reply: true, answers: true})
	}
	for _, a := range s.Alerts {
		from, to := laneServer, laneClient
		who := "server"
		if a.From == tlswire.ClientToServer {
			from, to, who = laneClient, laneServer, "client"
		}
		l := "alert " + a.Name()
		if a.Fatal() {
			l = "fatal " + l
		}
		l += " from " + who
		add(flowMsg{ref: a.At, from: from, to: to, kind: "tls", label: l, dec: a.Encrypted && a.Known(), answers: from == laneServer})
	}
}

// flowConnOutcome says in a few words how a connection ended.
func flowConnOutcome(c *decode.TCPConn, s *decode.TLSSession, tun *decode.Tunnel, hx []*decode.HTTPExchange) string {
	var parts []string
	switch {
	case len(c.SYN()) > 0 && c.SYNACK.IsZero() && len(c.Resets()) > 0:
		parts = append(parts, "refused")
	case len(c.SYN()) > 0 && c.SYNACK.IsZero():
		parts = append(parts, "no answer to SYN")
	}
	if tun != nil && tun.Status != 0 {
		parts = append(parts, fmt.Sprintf("%s %d", tun.Kind, tun.Status))
	}
	if s != nil {
		if v := s.Version(); v != 0 {
			parts = append(parts, tlswire.VersionName(v))
		}
		if a := s.ServerALPN(); a != "" {
			parts = append(parts, a)
		}
		for _, a := range s.Alerts {
			if a.Fatal() {
				parts = append(parts, a.Name())
				break
			}
		}
	}
	if len(hx) > 0 {
		parts = append(parts, plural(len(hx), "request"))
	}
	if len(c.Resets()) > 0 && !c.SYNACK.IsZero() {
		parts = append(parts, "reset")
	}
	if len(parts) == 0 {
		return c.App.String()
	}
	return strings.Join(parts, ", ")
}

// flowHTML renders the flow graph section.
func flowHTML(rep *Report, ev *decode.Events) template.HTML {
	if ev == nil {
		return ""
	}
	hosts := flowModel(rep, ev)
	if len(hosts) == 0 {
		return ""
	}
	var b strings.Builder
	budget := flowRowBudget
	b.WriteString(`<h2 id="flow">Flow graph</h2>` + "\n")
	b.WriteString(`<p class="fl-help">One diagram per host: client, resolver, proxy, middlebox and server from left to right, time downwards. ` +
		`Highlighted arrows are the packets a finding cites, named on the right; <span class="fl-dec-key">[decrypted]</span> marks messages read with TLS keys; dashed arrows are answers; ` +
		`gaps of a second or more are shortened and labelled. Open a connection below its host for its own diagram.</p>` + "\n")
	drawn := 0
	var undrawn []*flowHost
	for _, h := range hosts {
		if drawn >= flowMaxHostsDrawn && !h.flagged || budget <= 0 {
			undrawn = append(undrawn, h)
			continue
		}
		drawn++
		writeFlowHost(&b, rep, h, &budget)
	}
	if len(undrawn) > 0 {
		fmt.Fprintf(&b, `<details class="fl-host"><summary>%s without findings not drawn (the JSON report lists their events)</summary><table class="fl-rest"><tr><th>host</th><th>DNS</th><th>connections</th><th>first packet</th></tr>`,
			esc(plural(len(undrawn), "more host")))
		for i, h := range undrawn {
			if i == 1000 {
				fmt.Fprintf(&b, `<tr><td colspan="4">… and %d more</td></tr>`, len(undrawn)-i)
				break
			}
			fmt.Fprintf(&b, `<tr><td><code>%s</code></td><td>%d</td><td>%d</td><td>%s</td></tr>`, esc(h.name), len(h.dns), len(h.conns), esc(h.first.String()))
		}
		b.WriteString("</table></details>\n")
	}
	return template.HTML(b.String())
}

func writeFlowHost(b *strings.Builder, rep *Report, h *flowHost, budget *int) {
	open := ""
	if h.flagged {
		open = " open"
	}
	cls := "fl-host"
	if h.flagged {
		cls += " fl-" + h.worst.String()
	}
	var badConns, okConns []*flowConn
	for _, c := range h.conns {
		if c.flagged {
			badConns = append(badConns, c)
		} else {
			okConns = append(okConns, c)
		}
	}
	var counts []string
	if len(h.dns) > 0 {
		counts = append(counts, plural(len(h.dns), "DNS message"))
	}
	if len(h.conns) > 0 {
		counts = append(counts, plural(len(h.conns), "connection"))
	}
	fmt.Fprintf(b, `<details class="%s"%s><summary><code>%s</code> — %s`, cls, open, esc(h.name), esc(strings.Join(counts, ", ")))
	if len(badConns) > 0 {
		fmt.Fprintf(b, `, <b class="%s">%d with findings</b>`, h.worst, len(badConns))
	}
	if h.verdict != "" {
		fmt.Fprintf(b, ` <span class="fl-verdict">%s</span>`, esc(h.verdict))
	}
	b.WriteString("</summary>\n")
	// The overview: DNS, every connection with findings, and the first
	// few without.
	msgs := slices.Clone(h.dns)
	shown := 0
	for _, c := range h.conns {
		if c.flagged || shown < flowOverviewConns {
			msgs = append(msgs, c.msgs...)
			if !c.flagged {
				shown++
			}
		}
	}
	hidden := len(h.conns) - len(badConns) - shown
	writeFlowSVG(b, rep, h, msgs, budget)
	if hidden > 0 {
		fmt.Fprintf(b, `<p class="fl-note">%s without findings are not in this diagram; open them below.</p>`, esc(plural(hidden, "more connection")))
	}
	if len(h.conns) > 1 {
		writeConnList(b, rep, h, badConns, okConns, budget)
	}
	b.WriteString("</details>\n")
}

func writeConnList(b *strings.Builder, rep *Report, h *flowHost, bad, ok []*flowConn, budget *int) {
	drawn := 0
	one := func(c *flowConn) {
		cls := "fl-conn"
		if c.flagged {
			cls += " fl-" + c.worst.String()
		}
		fmt.Fprintf(b, `<details class="%s"><summary>%s <code>%s</code> %s</summary>`, cls, esc(c.first.String()), esc(c.title), esc(c.outcome))
		writeFlowSVG(b, rep, h, c.msgs, budget)
		b.WriteString("</details>\n")
	}
	b.WriteString(`<div class="fl-conns">`)
	for _, c := range bad {
		one(c)
	}
	var rest []*flowConn
	for _, c := range ok {
		if drawn < flowMaxConnDrawn && *budget > 0 {
			one(c)
			drawn++
		} else {
			rest = append(rest, c)
		}
	}
	if len(rest) > 0 {
		fmt.Fprintf(b, `<details class="fl-conn"><summary>%s without findings, listed</summary><table class="fl-rest"><tr><th>first packet</th><th>connection</th><th>outcome</th></tr>`, esc(plural(len(rest), "more connection")))
		for i, c := range rest {
			if i == 2000 {
				fmt.Fprintf(b, `<tr><td colspan="3">… and %d more (see the JSON report)</td></tr>`, len(rest)-i)
				break
			}
			fmt.Fprintf(b, `<tr><td>%s</td><td><code>%s</code></td><td>%s</td></tr>`, esc(c.first.String()), esc(c.title), esc(c.outcome))
		}
		b.WriteString("</table></details>")
	}
	b.WriteString("</div>\n")
}

// flowRow is one vertical step of a diagram: an arrow or a gap.
type flowRow struct {
	msg *flowMsg
	gap string
}

// writeFlowSVG draws one sequence diagram.
func writeFlowSVG(b *strings.Builder, rep *Report, h *flowHost, msgs []flowMsg, budget *int) {
	if len(msgs) == 0 {
		return
	}
	slices.SortStableFunc(msgs, func(a, b flowMsg) int {
		if c := refCompare(a.ref, b.ref); c != 0 {
			return c
		}
		if c := cmp.Compare(a.conn, b.conn); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	more := 0
	if len(msgs) > flowMaxRows {
		more = len(msgs) - flowMaxRows
		msgs = msgs[:flowMaxRows]
	}
	*budget -= len(msgs)
	// Lanes in use.
	var used [laneCount]bool
	for _, m := range msgs {
		used[m.from], used[m.to] = true, true
	}
	used[laneClient] = true
	var x [laneCount]int
	n := 0
	for i := range used {
		if used[i] {
			x[i] = flowLeftW + n*flowLaneW + flowLaneW/2
			n++
		}
	}
	width := flowLeftW + n*flowLaneW + flowRightW
	// Rows with gaps.
	var rows []flowRow
	t0 := msgs[0].ref.Time()
	for i := range msgs {
		m := &msgs[i]
		if i > 0 {
			prev := &msgs[i-1]
			if d := m.ref.Time().Sub(prev.ref.Time()); d >= flowGap && prev.ref.Input == m.ref.Input {
				rows = append(rows, flowRow{gap: gapLabel(d, msgs[:i], m)})
			}
		}
		rows = append(rows, flowRow{msg: m})
	}
	if end := captureEnd(rep, int(msgs[len(msgs)-1].ref.Input)); !end.IsZero() {
		last := msgs[len(msgs)-1]
		if d := end.Sub(last.ref.Time()); d >= flowGap && unanswered(msgs) {
			rows = append(rows, flowRow{gap: fmt.Sprintf("%s — no answer until the capture ended", gapDur(d))})
		}
	}
	height := flowHeadH + 8
	for _, r := range rows {
		if r.msg != nil {
			height += flowRowH
		} else {
			height += flowGapH
		}
	}
	height += 10
	fmt.Fprintf(b, `<div class="fl-wrap"><svg class="fl" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="flow graph of %s">`,
		width, height, width, height, esc(h.name))
	// Lane heads and lifelines.
	for i := range used {
		if !used[i] {
			continue
		}
		fmt.Fprintf(b, `<g class="fl-lane fl-lane-%s"><text class="fl-head" x="%d" y="16">%s</text>`, laneNames[i], x[i], laneNames[i])
		addrs := sortedKeys(h.lanes[i])
		sub := strings.Join(addrs, ", ")
		if len(addrs) > 2 {
			sub = addrs[0] + fmt.Sprintf(" +%d", len(addrs)-1)
		}
		if i == laneMiddlebox && sub == "on path" {
			sub = "forged or injected"
		}
		fmt.Fprintf(b, `<text class="fl-sub" x="%d" y="32">%s<title>%s</title></text>`, x[i], esc(clip(sub, 30)), esc(strings.Join(addrs, ", ")))
		fmt.Fprintf(b, `<line class="fl-life" x1="%d" y1="40" x2="%d" y2="%d"/></g>`, x[i], x[i], height-6)
	}
	y := flowHeadH + 8
	for _, r := range rows {
		if r.msg == nil {
			fmt.Fprintf(b, `<g class="fl-gap"><rect x="0" y="%d" width="%d" height="%d"/><text x="%d" y="%d">%s</text></g>`,
				y+4, width, flowGapH-8, flowLeftW+8, y+flowGapH/2+4, esc(r.gap))
			y += flowGapH
			continue
		}
		m := r.msg
		cls := "fl-msg fl-" + m.kind
		if m.flagged {
			cls += " fl-hit fl-" + m.flagSev.String()
		}
		if m.reply {
			cls += " fl-reply"
		}
		if m.dec {
			cls += " fl-dec"
		}
		fmt.Fprintf(b, `<g class="%s" data-packet="%d" data-input="%d">`, cls, m.ref.Packet, m.ref.Input)
		if m.flagged {
			fmt.Fprintf(b, `<rect class="fl-band" x="0" y="%d" width="%d" height="%d"/>`, y, width, flowRowH)
		}
		ly := y + flowRowH - 7
		fmt.Fprintf(b, `<text class="fl-ref" x="6" y="%d">%s</text><text class="fl-time" x="%d" y="%d">+%s</text>`,
			ly, esc(evidenceRef(Evidence{At: m.ref}, len(rep.Inputs))), flowLeftW-8, ly, esc(relTime(m.ref.Time().Sub(t0))))
		x1, x2 := x[m.from], x[m.to]
		ay := y + flowRowH - 4
		label := m.label
		if m.dec {
			label += " [decrypted]"
		}
		full := label
		span := x2 - x1
		if span < 0 {
			span = -span
		}
		// A label may reach a little into the lanes beside its arrow.
		cw := flowCharW
		if m.flagged {
			cw = flowBoldCharW
		}
		maxChars := int(float64(max(span, flowLaneW)+flowLaneW*4/5) / cw)
		lx := (x1 + x2) / 2
		if span == 0 {
			lx = x1 + 8
		} else {
			// Keep a centred label clear of the packet column and of the
			// finding column.
			half := int(float64(len([]rune(clip(label, maxChars)))) * cw / 2)
			lx = max(lx, flowLeftW+half)
			lx = min(lx, flowLeftW+n*flowLaneW-half)
		}
		fmt.Fprintf(b, `<line class="fl-arrow" x1="%d" y1="%d" x2="%d" y2="%d"/>`, x1, ay, x2, ay)
		dir := 1
		if x2 < x1 {
			dir = -1
		}
		fmt.Fprintf(b, `<path class="fl-head-%s" d="M%d %d l%d -4 l0 8 z"/>`, m.kind, x2, ay, -7*dir)
		anchor := "middle"
		if span == 0 {
			anchor = "start"
		}
		fmt.Fprintf(b, `<text class="fl-label" x="%d" y="%d" text-anchor="%s">%s<title>%s</title></text>`,
			lx, ay-4, anchor, esc(clip(label, maxChars)), esc(clip(full, flowMaxLabelLength*4)))
		if m.flagged {
			ids := m.flagIDs[0]
			if len(m.flagIDs) > 1 {
				ids += fmt.Sprintf(" +%d", len(m.flagIDs)-1)
			}
			fmt.Fprintf(b, `<text class="fl-ids" x="%d" y="%d">%s<title>%s</title></text>`, flowLeftW+n*flowLaneW+6, ly,
				esc(clip(ids, 22)), esc(strings.Join(m.flagIDs, ", ")))
		}
		b.WriteString("</g>")
		y += flowRowH
	}
	b.WriteString("</svg>")
	if more > 0 {
		fmt.Fprintf(b, `<p class="fl-note">%s more not drawn.</p>`, esc(plural(more, "message")))
	}
	b.WriteString("</div>\n")
}

// gapLabel explains a pause: the request still waiting for an answer, or
// plain idle time.
func gapLabel(d time.Duration, before []flowMsg, next *flowMsg) string {
	if unanswered(before) {
		if next.request {
			return gapDur(d) + " — no answer, then again"
		}
		if next.answers {
			return gapDur(d) + " — waiting"
		}
		return gapDur(d) + " — no answer"
	}
	return gapDur(d) + " — idle"
}

// unanswered reports whether the last request among msgs has no answer
// after it.
func unanswered(msgs []flowMsg) bool {
	for i := len(msgs) - 1; i >= 0; i-- {
		switch {
		case msgs[i].answers:
			return false
		case msgs[i].request:
			return true
		}
	}
	return false
}

func captureEnd(rep *Report, input int) time.Time {
	if input < 0 || input >= len(rep.Inputs) {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, rep.Inputs[input].Last)
	if err != nil {
		return time.Time{}
	}
	return t
}

func gapDur(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return duration(d)
}

func relTime(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < 100*time.Second {
		return fmt.Sprintf("%.3f s", d.Seconds())
	}
	return duration(d)
}

// clip shortens s to n runes with an ellipsis.
func clip(s string, n int) string {
	if n < 4 {
		n = 4
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// esc escapes capture text for HTML text and attribute values.
func esc(s string) string { return html.EscapeString(s) }

// flowCSS styles the flow graph and gives the whole report a dark mode and
// a print layout.
const flowCSS = `
:root{--fg:#222;--muted:#666;--bg:#fff;--line:#bbb;--dns:#1f6fb2;--tcp:#555;--tls:#7b3fb0;--proxy:#b35c00;--http:#1d7f4e;--icmp:#b00020;--err:#fde7ea;--warn:#fff4e0;--inf:#e6f6fb;--gap:#f3f3f3;--box:#ddd}
@media (prefers-color-scheme:dark){
:root{--fg:#e4e4e4;--muted:#a0a0a0;--bg:#16181c;--line:#555;--dns:#6cb4ff;--tcp:#bbb;--tls:#c79bff;--proxy:#ffb45e;--http:#6fd7a0;--icmp:#ff7b8e;--err:#4a1f27;--warn:#45361a;--inf:#173744;--gap:#24272d;--box:#333}
.finding p{color:var(--fg)}
tr.error td{background:var(--err)}tr.warning td{background:var(--warn)}tr.info td{background:var(--inf)}
td,th{border-color:var(--box)}
.error{color:#ff7b8e}.warning{color:#ffb45e}.info{color:#6cc8e6}
a{color:#8ab4ff}
}
body{background:var(--bg);color:var(--fg)}
.fl-help,.fl-note{color:var(--muted);font-size:.92em}
details.fl-host{border:1px solid var(--box);border-radius:4px;margin:.6em 0;padding:.3em .6em}
details.fl-host.fl-error{border-left:4px solid var(--icmp)}details.fl-host.fl-warning{border-left:4px solid var(--proxy)}
details.fl-host>summary,details.fl-conn>summary{cursor:pointer}
details.fl-conn{margin:.2em 0 .2em 1em;font-size:.95em}
.fl-verdict{color:var(--muted)}
.fl-wrap{overflow-x:auto;margin:.4em 0}
svg.fl{font:12px system-ui,sans-serif;display:block}
svg.fl text{fill:var(--fg)}
svg.fl .fl-head{font-weight:600;text-anchor:middle}
svg.fl .fl-sub{fill:var(--muted);font-size:11px;text-anchor:middle}
svg.fl .fl-life{stroke:var(--line);stroke-dasharray:2 3}
svg.fl .fl-ref,svg.fl .fl-time{font:11px ui-monospace,monospace;fill:var(--muted)}
svg.fl .fl-time{text-anchor:end}
svg.fl .fl-arrow{stroke-width:1.4}
svg.fl .fl-reply .fl-arrow{stroke-dasharray:5 3}
svg.fl .fl-dns .fl-arrow{stroke:var(--dns)}svg.fl .fl-head-dns{fill:var(--dns)}
svg.fl .fl-tcp .fl-arrow{stroke:var(--tcp)}svg.fl .fl-head-tcp{fill:var(--tcp)}
svg.fl .fl-tls .fl-arrow{stroke:var(--tls)}svg.fl .fl-head-tls{fill:var(--tls)}
svg.fl .fl-proxy .fl-arrow{stroke:var(--proxy)}svg.fl .fl-head-proxy{fill:var(--proxy)}
svg.fl .fl-http .fl-arrow{stroke:var(--http)}svg.fl .fl-head-http{fill:var(--http)}
svg.fl .fl-icmp .fl-arrow{stroke:var(--icmp)}svg.fl .fl-head-icmp{fill:var(--icmp)}
svg.fl .fl-dec .fl-label{font-style:italic}
svg.fl .fl-band{fill:var(--inf)}
svg.fl .fl-hit.fl-error .fl-band{fill:var(--err)}svg.fl .fl-hit.fl-warning .fl-band{fill:var(--warn)}
svg.fl .fl-hit .fl-label{font-weight:600}
svg.fl .fl-ids{font:11px ui-monospace,monospace;fill:var(--icmp)}
svg.fl .fl-gap rect{fill:var(--gap)}
svg.fl .fl-gap text{fill:var(--muted);font-style:italic}
.fl-dec-key{font-style:italic}
table.fl-rest{font-size:.9em}
@media print{
:root{--fg:#000;--muted:#444;--bg:#fff;--line:#999;--gap:#eee}
body{background:#fff;color:#000;max-width:none;margin:0}
.fl-wrap{overflow:visible}
svg.fl{max-width:100%;height:auto;break-inside:avoid}
details.fl-host{break-inside:avoid-page}
details>summary{list-style:none}
}
`
