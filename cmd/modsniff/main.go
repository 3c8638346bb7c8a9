// Command modsniff explains why the go command cannot reach its module
// proxy: it reads packet captures (or records one), decodes DNS, TCP, TLS
// and proxy traffic, and reports which host and which layer is broken, the
// packets that prove it and what to change.
package main

import (
	"os"
)

// The garbage collector runs with Go's defaults (GOGC=100: a cycle when the
// heap has doubled since the last one) and no soft memory limit. A low soft
// limit (this command once set 48 MiB) does not bound memory: once the live
// heap passes it, the collector runs back to back and the growth shows as
// CPU instead (2.1 s instead of 3.7 s for the same 1 GB capture without it).
// Memory is bounded by what the decoder and the analysis keep alive; analyze
// sets the soft limit to its --max-memory ceiling (1 GiB by default), where
// extra collection is worth its CPU. GOGC and GOMEMLIMIT apply when set.
func main() {
	st := startStats()
	code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	st.finish(os.Stderr)
	os.Exit(code)
}
