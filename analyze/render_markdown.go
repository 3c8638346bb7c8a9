package analyze

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// renderMarkdown writes the report ready to paste into an issue tracker:
// a verdict table per host, then each finding with its evidence in a
// collapsible block.
func renderMarkdown(out io.Writer, rep *Report, opt RenderOptions) error {
	w := bufio.NewWriter(out)
	fmt.Fprintf(w, "## modsniff report\n\n**%s**\n\n", mdEscape(headline(rep)))
	if x := rep.Context; x != nil && len(x.Command) > 0 {
		fmt.Fprintf(w, "Captured around `%s`", strings.ReplaceAll(strings.Join(x.Command, " "), "`", "'"))
		if x.ExitStatus != nil {
			fmt.Fprintf(w, ", which exited %d", *x.ExitStatus)
		}
		fmt.Fprintf(w, ".\n\n")
		if x.GoSaid != "" {
			fmt.Fprintf(w, "> %s\n\n", mdEscape(x.GoSaid))
		}
		if x.Keys != "" {
			fmt.Fprintf(w, "TLS keys: %s\n\n", mdEscape(x.Keys))
		}
		if len(x.KeysNotCovered) > 0 {
			fmt.Fprintf(w, "TLS keys not covered (not Go): %s\n\n", mdEscape(strings.Join(x.KeysNotCovered, ", ")))
		}
	}
	if len(rep.Hosts) > 0 {
		fmt.Fprintf(w, "| host | role | DNS | TLS | interception |\n|---|---|---|---|---|\n")
		shown, folded := hostsToShow(rep)
		for _, h := range shown {
			interception := h.InterceptionText()
			if interception == "" {
				interception = "none seen"
			}
			fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s |\n", h.Name, h.Role, mdEscape(h.DNS.Text()), mdEscape(h.TLS.Text()), mdEscape(interception))
		}
		fmt.Fprintln(w)
		if folded > 0 {
			fmt.Fprintf(w, "%s\n\n", mdEscape(foldedHostsLine(folded)))
		}
	}
	if len(rep.Findings) > 0 {
		fmt.Fprintf(w, "### Findings\n\n")
	}
	for _, f := range rep.Findings {
		host := ""
		if f.Host != "" {
			host = fmt.Sprintf(" — `%s`", f.Host)
		}
		fmt.Fprintf(w, "#### %s `%s`%s\n\n%s\n\n", strings.ToUpper(f.Severity.String()), f.ID, host, mdEscape(f.Summary))
		if f.Expected != "" {
			fmt.Fprintf(w, "- **Expected:** %s\n", mdEscape(f.Expected))
		}
		if f.Observed != "" {
			fmt.Fprintf(w, "- **Observed:** %s\n", mdEscape(f.Observed))
		}
		if f.Hint != "" {
			fmt.Fprintf(w, "- **Fix:** %s\n", mdEscape(f.Hint))
		}
		if f.WiresharkFilter != "" {
			fmt.Fprintf(w, "- **Wireshark filter:** `%s`\n", f.WiresharkFilter)
		}
		if len(f.Evidence) > 0 {
			fmt.Fprintf(w, "\n<details><summary>Evidence (%s)</summary>\n\n| packet | time | detail |\n|---|---|---|\n", plural(len(f.Evidence), "packet"))
			for _, e := range f.Evidence {
				fmt.Fprintf(w, "| %s | %s | %s |\n", evidenceRef(e, len(rep.Inputs)), clock(e.At.Time()), mdEscape(e.Detail))
			}
			fmt.Fprintf(w, "\n</details>\n")
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "<sub>")
	for i, in := range rep.Inputs {
		if i > 0 {
			fmt.Fprintf(w, "; ")
		}
		fmt.Fprintf(w, "%s: %s, %s", mdEscape(in.Path), in.Format, plural(in.Packets, "packet"))
		if len(in.Errors) > 0 {
			fmt.Fprintf(w, ", damaged")
		}
	}
	if opt.Version != "" {
		fmt.Fprintf(w, " · modsniff %s", opt.Version)
	}
	fmt.Fprintf(w, "</sub>\n")
	return w.Flush()
}

// mdEscape keeps text from breaking Markdown tables and emphasis.
func mdEscape(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;", "`", "'")
	return r.Replace(s)
}
