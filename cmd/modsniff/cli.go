package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"
)

// Exit statuses (DESIGN §2).
const (
	exitOK       = 0 // nothing at or above --fail-on
	exitFindings = 1 // findings at or above --fail-on, damaged input, or drift (replay)
	exitUsage    = 2 // usage error, or an input that could not be read at all
)

// version is modsniff's version; release builds set it with
// -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// versionString describes this build: version, Go version and VCS revision.
func versionString() string {
	s := "modsniff " + version
	if bi, ok := debug.ReadBuildInfo(); ok {
		s += " (" + bi.GoVersion
		for _, kv := range bi.Settings {
			if kv.Key == "vcs.revision" && len(kv.Value) >= 12 {
				s += ", " + kv.Value[:12]
			}
		}
		s += ")"
	}
	return s
}

// command is one subcommand.
type command struct {
	name, args, summary string
	run                 func(args []string, env *env) int
}

// env is what a subcommand may touch: its streams.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func (e *env) errorf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "modsniff: "+format+"\n", args...)
}

// commands lists the subcommands in the order help shows them.
func commands() []command {
	return []command{
		{"analyze", "[flags] FILE...", "read captures ('-' is stdin) and report what is broken", runAnalyze},
		{"capture", "[flags] [-- CMD...]", "record live traffic (of a command) to pcapng, then analyze it", runCapture},
		{"probe", "[flags] [MODULE...]", "fetch like the go command (same env, same TLS) while capturing with keys", runProbe},
		{"replay", "[flags] PATH...", "re-analyze captures and compare with their *.expect.json", runReplay},
		{"certs", "[flags] CAPTURE...", "write the certificates a capture shows as PEM (--issuers: the CAs to trust)", runCerts},
		{"keys", "inject|strip [flags] IN", "write a copy of a capture with its sessions' TLS keys embedded (DSB), or without them", runKeys},
		{"checks", "[--format text|json]", "list every check: ID, layer, severity, title, doc", runChecks},
		{"explain", "\"TEXT\"", "classify a go command error: layer, likely causes, what to capture", runExplain},
		{"version", "", "print modsniff's version", runVersion},
	}
}

// run is the whole CLI: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return exitOK
	case "--version", "-v":
		return runVersion(nil, e)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], e)
		}
	}
	e.errorf("unknown command %q; run 'modsniff help'", args[0])
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "modsniff explains why the go command cannot reach its module proxy, from packet evidence.\n\nUsage:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  modsniff %-8s %-22s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintf(w, "\nExit status: 0 nothing at or above --fail-on; 1 findings at or above it, damaged input or drift; 2 usage error or unreadable input.\n")
	fmt.Fprintf(w, "Run 'modsniff COMMAND --help' for a command's flags.\n")
}

// parseFlags parses a subcommand's flags. It returns done=true with the
// exit status when parsing ended the command (--help, or an error).
func parseFlags(fs *pflag.FlagSet, args []string, e *env, synopsis string) (done bool, status int) {
	fs.SetOutput(e.stderr)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintf(e.stdout, "Usage: modsniff %s %s\n\nFlags:\n%s", fs.Name(), synopsis, fs.FlagUsages())
			return true, exitOK
		}
		e.errorf("%s: %v", fs.Name(), err)
		return true, exitUsage
	}
	return false, 0
}

func runVersion(args []string, e *env) int {
	fmt.Fprintln(e.stdout, versionString())
	return exitOK
}

// isTerminal reports whether w is a terminal, for colour.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || strings.EqualFold(os.Getenv("TERM"), "dumb") {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
