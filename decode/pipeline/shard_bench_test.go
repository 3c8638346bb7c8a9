package pipeline

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
)

// BenchmarkDecode decodes one capture on one goroutine (shards=0) and with
// one, two and four flow decoders behind the front end. The
// capture is MODSNIFF_BENCH_CAPTURE when set (make one with
// `go run ./samples/bench/gen -size 128 -o FILE`), else every sample,
// which is too small to show more than the overhead.
func BenchmarkDecode(b *testing.B) {
	paths := []string{os.Getenv("MODSNIFF_BENCH_CAPTURE")}
	if paths[0] == "" {
		paths, _ = filepath.Glob("../../samples/*.pcapng")
	}
	var size int64
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		size += st.Size()
	}
	for _, shards := range []int{decode.Sequential, 1, 2, 4} {
		b.Run("shards="+strconv.Itoa(max(shards, 0)), func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				for _, p := range paths {
					r, err := capture.Open(p)
					if err != nil {
						b.Fatal(err)
					}
					decodeInput(0, p, r, decode.Options{Shards: shards}, false)
					r.Close()
				}
			}
		})
	}
}
