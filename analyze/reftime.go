package analyze

import (
	"time"

	"github.com/modsniff/modsniff/capture"
)

// refTime is the capture time of a packet reference: the one place the
// lines rewritten for indexed lookups read it, so that a change in how a
// reference keeps its time touches only this function.
func refTime(r capture.Ref) time.Time { return r.Time }
