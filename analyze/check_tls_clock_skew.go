package analyze

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

var checkTLSClockSkew = &Check{ID: "tls-clock-skew", Layer: "tls", Severity: Warning,
	SeverityNote: "error when the skew explains a certificate rejected as expired or not yet valid",
	Title:        "the capturing machine's clock is far from the servers'",
	Doc: "Packet times come from the capturing machine's clock. Servers' HTTP Date headers (RFC 9110 §6.6.1, seen " +
		"with keys) more than 5 minutes away from the packets' times, or a certificate from a CA the analysis trusts " +
		"served before its notBefore (public CAs do not hand out certificates from the future), show the machine's " +
		"clock is wrong — and then valid certificates look expired or not yet valid to the go command " +
		"(`x509: certificate has expired or is not yet valid: current time …`). An NTP reply's transmit timestamp " +
		"(RFC 5905) measures the clock the same way; NTP requests left unanswered are named as the reason the clock " +
		"could not set itself.",
	Role: RoleCause,
	GoErrors: []string{
		"x509: certificate has expired or is not yet valid: current time 2026-01-01T00:00:00Z is after 2025-12-31T00:00:00Z",
	},
	run: runTLSClockSkew}

// maxClockSkew is the skew below which clocks count as agreeing: HTTP
// dates have one-second resolution, CAs backdate notBefore by minutes.
const maxClockSkew = 5 * time.Minute

// skewSample is one measure of the server's clock minus the packet's.
type skewSample struct {
	skew time.Duration
	ev   Evidence
	host string
}

// clockSamples measures the servers' clocks against the packets' times.
func (ctx *Context) clockSamples() []skewSample {
	var samples []skewSample
	for _, h := range ctx.Events.HTTP {
		if h.Date.IsZero() || h.Response.IsZero() {
			continue
		}
		d := h.Date.Sub(h.Response.Time())
		samples = append(samples, skewSample{d, evidence(h.Response, "Date: %s (the packet's time is %s)",
			h.Date.UTC().Format(time.RFC1123), h.Response.Time().UTC().Format(time.RFC3339)), httpHost(ctx, h)})
	}
	// An NTP reply: the server's clock when it sent the reply, against
	// the packet's time (the path's delay is far below maxClockSkew).
	for _, x := range ctx.Events.NTP {
		if x.Response.IsZero() || x.Transmit.IsZero() || x.Stratum == 0 || x.Stratum > 15 {
			continue
		}
		samples = append(samples, skewSample{x.Transmit.Sub(x.Response.Time()), evidence(x.Response,
			"NTP reply from %s (stratum %d): the server's time is %s, the packet's %s", x.Server, x.Stratum,
			x.Transmit.UTC().Format(time.RFC3339), x.Response.Time().UTC().Format(time.RFC3339)), x.Server.Addr().String()})
	}
	// A certificate served before its notBefore by a server whose chain
	// the analysis trusts: the packet's clock is behind by at least that.
	for _, s := range ctx.Events.TLS {
		sc := ctx.chainOf(s)
		chain := sc.certs
		at := s.CertificatesAt.Time()
		if len(chain) == 0 || at.IsZero() || !at.Before(chain[0].Info.NotBefore.Add(-maxClockSkew)) {
			continue
		}
		if v := sc.v; !v.Trusted && !v.TrustedByUser {
			continue
		}
		leaf := chain[0].Info
		samples = append(samples, skewSample{leaf.NotBefore.Sub(at), evidence(s.CertificatesAt,
			"certificate for %s from %s, not valid before %s", displayName(&leaf.Subject), displayName(&leaf.Issuer),
			leaf.NotBefore.UTC().Format(time.RFC3339)), sessionHost(ctx, s)})
	}
	return samples
}

