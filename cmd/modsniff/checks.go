package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/modsniff/modsniff/analyze"
)

func runChecks(args []string, e *env) int {
	fs := pflag.NewFlagSet("checks", pflag.ContinueOnError)
	format := fs.String("format", "text", "output format: text or json")
	table := fs.Bool("interceptor-table", false, "list the effective table of interception products (yours first, then the built-in ones) instead of the checks")
	io := &analyzeOptions{}
	addInterceptorsFlag(fs, io)
	if done, st := parseFlags(fs, args, e, "[--format text|json] [--interceptor-table [--interceptors FILE]]"); done {
		return st
	}
	if *table {
		return listInterceptors(io, *format, e)
	}
	checks := analyze.Checks()
	switch *format {
	case "json":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(checks); err != nil {
			e.errorf("checks: %v", err)
			return exitUsage
		}
	case "text":
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "ID\tLAYER\tSEVERITY\tTITLE\n")
		for _, c := range checks {
			sev := c.Severity.String()
			if c.SeverityNote != "" {
				sev += "*"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, c.Layer, sev, c.Title)
		}
		tw.Flush()
		fmt.Fprintln(e.stdout)
		for _, c := range checks {
			fmt.Fprintf(e.stdout, "%s\n  %s\n", c.ID, c.Doc)
			if c.SeverityNote != "" {
				fmt.Fprintf(e.stdout, "  * severity: %s\n", c.SeverityNote)
			}
		}
	default:
		e.errorf("checks: --format: unknown format %q (want text or json)", *format)
		return exitUsage
	}
	return exitOK
}
