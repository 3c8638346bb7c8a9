package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/decode/pipeline"
)

const expectSuffix = ".expect.json"

// captureSuffixes are the capture file names a sample may have, in the
// order they are looked for beside an expectation.
var captureSuffixes = []string{".pcapng", ".pcap", ".pcapng.gz", ".pcap.gz"}

// replayCase is one capture with its expectation file.
type replayCase struct {
	name, capture, expect string
}

// replayResult is one line of the replay report.
type replayResult struct {
	Name       string   `json:"name"`
	Capture    string   `json:"capture"`
	Pass       bool     `json:"pass"`
	Missing    []string `json:"missing,omitempty"`
	Unexpected []string `json:"unexpected,omitempty"`
	Error      string   `json:"error,omitempty"`
	Updated    bool     `json:"updated,omitempty"`
}

func runReplay(args []string, e *env) int {
	fs := pflag.NewFlagSet("replay", pflag.ContinueOnError)
	update := fs.Bool("update", false, "rewrite each expectation file from the current findings (review the diff like code)")
	format := fs.String("format", "text", "output format: text or json")
	if done, st := parseFlags(fs, args, e, "[--update] [--format text|json] PATH...  (a capture, an .expect.json, or a directory searched for *.expect.json)"); done {
		return st
	}
	if fs.NArg() == 0 {
		e.errorf("replay: no path given")
		return exitUsage
	}
	if *format != "text" && *format != "json" {
		e.errorf("replay: --format: unknown format %q (want text or json)", *format)
		return exitUsage
	}
	cases, err := findCases(fs.Args(), *update)
	if err != nil {
		e.errorf("replay: %v", err)
		return exitUsage
	}
	var results []replayResult
	unusable := false
	for _, c := range cases {
		r := replayOne(c, *update)
		if r.Error != "" {
			unusable = true
		}
		results = append(results, r)
		if *format == "text" {
			printResult(e, r)
		}
	}
	passed := 0
	for _, r := range results {
		if r.Pass {
			passed++
		}
	}
	failed := len(results) - passed
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(map[string]any{"results": results, "passed": passed, "failed": failed})
	} else {
		fmt.Fprintf(e.stdout, "%d passed, %d failed\n", passed, failed)
	}
	switch {
	case unusable:
		return exitUsage
	case failed > 0:
		return exitFindings
	}
	return exitOK
}

func printResult(e *env, r replayResult) {
	switch {
	case r.Error != "":
		fmt.Fprintf(e.stdout, "FAIL %s\n    error: %s\n", r.Name, r.Error)
	case r.Pass && r.Updated:
		fmt.Fprintf(e.stdout, "PASS %s (expectation rewritten)\n", r.Name)
	case r.Pass:
		fmt.Fprintf(e.stdout, "PASS %s\n", r.Name)
	default:
		fmt.Fprintf(e.stdout, "FAIL %s\n", r.Name)
		for _, m := range r.Missing {
			fmt.Fprintf(e.stdout, "    missing:    %s\n", m)
		}
		for _, u := range r.Unexpected {
			fmt.Fprintf(e.stdout, "    unexpected: %s\n", u)
		}
	}
}

