package tlswire

import (
	"fmt"
	"os"
	"reflect"
	"testing"
)

// TestMain runs the package's tests, which decode hundreds of sessions
// with and without rare parts, and then fails the run if one wrote through
// noSessionExtra, the zero value every session without rare parts reads.
func TestMain(m *testing.M) {
	code := m.Run()
	if !reflect.ValueOf(noSessionExtra).IsZero() {
		fmt.Fprintf(os.Stderr, "the shared zero SessionExtra was written: %+v\n", noSessionExtra)
		code = 1
	}
	os.Exit(code)
}
