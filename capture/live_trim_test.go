package capture_test

import (
	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode/trim"
)

// The live capture's tests trim with the one trimmer modsniff has.
func init() {
	capture.SetLiveTrimmer(func() capture.Trimmer { return trim.New() })
}