// findCases turns the arguments into captures with their expectations.
func findCases(paths []string, update bool) ([]replayCase, error) {
	var cases []replayCase
	seen := make(map[string]bool)
	add := func(c replayCase) {
		if !seen[c.capture] {
			seen[c.capture] = true
			cases = append(cases, c)
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if st.IsDir() {
			var found []string
			err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.IsDir() && strings.HasSuffix(path, expectSuffix) {
					found = append(found, path)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			slices.Sort(found)
			for _, x := range found {
				c, err := caseForExpect(x)
				if err != nil {
					return nil, err
				}
				add(c)
			}
			continue
		}
		if strings.HasSuffix(p, expectSuffix) {
			c, err := caseForExpect(p)
			if err != nil {
				return nil, err
			}
			add(c)
			continue
		}
		base := p
		for _, s := range captureSuffixes {
			if strings.HasSuffix(p, s) {
				base = strings.TrimSuffix(p, s)
				break
			}
		}
		x := base + expectSuffix
		if _, err := os.Stat(x); err != nil && !update {
			return nil, fmt.Errorf("%s: no expectation file %s (create it with --update)", p, x)
		}
		add(replayCase{name: filepath.Base(base), capture: p, expect: x})
	}
	return cases, nil
}

// caseForExpect finds the capture beside an expectation file.
func caseForExpect(x string) (replayCase, error) {
	base := strings.TrimSuffix(x, expectSuffix)
	for _, s := range captureSuffixes {
		if _, err := os.Stat(base + s); err == nil {
			return replayCase{name: filepath.Base(base), capture: base + s, expect: x}, nil
		}
	}
	return replayCase{}, fmt.Errorf("%s: no capture %s.pcapng (or .pcap, .pcapng.gz, .pcap.gz) beside it", x, filepath.Base(base))
}

// replayOne analyzes one capture with its expectation's flags and compares.
func replayOne(c replayCase, update bool) replayResult {
	r := replayResult{Name: c.name, Capture: c.capture}
	exp, err := analyze.ReadExpectation(c.expect)
	switch {
	case errors.Is(err, fs.ErrNotExist) && update:
		exp = &analyze.Expectation{}
	case err != nil:
		r.Error = err.Error()
		return r
	}
	rep, err := analyzeWithFlags(c, exp.Flags)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	if update {
		fresh := analyze.ExpectationFrom(rep, exp.Flags, exp.Note)
		if err := os.WriteFile(c.expect, fresh.Marshal(), 0o644); err != nil {
			r.Error = err.Error()
			return r
		}
		r.Pass, r.Updated = true, true
		return r
	}
	d := exp.Compare(rep)
	r.Pass = d.OK()
	for _, m := range d.Missing {
		r.Missing = append(r.Missing, m.String())
	}
	for _, u := range d.Unexpected {
		r.Unexpected = append(r.Unexpected, fmt.Sprintf("%s host=%s severity=%s: %s", u.ID, u.Host, u.Severity, u.Summary))
	}
	return r
}

// analyzeWithFlags analyzes one capture as 'modsniff analyze FLAGS CAPTURE'
// would. File arguments of the flags are found relative to the working
// directory, else to the expectation's directory.
func analyzeWithFlags(c replayCase, flags []string) (*analyze.Report, error) {
	fs, o := analyzeFlags()
	fs.SetOutput(new(strings.Builder))
	if err := fs.Parse(flags); err != nil {
		return nil, fmt.Errorf("%s: flags %q: %v", c.expect, flags, err)
	}
	dir := filepath.Dir(c.expect)
	for i, p := range o.trust {
		o.trust[i] = resolveBeside(p, dir)
	}
	for i, p := range o.keylog {
		o.keylog[i] = resolveBeside(p, dir)
	}
	opt, _, err := o.analysisOptions()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", c.expect, err)
	}
	// Warnings about key log lines are not replay's business: the
	// expectation says what must be found.
	dopt, err := o.decodeOptions(&env{stderr: io.Discard})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", c.expect, err)
	}
	in, err := pipeline.Open(0, c.capture, nil, dopt)
	if err != nil {
		return nil, err
	}
	return analyze.Build([]*analyze.Input{in}, opt), nil
}

// resolveBeside returns p if it exists, else p relative to dir, else p
// by its base name in dir.
func resolveBeside(p, dir string) string {
	if _, err := os.Stat(p); err == nil || filepath.IsAbs(p) {
		return p
	}
	for _, q := range []string{filepath.Join(dir, p), filepath.Join(dir, filepath.Base(p))} {
		if _, err := os.Stat(q); err == nil {
			return q
		}
	}
	return p
}
