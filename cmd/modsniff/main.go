// Command modsniff explains why the go command cannot reach its module
// proxy: it reads packet captures (or records one), decodes DNS, TCP, TLS
// and proxy traffic, and reports which host and which layer is broken, the
// packets that prove it and what to change.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