// clockSkew returns the median of the servers' clocks minus the packets'
// (positive: this machine is behind) and the sample it came from; ok is
// false when it is within maxClockSkew or unknown. One server with a wrong
// clock does not make the machine's wrong.
func (ctx *Context) clockSkew() (skew time.Duration, mid skewSample, samples []skewSample, ok bool) {
	samples = ctx.clockSamples()
	if len(samples) == 0 {
		return 0, skewSample{}, nil, false
	}
	sorted := slices.Clone(samples)
	slices.SortStableFunc(sorted, func(a, b skewSample) int { return cmp.Compare(a.skew, b.skew) })
	mid = sorted[len(sorted)/2]
	return mid.skew, mid, samples, mid.skew.Abs() > maxClockSkew
}

// clockNote is a sentence for tls-expired: whose clock is wrong, or "".
func (ctx *Context) clockNote() string {
	skew, _, _, ok := ctx.clockSkew()
	if !ok {
		return ""
	}
	dir := "behind"
	if skew < 0 {
		dir = "ahead of"
	}
	return fmt.Sprintf("This capture shows this machine's clock %s %s the servers' (tls-clock-skew): fix this machine's clock first.",
		duration(skew.Abs()), dir)
}

func runTLSClockSkew(ctx *Context) []Finding {
	skew, mid, samples, ok := ctx.clockSkew()
	if !ok {
		return nil
	}
	f := Finding{Severity: Warning, Host: mid.host}
	dir := "behind"
	if skew < 0 {
		dir = "ahead of"
	}
	f.Summary = fmt.Sprintf("this machine's clock is %s %s the servers'", duration(skew.Abs()), dir)
	f.Expected = fmt.Sprintf("packet times within %s of the servers' clocks", duration(maxClockSkew))
	f.Observed = fmt.Sprintf("%d measure(s) of the servers' clocks; median: the servers are %s %s", len(samples), duration(skew.Abs()),
		map[bool]string{true: "ahead", false: "behind"}[skew > 0])
	for _, sm := range samples {
		f.Evidence = append(f.Evidence, sm.ev)
	}
	if n, first := unansweredNTP(ctx); n > 0 {
		f.Observed += fmt.Sprintf("; %d NTP request(s) went unanswered, so the clock could not set itself", n)
		f.Evidence = append(f.Evidence, evidence(first, "NTP request, never answered"))
	}
	// Does the skew explain a certificate the client rejected?
	for _, s := range ctx.Events.TLS {
		a := clientFatalAlert(s)
		chain := parsedChain(s.Certificates)
		if a == nil || len(chain) == 0 {
			continue
		}
		at := s.CertificatesAt.Time()
		if ctx.trust().validAtAny(chain, at) || !ctx.trust().validAtAny(chain, at.Add(skew)) {
			continue
		}
		f.Severity = Error
		f.Summary += fmt.Sprintf(": %s's valid certificate looked expired or not yet valid to the client", sessionHost(ctx, s))
		f.Observed += fmt.Sprintf("; %s's chain is valid at the servers' time but not at this machine's, and the client sent %s",
			sessionHost(ctx, s), a.Name())
		f.Evidence = append(f.Evidence, evidence(a.At, "client alert %s", a.Name()))
		break
	}
	f.Hint = "Set the clock: `timedatectl set-ntp true` (systemd), `sudo ntpdate pool.ntp.org` or `chronyc makestep`; in " +
		"a VM or container the host's clock counts (a suspended laptop VM, a CI runner restored from a snapshot); on a " +
		"board without a battery-backed clock NTP must be reachable (UDP 123). The go command's " +
		"`certificate has expired or is not yet valid: current time …` names the time it used."
	return []Finding{f}
}

// unansweredNTP counts the NTP requests that got no reply (or a
// kiss-o'-death) and returns the first.
func unansweredNTP(ctx *Context) (n int, first capture.Ref) {
	for _, x := range ctx.Events.NTP {
		if x.Response.IsZero() || x.Stratum == 0 {
			if n == 0 {
				first = x.Query
			}
			n++
		}
	}
	return n, first
}

// clientFatalAlert returns the client's first fatal alert, or nil.
func clientFatalAlert(s *decode.TLSSession) *tlswire.Alert {
	for i := range s.Alerts {
		if s.Alerts[i].From == tlswire.ClientToServer && s.Alerts[i].Fatal() {
			return &s.Alerts[i]
		}
	}
	return nil
}
