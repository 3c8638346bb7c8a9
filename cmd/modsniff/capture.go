package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/pipeline"
	"github.com/modsniff/modsniff/decode/trim"
)

// captureOptions are the flags of 'modsniff capture' (DESIGN §2).
type captureOptions struct {
	analyzeOptions
	ifaces    []string
	writePath string
	filter    string
	duration  time.Duration
	snaplen   int
	full      bool
	noAnalyze bool
	linger    time.Duration
	keys      string   // --keys: auto, ebpf, off (capture_keys.go)
	keysFrom  []string // --keys-from PATH|PID
}

const captureSynopsis = "[flags] [-- COMMAND [ARG...]]"

func captureFlags() (*pflag.FlagSet, *captureOptions) {
	o := &captureOptions{}
	fs := pflag.NewFlagSet("capture", pflag.ContinueOnError)
	fs.SetInterspersed(false) // the first argument that is not a flag starts the command
	fs.StringArrayVarP(&o.ifaces, "interface", "i", nil, "capture on interface `NAME` (default any); repeatable")
	fs.StringVarP(&o.writePath, "write", "w", "", "write the capture to `FILE` (default modsniff-<UTC time>.pcapng); mode 0600")
	fs.StringVarP(&o.filter, "filter", "f", "", "BPF capture `FILTER` (default: DNS and DNS over TLS, HTTPS, the ports of the proxies and of GOPROXY, ICMP errors)")
	fs.DurationVar(&o.duration, "duration", 0, "stop after `D` (a wrapped command still running then is terminated); default: until Ctrl-C or the command's end")
	fs.IntVar(&o.snaplen, "snaplen", capture.DefaultSnapLen, "keep at most `N` bytes of each packet")
	fs.BoolVar(&o.full, "full", false, "keep application data; by default DNS, ICMP and handshakes are kept whole and TLS application data and HTTP bodies are cut")
	fs.BoolVar(&o.noAnalyze, "no-analyze", false, "only write the capture; do not analyze it")
	fs.DurationVar(&o.linger, "linger", 2*time.Second, "after the command exits, go on capturing for `D` (a late answer, an ICMP error, a reset)")
	fs.StringVar(&o.keys, "keys", keysAuto, "read the TLS keys of Go programs with an eBPF uprobe: `auto` (when the system allows it), ebpf (or fail), off")
	fs.StringArrayVar(&o.keysFrom, "keys-from", nil, "also read the TLS keys of the Go program at `PATH`, or of the running process PID; repeatable")
	addReportFlags(fs, &o.analyzeOptions)
	return fs, o
}

// newTrimmer is the privacy trimmer of one captured interface (DESIGN §6).
func newTrimmer() capture.Trimmer { return trim.New() }

