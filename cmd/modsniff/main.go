// Command modsniff explains why the go command cannot reach its module
// proxy: it reads packet captures (or records one), decodes DNS, TCP, TLS
// and proxy traffic, and reports which host and which layer is broken, the
// packets that prove it and what to change.
package main

import (
	"os"
)

// The garbage collector keeps Go's GOGC=100 while the heap is small and,
// once the live heap grows, a soft memory limit of four thirds of it
// (gcGovernor): the headroom stays proportional, so the collector neither
// doubles the memory of a large analysis nor runs back to back the way a
// fixed limit below the live heap makes it (this command once set 48 MiB:
// 3.7 s instead of 2.1 s for a 1 GB capture); after reading the limit
// holds where reading left it. analyze never lets the limit
// pass its --max-memory ceiling (1 GiB by default). GOGC or GOMEMLIMIT,
// when set, turn the governor off.
func main() {
	st := startStats()
	code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	st.finish(os.Stderr)
	os.Exit(code)
}
