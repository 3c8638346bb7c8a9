package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/modsniff/modsniff/analyze"
)

// addInterceptorsFlag adds --interceptors, which extends the table of
// interception products; the per-user file is read too.
func addInterceptorsFlag(fs *pflag.FlagSet, o *analyzeOptions) {
	fs.StringArrayVar(&o.interceptors, "interceptors", nil, "`FILE` of interception products to add to the built-in table "+
		"(PRODUCT | KIND | PATTERN [| SHA256] per line; "+defaultInterceptorsNote()+"); repeatable")
	o.userDefaults = true
}

// defaultInterceptorsNote names the per-user file for help texts, in a
// form that does not depend on the machine.
func defaultInterceptorsNote() string {
	return "$XDG_CONFIG_HOME/modsniff/interceptors.txt is read when it exists"
}

// userInterceptors reads the per-user interceptor file (when wanted and
// present) and the --interceptors files.
func (o *analyzeOptions) userInterceptors() ([]analyze.UserInterceptor, error) {
	var out []analyze.UserInterceptor
	paths := o.interceptors
	if o.userDefaults {
		if p := analyze.DefaultInterceptorsPath(); p != "" {
			us, err := analyze.ReadInterceptors(p)
			switch {
			// Absent, or in a home that is not the running user's
			// (sudo -u, a dropped-privilege capture): there is none.
			case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
			case err != nil:
				return nil, fmt.Errorf("the per-user interceptor file: %w", err)
			default:
				out = append(out, us...)
			}
		}
	}
	for _, p := range paths {
		us, err := analyze.ReadInterceptors(p)
		if err != nil {
			return nil, fmt.Errorf("--interceptors: %w", err)
		}
		out = append(out, us...)
	}
	return out, nil
}

// listInterceptors prints the effective interceptor table.
func listInterceptors(o *analyzeOptions, format string, e *env) int {
	user, err := o.userInterceptors()
	if err != nil {
		e.errorf("checks: %v", err)
		return exitUsage
	}
	rows := analyze.InterceptorTable(user)
	switch format {
	case "json":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			e.errorf("checks: %v", err)
			return exitUsage
		}
	case "text":
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "PRODUCT\tKIND\tPATTERN\tSOURCE\n")
		for _, r := range rows {
			src := r.Source
			if len(src) > 60 {
				src = src[:60] + "…"
			}
			pat := r.Pattern
			if r.SHA256 != "" {
				pat += " or sha256 " + r.SHA256[:16] + "…"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Product, r.Kind, pat, src)
		}
		tw.Flush()
	default:
		e.errorf("checks: --format: unknown format %q (want text or json)", format)
		return exitUsage
	}
	return exitOK
}
