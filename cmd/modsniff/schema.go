package main

import (
	"os"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/analyze/schema"
)

// runSchema prints the JSON Schema (draft 2020-12) of the JSON report.
func runSchema(args []string, e *env) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		e.stdout.Write([]byte("Usage: modsniff schema\n\nPrints the JSON Schema (draft 2020-12) of 'modsniff analyze --format json'.\n"))
		return exitOK
	}
	if len(args) > 0 {
		e.errorf("schema: takes no arguments")
		return exitUsage
	}
	if _, err := e.stdout.Write(schema.Report); err != nil {
		e.errorf("schema: %v", err)
		return exitUsage
	}
	return exitOK
}

// appendStepSummary appends the Markdown report to the file GitHub Actions
// names in GITHUB_STEP_SUMMARY, when it is set.
func appendStepSummary(rep *analyze.Report, opt analyze.RenderOptions) error {
	path := os.Getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if err := analyze.Render(f, rep, "markdown", opt); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
