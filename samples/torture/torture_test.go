package torture

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"testing"

	"github.com/modsniff/modsniff/capture"
)

// TestShapesAreDeterministicCaptures writes the small shapes twice: the
// bytes are identical, and the capture reader reads every packet (or, for
// the shape built to be damaged, reports the damage and keeps reading).
func TestShapesAreDeterministicCaptures(t *testing.T) {
	for _, sh := range Shapes {
		switch sh.Name {
		case "dns-huge-responses", "gzip-bomb", "dsb-many", "keylog-lines", "alpn-huge", "connect-flood", "dns-runts", "frag-flood", "syn-flood":
			continue // large: the torture runner covers them
		}
		t.Run(sh.Name, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := sh.Write(&a, 1); err != nil {
				t.Fatal(err)
			}
			if err := sh.Write(&b, 1); err != nil {
				t.Fatal(err)
			}
			if sha256.Sum256(a.Bytes()) != sha256.Sum256(b.Bytes()) {
				t.Fatalf("two writes of %s differ", sh.Name)
			}
			path := t.TempDir() + "/" + sh.File()
			if err := os.WriteFile(path, a.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			r, err := capture.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			n := 0
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("packet %d: %v", n+1, err)
				}
				n++
			}
			if n == 0 {
				t.Fatalf("%s: no packets read", sh.Name)
			}
			errs := r.Errors()
			want := len(sh.Notes) > 0 && sh.Name != "syn-flood"
			if damaged := len(errs) > 0; damaged != want {
				first := ""
				if len(errs) > 0 {
					first = errs[0].Error()
				}
				t.Errorf("%s: %d damage reports (want some: %v), first %q", sh.Name, len(errs), want, first)
			}
		})
	}
}
