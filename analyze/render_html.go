package analyze

import (
	"cmp"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/modsniff/modsniff/capture"
)

// timelineItem is one row of the HTML timeline.
type timelineItem struct {
	Time, Ref, Kind, Text string
	Input, Packet         int
	Flag                  string // the severity of a finding citing this packet
}

// timeline lists the events in capture order, each marked with the most
// severe finding that cites its packet.
func timeline(rep *Report) []timelineItem {
	var items []timelineItem
	add := func(input, packet int, ts, kind, text string) {
		items = append(items, timelineItem{Time: ts, Input: input, Packet: packet, Kind: kind, Text: text,
			Ref: evidenceRef(Evidence{At: capture.Ref{Input: int32(input), Packet: int32(packet)}}, len(rep.Inputs))})
	}
	for _, d := range rep.Events.DNS {
		if d.Packet > 0 {
			add(d.Input, d.Packet, d.Time, "dns", fmt.Sprintf("%s → %s query %s %s", d.Client, d.Server, d.Type, d.Name))
		}
		for _, r := range d.Responses {
			var ans []string
			for _, a := range r.Answers {
				ans = append(ans, a.Type+" "+a.Data)
			}
			add(d.Input, r.Packet, r.Time, "dns", fmt.Sprintf("%s → %s %s %s: %s (IP TTL %d)", d.Server, d.Client, d.Name, r.RCode, strings.Join(ans, ", "), r.IPTTL))
		}
	}
	for _, c := range rep.Events.TCP {
		add(c.Input, c.Packet, c.Time, "tcp", fmt.Sprintf("%s → %s %s, %d SYN, %s", c.Client, c.Server, c.App, c.SYNs, strings.Join(c.Resets, ", ")))
	}
	for _, t := range rep.Events.TLS {
		text := fmt.Sprintf("%s → %s ClientHello SNI %q ALPN %s", t.Client, t.Server, t.SNI, strings.Join(t.ClientALPN, ","))
		if t.Version != "" {
			text += fmt.Sprintf("; server chose %s %s", t.Version, t.Cipher)
		}
		for _, a := range t.Alerts {
			text += fmt.Sprintf("; %s alert from %s", a.Description, a.From)
		}
		add(t.Input, t.Packet, t.Time, "tls", text)
	}
	for _, h := range rep.Events.HTTP {
		if h.Method != "" {
			add(h.Input, h.Packet, h.Time, "http", fmt.Sprintf("%s %s %s%s", h.Proto, h.Method, h.Host, h.Path))
		}
		switch {
		case h.GoAway != "":
			add(h.Input, h.ResponsePacket, h.ResponseTime, "http", fmt.Sprintf("GOAWAY %s from %s", h.GoAway, h.Host))
		case h.Status != 0:
			add(h.Input, h.ResponsePacket, h.ResponseTime, "http", fmt.Sprintf("status %d for %s %s", h.Status, h.Method, h.Path))
		}
	}
	for _, p := range rep.Events.Proxy {
		add(p.Input, p.Packet, "", "proxy", fmt.Sprintf("%s %s via %s: %s", p.Kind, p.Target, p.Proxy, p.StatusLine))
	}
	flags := make(map[[2]int]Severity)
	for _, f := range rep.Findings {
		for _, e := range f.Evidence {
			k := [2]int{int(e.At.Input), int(e.At.Packet)}
			if s, ok := flags[k]; !ok || f.Severity > s {
				flags[k] = f.Severity
			}
		}
	}
	for i := range items {
		if s, ok := flags[[2]int{items[i].Input, items[i].Packet}]; ok {
			items[i].Flag = s.String()
		}
	}
	slices.SortStableFunc(items, func(a, b timelineItem) int {
		if c := cmp.Compare(a.Input, b.Input); c != 0 {
			return c
		}
		return cmp.Compare(a.Packet, b.Packet)
	})
	return items
}

var htmlTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"short": shortTime,
		"clock": clock,
		"ref":   func(e Evidence, n int) string { return evidenceRef(e, n) },
	}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>modsniff report</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
code{font-family:ui-monospace,monospace;font-size:.95em}
.error{color:#b00020}.warning{color:#a15c00}.info{color:#006a8a}
tr.error td{background:#fde7ea}tr.warning td{background:#fff4e0}tr.info td{background:#e6f6fb}
.finding{border-left:4px solid #ccc;padding:.2em 1em;margin:1em 0}.finding.error{border-color:#b00020}.finding.warning{border-color:#a15c00}.finding.info{border-color:#006a8a}
.finding p{color:#222;margin:.3em 0}
</style><style>{{.FlowCSS}}</style></head><body>
<h1>modsniff report</h1>
<p>{{.Headline}}</p>
{{with .Report.Context}}{{if .Command}}<p>Captured around <code>{{range $i, $a := .Command}}{{if $i}} {{end}}{{$a}}{{end}}</code>{{if .ExitStatus}}, which exited {{.ExitStatus}}{{end}}.</p>{{end}}{{if .GoSaid}}<p><b>{{.GoSaid}}</b></p>{{end}}{{end}}
{{if .Report.Hosts}}<h2>Hosts</h2><table><tr><th>host</th><th>role</th><th>verdict</th></tr>
{{range .Report.Hosts}}<tr><td><code>{{.Name}}</code></td><td>{{.Role}}</td><td>{{.Verdict}}</td></tr>{{end}}</table>{{end}}
{{if .Report.Findings}}<h2>Findings</h2>{{end}}
{{range .Report.Findings}}<div class="finding {{.Severity}}"><p><b class="{{.Severity}}">{{.Severity}}</b> <code>{{.ID}}</code> {{if .Host}}<code>{{.Host}}</code>{{end}} — {{.Summary}}</p>
{{if .Expected}}<p><b>Expected:</b> {{.Expected}}</p>{{end}}{{if .Observed}}<p><b>Observed:</b> {{.Observed}}</p>{{end}}
{{if .Hint}}<p><b>Fix:</b> {{.Hint}}</p>{{end}}{{if .WiresharkFilter}}<p><b>Wireshark:</b> <code>{{.WiresharkFilter}}</code></p>{{end}}
<ul>{{range .Evidence}}<li>{{ref . $.Inputs}} {{clock .At.Time}} {{.Detail}}</li>{{end}}</ul></div>{{end}}
{{.Flow}}
<h2>Timeline</h2><table><tr><th>packet</th><th>time</th><th>layer</th><th>event</th></tr>
{{range .Timeline}}<tr class="{{.Flag}}"><td>{{.Ref}}</td><td>{{short .Time}}</td><td>{{.Kind}}</td><td>{{.Text}}</td></tr>{{end}}</table>
<h2>Inputs</h2><ul>{{range .Report.Inputs}}<li><code>{{.Path}}</code>: {{.Format}}, {{.Packets}} packets{{range .Errors}}<br><span class="error">byte {{.Offset}}, packet {{.Packet}}: {{.Message}}</span>{{end}}</li>{{end}}</ul>
<p><small>modsniff {{.Version}}</small></p>
</body></html>
`))
})

// renderHTML writes a self-contained page: hosts, findings and a timeline
// of every decoded event, the rows cited by findings highlighted.
func renderHTML(w io.Writer, rep *Report, opt RenderOptions) error {
	return htmlTemplate().Execute(w, map[string]any{
		"Report":   rep,
		"Headline": headline(rep),
		"Timeline": timeline(rep),
		"Inputs":   len(rep.Inputs),
		"Version":  opt.Version,
		"Flow":     flowHTML(rep, opt.Events),
		"FlowCSS":  template.CSS(flowCSS),
	})
}
