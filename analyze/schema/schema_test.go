package schema_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/analyze/schema"
	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/pipeline"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// compile compiles the embedded schema as draft 2020-12.
func compile(t testing.TB) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.Report))
	if err != nil {
		t.Fatalf("the schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("report.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("report.schema.json")
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return sch
}

// validate checks a JSON document against the schema.
func validate(sch *jsonschema.Schema, data []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}

func TestSchemaVersionMatchesReport(t *testing.T) {
	if schema.Version != analyze.Schema {
		t.Fatalf("schema.Version %d, analyze.Schema %d: bump both together", schema.Version, analyze.Schema)
	}
	var s struct {
		Schema string                    `json:"$schema"`
		Props  map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(schema.Report, &s); err != nil {
		t.Fatal(err)
	}
	if s.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %q, want draft 2020-12", s.Schema)
	}
	if c, _ := s.Props["schema"]["const"].(float64); int(c) != analyze.Schema {
		t.Errorf(`properties.schema.const = %v, want %d`, s.Props["schema"]["const"], analyze.Schema)
	}
}

// TestEverySampleReportValidates renders the JSON report of every sample
// capture (with its key log when it has one) and validates it.
func TestEverySampleReportValidates(t *testing.T) {
	sch := compile(t)
	paths, err := filepath.Glob("../../samples/*.pcapng")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no samples found: %v", err)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".pcapng"), func(t *testing.T) {
			opt := decode.Options{Certs: tlswire.NewCertCache(64)}
			if keys := strings.TrimSuffix(path, ".pcapng") + ".keys"; fileExists(keys) {
				kl := capture.NewKeyLog()
				if _, err := kl.ReadFile(keys); err != nil {
					t.Fatal(err)
				}
				opt.Keys = kl
			}
			in, err := pipeline.Open(0, path, nil, opt)
			if err != nil {
				t.Fatal(err)
			}
			rep := analyze.Build([]*analyze.Input{in}, analyze.Options{})
			var buf bytes.Buffer
			if err := analyze.Render(&buf, rep, "json", analyze.RenderOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := validate(sch, buf.Bytes()); err != nil {
				t.Fatalf("the report does not validate:\n%v", err)
			}
		})
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestSchemaIsStrictOnContractAndOpenToAdditions: a report lacking a
// contract field or with a wrong severity fails; one with fields the
// schema does not know passes.
func TestSchemaIsStrictOnContractAndOpenToAdditions(t *testing.T) {
	sch := compile(t)
	base := `{"schema":1,"inputs":[{"path":"x.pcapng","packets":1,"link_types":["EN10MB"],"errors":[]}],
	 "findings":[{"id":"dns-timeout","severity":"error","layer":"dns","host":"proxy.golang.org","summary":"s","expected":"e","observed":"o",
	   "evidence":[{"input":0,"packet":1,"time":"2024-01-01T00:00:00Z","detail":"d"}],"wireshark_filter":"frame.number == 1","hint":"h"}],
	 "hosts":[{"name":"proxy.golang.org","role":"goproxy","verdict":"v"}],
	 "events":{"dns":[],"tls":[]}}`
	cases := []struct {
		name string
		edit func(map[string]any)
		ok   bool
	}{
		{"minimal report", func(map[string]any) {}, true},
		{"added fields anywhere", func(m map[string]any) {
			m["new_top"] = true
			m["findings"].([]any)[0].(map[string]any)["new_field"] = []any{1}
			m["events"].(map[string]any)["quic"] = []any{}
		}, true},
		{"schema 2", func(m map[string]any) { m["schema"] = 2 }, false},
		{"no findings", func(m map[string]any) { delete(m, "findings") }, false},
		{"finding without hint", func(m map[string]any) { delete(m["findings"].([]any)[0].(map[string]any), "hint") }, false},
		{"unknown severity", func(m map[string]any) { m["findings"].([]any)[0].(map[string]any)["severity"] = "fatal" }, false},
		{"unknown role", func(m map[string]any) { m["hosts"].([]any)[0].(map[string]any)["role"] = "mirror" }, false},
		{"events without tls", func(m map[string]any) { delete(m["events"].(map[string]any), "tls") }, false},
		{"packet as string", func(m map[string]any) {
			m["findings"].([]any)[0].(map[string]any)["evidence"].([]any)[0].(map[string]any)["packet"] = "1"
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal([]byte(base), &m); err != nil {
				t.Fatal(err)
			}
			c.edit(m)
			data, _ := json.Marshal(m)
			err := validate(sch, data)
			if c.ok && err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !c.ok && err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
