package analyze

import (
	"fmt"
	"time"

	"github.com/modsniff/modsniff/decode"
)

// checkTCPPMTUBlackhole reports path-MTU black holes (RFC 2923 §2.1): full
// size segments that never arrive while smaller ones do.
var checkTCPPMTUBlackhole = &Check{ID: "tcp-pmtu-blackhole", Layer: "tcp", Severity: Error,
	Title: "full-size segments never arrive while small ones do: a path-MTU black hole",
	Doc: "The receiver's cumulative ACK stops at one segment and never moves again, although duplicate ACKs show " +
		"that later, smaller segments (or the FIN) arrive; the sender retransmits the same full-size segment, or " +
		"the receiver gives up. Evidence: the advertised MSS, the largest segment that got through, and any ICMP " +
		"\"fragmentation needed\" / ICMPv6 \"packet too big\" (with its next-hop MTU) or their absence. A hop with " +
		"a smaller MTU (VPN, Docker over VPN, overlay network, PPPoE) drops the big packets and its ICMP is " +
		"filtered. The go command says `net/http: TLS handshake timeout` or hangs. Loss that a retransmission " +
		"repairs, and a capture that simply ends, are not reported.",
	Role:           RoleCause,
	RestsOnSilence: true,
	GoErrors: []string{
		"net/http: TLS handshake timeout",
	},
	run: runTCPPMTUBlackhole}

// minBlackholeSegment is the smallest segment a black hole can swallow: every
// IPv4 path carries 576-byte datagrams (RFC 791), a 536-byte payload.
const minBlackholeSegment = 536

func runTCPPMTUBlackhole(ctx *Context) []Finding {
	var out []Finding
	for _, c := range ctx.Events.TCP {
		if c.RoleGuessed {
			continue // no handshake: neither the MSS nor the sizes that passed are known
		}
		for dir := range 2 {
			if f, ok := pmtuBlackhole(ctx, c, dir); ok {
				out = append(out, f)
			}
		}
	}
	return out
}

