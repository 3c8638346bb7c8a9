package analyze

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ansi holds the escape sequences of the text report; all empty without
// colour.
type ansi struct{ bold, red, yellow, cyan, green, dim, reset string }

func palette(color bool) ansi {
	if !color {
		return ansi{}
	}
	return ansi{bold: "\x1b[1m", red: "\x1b[31m", yellow: "\x1b[33m", cyan: "\x1b[36m",
		green: "\x1b[32m", dim: "\x1b[2m", reset: "\x1b[0m"}
}

func (c ansi) severity(s Severity) string {
	switch s {
	case Error:
		return c.red + c.bold + "ERROR" + c.reset
	case Warning:
		return c.yellow + c.bold + "WARNING" + c.reset
	}
	return c.cyan + "INFO" + c.reset
}

// renderText writes the report for a person: organised by host, each with
// its verdict across the layers and its findings, most severe first.
func renderText(out io.Writer, rep *Report, opt RenderOptions) error {
	w := bufio.NewWriter(out)
	c := palette(opt.Color)
	fmt.Fprintf(w, "%smodsniff%s: %s\n", c.bold, c.reset, headline(rep))
	if x := rep.Context; x != nil && len(x.Command) > 0 {
		fmt.Fprintf(w, "captured around `%s`", strings.Join(x.Command, " "))
		if x.ExitStatus != nil {
			fmt.Fprintf(w, ", which exited %d", *x.ExitStatus)
		}
		fmt.Fprintln(w)
	}
	if x := rep.Context; x != nil && x.GoSaid != "" {
		fmt.Fprintf(w, "%s\n", x.GoSaid)
	}
	if x := rep.Context; x != nil && x.Keys != "" {
		fmt.Fprintf(w, "TLS keys: %s\n", x.Keys)
	}
	if x := rep.Context; x != nil && len(x.KeysNotCovered) > 0 {
		fmt.Fprintf(w, "TLS keys not covered (not Go): %s\n", strings.Join(x.KeysNotCovered, ", "))
	}

	shown, folded := hostsToShow(rep)
	byHost := make(map[string][]Finding)
	for _, f := range rep.Findings {
		byHost[f.Host] = append(byHost[f.Host], f)
	}
	for _, h := range shown {
		fmt.Fprintf(w, "\n%s%s%s (%s)\n", c.bold, h.Name, c.reset, h.Role)
		layers := []struct {
			state State
			text  string
		}{{h.DNS.State, h.DNS.Text()}, {h.TLS.State, h.TLS.Text()}, {h.Interception.State, h.InterceptionText()}}
		for _, l := range layers {
			if l.text == "" {
				continue
			}
			mark := c.dim + "·" + c.reset // context: nothing judged
			switch {
			case l.state == Failed:
				mark = c.red + "✗" + c.reset
				l.text = strings.Replace(l.text, " ✗", "", 1)
			case l.state == OK && h.Interception.State != Failed:
				mark = c.green + "✓" + c.reset
			}
			fmt.Fprintf(w, "  %s %s\n", mark, l.text)
		}
		for _, f := range byHost[h.Name] {
			writeFindingText(w, c, f, len(rep.Inputs))
		}
	}
	if folded > 0 {
		fmt.Fprintf(w, "\n%s%s%s\n", c.dim, foldedHostsLine(folded), c.reset)
	}
	if orphans := orphanFindings(rep); len(orphans) > 0 {
		fmt.Fprintf(w, "\n%sOther findings%s\n", c.bold, c.reset)
		for _, f := range orphans {
			writeFindingText(w, c, f, len(rep.Inputs))
		}
	}
	if len(rep.Hosts) == 0 && len(rep.Findings) == 0 {
		fmt.Fprintf(w, "\nNo DNS, TLS or proxy traffic of interest was found.\n")
	}
	writeSeenText(w, c, rep)
	writeInputsText(w, c, rep)
	return w.Flush()
}

