package analyze

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"path/filepath"
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
