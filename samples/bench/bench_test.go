package bench_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/pipeline"
	"github.com/modsniff/modsniff/decode/tlswire"
	"github.com/modsniff/modsniff/samples/bench/benchgen"
)

// benchCapture writes a mostly-bulk capture of size bytes into a temporary
// directory and returns its path and what it holds.
func benchCapture(b *testing.B, size int64, conns int) (string, benchgen.Stats) {
	path := filepath.Join(b.TempDir(), "bulk.pcapng")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	st, err := benchgen.Generate(f, benchgen.Options{Size: size, Conns: conns})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		b.Fatal(err)
	}
	return path, st
}

// analyzeFile does what 'modsniff analyze' does for one file, short of
// rendering the report when render is nil.
func analyzeFile(b *testing.B, path string, render io.Writer) *analyze.Input {
	in, err := pipeline.Open(0, path, nil, decode.Options{Certs: tlswire.NewCertCache(4096)})
	if err != nil {
		b.Fatal(err)
	}
	rep := analyze.Build([]*analyze.Input{in}, analyze.Options{})
	if render != nil {
		if err := analyze.Render(render, rep, "json", analyze.RenderOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	return in
}

// BenchmarkAnalyzeBulk reads, decodes and analyzes a 64 MiB mostly-bulk
// capture (400 connections, 240 distinct TLS handshakes) per iteration:
// MB/s is the throughput of the whole analysis, packets/s its packet rate.
func BenchmarkAnalyzeBulk(b *testing.B) {
	benchmarkAnalyze(b, nil)
}

// BenchmarkAnalyzeBulkJSON is BenchmarkAnalyzeBulk with the JSON report
// rendered, as 'modsniff analyze --format json' does.
func BenchmarkAnalyzeBulkJSON(b *testing.B) {
	benchmarkAnalyze(b, io.Discard)
}

func benchmarkAnalyze(b *testing.B, render io.Writer) {
	path, st := benchCapture(b, 64<<20, 400)
	b.SetBytes(st.Bytes)
	b.ReportAllocs()
	packets := 0
	for b.Loop() {
		in := analyzeFile(b, path, render)
		if in.Info.Packets != int(st.Packets) {
			b.Fatalf("decoded %d packets, the generator wrote %d", in.Info.Packets, st.Packets)
		}
		packets += in.Info.Packets
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}
