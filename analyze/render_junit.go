package analyze

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit XML as Jenkins, GitLab and most CI systems read it (the Ant JUnit
// report format): one test suite for the capture, one test case per host,
// one failure per finding of severity warning or error; informational
// findings go to the case's system-out.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string         `xml:"name,attr"`
	Classname string         `xml:"classname,attr"`
	Failures  []junitFailure `xml:"failure"`
	SystemOut string         `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

// renderJUnit writes the report as JUnit XML.
func renderJUnit(w io.Writer, rep *Report, opt RenderOptions) error {
	suite := junitSuite{Name: "modsniff"}
	if len(rep.Inputs) > 0 {
		suite.Timestamp = rep.Inputs[0].First
	}
	var paths []string
	for _, in := range rep.Inputs {
		paths = append(paths, in.Path)
	}
	if len(paths) > 0 {
		suite.Name = "modsniff " + strings.Join(paths, " ")
	}
	addCase := func(name, class string, fs []Finding) {
		c := junitCase{Name: name, Classname: "modsniff." + class}
		var out []string
		for _, f := range fs {
			if f.Severity == Info {
				out = append(out, f.ID+": "+f.Summary)
				continue
			}
			c.Failures = append(c.Failures, junitFailure{
				Message: xmlSafe(f.Summary), Type: f.Severity.String() + " " + f.ID, Text: xmlSafe(junitText(f, len(rep.Inputs))),
			})
		}
		c.SystemOut = xmlSafe(strings.Join(out, "\n"))
		suite.Cases = append(suite.Cases, c)
		suite.Tests++
		if len(c.Failures) > 0 {
			suite.Failures++
		}
	}
	for _, h := range rep.Hosts {
		addCase(xmlSafe(h.Name), h.Role, findingsFor(rep, h.Name))
	}
	orphans := orphanFindings(rep)
	byHost := map[string][]Finding{}
	for _, f := range orphans {
		byHost[f.Host] = append(byHost[f.Host], f)
	}
	for _, name := range sortedKeys(byHost) {
		label := name
		if label == "" {
			label = "capture"
		}
		addCase(xmlSafe(label), "other", byHost[name])
	}
	if len(suite.Cases) == 0 {
		addCase("capture", "other", nil)
	}
	doc := junitSuites{Name: "modsniff", Tests: suite.Tests, Failures: suite.Failures, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitText is a failure's body: expected, observed, evidence and fix.
func junitText(f Finding, inputs int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s\n", f.Severity, f.ID, f.Host)
	if f.Expected != "" {
		fmt.Fprintf(&b, "Expected: %s\n", f.Expected)
	}
	if f.Observed != "" {
		fmt.Fprintf(&b, "Observed: %s\n", f.Observed)
	}
	for _, e := range f.Evidence {
		fmt.Fprintf(&b, "%s %s %s\n", evidenceRef(e, inputs), clock(e.At.Time()), e.Detail)
	}
	if f.WiresharkFilter != "" {
		fmt.Fprintf(&b, "Wireshark: %s\n", f.WiresharkFilter)
	}
	if f.Hint != "" {
		fmt.Fprintf(&b, "Fix: %s\n", f.Hint)
	}
	return b.String()
}

// xmlSafe replaces the characters XML 1.0 cannot carry (§2.2: most C0
// controls, surrogates, U+FFFE and U+FFFF) with U+FFFD, so that capture
// text always gives a well-formed document.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
			return '\uFFFD'
		}
		return r
	}, s)
}
