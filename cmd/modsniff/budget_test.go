package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modsniff/modsniff/samples/torture"
)

// TestMemoryLimitStopsReadingAndSaysSo analyzes a SYN flood with a heap
// limit it is bound to cross: reading stops, the report says where and
// why, and the exit status says the report is partial.
func TestMemoryLimitStopsReadingAndSaysSo(t *testing.T) {
	var flood torture.Shape
	for _, sh := range torture.Shapes {
		if sh.Name == "syn-flood" {
			flood = sh
		}
	}
	path := filepath.Join(t.TempDir(), flood.File())
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := flood.Write(f, 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	code, out, stderr := runCLI(t, "", "analyze", "--format", "json", "--fail-on", "never", "--max-memory", "1", path)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a partial report); stderr %s", code, stderr)
	}
	var rep struct {
		Inputs []struct {
			Packets int      `json:"packets"`
			Stopped bool     `json:"stopped"`
			Notes   []string `json:"notes"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	in := rep.Inputs[0]
	note := strings.Join(in.Notes, "\n")
	if !in.Stopped || in.Packets >= 70000 || !strings.Contains(note, "reading stopped after packet") || !strings.Contains(note, "--max-memory") {
		t.Errorf("stopped %v after %d packets, notes %q", in.Stopped, in.Packets, note)
	}
}
