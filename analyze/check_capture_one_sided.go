package analyze

import (
	"fmt"
)

// checkCaptureOneSided reports captures in which most conversations show
// only one direction — a mirror port, an asymmetric route, `tcpdump -Q out`,
// a BPF filter naming one host — and, through downgradeOneSided, keeps the
// findings that rest on silence from blaming the network for it.
var checkCaptureOneSided = &Check{ID: "capture-one-sided", Layer: "input", Severity: Warning,
	Title: "most flows show only one direction",
	Doc: "Connections in which one side kept talking (ACKs, data after a handshake never seen, DNS responses to " +
		"queries never seen) while the other side left no packet at all: the capture sees one direction only. " +
		"Findings that rest on silence (timeouts, unanswered SYNs and queries, dropped hellos, stalls) are then " +
		"downgraded to info and say why; SYNs that are simply unanswered are not taken as proof of a one-sided " +
		"capture.",
	Role: RoleContext,
	run:  runCaptureOneSided}

// oneSided counts the flows that prove a one-sided capture and those that
// can be judged at all, per direction that is missing.
type oneSided struct {
	proven, judged int
	outboundOnly   int // the server's (or resolver's) side is missing
	ev             []Evidence
}

func (ctx *Context) oneSided() oneSided {
	var s oneSided
	for _, c := range ctx.Events.TCP {
		client, server := int(c.Packets[0]), int(c.Packets[1])
		switch {
		case client > 0 && server > 0:
			s.judged++
		case server == 0 && client-len(c.SYN()) >= 2:
			// ACKs or data from the client: it heard a SYN-ACK the capture never saw.
			s.judged++
			s.proven++
			s.outboundOnly++
			if len(s.ev) < 6 {
				s.ev = append(s.ev, evidence(c.First, "%s → %s: %d packets from the client, none from the server", c.Client, c.Server, client))
			}
		case client == 0 && c.Payload[1] > 0:
			s.judged++
			s.proven++
			if len(s.ev) < 6 {
				s.ev = append(s.ev, evidence(c.First, "%s → %s: %d packets from the server, none from the client", c.Server, c.Client, server))
			}
		}
	}
	for _, x := range ctx.Events.DNS {
		switch {
		case !x.Query.IsZero() && len(x.Responses) > 0:
			s.judged++
		case x.Query.IsZero() && len(x.Responses) > 0:
			s.judged++
			s.proven++
			if len(s.ev) < 6 {
				s.ev = append(s.ev, evidence(x.Responses[0].At, "DNS response for %s from %s to a query the capture never saw", x.Name, x.Server))
			}
		}
	}
	return s
}

// isOneSided reports whether most judged flows prove a one-sided capture.
func (s oneSided) isOneSided() bool { return s.proven >= 2 && 2*s.proven > s.judged }

func runCaptureOneSided(ctx *Context) []Finding {
	s := ctx.oneSided()
	if !s.isOneSided() {
		return nil
	}
	missing := "the servers' side (only outbound packets)"
	causes := "`tcpdump -Q out` or `--direction out`, an asymmetric route (replies come back on another interface), a mirror port that copies one direction"
	if 2*s.outboundOnly < s.proven {
		missing = "the clients' side (only inbound packets)"
		causes = "`tcpdump -Q in`, an asymmetric route (requests leave by another interface), a mirror port that copies one direction"
	}
	return []Finding{{
		Severity: Warning,
		Summary:  fmt.Sprintf("the capture sees one direction only: %d of %d conversations lack %s", s.proven, s.judged, missing),
		Expected: "both directions of every conversation",
		Observed: fmt.Sprintf("%d conversations in which one side kept talking while the other left no packet; findings that rest on silence are downgraded to info", s.proven),
		Evidence: s.ev,
		Hint: "Capture where both directions pass: on the machine running the go command with `-i any` and no " +
			"direction filter, or on a mirror port that copies both directions. Likely causes: " + causes + ".",
	}}
}

// downgradeOneSided turns the findings of checks that rest on silence into info when the
// capture is one-sided: the silence may be the capture's, not the network's.
func downgradeOneSided(ctx *Context, fs []Finding) []Finding {
	if !ctx.oneSided().isOneSided() {
		return fs
	}
	for i := range fs {
		if c := CheckByID(fs[i].ID); c != nil && c.RestsOnSilence && fs[i].Severity > Info {
			fs[i].Severity = Info
			fs[i].buildText()
			fs[i].Observed += "; the capture sees one direction only (capture-one-sided), so this silence may be the capture's, not the network's"
		}
	}
	return fs
}
