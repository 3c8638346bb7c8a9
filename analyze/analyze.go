package analyze

import (
	"crypto/x509"
	"net/netip"
)

// Options are the user's choices that change verdicts.
type Options struct {
	// Trust holds CAs the user accepts (a corporate CA): chains ending in
	// them are not foreign.
	Trust []*x509.Certificate
	// SystemRoots trusts the operating system's store instead of the
	// embedded Mozilla bundle.
	SystemRoots bool
	// StreamEvents leaves Report.Events empty: rendering the report as JSON
	// then converts and writes the decoded events one by one (the JSON form
	// of 80,000 sessions is a third of the memory otherwise); the other
	// formats convert them all when they render. It also leaves the texts
	// and evidence of the findings a dense capture has one per host
	// (tls-foreign-issuer, tls-cert-hidden) unbuilt, to be built as each
	// is written (Finding.text). For a caller that renders the report and
	// reads neither Events nor those findings' fields itself.
	StreamEvents bool
	// AllowAddrs declares address ranges that are legitimate answers (a
	// split-horizon mirror).
	AllowAddrs []netip.Prefix
	// Interceptors are interception products the user adds to the
	// built-in table (--interceptors); they are tried first.
	Interceptors []UserInterceptor
}

// Build analyzes the inputs and returns the report.
func Build(inputs []*Input, opt Options) *Report {
	ev := Merge(inputs)
	ctx := &Context{Events: ev, Inputs: inputs, Opt: opt}
	rep := &Report{Schema: Schema, Inputs: []InputInfo{}}
	for _, in := range inputs {
		rep.Inputs = append(rep.Inputs, inputInfo(in))
	}
	rep.Findings = run(ctx)
	ctx.releaseCheckState()
	rep.Hosts = hosts(ctx, rep.Findings)
	if opt.StreamEvents {
		rep.lazy = ev
	} else {
		rep.Events = eventsJSON(ev)
	}
	if m := ctx.Meta(); m != nil {
		rep.buildTexts() // GoErrorSummary quotes findings
		rep.Context = &CaptureContext{Command: m.Command, ExitStatus: m.ExitStatus, GoVersion: m.GoVersion,
			GoEnv: m.GoEnv, Probe: m.Probe, Keys: m.Keys, KeysNotCovered: m.KeysNotCovered}
		rep.Context.GoSaid = GoErrorSummary(m, rep)
	}
	return rep
}
