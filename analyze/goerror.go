package analyze

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/modsniff/modsniff/capture"
)

// GoErrorSummary joins what the go command said to what the capture shows,
// in one line: "go said: …; the capture shows: …" (another wrapped command
// is named instead of go). The go side is the most
// telling line of the end of its standard error, recorded in the capture's
// metadata by `modsniff capture -- go …`; the capture side is the most
// severe findings about the host that line names (or about any host). It
// returns "" when m records no command that failed.
func GoErrorSummary(m *capture.Metadata, rep *Report) string {
	if m == nil || m.ExitStatus == nil || *m.ExitStatus == 0 || rep == nil {
		return ""
	}
	said := goErrLine(m.StderrTail)
	if said == "" {
		said = fmt.Sprintf("nothing on standard error (exit status %d)", *m.ExitStatus)
	}
	who := "go"
	if len(m.Command) > 0 {
		who = path.Base(m.Command[0])
	}
	return who + " said: " + said + "; the capture shows: " + goErrShows(rep, goErrHost(said), said)
}

// goErrLine picks the line of the go command's standard error that best
// states its failure: the last one naming a network or TLS error, else the
// last "go: " line, else the last line; shortened to 300 bytes.
func goErrLine(tail string) string {
	lines := strings.Split(strings.TrimSpace(tail), "\n")
	pick := ""
	for i := len(lines) - 1; i >= 0 && pick == ""; i-- {
		if l := strings.TrimSpace(lines[i]); goErrNetWords().MatchString(l) {
			pick = l
		}
	}
	for i := len(lines) - 1; i >= 0 && pick == ""; i-- {
		if l := strings.TrimSpace(lines[i]); strings.HasPrefix(l, "go: ") {
			pick = l
		}
	}
	for i := len(lines) - 1; i >= 0 && pick == ""; i-- {
		pick = strings.TrimSpace(lines[i])
	}
	if len(pick) > 300 {
		pick = strings.ToValidUTF8(pick[:150], "") + " … " + strings.ToValidUTF8(pick[len(pick)-140:], "")
	}
	return pick
}

var (
	goErrNetWords = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`dial tcp|lookup |no such host|i/o timeout|connection refused|connection reset|` +
			`x509:|tls:|proxyconnect|server misbehaving|network is unreachable|no route to host|` +
			`unexpected EOF|\b[45]\d\d [A-Z][A-Za-z ]+|TLS handshake|certificate`)
	})
	goErrURLHost    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`https?://([^/\s"':@]+)`) })
	goErrLookupHost = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`lookup ([A-Za-z0-9.-]+)`) })
	goErrDialHost   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`dial tcp (?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):\d+`) })
)

// goErrHost returns the host a go error line is about: the one it looks
// up, else the one in its URL, else the address it dials; "" if none.
func goErrHost(line string) string {
	for _, re := range []*regexp.Regexp{goErrLookupHost(), goErrURLHost(), goErrDialHost()} {
		if m := re.FindStringSubmatch(line); m != nil {
			h := strings.Join(m[1:], "") // the one group that matched
			return strings.ToLower(strings.TrimSuffix(h, "."))
		}
	}
	return ""
}

// goErrShows says what the report found that explains the failure.
func goErrShows(rep *Report, host, said string) string {
	packets := 0
	for _, in := range rep.Inputs {
		packets += in.Packets
	}
	if packets == 0 {
		return "no packets at all — check the interface (-i) and the filter (-f): the command's traffic was not captured"
	}
	pick := func(match func(*Finding) bool) []string {
		var out []string
		for i := range rep.Findings {
			f := &rep.Findings[i]
			if f.Severity >= Warning && match(f) && len(out) < 2 {
				out = append(out, fmt.Sprintf("%s %s: %s", f.Severity, f.ID, f.Summary))
			}
		}
		return out
	}
	var shown []string
	if host != "" {
		shown = pick(func(f *Finding) bool { return strings.EqualFold(f.Host, host) })
	}
	if len(shown) == 0 {
		shown = pick(func(f *Finding) bool { return true })
	}
	if len(shown) > 0 {
		return strings.Join(shown, "; ")
	}
	what := "no DNS, TCP or TLS failure"
	if host != "" {
		what += " for " + host
	}
	if strings.Contains(said, "x509:") || strings.Contains(said, "certificate") {
		return what + ": the go command rejected a certificate the capture could not see (TLS 1.3 hides it) — " +
			"run `modsniff probe` or capture with key logs to see it"
	}
	return what + ": the cause is above the wire (an HTTP status from the proxy, a checksum mismatch, or the " +
		"GOPROXY, GOPRIVATE, GONOSUMDB or GOFLAGS settings) — see go's message"
}
