// Command run is the torture suite's runner (`make torture`): it writes
// every hostile capture of package torture, analyzes each with modsniff
// (`analyze --format json`), and asserts per capture: the exit code (0 or
// 1: findings, never a crash or a usage error), a valid JSON report, peak
// RSS under a budget, wall time under a budget proportional to the
// capture's size, and the limit notes the shape must produce. With -ratio
// it also analyzes the linear-time shapes at twice the scale and asserts
// that the time grows at most -max-ratio times.
//
//	go run ./samples/torture/run -modsniff bin/modsniff [-scale 1] [-only NAME]
//
// It prints one table row per capture and exits 1 when any assertion fails.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/modsniff/modsniff/samples/torture"
)

func main() {
	if len(os.Args) == 5 && os.Args[1] == "-generate" {
		os.Exit(generate(os.Args[2], os.Args[3], os.Args[4], os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// generate writes one shape at a scale to a file. The runner runs it in a
// process of its own: a child's peak RSS as the kernel reports it (wait4's
// ru_maxrss) includes the RSS of the process that started it, so the runner
// stays small and never holds a capture or a report in memory.
func generate(name, scale, path string, stderr io.Writer) int {
	n, err := strconv.Atoi(scale)
	i := slices.IndexFunc(torture.Shapes, func(s torture.Shape) bool { return s.Name == name })
	if err != nil || i < 0 {
		fmt.Fprintf(stderr, "torture: -generate %s %s: unknown shape or scale\n", name, scale)
		return 2
	}
	f, err := os.Create(path)
	if err == nil {
		err = torture.Shapes[i].Write(f, n)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "torture: %s: %v\n", name, err)
		return 1
	}
	return 0
}

// result is what one analysis of one capture measured.
type result struct {
	size    int64
	exit    int
	wall    time.Duration
	rssKiB  int64
	report  int64
	notes   []string
	jsonErr error
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("torture", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("modsniff", "bin/modsniff", "the modsniff `binary` to torture")
	scale := fs.Int("scale", 1, "size `factor` of every capture (1 fits CI: a few minutes in all)")
	only := fs.String("only", "", "run only the shapes whose name contains `TEXT`")
	dir := fs.String("dir", "", "write the captures and reports to `DIR` and keep them (default: a temporary directory, removed)")
	rssBudget := fs.Int64("max-rss", 256, "peak RSS budget per analysis in `MiB`")
	perMB := fs.Duration("time-per-mb", 250*time.Millisecond, "wall-time budget per MB of capture (plus -time-base)")
	base := fs.Duration("time-base", 10*time.Second, "wall-time budget every analysis gets regardless of size")
	ratio := fs.Bool("ratio", true, "also run the linear-time shapes at twice the scale and check the time ratio")
	maxRatio := fs.Float64("max-ratio", 3.0, "largest accepted time ratio between 2× and 1× scale (2.2 on a quiet machine; CI is noisy)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	work := *dir
	if work == "" {
		tmp, err := os.MkdirTemp("", "modsniff-torture-")
		if err != nil {
			fmt.Fprintln(stderr, "torture:", err)
			return 2
		}
		defer os.RemoveAll(tmp)
		work = tmp
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		fmt.Fprintln(stderr, "torture:", err)
		return 2
	}
	if _, err := os.Stat(*bin); err != nil {
		fmt.Fprintf(stderr, "torture: %s: %v (run make build first)\n", *bin, err)
		return 2
	}

	failed := 0
	fmt.Fprintf(stdout, "%-22s %9s %5s %8s %9s %9s  %s\n", "capture", "size MB", "exit", "time s", "peak MiB", "report KB", "verdict")
	var ratios []string
	linear := []string{"dns-unanswered", "tls-hellos-open", "syn-flood", "frag-flood", "dns-runts", "connect-flood"}
	for _, sh := range torture.Shapes {
		if *only != "" && !strings.Contains(sh.Name, *only) {
			continue
		}
		r, err := measure(sh, *scale, work, *bin)
		if err != nil {
			fmt.Fprintf(stdout, "%-22s error: %v\n", sh.Name, err)
			failed++
			continue
		}
		problems := judge(sh, r, *rssBudget, *base+time.Duration(float64(*perMB)*float64(r.size)/1e6))
		if *ratio && slices.Contains(linear, sh.Name) {
			r2, err := measure(sh, 2**scale, work, *bin)
			switch {
			case err != nil:
				problems = append(problems, "2× scale: "+err.Error())
			default:
				q := r2.wall.Seconds() / max(r.wall.Seconds(), 0.05)
				// Below a quarter of a second the start-up dominates: the
				// ratio says nothing then.
				if q > *maxRatio && r2.wall > 500*time.Millisecond {
					problems = append(problems, fmt.Sprintf("2× scale took %.1f× the time (%.2fs vs %.2fs): not linear", q, r2.wall.Seconds(), r.wall.Seconds()))
				}
				ratios = append(ratios, fmt.Sprintf("  %s at 2× scale: %.1f MB in %.2fs, %.2f× the time of 1×", sh.Name, float64(r2.size)/1e6, r2.wall.Seconds(), q))
			}
		}
		verdict := "ok"
		if len(problems) > 0 {
			verdict = "FAIL: " + strings.Join(problems, "; ")
			failed++
		}
		fmt.Fprintf(stdout, "%-22s %9.1f %5d %8.2f %9.1f %9d  %s\n", sh.Name, float64(r.size)/1e6, r.exit, r.wall.Seconds(),
			float64(r.rssKiB)/1024, r.report/1024, verdict)
	}
	for _, l := range ratios {
		fmt.Fprintln(stdout, l)
	}
	// The summary comes last: CI reads the closing line.
	fmt.Fprintf(stdout, "torture: %d passed, %d failed\n", countShapes(*only)-failed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

func countShapes(only string) int {
	n := 0
	for _, sh := range torture.Shapes {
		if only == "" || strings.Contains(sh.Name, only) {
			n++
		}
	}
	return n
}

// measure writes the shape at scale and analyzes it once.
func measure(sh torture.Shape, scale int, dir, bin string) (*result, error) {
	path := filepath.Join(dir, fmt.Sprintf("x%d-%s", scale, sh.File()))
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	gen := exec.Command(self, "-generate", sh.Name, strconv.Itoa(scale), path)
	if out, err := gen.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("generate: %v: %s", err, bytes.TrimSpace(out))
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	report := path + ".json"
	cmd := exec.Command(bin, "analyze", "--format", "json", "--fail-on", "error", "-o", report, path)
	cmd.Stderr = io.Discard
	start := time.Now()
	err = cmd.Run()
	r := &result{size: st.Size(), wall: time.Since(start)}
	if cmd.ProcessState == nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	r.exit = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rssKiB = ru.Maxrss // KiB on Linux
	}
	r.report, r.notes, r.jsonErr = readReport(report)
	return r, nil
}

// readReport checks that the report is one valid JSON object with a schema
// and one input, reading it as a stream (a report can be hundreds of MB),
// and returns its size and the input's notes and error messages.
func readReport(path string) (size int64, notes []string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, nil, err
	}
	dec := json.NewDecoder(bufio.NewReader(f))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return st.Size(), nil, fmt.Errorf("not a JSON object (%v)", err)
	}
	schema := false
	inputs := -1
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return st.Size(), nil, err
		}
		switch t {
		case "schema":
			var v int
			if err := dec.Decode(&v); err != nil {
				return st.Size(), nil, fmt.Errorf("schema: %w", err)
			}
			schema = v == 1
		case "inputs":
			var in []struct {
				Notes  []string `json:"notes"`
				Errors []struct {
					Message string `json:"message"`
				} `json:"errors"`
			}
			if err := dec.Decode(&in); err != nil {
				return st.Size(), nil, fmt.Errorf("inputs: %w", err)
			}
			inputs = len(in)
			for _, i := range in {
				notes = append(notes, i.Notes...)
				for _, e := range i.Errors {
					notes = append(notes, e.Message)
				}
			}
		default:
			if err := skipValue(dec); err != nil {
				return st.Size(), nil, fmt.Errorf("%v: %w", t, err)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return st.Size(), nil, err
	}
	if !schema || inputs != 1 {
		return st.Size(), notes, fmt.Errorf("schema 1 and one input expected (schema ok %v, %d inputs)", schema, inputs)
	}
	return st.Size(), notes, nil
}

// skipValue reads one JSON value token by token, holding none of it.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// judge lists what r breaks of the shape's promises and the budgets.
func judge(sh torture.Shape, r *result, rssMiB int64, budget time.Duration) []string {
	var p []string
	if r.exit != 0 && r.exit != 1 {
		p = append(p, fmt.Sprintf("exit status %d", r.exit))
	}
	if r.jsonErr != nil {
		p = append(p, "report: "+r.jsonErr.Error())
	}
	if sh.MaxRSSMiB > 0 {
		rssMiB = sh.MaxRSSMiB // sh.Why says why this shape needs more
	}
	if r.rssKiB > rssMiB*1024 {
		p = append(p, fmt.Sprintf("peak RSS %.0f MiB over the %d MiB budget", float64(r.rssKiB)/1024, rssMiB))
	}
	if r.wall > budget {
		p = append(p, fmt.Sprintf("%.1fs over the %.1fs budget", r.wall.Seconds(), budget.Seconds()))
	}
	for _, want := range sh.Notes {
		if !slices.ContainsFunc(r.notes, func(n string) bool { return strings.Contains(n, want) }) {
			p = append(p, fmt.Sprintf("no note saying %q", want))
		}
	}
	return p
}
