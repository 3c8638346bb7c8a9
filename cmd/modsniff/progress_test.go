//go:build linux

package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode/decodetest"
)

// bigCapture writes a capture larger than the progress threshold: 1,100
// Ethernet frames of 56 KB (jumbo-sized junk the decoder skips quickly).
func bigCapture(t *testing.T) string {
	t.Helper()
	frame := make([]byte, 56<<10)
	copy(frame, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x88, 0xb5}) // local experimental EtherType
	var pkts []capture.Packet
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 1100 {
		pkts = append(pkts, capture.Packet{Number: i + 1, Time: start.Add(time.Duration(i) * time.Millisecond),
			LinkType: layers.LinkTypeEthernet, Data: frame, Length: len(frame)})
	}
	path := filepath.Join(t.TempDir(), "big.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := decodetest.WritePcap(f, pkts); err != nil {
		t.Fatal(err)
	}
	return path
}

// runOnPTY runs the CLI with standard error on a pseudo-terminal and
// standard output in a buffer; it returns both.
func runOnPTY(t *testing.T, args ...string) (status int, stdout, terminal string) {
	t.Helper()
	t.Setenv("TERM", "xterm")
	t.Setenv("NO_COLOR", "")
	os.Unsetenv("NO_COLOR")
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	var term bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		io.Copy(&term, ptmx)
	}()
	var out bytes.Buffer
	status = run(args, strings.NewReader(""), &out, tty)
	tty.Close()
	ptmx.SetReadDeadline(time.Now().Add(2 * time.Second))
	wg.Wait()
	return status, out.String(), term.String()
}

// TestAnalyzeProgressOnTerminal: a large input shows a bar (bytes, rate,
// time left) on a terminal's standard error; standard output holds the
// report alone; --quiet and JSON show nothing on the terminal.
func TestAnalyzeProgressOnTerminal(t *testing.T) {
	path := bigCapture(t)
	_, stdout, term := runOnPTY(t, "analyze", "--fail-on", "never", path)
	t.Logf("terminal: %q", term[max(0, len(term)-300):])
	// "reading PATH  0% |   | (4.1 kB/63 MB, 803 MB/s) [0s:0s]": bytes of
	// the size, the rate, elapsed and left.
	bar := regexp.MustCompile(`reading ` + regexp.QuoteMeta(path) + ` +\d+% \|[^|]*\| \([\d.]+ [kMG]?B/63 MB, [\d.]+ [kMG]?B/s\) \[\d+s:\d+s\]`)
	if !bar.MatchString(term) {
		t.Errorf("no progress bar on the terminal: %q", term)
	}
	if !strings.Contains(stdout, "1 capture, 1100 packets") || strings.ContainsAny(stdout, "\r\x1b") {
		t.Errorf("standard output is not the clean report: %q", stdout)
	}
	if !strings.Contains(stdout, path) {
		t.Errorf("the report does not name the input %s: %q", path, stdout)
	}
	for _, args := range [][]string{
		{"analyze", "--quiet", "--fail-on", "never", path},
		{"analyze", "--format", "json", "--fail-on", "never", path},
	} {
		_, stdout, term := runOnPTY(t, args...)
		if strings.Contains(term, "reading") || term != "" {
			t.Errorf("%v: the terminal shows %q", args, term)
		}
		if stdout == "" {
			t.Errorf("%v: no report", args)
		}
	}
	// Not a terminal: nothing but the report.
	var out, errb bytes.Buffer
	run([]string{"analyze", "--fail-on", "never", path}, strings.NewReader(""), &out, &errb)
	if errb.Len() != 0 {
		t.Errorf("standard error not a terminal, yet: %q", errb.String())
	}
}
