package analyze

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modsniff/modsniff/decode"
)

// Formats lists the report formats Render accepts.
var Formats = []string{"text", "json", "markdown", "html", "github", "junit"}

// RenderOptions tune the human formats.
type RenderOptions struct {
	// Color enables ANSI colours in text (set it only for a terminal).
	Color bool
	// Version is modsniff's version, printed in headers.
	Version string
	// Events are the decoded events behind the report; the HTML report
	// draws its flow graph from them (no flow graph when nil).
	Events *decode.Events
}

// Render writes the report in the given format.
func Render(w io.Writer, rep *Report, format string, opt RenderOptions) error {
	if rep.lazy != nil && format != "json" {
		rep.Events, rep.lazy = eventsJSON(rep.lazy), nil
	}
	if format != "json" {
		rep.buildTexts()
	}
	switch format {
	case "json":
		return renderJSON(w, rep)
	case "text", "":
		return renderText(w, rep, opt)
	case "markdown", "md":
		return renderMarkdown(w, rep, opt)
	case "html":
		return renderHTML(w, rep, opt)
	case "github":
		return renderGitHub(w, rep, opt)
	case "junit":
		return renderJUnit(w, rep, opt)
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// counts returns how many findings of each severity the report holds.
func counts(rep *Report) (errs, warns, infos int) {
	for _, f := range rep.Findings {
		switch f.Severity {
		case Error:
			errs++
		case Warning:
			warns++
		default:
			infos++
		}
	}
	return
}

// plural formats "1 error" / "2 errors" / "2 queries".
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	if len(word) > 1 && word[len(word)-1] == 'y' && !strings.ContainsRune("aeiou", rune(word[len(word)-2])) {
		return fmt.Sprintf("%d %sies", n, word[:len(word)-1])
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// headline is the first line of every human report.
func headline(rep *Report) string {
	errs, warns, infos := counts(rep)
	packets := 0
	for _, in := range rep.Inputs {
		packets += in.Packets
	}
	var verdict string
	switch {
	case errs > 0:
		verdict = plural(errs, "error")
		if warns > 0 {
			verdict += ", " + plural(warns, "warning")
		}
	case warns > 0:
		verdict = plural(warns, "warning")
	default:
		verdict = "no problems found"
	}
	if infos > 0 {
		verdict += fmt.Sprintf(" (%d for information)", infos)
	}
	return fmt.Sprintf("%s in %s, %s%s", verdict, plural(len(rep.Inputs), "capture"), plural(packets, "packet"), span(rep))
}

// span formats the time the inputs cover.
func span(rep *Report) string {
	var first, last time.Time
	for _, in := range rep.Inputs {
		f, err1 := time.Parse(time.RFC3339Nano, in.First)
		l, err2 := time.Parse(time.RFC3339Nano, in.Last)
		if err1 != nil || err2 != nil {
			continue
		}
		if first.IsZero() || f.Before(first) {
			first = f
		}
		if l.After(last) {
			last = l
		}
	}
	if first.IsZero() {
		return ""
	}
	return fmt.Sprintf(" (%s → %s UTC, %s)", first.Format("2006-01-02 15:04:05.000"), last.Format("15:04:05.000"),
		duration(last.Sub(first)))
}

// duration formats a span for people: "350ms", "4.2s", "3h20m", "6 days".
func duration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + duration(-d)
	case d < time.Second:
		return d.Round(time.Microsecond).String()
	case d < time.Minute:
		return d.Round(time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		h := int(d.Hours())
		m := int(d.Minutes()) - 60*h
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%02dm", h, m)
	}
	return plural(int(d.Hours()/24), "day")
}

// clock formats a packet time as a clock time (UTC).
func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("15:04:05.000000")
}

// shortTime formats an event's RFC 3339 timestamp (EventsJSON) as a clock
// time.
func shortTime(ts string) string {
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return ts
	}
	return t.Format("15:04:05.000000")
}

// evidenceRef formats an evidence packet as Wireshark's frame number, with
// the input index when there are several inputs.
func evidenceRef(e Evidence, inputs int) string {
	if inputs > 1 {
		return fmt.Sprintf("%d#%d", e.At.Input, e.At.Packet)
	}
	return fmt.Sprintf("#%d", e.At.Packet)
}

// findingsFor returns the findings about one host ("" for those about no
// host), in report order.
// maxQuietHosts is how many hosts without a finding and outside the
// module protocol (role "other") the text and Markdown reports list; the
// rest are counted in one line. A capture of a whole office network names
// tens of thousands of hosts; the JSON report keeps them all.
const maxQuietHosts = 12

// hostsToShow returns the hosts the text and Markdown reports list, in
// report order: every host with a finding or a module-protocol role, and
// the first maxQuietHosts of the others; and how many others were left out.
func hostsToShow(rep *Report) (shown []Host, folded int) {
	noisy := make(map[string]bool, len(rep.Findings))
	for _, f := range rep.Findings {
		noisy[f.Host] = true
	}
	quiet := 0
	for _, h := range rep.Hosts {
		if noisy[h.Name] || h.Role != "other" {
			shown = append(shown, h)
			continue
		}
		if quiet++; quiet <= maxQuietHosts {
			shown = append(shown, h)
		} else {
			folded++
		}
	}
	return shown, folded
}

// foldedHostsLine says how many quiet hosts a report left out.
func foldedHostsLine(n int) string {
	return fmt.Sprintf("… and %s more hosts with no finding and no role in the module protocol (all of them are in --format json).", groupThousands(n))
}

// groupThousands writes n with commas between groups of three digits.
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func findingsFor(rep *Report, host string) []Finding {
	var out []Finding
	for _, f := range rep.Findings {
		if f.Host == host {
			out = append(out, f)
		}
	}
	return out
}

// orphanFindings returns findings whose host is not among the report's
// hosts (an address, or none).
func orphanFindings(rep *Report) []Finding {
	known := make(map[string]bool)
	for _, h := range rep.Hosts {
		known[h.Name] = true
	}
	var out []Finding
	for _, f := range rep.Findings {
		if !known[f.Host] {
			out = append(out, f)
		}
	}
	return out
}

// sortedKeys returns a map's keys in sorted order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
