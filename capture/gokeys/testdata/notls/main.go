// Command notls is a Go program without crypto/tls, for the tests of a
// missing symbol.
package main

import "fmt"

func main() { fmt.Println("no TLS here") }
