// Package analyze turns decoded events into findings — which host, which
// layer (DNS, TCP, TLS, proxy, HTTP), what was expected and what was seen,
// the packets that prove it and what to change — and renders the report as
// text, JSON (the contract of DESIGN §3), Markdown or HTML.
package analyze

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/modsniff/modsniff/capture"
)

// Severity grades a finding: error explains a failure, warning is
// suspicious and may explain it, info is context.
type Severity int

const (
	Info Severity = iota
	Warning
	Error
)

// String returns "info", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "info"
}

// ParseSeverity parses "error", "warning" or "info".
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "error":
		return Error, nil
	case "warning", "warn":
		return Warning, nil
	case "info":
		return Info, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want error, warning or info)", s)
}

// MarshalJSON writes the severity as its name.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a severity name.
func (s *Severity) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return err
	}
	v, err := ParseSeverity(name)
	*s = v
	return err
}

// Finding is one problem found, with its evidence and what to do.
type Finding struct {
	ID       string     `json:"id"`
	Severity Severity   `json:"severity"`
	Layer    string     `json:"layer"`
	Host     string     `json:"host"`
	Summary  string     `json:"summary"`
	Expected string     `json:"expected"`
	Observed string     `json:"observed"`
	Evidence []Evidence `json:"evidence"`
	// WiresharkFilter selects exactly the evidence packets.
	WiresharkFilter string `json:"wireshark_filter"`
	Hint            string `json:"hint"`

	// text, when set, builds Summary, Expected, Observed, Hint, the
	// evidence and WiresharkFilter, which are then empty but for the first
	// evidence packet (by which findings sort), without its detail: a
	// check with one
	// finding per host leaves them to be built as the report is written
	// (Options.StreamEvents) instead of holding them all. Read the
	// finding through withText.
	text findingText
}

// findingText builds the texts of a finding that left them unbuilt
// (Finding.text): Summary, Expected, Observed and Hint.
type findingText interface {
	// fill builds the texts of the finding about host, its strings and
	// evidence list from sc (nil allocates them).
	fill(host string, sc *jsonScratch) findingTexts
	// summary is the Summary of fill's texts, from sc.
	summary(host string, sc *jsonScratch) string
}

// findingTexts are the texts and evidence of a finding that findingText
// builds.
type findingTexts struct {
	Summary, Expected, Observed, Hint string
	Evidence                          []Evidence
}

// withText returns the finding with its texts built: a copy of f.
func (f *Finding) withText() Finding { return f.withTextIn(nil) }

// withTextIn is withText with the texts from sc, valid until sc's next
// begin; sc nil allocates them.
func (f *Finding) withTextIn(sc *jsonScratch) Finding {
	g := *f
	g.buildTextIn(sc)
	return g
}

// buildText builds the texts of f in place, if it left them unbuilt.
func (f *Finding) buildText() { f.buildTextIn(nil) }

// buildTextIn is buildText with the texts from sc.
func (f *Finding) buildTextIn(sc *jsonScratch) {
	if t := f.text; t != nil {
		x := t.fill(f.Host, sc)
		f.Summary, f.Expected, f.Observed, f.Hint, f.text = x.Summary, x.Expected, x.Observed, x.Hint, nil
		f.Evidence = x.Evidence
		f.finalizeIn(sc)
	}
}

// summary is the finding's Summary, built if need be.
func (f *Finding) summary() string { return f.summaryIn(nil) }

// summaryIn is summary, built from sc if need be.
func (f *Finding) summaryIn(sc *jsonScratch) string {
	if f.text == nil {
		return f.Summary
	}
	return f.text.summary(f.Host, sc)
}

// Evidence is one packet that supports a finding: its reference (input,
// frame number and capture time) and what it shows. Its JSON form is
// {"input", "packet", "time", "detail"} (DESIGN §3).
type Evidence struct {
	At     capture.Ref
	Detail string
}

// evidenceJSON is an Evidence item as DESIGN §3 writes it.
type evidenceJSON struct {
	Input  int    `json:"input"`
	Packet int    `json:"packet"`
	Time   string `json:"time"`
	Detail string `json:"detail"`
}

// MarshalJSON writes the evidence with its time in RFC 3339 (Timestamp).
func (e Evidence) MarshalJSON() ([]byte, error) { return json.Marshal(e.jsonForm()) }