// writeFindingText writes one finding with its evidence and hint.
func writeFindingText(w io.Writer, c ansi, f Finding, inputs int) {
	fmt.Fprintf(w, "\n  %s %s%s%s: %s\n", c.severity(f.Severity), c.bold, f.ID, c.reset, f.Summary)
	field := func(name, value string) {
		if value == "" {
			return
		}
		lines := strings.Split(value, "\n")
		fmt.Fprintf(w, "    %s%-9s%s %s\n", c.dim, name, c.reset, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "              %s\n", l)
		}
	}
	field("expected", f.Expected)
	field("observed", f.Observed)
	for i, e := range f.Evidence {
		name := ""
		if i == 0 {
			name = "evidence"
		}
		ref := evidenceRef(e, inputs)
		if e.At.Packet == 0 {
			ref = "—"
		}
		fmt.Fprintf(w, "    %s%-9s%s %s %s %s\n", c.dim, name, c.reset, ref, clock(e.At.Time()), e.Detail)
	}
	filter := f.WiresharkFilter
	if inputs > 1 && filter != "" && len(f.Evidence) > 0 {
		filter += fmt.Sprintf("   (in input %d)", f.Evidence[0].At.Input)
	}
	field("wireshark", filter)
	field("fix", f.Hint)
}

// writeSeenText summarises what the decoders found.
func writeSeenText(w io.Writer, c ansi, rep *Report) {
	ev := rep.Events
	fmt.Fprintf(w, "\n%sSeen%s\n", c.bold, c.reset)
	answered, servers := 0, map[string]int{}
	for _, d := range ev.DNS {
		if len(d.Responses) > 0 {
			answered++
		}
		servers[d.Server]++
	}
	fmt.Fprintf(w, "  DNS   %s, %d answered", plural(len(ev.DNS), "query"), answered)
	if len(servers) > 0 {
		fmt.Fprintf(w, ", resolvers: %s", strings.Join(sortedKeys(servers), ", "))
	}
	fmt.Fprintln(w)
	withServer := 0
	for _, t := range ev.TLS {
		if t.Version != "" {
			withServer++
		}
	}
	fmt.Fprintf(w, "  TLS   %s, %d answered by the server\n", plural(len(ev.TLS), "handshake"), withServer)
	fmt.Fprintf(w, "  TCP   %s\n", plural(len(ev.TCP), "connection"))
	if len(ev.Proxy) > 0 {
		fmt.Fprintf(w, "  proxy %s\n", plural(len(ev.Proxy), "tunnel"))
	}
	if len(ev.HTTP) > 0 {
		fmt.Fprintf(w, "  HTTP  %s\n", plural(len(ev.HTTP), "request"))
	}
}

// writeInputsText lists the inputs, their damage and decoding notes.
func writeInputsText(w io.Writer, c ansi, rep *Report) {
	fmt.Fprintf(w, "\n%sInputs%s\n", c.bold, c.reset)
	for i, in := range rep.Inputs {
		lt := strings.Join(in.LinkTypes, ", ")
		if lt == "" {
			lt = "no packets"
		}
		idx := ""
		if len(rep.Inputs) > 1 {
			idx = fmt.Sprintf("[%d] ", i)
		}
		fmt.Fprintf(w, "  %s%s: %s, %s, %s\n", idx, in.Path, in.Format, plural(in.Packets, "packet"), lt)
		for _, e := range in.Errors {
			fmt.Fprintf(w, "    %s!%s byte %d, packet %d: %s\n", c.red, c.reset, e.Offset, e.Packet, e.Message)
		}
		if in.Dropped > 0 {
			fmt.Fprintf(w, "    %s!%s the capturing kernel dropped %d packets: evidence may be missing\n", c.yellow, c.reset, in.Dropped)
		}
		for _, n := range in.Notes {
			fmt.Fprintf(w, "    %s·%s %s\n", c.dim, c.reset, n)
		}
	}
}
