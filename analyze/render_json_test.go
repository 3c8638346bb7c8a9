package analyze

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/pipeline"
)

// TestStreamedJSONIsEncoderJSON checks that the streamed JSON report is
// byte for byte what encoding/json writes for the whole report: empty and
// nil arrays, omitted fields, HTML characters left unescaped, nested
// objects inside streamed array elements.
func TestStreamedJSONIsEncoderJSON(t *testing.T) {
	exit := 1
	reports := map[string]*Report{
		"empty": {},
		"empty arrays": {Schema: Schema, Inputs: []InputInfo{}, Findings: []Finding{}, Hosts: []Host{},
			Events: EventsJSON{DNS: []DNSJSON{}, TLS: []TLSJSON{}}},
		"full": {
			Schema: Schema,
			Inputs: []InputInfo{{Path: "a <b> & c.pcapng", Packets: 3, LinkTypes: []string{"Ethernet"}, Errors: []InputError{},
				Notes: []string{"x"}}},
			Findings: []Finding{{ID: "tls-alert", Severity: Error, Layer: "tls", Host: "h", Summary: "s <x>",
				Evidence: []Evidence{{Detail: "d"}}, Hint: "h & i"}},
			Hosts: []Host{{Name: "proxy.golang.org", Role: "module proxy", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}},
			Events: EventsJSON{
				DNS: []DNSJSON{{Name: "a.example", Type: "A", Retries: []int{2}, Responses: []DNSRespJSON{{}}},
					{Name: "b.example", Type: "AAAA"}},
				TLS:   []TLSJSON{{}},
				Proxy: []TunnelJSON{{Target: "x:443"}},
			},
			Context: &CaptureContext{Command: []string{"go", "mod", "download"}, ExitStatus: &exit},
		},
	}
	for name, rep := range reports {
		t.Run(name, func(t *testing.T) {
			var want, got bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(rep); err != nil {
				t.Fatal(err)
			}
			if err := renderJSON(&got, rep); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("streamed JSON differs from encoding/json:\n got: %s\nwant: %s", got.Bytes(), want.Bytes())
			}
		})
	}
}

// TestStreamedEventsAreTheBuiltEvents renders sample captures twice, with
// the events converted up front and streamed from the decoded events
// (Options.StreamEvents), and wants the same bytes in every format.
func TestStreamedEventsAreTheBuiltEvents(t *testing.T) {
	t.Run("sequential", func(t *testing.T) { testStreamedEvents(t) })
	// Every array in batches of two on three goroutines: the events of
	// every sample converted concurrently (run with -race).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	batch, least := arrayBatch, arrayParallelMin
	arrayBatch, arrayParallelMin = 2, 2
	defer func() { arrayBatch, arrayParallelMin = batch, least }()
	t.Run("parallel", func(t *testing.T) { testStreamedEvents(t) })
}

func testStreamedEvents(t *testing.T) {
	paths, _ := filepath.Glob("../samples/*.pcapng")
	if len(paths) < 10 {
		t.Fatalf("%d sample captures found", len(paths))
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			in, err := pipeline.Open(0, path, nil, decode.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, format := range Formats {
				var want, got bytes.Buffer
				if err := Render(&want, Build([]*Input{in}, Options{}), format, RenderOptions{}); err != nil {
					t.Fatal(err)
				}
				if err := Render(&got, Build([]*Input{in}, Options{StreamEvents: true}), format, RenderOptions{}); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Errorf("%s: streamed events differ from the built ones", format)
				}
			}
		})
	}
}

