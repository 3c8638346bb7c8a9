package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/modsniff/modsniff/analyze"
)

func runExplain(args []string, e *env) int {
	fs := pflag.NewFlagSet("explain", pflag.ContinueOnError)
	format := fs.String("format", "text", "output format: text or json")
	if done, st := parseFlags(fs, args, e, "[--format text|json] \"TEXT\"  (or '-' to read the go command's output from stdin)"); done {
		return st
	}
	var text string
	switch {
	case fs.NArg() == 0 || (fs.NArg() == 1 && fs.Arg(0) == "-"):
		b, err := io.ReadAll(io.LimitReader(e.stdin, 1<<20))
		if err != nil {
			e.errorf("explain: reading stdin: %v", err)
			return exitUsage
		}
		text = string(b)
	default:
		text = strings.Join(fs.Args(), " ")
	}
	ex := analyze.Explain(text)
	switch *format {
	case "json":
		if ex == nil {
			ex = []analyze.Explanation{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(ex)
	case "text":
		if len(ex) == 0 {
			fmt.Fprintln(e.stdout, "modsniff does not recognise this message. Record the failing command with `sudo modsniff capture -- go mod download` and analyze the capture.")
			return exitFindings
		}
		for i, x := range ex {
			if i > 0 {
				fmt.Fprintln(e.stdout)
			}
			fmt.Fprintf(e.stdout, "%q\n  layer:   %s\n  meaning: %s\n", x.Match, x.Layer, x.Meaning)
			if x.Host != "" {
				fmt.Fprintf(e.stdout, "  host:    %s\n", x.Host)
			}
			fmt.Fprintf(e.stdout, "  likely causes:\n")
			for _, c := range x.Causes {
				fmt.Fprintf(e.stdout, "    - %s\n", c)
			}
			fmt.Fprintf(e.stdout, "  checks that show it in a capture: %s\n", strings.Join(x.Checks, ", "))
			fmt.Fprintf(e.stdout, "  next: %s\n", x.Next)
		}
	default:
		e.errorf("explain: --format: unknown format %q (want text or json)", *format)
		return exitUsage
	}
	if len(ex) == 0 {
		return exitFindings
	}
	return exitOK
}
