package main

import (
	"strings"
	"testing"
)

// samplesDir is the repository's sample corpus.
const samplesDir = "../../samples"

// TestSamplesReplay replays every sample capture through the real command
// line: a verdict that drifts from its expectation fails here.
func TestSamplesReplay(t *testing.T) {
	status, out, errOut := runCLI(t, "", "replay", samplesDir)
	if status != exitOK {
		t.Fatalf("replay exited %d:\n%s%s", status, out, errOut)
	}
	if !strings.Contains(out, " passed, 0 failed") {
		t.Fatalf("unexpected replay output:\n%s", out)
	}
	t.Log(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
}
