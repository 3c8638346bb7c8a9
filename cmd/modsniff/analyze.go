package main

import (
	"bufio"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// analyzeOptions are the flags of 'modsniff analyze' (DESIGN §2).
type analyzeOptions struct {
	format      string
	output      string
	trust       []string
	keylog      []string
	systemRoots bool
	allowAddr   []string
	failOn      string
	quiet       bool
	// interceptors are --interceptors files; userDefaults also reads the
	// per-user interceptor file when it exists (not for replay, whose
	// verdicts must not depend on the machine).
	interceptors []string
	userDefaults bool
	// timeout and maxMemory bound the reading of the inputs (decode.Budget).
	timeout   time.Duration
	maxMemory int64
}

func analyzeFlags() (*pflag.FlagSet, *analyzeOptions) {
	o := &analyzeOptions{}
	fs := pflag.NewFlagSet("analyze", pflag.ContinueOnError)
	addReportFlags(fs, o)
	fs.DurationVar(&o.timeout, "timeout", 0, "stop reading the inputs after `D` (e.g. 10m) and report on what was read; 0 for no limit")
	fs.Int64Var(&o.maxMemory, "max-memory", 1024, "stop reading the inputs when the heap passes `MiB` and report on what was read (0: no limit)")
	return fs, o
}

// addReportFlags adds the flags that shape an analysis and its report;
// capture and probe share them.
func addReportFlags(fs *pflag.FlagSet, o *analyzeOptions) {
	fs.StringVar(&o.format, "format", "text", "report format: text, json, markdown, html, github (workflow commands) or junit")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no progress display on standard error")
	fs.StringVarP(&o.output, "output", "o", "", "write the report to `FILE` instead of standard output")
	fs.StringArrayVar(&o.keylog, "keylog", nil, "NSS key log `FILE` (SSLKEYLOGFILE) to decrypt TLS; keys inside pcapng files (DSB) are read automatically; repeatable")
	fs.StringArrayVar(&o.trust, "trust", nil, "PEM `FILE` of CA certificates you accept (a corporate CA): chains ending in them are not foreign; repeatable")
	fs.BoolVar(&o.systemRoots, "system-roots", false, "trust the operating system's certificate store instead of the embedded Mozilla bundle")
	fs.StringArrayVar(&o.allowAddr, "allow-addr", nil, "`CIDR` whose addresses are legitimate DNS answers (a split-horizon mirror); repeatable")
	fs.StringVar(&o.failOn, "fail-on", "error", "exit 1 when a finding of this severity or worse exists: error, warning, info or never")
	addInterceptorsFlag(fs, o)
}

func runAnalyze(args []string, e *env) int {
	fs, o := analyzeFlags()
	if done, st := parseFlags(fs, args, e, "[flags] FILE...  ('-' reads standard input)"); done {
		return st
	}
	if fs.NArg() == 0 {
		e.errorf("analyze: no capture given; usage: modsniff analyze [flags] FILE...")
		return exitUsage
	}
	opt, failOn, err := o.analysisOptions()
	if err != nil {
		e.errorf("analyze: %v", err)
		return exitUsage
	}
	dopt, err := o.decodeOptions(e)
	if err != nil {
		e.errorf("analyze: %v", err)
		return exitUsage
	}
	status := exitOK
	var inputs []*analyze.Input
	for _, path := range fs.Args() {
		in, err := readInput(len(inputs), path, o, e, dopt)
		if err != nil {
			e.errorf("%v", err)
			status = exitUsage
			continue
		}
		inputs = append(inputs, in)
	}
	if len(inputs) == 0 {
		return exitUsage
	}
	stats.mark("read")
	holdGC()
	// The JSON report converts and writes the events one by one.
	opt.StreamEvents = o.format == "json"
	rep := analyze.Build(inputs, opt)
	stats.mark("analyze")
	if st := o.write(rep, e, inputs...); st != exitOK {
		return st
	}
	stats.mark("output")
	return max(status, reportStatus(rep, failOn))
}

// analysisOptions turns the flags into analysis options.
func (o *analyzeOptions) analysisOptions() (analyze.Options, analyze.Severity, error) {
	var opt analyze.Options
	var err error
	failOn := analyze.Error
	switch o.failOn {
	case "never":
		failOn = analyze.Error + 1
	default:
		s, err := analyze.ParseSeverity(o.failOn)
		if err != nil {
			return opt, 0, fmt.Errorf("--fail-on: %v", err)
		}
		failOn = s
	}
	if !validFormat(o.format) {
		return opt, 0, fmt.Errorf("--format: unknown format %q (want %s)", o.format, strings.Join(analyze.Formats, ", "))
	}
	for _, path := range o.trust {
		certs, err := readPEMCerts(path)
		if err != nil {
			return opt, 0, fmt.Errorf("--trust: %v", err)
		}
		opt.Trust = append(opt.Trust, certs...)
	}
	opt.SystemRoots = o.systemRoots
	if opt.Interceptors, err = o.userInterceptors(); err != nil {
		return opt, 0, err
	}
	for _, s := range o.allowAddr {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, err2 := netip.ParseAddr(s)
			if err2 != nil {
				return opt, 0, fmt.Errorf("--allow-addr: %q is not a CIDR prefix or an address", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		opt.AllowAddrs = append(opt.AllowAddrs, p.Masked())
	}
	return opt, failOn, nil
}

// decodeOptions returns the decoding options of the flags: a certificate
// cache and the TLS keys of the --keylog files. Lines of a key log that
// cannot be used are reported as warnings; a file that cannot be read is
// an error.
func (o *analyzeOptions) decodeOptions(e *env) (decode.Options, error) {
	opt := decode.Options{Certs: tlswire.NewCertCache(4096)}
	if os.Getenv("GOMEMLIMIT") == "" && os.Getenv("GOGC") == "" {
		// Headroom proportional to the live heap, never above the
		// ceiling the user set (see gcGovernor).
		governGC(max(o.maxMemory, 0) << 20)
	}
	if o.timeout > 0 || o.maxMemory > 0 {
		opt.Budget = &decode.Budget{MaxHeap: uint64(max(o.maxMemory, 0)) << 20}
		if o.timeout > 0 {
			opt.Budget.Deadline = time.Now().Add(o.timeout)
		}
	}
	if len(o.keylog) == 0 {
		return opt, nil
	}
	kl, err := readKeyLogs(o.keylog, e)
	if err != nil {
		return opt, fmt.Errorf("--keylog: %v", err)
	}
	opt.Keys = kl
	return opt, nil
}

// readKeyLogs reads NSS key log files into one KeyLog; unusable lines are
// printed as warnings (at most 20 per file).
func readKeyLogs(paths []string, e *env) (*capture.KeyLog, error) {
	kl := capture.NewKeyLog()
	for _, p := range paths {
		bad, err := kl.ReadFile(p)
		if err != nil {
			return nil, err
		}
		for i, b := range bad {
			if i == 20 {
				e.errorf("warning: %s: %d more lines could not be used", p, len(bad)-i)
				break
			}
			e.errorf("warning: %v", b)
		}
	}
	return kl, nil
}

func validFormat(f string) bool {
	for _, x := range analyze.Formats {
		if f == x {
			return true
		}
	}
	return false
}

// write renders the report to the chosen output; the inputs give the HTML
// report its flow graph. With --format github it also appends the
// Markdown report to $GITHUB_STEP_SUMMARY.
func (o *analyzeOptions) write(rep *analyze.Report, e *env, inputs ...*analyze.Input) int {
	ropt := analyze.RenderOptions{Version: version}
	if o.format == "html" && len(inputs) > 0 {
		ropt.Events = analyze.Merge(inputs)
	}
	if o.format == "github" {
		if err := appendStepSummary(rep, ropt); err != nil {
			e.errorf("writing the step summary: %v", err)
		}
	}
	if o.output == "" {
		ropt.Color = o.format == "text" && isTerminal(e.stdout)
		if err := analyze.Render(e.stdout, rep, o.format, ropt); err != nil {
			e.errorf("writing the report: %v", err)
			return exitUsage
		}
		return exitOK
	}
	// The report goes to the file as it is rendered: a large capture's
	// JSON report is tens of MB, and no copy of it is held in memory.
	f, err := os.OpenFile(o.output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		e.errorf("writing the report: %v", err)
		return exitUsage
	}
	w := bufio.NewWriterSize(f, 256<<10)
	err = analyze.Render(w, rep, o.format, ropt)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(o.output) // a partial report would mislead
		e.errorf("writing the report: %v", err)
		return exitUsage
	}
	return exitOK
}

// reportStatus is the exit status for a report: 1 when a finding reaches
// failOn, an input is damaged, or reading stopped at a --timeout or
// --max-memory limit (the report then covers part of an input).
func reportStatus(rep *analyze.Report, failOn analyze.Severity) int {
	for _, in := range rep.Inputs {
		if len(in.Errors) > 0 || in.Stopped {
			return exitFindings
		}
	}
	for _, f := range rep.Findings {
		if f.Severity >= failOn {
			return exitFindings
		}
	}
	return exitOK
}

// readPEMCerts reads every certificate in a PEM file.
func readPEMCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no PEM CERTIFICATE block found", path)
	}
	return out, nil
}
