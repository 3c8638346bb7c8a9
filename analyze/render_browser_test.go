package analyze

// The HTML report in a real browser: headless Chromium loads sample
// reports and a probe script reports what it laid out. With -screenshots
// DIR the test also writes PNGs of two sample reports (make screenshots).

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var screenshots = flag.String("screenshots", "", "write screenshots of sample HTML reports to `DIR` (make screenshots)")

// chromium finds a Chromium or Chrome binary.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("SKIP: no chromium (or chrome) on PATH, so the HTML report is not checked in a browser; install it with: apt-get install chromium")
	return ""
}

// runChromium runs headless Chromium with args and returns its standard
// output.
func runChromium(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-extensions",
		"--user-data-dir=" + t.TempDir()}
	if os.Geteuid() == 0 {
		base = append(base, "--no-sandbox") // Chromium refuses to run its sandbox as root
	}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

// probeScript measures the laid-out page and writes the facts into the
// body's data-facts attribute, which --dump-dom then prints.
const probeScript = `<script>
(function(){
  var f = {diagrams:0, svgNamespace:0, hits:[], openHosts:0, hosts:0, labels:0, labelsOutside:0,
           labelsOverRefs:0, rowsOverlap:0, elementsFromCapture:0, bodyBackground:"", labelFill:"",
           dark: matchMedia("(prefers-color-scheme: dark)").matches, height: document.documentElement.scrollHeight,
           emptyLabels:0};
  document.querySelectorAll("svg.fl").forEach(function(svg){
    f.diagrams++;
    if (svg.namespaceURI === "http://www.w3.org/2000/svg") f.svgNamespace++;
    var w = svg.viewBox.baseVal.width, prev = null;
    svg.querySelectorAll("text.fl-label").forEach(function(t){
      f.labels++;
      var b = t.getBBox();
      if (b.width === 0) f.emptyLabels++;
      if (b.x < 0 || b.x + b.width > w + 1) f.labelsOutside++;
      if (b.x < 100) f.labelsOverRefs++;
      if (prev && b.y < prev.y + prev.height - 3 && b.y + b.height > prev.y + 3) f.rowsOverlap++;
      prev = b;
    });
  });
  document.querySelectorAll("g.fl-hit").forEach(function(g){ f.hits.push(+g.getAttribute("data-packet")); });
  document.querySelectorAll("details.fl-host").forEach(function(d){ f.hosts++; if (d.open) f.openHosts++; });
  f.elementsFromCapture = document.querySelectorAll("img, iframe, object, embed, [onerror], [onload]").length + document.scripts.length - 1;
  f.bodyBackground = getComputedStyle(document.body).backgroundColor;
  var l = document.querySelector("svg.fl text.fl-label");
  if (l) f.labelFill = getComputedStyle(l).fill;
  document.body.setAttribute("data-facts", JSON.stringify(f));
})();
</script>`

// pageFacts is what probeScript reports.
type pageFacts struct {
	Diagrams, SVGNamespace      int
	Hits                        []int
	OpenHosts, Hosts            int
	Labels, LabelsOutside       int
	LabelsOverRefs, RowsOverlap int
	ElementsFromCapture         int
	EmptyLabels                 int
	BodyBackground, LabelFill   string
	Dark                        bool
	Height                      int
}

// probe loads page (with the probe script appended) in Chromium.
func probe(t *testing.T, bin, page string, extra ...string) pageFacts {
	t.Helper()
	path := filepath.Join(t.TempDir(), "probe.html")
	if err := os.WriteFile(path, []byte(strings.Replace(page, "</body>", probeScript+"</body>", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	dom := runChromium(t, bin, append(extra, "--dump-dom", "file://"+path)...)
	m := regexp.MustCompile(`data-facts="([^"]*)"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the probe did not run; DOM:\n%.2000s", dom)
	}
	var f pageFacts
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestHTMLReportInChromium renders sample reports in headless Chromium and
// checks the laid-out flow graph: real SVG, every cited packet highlighted,
// hosts with findings open, labels inside their diagram and clear of the
// packet column and of each other, no element made from capture text, and
// a dark page when the reader prefers one.
func TestHTMLReportInChromium(t *testing.T) {
	bin := chromium(t)
	samples := []struct {
		name        string
		shots, dark bool
	}{
		{"interception-mitmproxy-tls12", true, true},
		{"dns-injected-race", true, false},
	}
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			page, rep := renderSample(t, s.name)
			f := probe(t, bin, page)
			t.Logf("%s: %+v", s.name, f)
			if f.Diagrams == 0 || f.SVGNamespace != f.Diagrams {
				t.Errorf("%d diagrams, %d of them SVG elements", f.Diagrams, f.SVGNamespace)
			}
			cited := map[int]bool{}
			for _, fd := range rep.Findings {
				for _, e := range fd.Evidence {
					cited[int(e.At.Packet)] = true
				}
			}
			hit := map[int]bool{}
			for _, p := range f.Hits {
				hit[p] = true
				if !cited[p] {
					t.Errorf("packet %d highlighted, no finding cites it", p)
				}
			}
			if len(hit) == 0 {
				t.Error("no packet highlighted")
			}
			if f.OpenHosts == 0 || f.OpenHosts > f.Hosts {
				t.Errorf("%d of %d hosts open; the host with findings should be", f.OpenHosts, f.Hosts)
			}
			checkLayout(t, f)
			if s.dark {
				dark := probe(t, bin, page, "--force-dark-mode")
				if !dark.Dark || dark.BodyBackground == f.BodyBackground || dark.LabelFill == f.LabelFill {
					t.Errorf("dark mode: prefers dark %v, background %s (light %s), label fill %s (light %s)",
						dark.Dark, dark.BodyBackground, f.BodyBackground, dark.LabelFill, f.LabelFill)
				}
			}
			if *screenshots != "" && s.shots {
				shot(t, bin, page, filepath.Join(*screenshots, "report-"+s.name+".png"), min(f.Height, 4000))
			}
		})
	}
	t.Run("capture text is only text", func(t *testing.T) {
		t.Parallel()
		f := probe(t, bin, hostilePage(t))
		t.Logf("hostile: %+v", f)
		if f.Diagrams == 0 {
			t.Error("no diagram")
		}
		checkLayout(t, f)
	})
}

// checkLayout fails on labels laid out empty, outside their diagram, over
// the packet column or over each other, and on any element or handler the
// report itself does not write (the probe script aside).
func checkLayout(t *testing.T, f pageFacts) {
	t.Helper()
	if f.Labels == 0 || f.EmptyLabels > 0 {
		t.Errorf("%d labels, %d laid out empty", f.Labels, f.EmptyLabels)
	}
	if f.LabelsOutside > 0 || f.LabelsOverRefs > 0 || f.RowsOverlap > 0 {
		t.Errorf("labels outside their diagram %d, over the packet column %d, overlapping %d", f.LabelsOutside, f.LabelsOverRefs, f.RowsOverlap)
	}
	if f.ElementsFromCapture != 0 {
		t.Errorf("%d elements or handlers the report should not have", f.ElementsFromCapture)
	}
}

// shot writes a screenshot of page to path.
func shot(t *testing.T, bin, page, path string, height int) {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(src, []byte(page), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		t.Fatal(err)
	}
	runChromium(t, bin, fmt.Sprintf("--window-size=1100,%d", max(height, 600)), "--screenshot="+abs, "file://"+src)
	if st, err := os.Stat(abs); err != nil || st.Size() == 0 {
		t.Fatalf("no screenshot written to %s: %v", abs, err)
	}
	t.Logf("wrote %s", path)
}