func runCapture(args []string, e *env) int {
	fs, o := captureFlags()
	if done, st := parseFlags(fs, args, e, captureSynopsis); done {
		if st == exitOK {
			fmt.Fprint(e.stdout, captureHelp)
		}
		return st
	}
	command := fs.Args()
	switch {
	case o.duration < 0:
		e.errorf("capture: --duration must not be negative")
		return exitUsage
	case o.linger < 0:
		e.errorf("capture: --linger must not be negative")
		return exitUsage
	case o.snaplen < 64 || o.snaplen > capture.MaxPacketSize:
		e.errorf("capture: --snaplen must be between 64 and %d", capture.MaxPacketSize)
		return exitUsage
	case o.keys != keysAuto && o.keys != keysEBPF && o.keys != keysOff:
		e.errorf("capture: --keys must be auto, ebpf or off, not %q", o.keys)
		return exitUsage
	case o.keys == keysOff && len(o.keysFrom) > 0:
		e.errorf("capture: --keys-from with --keys=off")
		return exitUsage
	}
	opt, failOn, err := o.analysisOptions()
	if err != nil {
		e.errorf("capture: %v", err)
		return exitUsage
	}

	ifaces := o.ifaces
	if len(ifaces) == 0 {
		ifaces = []string{"any"}
	}
	if err := capture.CheckLive(ifaces); err != nil {
		e.errorf("capture: %v", err)
		return exitUsage
	}
	user, err := invokingUser()
	if err != nil {
		e.errorf("capture: %v", err)
		return exitUsage
	}
	cmdEnv := os.Environ()
	var prepare func(*exec.Cmd)
	uid, gid := -1, -1
	if user != nil {
		cmdEnv = user.environ(cmdEnv)
		prepare = user.prepare
		uid, gid = user.uid, user.gid
		if len(command) > 0 && !hasAny(cmdEnv, "GOPROXY", "GOFLAGS", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy") {
			fmt.Fprintf(e.stderr, "modsniff: running %s as %s; sudo resets the environment: if GOPROXY or HTTPS_PROXY are set in your shell, use `sudo -E`\n",
				command[0], user.name)
		}
	}
	meta := capture.GatherMetadata(context.Background(), capture.GatherOptions{
		Version: version, Command: command, Env: cmdEnv, Prepare: prepare,
	})
	if user != nil {
		meta.RunAs = user.name
	}
	filter := o.filter
	if !fs.Changed("filter") {
		filter = capture.DefaultFilter(func(k string) string { return lookupEnv(cmdEnv, k) }, meta.GoEnv)
	}
	path := o.writePath
	if path == "" {
		path = "modsniff-" + time.Now().UTC().Format("20060102T150405Z") + ".pcapng"
	}
	keys, noKeys, err := startKeys(o.keys, o.keysFrom, command)
	if err != nil {
		if keysUnavailable(err) {
			e.errorf("capture: --keys=ebpf: %v (--keys=auto captures without keys)", err)
		} else {
			e.errorf("capture: %v", err)
		}
		return exitUsage
	}
	if noKeys != "" && o.keys != keysOff {
		fmt.Fprintf(e.stderr, "modsniff: no TLS keys: %s\n", strings.TrimPrefix(noKeys, "none: "))
	}
	meta.Keys = noKeys
	// Signals are caught from here on: a Ctrl-C stops the capture cleanly.
	sigc := make(chan os.Signal, 8)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigc)
	lc, err := capture.StartLive(capture.LiveConfig{
		Interfaces: ifaces, Filter: filter, SnapLen: o.snaplen, Full: o.full, NewTrimmer: newTrimmer,
		Path: path, Meta: meta, UID: uid, GID: gid,
	})
	if err != nil {
		if keys != nil {
			keys.stop()
		}
		e.errorf("capture: %v", err)
		return exitUsage
	}
	keys.started(lc)
	fmt.Fprintf(e.stderr, "modsniff: capturing on %s to %s\n", strings.Join(ifaces, ", "), path)

	final := lc.Metadata()
	cmdStatus := exitOK
	if len(command) > 0 {
		res := runWrapped(command, cmdEnv, prepare, e, sigc, o.duration, keys.commandStarted)
		cmdStatus = res.status
		final.ExitStatus = &res.status
		final.Signal = res.signal
		final.SetStderrTail(res.stderr)
		if res.startErr != nil {
			e.errorf("capture: %v", res.startErr)
			final.Notes = append(final.Notes, "the command could not start: "+capture.RedactText(res.startErr.Error()))
		}
		if res.interrupted == 0 && res.startErr == nil {
			linger(sigc, o.linger)
		}
	} else {
		if o.duration > 0 {
			fmt.Fprintf(e.stderr, "modsniff: capturing for %s; Ctrl-C stops earlier\n", o.duration)
		} else {
			fmt.Fprintf(e.stderr, "modsniff: press Ctrl-C to stop\n")
		}
		waitStop(sigc, o.duration)
	}

	if keys != nil {
		final.Keys, final.KeysNotCovered = keys.stop()
		fmt.Fprintf(e.stderr, "modsniff: TLS keys: %s\n", final.Keys)
	}
	stopErr := lc.Stop()
	final.AddHostsLines("/etc/hosts", lc.QueryNames())
	finErr := lc.Finalize(final)
	signal.Stop(sigc) // the file is complete: a Ctrl-C may end the analysis
	if stopErr != nil {
		e.errorf("capture: writing %s: %v", path, stopErr)
	} else if finErr != nil {
		e.errorf("capture: %s holds the capture, but the metadata known at the end (exit status, standard error) could not be added: %v", path, finErr)
	}
	status := summarize(lc.Stats(), path, o.full, e)
	if stopErr != nil {
		status = exitUsage
	}
	if len(command) > 0 {
		status = cmdStatus
	}
	if o.noAnalyze {
		return status
	}
	// Keys are read now: a key log written by the command (SSLKEYLOGFILE)
	// is complete only once it has exited.
	dopt, err := o.decodeOptions(e)
	if err != nil {
		e.errorf("capture: %v", err)
		dopt = decode.Options{}
	}
	in, err := pipeline.Open(0, path, nil, dopt)
	if err != nil {
		e.errorf("capture: analyzing %s: %v", path, err)
		if len(command) > 0 {
			return cmdStatus
		}
		return exitUsage
	}
	rep := analyze.Build([]*analyze.Input{in}, opt)
	// With a command, its standard output stays its own: the report goes to
	// standard error (or -o).
	re := e
	if len(command) > 0 {
		re = &env{stdin: e.stdin, stdout: e.stderr, stderr: e.stderr}
	}
	if st := o.write(rep, re); st != exitOK && len(command) == 0 {
		return st
	}
	if len(command) > 0 {
		return cmdStatus
	}
	return max(status, reportStatus(rep, failOn))
}