// jsonForm is the evidence as DESIGN §3 writes it.
func (e *Evidence) jsonForm() evidenceJSON { return e.jsonFormIn(nil) }

// jsonFormIn is jsonForm with its time from sc.
func (e *Evidence) jsonFormIn(sc *jsonScratch) evidenceJSON {
	return evidenceJSON{Input: int(e.At.Input), Packet: int(e.At.Packet), Time: sc.timestamp(e.At.Time()), Detail: e.Detail}
}

// evidence builds an Evidence item for a packet.
func evidence(at capture.Ref, format string, args ...any) Evidence {
	if len(args) == 0 && !strings.Contains(format, "%") {
		return Evidence{At: at, Detail: format} // what Sprintf returns, without a copy
	}
	return Evidence{At: at, Detail: fmt.Sprintf(format, args...)}
}

// finalize sorts a finding's evidence by (input, packet), drops duplicates
// and packet-less items, and sets the Wireshark filter that selects exactly
// those packets. A finding whose texts are unbuilt is finalized when they
// are built.
func (f *Finding) finalize() { f.finalizeIn(nil) }

// finalizeIn is finalize with the filter's text from sc.
func (f *Finding) finalizeIn(sc *jsonScratch) {
	if f.text != nil {
		return
	}
	slices.SortStableFunc(f.Evidence, func(a, b Evidence) int {
		if c := cmp.Compare(a.At.Input, b.At.Input); c != 0 {
			return c
		}
		return cmp.Compare(a.At.Packet, b.At.Packet)
	})
	f.Evidence = slices.CompactFunc(f.Evidence, func(a, b Evidence) bool {
		return a.At.Input == b.At.Input && a.At.Packet == b.At.Packet && a.Detail == b.Detail
	})
	if f.Evidence == nil {
		f.Evidence = []Evidence{}
	}
	f.WiresharkFilter = sc.format(func(b []byte) []byte { return appendWiresharkFilter(b, f.Evidence) })
}

// wiresharkFilter returns a display filter selecting exactly the evidence
// packets: "frame.number in {12 13}". Packets of inputs after the first are
// left out: a filter applies to one file, the first one a reader opens.
// Evidence of other inputs names its input.
func wiresharkFilter(ev []Evidence) string { return string(appendWiresharkFilter(nil, ev)) }

// appendWiresharkFilter appends wiresharkFilter(ev) to b.
func appendWiresharkFilter(b []byte, ev []Evidence) []byte {
	var buf [8]int
	nums := buf[:0]
	input := -1
	for _, e := range ev {
		if e.At.Packet == 0 {
			continue
		}
		if input < 0 {
			input = int(e.At.Input)
		}
		if int(e.At.Input) == input {
			nums = append(nums, int(e.At.Packet))
		}
	}
	slices.Sort(nums)
	nums = slices.Compact(nums)
	switch len(nums) {
	case 0:
		return b
	case 1:
		return strconv.AppendInt(append(b, "frame.number == "...), int64(nums[0]), 10)
	}
	b = append(b, "frame.number in {"...)
	for i, n := range nums {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, '}')
}

// firstEvidence returns the position a finding sorts by.
func (f *Finding) firstEvidence() (int, int) {
	if len(f.Evidence) == 0 {
		return 1 << 30, 1 << 30
	}
	return int(f.Evidence[0].At.Input), int(f.Evidence[0].At.Packet)
}

// sortFindings orders findings deterministically: most severe first, then
// causes before symptoms (the order of Suite), then by the time (input, packet) of
// their first evidence, then by check ID and host.
func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		if c := cmp.Compare(causeRank(a.ID), causeRank(b.ID)); c != 0 {
			return c
		}
		ai, ap := a.firstEvidence()
		bi, bp := b.firstEvidence()
		if c := cmp.Compare(ai, bi); c != 0 {
			return c
		}
		if c := cmp.Compare(ap, bp); c != 0 {
			return c
		}
		if c := cmp.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return cmp.Compare(a.Host, b.Host)
	})
}

// buildTexts builds the texts every finding of the report left unbuilt,
// for the renderers and callers that read the fields themselves.
func (rep *Report) buildTexts() {
	for i := range rep.Findings {
		rep.Findings[i].buildText()
	}
}
