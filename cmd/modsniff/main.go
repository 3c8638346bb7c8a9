// Command modsniff explains why the go command cannot reach its module
// proxy: it reads packet captures (or records one), decodes DNS, TCP, TLS
// and proxy traffic, and reports which host and which layer is broken, the
// packets that prove it and what to change.
package main

import (
	"os"
	"runtime/debug"
)

// memoryLimit is the heap size the garbage collector aims to stay under
// unless GOMEMLIMIT says otherwise: decoding keeps little alive (live flows
// and events), so a soft limit keeps the peak flat however large the input.
// It is a target, not a cap: an analysis that needs more still gets it.
const memoryLimit = 48 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