const captureHelp = `
Without a command, modsniff captures until Ctrl-C, SIGTERM or --duration. With one, the capture is
active before the command starts; its standard input and output pass through, its standard error too
(and its end is recorded); after it exits modsniff goes on capturing for --linger, then analyzes the
capture, prints the report on standard error (standard output stays the command's) and exits with
the command's exit status (128+N when signal N ended it). A Ctrl-C reaches the command too; SIGTERM
and SIGHUP sent to modsniff are passed on to it. Under sudo the command, and the go command asked for
its settings, run as the user who invoked sudo, with that user's HOME, USER and LOGNAME; the file is
theirs.

The file (mode 0600) keeps DNS, ICMP and the TLS handshakes whole; TLS application data and HTTP
bodies are cut (TLS record headers stay, credentials in HTTP heads are masked) unless --full. It
records modsniff's version, the command, its exit status and the end of its standard error
(credentials redacted), go version, the go env that decides where modules come from, the proxy
variables (redacted), SSL_CERT_FILE/DIR, resolv.conf, the /etc/hosts lines for the hosts involved and
the nsswitch hosts line: Wireshark shows them under Statistics > Capture File Properties.

Capturing needs privileges: run with sudo, or once
  sudo setcap cap_net_raw,cap_net_admin=eip $(command -v modsniff)

TLS keys (--keys=auto, the default): when the command is a Go program (the go command), an eBPF
uprobe on crypto/tls.(*Config).writeKeyLog reads the secrets of its handshakes, and of every Go
program it executes (a GOTOOLCHAIN switch), and writes them into the capture as Decryption Secrets
Blocks, so that the report sees the certificates TLS 1.3 encrypts. This needs Linux and
CAP_SYS_ADMIN (sudo, or add cap_sys_admin to the setcap line); without them the capture has no keys
and says why. Programs that are not Go (git) are named as not covered. Anyone holding the file can
decrypt what it holds: 'modsniff keys strip' writes a copy without the keys.
`

// wrapResult is how a wrapped command ended.
type wrapResult struct {
	status      int    // exit status; 128+N for signal N; 126/127 when it could not start
	signal      string // the signal that ended it ("TERM"), if one did
	stderr      []byte // the end of its standard error
	startErr    error
	interrupted int // signals modsniff received meanwhile
}

// Signals and their grace periods while a command runs. A Ctrl-C reaches
// the whole foreground process group, the command included, so SIGINT is
// passed on only if the command has not ended a second later (it was sent
// to modsniff alone); SIGTERM and SIGHUP are passed on at once; a third
// signal kills the command.
const (
	interruptGrace = time.Second
	killGrace      = 5 * time.Second
	waitDelay      = 2 * time.Second
)

