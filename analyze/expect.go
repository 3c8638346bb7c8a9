package analyze

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Expectation is what a sample capture must produce (DESIGN §5): findings
// that must be present (matched on ID, plus host and severity where given),
// check IDs that must be absent, and the analyze flags to use.
//
// Exhaustive extends DESIGN §5 (samples/README.md documents it): when set,
// every check whose ID is not among Findings must be absent, as if Absent
// listed all of them — including checks added after the file was written.
type Expectation struct {
	Findings   []ExpectedFinding `json:"findings"`
	Exhaustive bool              `json:"exhaustive,omitempty"`
	Absent     []string          `json:"absent,omitempty"`
	Flags      []string          `json:"flags,omitempty"`
	// Note says what the sample shows, for people reading the file.
	Note string `json:"note,omitempty"`
}

// ExpectedFinding matches a finding by ID and, when set, host and
// severity.
type ExpectedFinding struct {
	ID       string `json:"id"`
	Host     string `json:"host,omitempty"`
	Severity string `json:"severity,omitempty"`
}

func (e ExpectedFinding) String() string {
	s := e.ID
	if e.Host != "" {
		s += " host=" + e.Host
	}
	if e.Severity != "" {
		s += " severity=" + e.Severity
	}
	return s
}

// matches reports whether f satisfies e.
func (e ExpectedFinding) matches(f Finding) bool {
	return f.ID == e.ID && (e.Host == "" || strings.EqualFold(f.Host, e.Host)) &&
		(e.Severity == "" || f.Severity.String() == e.Severity)
}

// ReadExpectation reads an .expect.json file. Unknown fields are an error:
// a misspelt key would otherwise silently expect nothing.
func ReadExpectation(path string) (*Expectation, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var e Expectation
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, f := range e.Findings {
		if f.ID == "" {
			return nil, fmt.Errorf("%s: findings[%d] has no id", path, i)
		}
		if f.Severity != "" {
			if _, err := ParseSeverity(f.Severity); err != nil {
				return nil, fmt.Errorf("%s: findings[%d]: %w", path, i, err)
			}
		}
	}
	return &e, nil
}

// Drift is how a report differs from its expectation.
type Drift struct {
	// Missing lists expected findings the report lacks.
	Missing []ExpectedFinding
	// Unexpected lists findings of IDs the expectation says are absent.
	Unexpected []Finding
}

// OK reports whether there is no drift.
func (d Drift) OK() bool { return len(d.Missing) == 0 && len(d.Unexpected) == 0 }

// Compare checks a report against the expectation.
func (e *Expectation) Compare(rep *Report) Drift {
	var d Drift
	for _, want := range e.Findings {
		if !slices.ContainsFunc(rep.Findings, want.matches) {
			d.Missing = append(d.Missing, want)
		}
	}
	for _, f := range rep.Findings {
		if slices.Contains(e.Absent, f.ID) || e.Exhaustive && !e.lists(f.ID) {
			d.Unexpected = append(d.Unexpected, f)
		}
	}
	return d
}

// lists reports whether an expected finding has that check ID.
func (e *Expectation) lists(id string) bool {
	return slices.ContainsFunc(e.Findings, func(f ExpectedFinding) bool { return f.ID == id })
}

// ExpectationFrom writes the expectation a report meets today: every
// finding's ID, host and severity, and exhaustive, so that every other
// check — today's and those added later — must stay silent. Maintainers
// review the result like code, and may replace exhaustive with the absent
// IDs that matter.
func ExpectationFrom(rep *Report, flags []string, note string) *Expectation {
	e := &Expectation{Findings: []ExpectedFinding{}, Exhaustive: true, Flags: flags, Note: note}
	for _, f := range rep.Findings {
		x := ExpectedFinding{ID: f.ID, Host: f.Host, Severity: f.Severity.String()}
		if !slices.Contains(e.Findings, x) {
			e.Findings = append(e.Findings, x)
		}
	}
	return e
}

// Marshal writes an expectation as indented JSON with a final newline.
func (e *Expectation) Marshal() []byte {
	b, _ := json.MarshalIndent(e, "", "  ")
	return append(b, '\n')
}
