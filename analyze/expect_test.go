package analyze

import "testing"

func TestExpectationExhaustiveForbidsUnlistedChecks(t *testing.T) {
	rep := &Report{Findings: []Finding{
		{ID: "dns-bogon-answer", Host: "proxy.golang.org", Severity: Error},
		{ID: "tcp-connect-refused", Host: "proxy.golang.org", Severity: Error},
	}}
	tests := []struct {
		name       string
		e          Expectation
		unexpected []string
	}{
		{"exhaustive, every finding listed",
			Expectation{Findings: []ExpectedFinding{{ID: "dns-bogon-answer"}, {ID: "tcp-connect-refused"}}, Exhaustive: true}, nil},
		{"exhaustive, one finding not listed",
			Expectation{Findings: []ExpectedFinding{{ID: "dns-bogon-answer"}}, Exhaustive: true}, []string{"tcp-connect-refused"}},
		{"not exhaustive: only absent IDs are forbidden",
			Expectation{Findings: []ExpectedFinding{{ID: "dns-bogon-answer"}}, Absent: []string{"tls-alert"}}, nil},
		{"not exhaustive, an absent ID fires",
			Expectation{Findings: []ExpectedFinding{{ID: "dns-bogon-answer"}}, Absent: []string{"tcp-connect-refused"}}, []string{"tcp-connect-refused"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.e.Compare(rep)
			var got []string
			for _, f := range d.Unexpected {
				got = append(got, f.ID)
			}
			if len(d.Missing) != 0 || len(got) != len(tt.unexpected) || len(got) > 0 && got[0] != tt.unexpected[0] {
				t.Errorf("missing %v, unexpected %v; want unexpected %v", d.Missing, got, tt.unexpected)
			}
		})
	}
}

func TestExpectationFromIsExhaustive(t *testing.T) {
	rep := &Report{Findings: []Finding{{ID: "tls-alert", Host: "h", Severity: Error}, {ID: "tls-alert", Host: "h", Severity: Error}}}
	e := ExpectationFrom(rep, nil, "")
	if !e.Exhaustive || len(e.Absent) != 0 || len(e.Findings) != 1 {
		t.Errorf("got %+v, want one finding, exhaustive, no absent list", e)
	}
	if d := e.Compare(rep); !d.OK() {
		t.Errorf("the report does not meet its own expectation: %+v", d)
	}
}
