//go:build ignore

// gen writes names_table.go from the IANA registry exports in testdata/iana
// (go generate ./decode/tlswire).
package main

import (
	"fmt"
	"os"

	"github.com/modsniff/modsniff/decode/tlswire/internal/gennames"
)

func main() {
	src, err := gennames.Generate("testdata/iana")
	if err == nil {
		err = os.WriteFile("names_table.go", src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