func pmtuBlackhole(ctx *Context, c *decode.TCPConn, dir int) (Finding, bool) {
	p := c.Path[dir]
	st := c.Stall(dir)
	maxSegment, maxAcked := int(p.MaxSegment), int(p.MaxAcked)
	if st == nil || st.DupAcks == 0 {
		return Finding{}, false
	}
	end := c.Last
	if !st.Closed.IsZero() {
		end = st.Closed
	}
	if end.Time().Sub(st.Since.Time()) < time.Second {
		return Finding{}, false // too short to tell from loss a retransmission will repair
	}
	// Seen from the sender: the same full-size segment again and again,
	// never acknowledged, and nothing that big ever got through.
	senderView := st.Retrans >= 2 && st.RetransSize >= minBlackholeSegment && st.RetransSize >= maxSegment &&
		maxAcked < st.RetransSize && st.LastRetrans.Time().Sub(st.FirstRetrans.Time()) >= 500*time.Millisecond
	// Seen from the receiver: bytes at the stall point never arrived, a
	// smaller segment after them did, and the receiver gave up.
	receiverView := st.Hole >= minBlackholeSegment && st.HoleNext < int(st.Hole) && !st.Closed.IsZero() && st.Retrans == 0
	if !senderView && !receiverView {
		return Finding{}, false
	}
	sender, receiver := c.Client, c.Server
	if dir == 1 {
		sender, receiver = c.Server, c.Client
	}
	hdr := 52 // IPv4 + TCP + timestamps
	if sender.Addr().Is6() {
		hdr = 72
	}
	host := ctx.connHost(c)
	var ev []Evidence
	mss := "no MSS option seen"
	if len(c.SYN()) > 0 {
		ev = append(ev, evidence(c.SYN()[0], "SYN from %s announcing MSS %d", c.Client, c.Path[0].MSS))
	}
	if !c.SYNACK.IsZero() {
		ev = append(ev, evidence(c.SYNACK, "SYN-ACK from %s announcing MSS %d", c.Server, c.Path[1].MSS))
	}
	if m := c.Path[1-dir].MSS; m > 0 {
		mss = fmt.Sprintf("%s announced MSS %d", receiver.Addr(), m)
	}
	ev = append(ev, evidence(st.Since, "duplicate ACK from %s: a later segment arrived, the one at relative sequence %d did not", receiver, st.Ack+1))
	if st.LastDupAck != st.Since {
		ev = append(ev, evidence(st.LastDupAck, "duplicate ACK %d of %d", st.DupAcks, st.DupAcks))
	}
	missing := st.RetransSize
	var observed string
	if senderView {
		ev = append(ev, evidence(st.FirstRetrans, "%d-byte segment retransmitted", st.RetransSize),
			evidence(st.LastRetrans, "%d-byte segment retransmitted again (%d times in %s), still unacknowledged", st.RetransSize,
				st.Retrans, duration(st.LastRetrans.Time().Sub(st.FirstRetrans.Time()))))
		observed = fmt.Sprintf("%s retransmitted a %d-byte segment %d times without an ACK while smaller ones got through "+
			"(largest acknowledged: %d bytes; %s)", sender, st.RetransSize, st.Retrans, p.MaxAcked, mss)
	} else {
		missing = int(st.Hole)
		if m := int(c.Path[1-dir].MSS); m > 0 && missing >= m-12 {
			missing = m - (hdr - 40) // a full-size segment: the MSS less the options
		}
		observed = fmt.Sprintf("%d bytes from %s never arrived while the %d-byte segment after them did (largest segment "+
			"that arrived: %d bytes; %s)", st.Hole, sender, st.HoleNext, p.MaxSegment, mss)
	}
	if !st.Closed.IsZero() {
		ev = append(ev, evidence(st.Closed, "%s gave up on the connection, %s after the stall began", receiver,
			duration(st.Closed.Time().Sub(st.Since.Time()))))
		observed += fmt.Sprintf("; %s gave up after %s", receiver, duration(st.Closed.Time().Sub(st.Since.Time())))
	}
	mtu := 0
	for _, e := range c.ICMP() {
		if e.Kind == "frag-needed" || e.Kind == "packet-too-big" {
			ev = append(ev, evidence(e.At, "ICMP %s from %s, next-hop MTU %d", e.Kind, e.From, e.MTU))
			if mtu == 0 || (e.MTU > 0 && e.MTU < mtu) {
				mtu = e.MTU
			}
		}
	}
	if mtu > 0 {
		observed += fmt.Sprintf("; a router said the next-hop MTU is %d (ICMP), and the sender went on sending bigger packets", mtu)
	} else {
		observed += "; no ICMP \"fragmentation needed\" / \"packet too big\" reached the capture"
	}
	suggest := mtu
	if suggest == 0 {
		suggest = 1400
		if sender.Addr().Is6() {
			suggest = 1280
		}
		if maxAcked > 0 && maxAcked+hdr < suggest {
			suggest = maxAcked + hdr
		}
	}
	f := Finding{
		Severity: Error, Host: host,
		Summary: fmt.Sprintf("packets of about %d bytes from %s to %s never arrive while smaller ones do: a path-MTU black hole",
			missing+hdr, sender.Addr(), receiver.Addr()),
		Expected: "every segment acknowledged (or an ICMP \"fragmentation needed\" that makes the sender shrink them)",
		Observed: observed,
		Evidence: capEvidence(ev, 12),
		Hint: fmt.Sprintf("A hop on the path (a VPN, Docker over a VPN, an overlay network, PPPoE) has a smaller MTU "+
			"than the interfaces, and the ICMP that should say so is filtered. Lower the MTU of the interface the "+
			"traffic leaves by to %d or less (`ip link set dev <iface> mtu %d`; for containers Docker's \"mtu\": %d in "+
			"/etc/docker/daemon.json or the network's com.docker.network.driver.mtu; the VPN client's MTU / "+
			"mssfix setting), or clamp the MSS on the router (`iptables -t mangle -A FORWARD -p tcp --tcp-flags "+
			"SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu`). The network must let ICMP type 3 code 4 (IPv4) and "+
			"ICMPv6 type 2 \"packet too big\" through.", suggest, suggest, suggest),
	}
	return f, true
}