// runWrapped runs the command with the terminal's streams, standard error
// also kept in a tail buffer, and waits for it, passing signals on.
func runWrapped(argv, environ []string, prepare func(*exec.Cmd), e *env, sigc <-chan os.Signal, timeout time.Duration, started func(pid int)) wrapResult {
	tail := &tailBuffer{max: capture.MaxStderrTail}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = environ
	cmd.Stdin, cmd.Stdout, cmd.Stderr = e.stdin, e.stdout, io.MultiWriter(e.stderr, tail)
	// Children the command leaves behind may hold its standard error open:
	// once it has exited, do not wait for them long.
	cmd.WaitDelay = waitDelay
	if prepare != nil {
		prepare(cmd)
	}
	if err := cmd.Start(); err != nil {
		st := 126
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			st = 127
		}
		return wrapResult{status: st, startErr: err}
	}
	if started != nil {
		started(cmd.Process.Pid)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	var res wrapResult
	var pending <-chan time.Time // a passed-on signal or a kill is due
	var pendingSig os.Signal
	send := func(s os.Signal) { _ = cmd.Process.Signal(s) }
	for {
		select {
		case <-done:
			res.status, res.signal = exitStatus(cmd.ProcessState)
			res.stderr = tail.bytes()
			return res
		case s := <-sigc:
			res.interrupted++
			switch {
			case res.interrupted >= 3:
				send(os.Kill)
			case s == os.Interrupt:
				pending, pendingSig = time.After(interruptGrace), os.Interrupt
			default:
				send(s)
				pending, pendingSig = time.After(killGrace), os.Kill
			}
		case <-deadline:
			deadline = nil
			send(syscall.SIGTERM)
			pending, pendingSig = time.After(killGrace), os.Kill
		case <-pending:
			send(pendingSig)
			if pendingSig == os.Interrupt {
				pending, pendingSig = time.After(killGrace), os.Kill
			} else {
				pending = nil
			}
		}
	}
}

// exitStatus is a shell's view of how a process ended: its exit code, or
// 128 plus the number of the signal that killed it.
func exitStatus(ps *os.ProcessState) (int, string) {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), signalName(ws.Signal())
	}
	return ps.ExitCode(), ""
}

// signalName is a signal's name without "SIG".
func signalName(s syscall.Signal) string {
	names := map[syscall.Signal]string{
		syscall.SIGHUP: "HUP", syscall.SIGINT: "INT", syscall.SIGQUIT: "QUIT", syscall.SIGILL: "ILL",
		syscall.SIGABRT: "ABRT", syscall.SIGFPE: "FPE", syscall.SIGKILL: "KILL", syscall.SIGSEGV: "SEGV",
		syscall.SIGPIPE: "PIPE", syscall.SIGALRM: "ALRM", syscall.SIGTERM: "TERM", syscall.SIGBUS: "BUS",
		syscall.SIGTRAP: "TRAP",
	}
	if n, ok := names[s]; ok {
		return n
	}
	return strconv.Itoa(int(s))
}

// linger goes on capturing for d, or until a signal.
func linger(sigc <-chan os.Signal, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-sigc:
	}
}

// waitStop waits for a signal, or d when it is not zero.
func waitStop(sigc <-chan os.Signal, d time.Duration) {
	var deadline <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		deadline = t.C
	}
	select {
	case <-sigc:
	case <-deadline:
	}
}

// summarize prints what was written and what was lost; it returns
// exitFindings when packets were lost.
func summarize(stats []capture.IfaceStats, path string, full bool, e *env) int {
	written, cut := 0, 0
	status := exitOK
	for _, s := range stats {
		written += s.Written
		cut += s.Cut
		if s.Dropped+s.IfDropped > 0 {
			e.errorf("warning: on %s the kernel dropped %d packets and the interface %d: the capture is incomplete; narrow it with -f or -i",
				s.Name, s.Dropped, s.IfDropped)
			status = exitFindings
		}
		if s.Err != nil {
			e.errorf("warning: capture on %s ended early: %v", s.Name, s.Err)
			status = exitFindings
		}
	}
	msg := fmt.Sprintf("modsniff: wrote %s: %d packets", path, written)
	if cut > 0 && !full {
		msg += fmt.Sprintf(", %d cut after their headers for privacy (--full keeps them)", cut)
	}
	fmt.Fprintln(e.stderr, msg)
	if written == 0 {
		e.errorf("warning: no packet matched; check the interface (-i) and the filter (-f)")
	}
	return status
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if keep := t.max + 1024; len(t.buf) > 2*keep {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-keep:]...)
	}
	return len(p), nil
}

// bytes returns what is kept, the last max bytes at most (more, when the
// cut would fall short of a line start; SetStderrTail cuts again).
func (t *tailBuffer) bytes() []byte {
	if len(t.buf) > t.max+1024 {
		return t.buf[len(t.buf)-t.max-1024:]
	}
	return t.buf
}

// lookupEnv returns the last value of k in environ.
func lookupEnv(environ []string, k string) string {
	for i := len(environ) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(environ[i], k+"="); ok {
			return v
		}
	}
	return ""
}

// hasAny reports whether any of the variables is set in environ.
func hasAny(environ []string, keys ...string) bool {
	for _, k := range keys {
		for _, kv := range environ {
			if strings.HasPrefix(kv, k+"=") {
				return true
			}
		}
	}
	return false
}
