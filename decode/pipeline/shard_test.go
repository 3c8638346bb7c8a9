package pipeline

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/capture/capturetest"
	"github.com/modsniff/modsniff/decode"
)

// sampleCaptures lists every capture of samples/ and of the shared corpus.
func sampleCaptures(t *testing.T) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir("../../samples", func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if n := e.Name(); !e.IsDir() && (strings.HasSuffix(n, ".pcap") || strings.HasSuffix(n, ".pcapng") || strings.HasSuffix(n, ".pcap.gz") || strings.HasSuffix(n, ".cap")) {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	paths = append(paths, capturetest.Captures(t)...)
	if len(paths) < 100 {
		t.Fatalf("only %d captures found", len(paths))
	}
	return paths
}

// openWith decodes path with the given number of shards, and its key log
// (a .keys file beside it) when there is one.
func openWith(t *testing.T, path string, shards int) (*Input, bool) {
	t.Helper()
	opt := decode.Options{Shards: shards}
	if k := strings.TrimSuffix(strings.TrimSuffix(path, filepath.Ext(path)), ".pcap") + ".keys"; fileExists(k) {
		keys := capture.NewKeyLog()
		if _, err := keys.ReadFile(k); err != nil {
			t.Fatal(err)
		}
		opt.Keys = keys
	}
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return decodeInput(0, path, r, opt, false)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestShardedDecodingEqualsSequential decodes every sample and corpus
// capture on one goroutine and on two and three shards: the inputs, every
// event and note included, are the same, in the same order.
func TestShardedDecodingEqualsSequential(t *testing.T) {
	for _, path := range sampleCaptures(t) {
		seq, exact := openWith(t, path, decode.Sequential)
		if !exact {
			t.Fatalf("%s: the sequential decoder reported an inexact result", path)
		}
		for _, n := range []int{1, 2, 3} {
			got, exact := openWith(t, path, n)
			if !exact {
				t.Errorf("%s, %d shards: a shard reached its share of a limit", path, n)
				continue
			}
			if d := firstDifference(seq, got); d != "" {
				t.Errorf("%s, %d shards: %s differs from the sequential decoder", path, n, d)
			}
		}
	}
}

// firstDifference names the first part of two inputs that differs.
func firstDifference(a, b *Input) string {
	ea, eb := a.Events, b.Events
	for _, c := range []struct {
		name string
		x, y any
	}{
		{"DNS", ea.DNS, eb.DNS}, {"TCP", ea.TCP, eb.TCP}, {"TLS", ea.TLS, eb.TLS}, {"Proxy", ea.Proxy, eb.Proxy},
		{"HTTP", ea.HTTP, eb.HTTP}, {"ICMP", ea.ICMP, eb.ICMP}, {"NTP", ea.NTP, eb.NTP}, {"Notes", ea.Notes, eb.Notes},
		{"Stats", ea.Stats, eb.Stats}, {"Info", a.Info, b.Info},
	} {
		if !reflect.DeepEqual(c.x, c.y) {
			return c.name
		}
	}
	if !reflect.DeepEqual(a, b) {
		return "the input"
	}
	return ""
}