// TestParallelArraysAreEncoderJSON renders a report whose arrays are long
// enough to be encoded in parallel batches (findings, hosts and every
// events stream) and wants encoding/json's bytes for the same report with
// its events converted up front: order, separators and the last element
// of each batch included.
func TestParallelArraysAreEncoderJSON(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3)) // parallel even on one core
	ev := foreignEvents(t, 4*arrayParallelMin)
	more := hostsEvents(3 * arrayParallelMin)
	ev.DNS, ev.TCP, ev.TLS = append(ev.DNS, more.DNS...), append(ev.TCP, more.TCP...), append(ev.TLS, more.TLS...)
	ctx := &Context{Events: ev}
	findings := run(ctx)
	if len(findings) < arrayParallelMin+arrayBatch/2 {
		t.Fatalf("%d findings: too few for parallel batches", len(findings))
	}
	rep := &Report{Schema: Schema, Inputs: []InputInfo{}, Findings: findings, Hosts: hosts(ctx, findings), Events: eventsJSON(ev)}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep); err != nil {
		t.Fatal(err)
	}
	streamed := *rep
	streamed.Events, streamed.lazy = EventsJSON{}, ev
	for _, r := range []*Report{rep, &streamed} {
		var got bytes.Buffer
		if err := renderJSON(&got, r); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			i := 0
			for i < min(got.Len(), want.Len()) && got.Bytes()[i] == want.Bytes()[i] {
				i++
			}
			t.Fatalf("parallel JSON differs from encoding/json at byte %d of %d: got %q, want %q", i, want.Len(),
				got.Bytes()[max(i-40, 0):min(i+40, got.Len())], want.Bytes()[max(i-40, 0):min(i+40, want.Len())])
		}
	}
}

// TestFindingTextsAreBuiltAsWritten analyzes sessions with foreign chains
// and TLS 1.3 sessions without keys with their findings' texts left
// unbuilt (Options.StreamEvents): those findings hold no text until
// written, and the JSON report, the host verdicts and the texts built in
// place are those of findings built whole.
func TestFindingTextsAreBuiltAsWritten(t *testing.T) {
	ev := foreignEvents(t, 4*arrayParallelMin)
	more := hostsEvents(2 * arrayParallelMin)
	ev.DNS, ev.TCP, ev.TLS = append(ev.DNS, more.DNS...), append(ev.TCP, more.TCP...), append(ev.TLS, more.TLS...)
	eager := &Context{Events: ev}
	lazy := &Context{Events: ev, Opt: Options{StreamEvents: true}}
	want, got := run(eager), run(lazy)
	n := map[string]int{}
	for i := range got {
		if got[i].ID != checkTLSForeignIssuer.ID && got[i].ID != checkTLSCertHidden.ID {
			continue
		}
		n[got[i].ID]++
		if got[i].text == nil || got[i].Summary != "" || got[i].Hint != "" || len(got[i].Evidence) != 1 ||
			got[i].Evidence[0].Detail != "" || got[i].WiresharkFilter != "" {
			t.Fatalf("finding %d holds its texts: %+v", i, got[i])
		}
	}
	for _, id := range []string{checkTLSForeignIssuer.ID, checkTLSCertHidden.ID} {
		if n[id] < arrayParallelMin {
			t.Fatalf("%d %s findings, want at least %d", n[id], id, arrayParallelMin)
		}
	}
	render := func(ctx *Context, fs []Finding) []byte {
		rep := &Report{Schema: Schema, Inputs: []InputInfo{}, Findings: fs, Hosts: hosts(ctx, fs), lazy: ev}
		var b bytes.Buffer
		if err := renderJSON(&b, rep); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	if w, g := render(eager, want), render(lazy, got); !bytes.Equal(g, w) {
		t.Fatalf("JSON of unbuilt texts differs:\n got %.2000s\nwant %.2000s", g, w)
	}
	wantHosts, gotHosts := hosts(eager, want), hosts(lazy, got)
	for i := range wantHosts {
		if g, w := gotHosts[i].Verdict(), wantHosts[i].Verdict(); g != w {
			t.Errorf("host %s: verdict %q, want %q", wantHosts[i].Name, g, w)
		}
		if g, w := gotHosts[i].Interception.Evidence(), wantHosts[i].Interception.Evidence(); !slices.Equal(g, w) {
			t.Errorf("host %s: interception evidence %v, want %v", wantHosts[i].Name, g, w)
		}
	}
	rep := &Report{Findings: got}
	rep.buildTexts()
	if !reflect.DeepEqual(rep.Findings, want) {
		t.Errorf("texts built in place differ from findings built whole")
	}
}
