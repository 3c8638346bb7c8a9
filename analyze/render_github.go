package analyze

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// renderGitHub writes the report as GitHub Actions workflow commands
// ("Workflow commands for GitHub Actions", docs.github.com): one ::error,
// ::warning or ::notice annotation per finding, titled with the check and
// host, followed by a ::group:: holding its evidence, expectation and fix.
// Text from the capture is escaped as the command syntax requires, and no
// plain log line can start a command of its own.
func renderGitHub(out io.Writer, rep *Report, opt RenderOptions) error {
	w := bufio.NewWriter(out)
	fmt.Fprintf(w, "modsniff:%s\n", ghLine(headline(rep))[1:])
	for _, f := range rep.Findings {
		level := "notice"
		switch f.Severity {
		case Error:
			level = "error"
		case Warning:
			level = "warning"
		}
		title := f.ID
		if f.Host != "" {
			title += " " + f.Host
		}
		msg := f.Summary
		if f.Hint != "" {
			msg += "\nFix: " + f.Hint
		}
		fmt.Fprintf(w, "::%s title=%s::%s\n", level, ghProperty("modsniff "+title), ghData(msg))
		fmt.Fprintf(w, "::group::%s\n", ghData("Evidence: "+title))
		if f.Expected != "" {
			fmt.Fprintf(w, "%s\n", ghLine("Expected: "+f.Expected))
		}
		if f.Observed != "" {
			fmt.Fprintf(w, "%s\n", ghLine("Observed: "+f.Observed))
		}
		for _, e := range f.Evidence {
			fmt.Fprintf(w, "%s\n", ghLine(evidenceRef(e, len(rep.Inputs))+" "+clock(e.At.Time())+" "+e.Detail))
		}
		if f.WiresharkFilter != "" {
			fmt.Fprintf(w, "%s\n", ghLine("Wireshark: "+f.WiresharkFilter))
		}
		if f.Hint != "" {
			fmt.Fprintf(w, "%s\n", ghLine("Fix: "+f.Hint))
		}
		fmt.Fprintf(w, "::endgroup::\n")
	}
	for _, h := range rep.Hosts {
		fmt.Fprintf(w, "%s\n", ghLine(h.Name+": "+h.Verdict()))
	}
	return w.Flush()
}

// ghData escapes a workflow command's message: %, CR and LF.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(noControls(s))
}

// noControls replaces control characters other than tab, CR and LF, which
// a log viewer would show raw, with U+FFFD.
func noControls(s string) string {
	return strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\t' && r != '\r' && r != '\n') || r == 0x7f {
			return '\uFFFD'
		}
		return r
	}, s)
}

// ghProperty escapes a workflow command property value: as ghData, and
// also ':' and ',' which separate properties.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(noControls(s))
}

// ghLine makes capture text one plain log line that the runner cannot take
// for a workflow command: line breaks become spaces and the line is
// indented, so it never starts with "::".
func ghLine(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(noControls(s))
	return "  " + s
}
