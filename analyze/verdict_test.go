package analyze

import (
	"slices"
	"testing"

	"github.com/modsniff/modsniff/capture"
)

// TestVerdictEvidenceNamesThePacketsBehindIt checks the packets each layer
// of a host's verdict rests on: the answer and the ServerHello of a
// healthy host, and every evidence packet of the finding that failed a
// layer.
func TestVerdictEvidenceNamesThePacketsBehindIt(t *testing.T) {
	healthy := hostsEvents(2)
	ctx := &Context{Events: healthy}
	hs := hosts(ctx, run(ctx))
	i := slices.IndexFunc(hs, func(h Host) bool { return h.Name == "h0.example.com" })
	if i < 0 {
		t.Fatalf("no host h0.example.com among %d", len(hs))
	}
	h := hs[i]
	x, s := healthy.DNS[0], healthy.TLS[0]
	if got, want := h.DNS.Evidence(), []capture.Ref{x.Responses[0].At}; h.DNS.State != OK || !slices.Equal(got, want) {
		t.Errorf("DNS %v: evidence %v, want the answer %v", h.DNS.State, got, want)
	}
	if got, want := h.TLS.Evidence(), []capture.Ref{s.ServerHelloAt}; h.TLS.Session != s || !slices.Equal(got, want) {
		t.Errorf("TLS: evidence %v, want the ServerHello %v", got, want)
	}
	if got := h.Interception.Evidence(); got != nil {
		t.Errorf("interception not failed: evidence %v, want none", got)
	}

	foreign := foreignEvents(t, 4)
	ctx = &Context{Events: foreign}
	fs := run(ctx)
	n := 0
	for _, h := range hosts(ctx, fs) {
		if h.Interception.State != Failed {
			continue
		}
		n++
		var want []capture.Ref
		for _, e := range h.Interception.Finding.Evidence {
			want = append(want, e.At)
		}
		if got := h.Interception.Evidence(); len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("%s: interception evidence %v, want the finding's %v", h.Name, got, want)
		}
	}
	if n == 0 {
		t.Fatal("no host failed for interception")
	}
}
