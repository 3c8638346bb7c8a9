package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/pipeline"
)

// progressThreshold is the input size from which analyze shows a progress
// bar: smaller captures are read before a bar would be worth looking at.
const progressThreshold = 50 << 20

// showProgress reports whether progress may be drawn on standard error:
// only on a terminal, never with --quiet or in JSON mode, so that nothing
// of it reaches a file, a pipe or a machine reader.
func showProgress(o *analyzeOptions, e *env) bool {
	return !o.quiet && o.format != "json" && isTerminal(e.stderr)
}

// newBar returns a progress bar on standard error: bytes read of size,
// MB/s and the time left; with size -1 (standard input) bytes and rate.
func newBar(e *env, size int64, name string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(e.stderr),
		progressbar.OptionSetDescription("reading "+name),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetWidth(28),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionUseANSICodes(true),
	)
}

// lazyBar counts bytes as they are read and draws a bar only once the
// input turned out to be large (standard input, whose size is unknown).
type lazyBar struct {
	r    io.Reader
	e    *env
	name string
	n    int64
	bar  *progressbar.ProgressBar
}

func (l *lazyBar) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.bar == nil && l.n >= progressThreshold {
		l.bar = newBar(l.e, -1, l.name)
		l.bar.Add64(l.n)
	} else if l.bar != nil {
		l.bar.Add64(int64(n))
	}
	return n, err
}

func (l *lazyBar) finish() {
	if l.bar != nil {
		l.bar.Finish()
	}
}

// readInput reads one input, with a progress bar when showProgress allows
// and the input is large. The bar counts the bytes of the file (or of
// standard input) as the decoder pulls them.
func readInput(index int, path string, o *analyzeOptions, e *env, dopt decode.Options) (*analyze.Input, error) {
	if !showProgress(o, e) {
		return pipeline.Open(index, path, e.stdin, dopt)
	}
	if path == "-" {
		lb := &lazyBar{r: e.stdin, e: e, name: "standard input"}
		defer lb.finish()
		return pipeline.Open(index, path, lb, dopt)
	}
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() || st.Size() < progressThreshold {
		return pipeline.Open(index, path, e.stdin, dopt)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	bar := newBar(e, st.Size(), path)
	r := progressbar.NewReader(f, bar)
	in, err := pipeline.Open(index, "-", &r, dopt)
	bar.Finish()
	if err != nil {
		// The input was read as a stream: name the file, not "-".
		return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "-: "))
	}
	in.Info.Path = path
	return in, nil
}

// liveCounters draws the counters of a running capture on standard error:
// packets, bytes, time elapsed and what the wrapped command is doing.
type liveCounters struct {
	done  chan struct{}
	ended chan struct{}
	state chan string
}

// startCounters starts the display when showProgress allows; the returned
// value is safe to use either way.
func startCounters(lc interface{ Counters() (int64, int64) }, o *analyzeOptions, e *env, command []string) *liveCounters {
	c := &liveCounters{done: make(chan struct{}), ended: make(chan struct{}), state: make(chan string, 1)}
	if !showProgress(o, e) {
		close(c.ended)
		return c
	}
	state := "capturing"
	if len(command) > 0 {
		state = command[0] + " running"
	}
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(e.stderr),
		progressbar.OptionSetDescription(state),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetWidth(10),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionUseANSICodes(true),
		progressbar.OptionSpinnerType(14),
	)
	start := time.Now()
	go func() {
		defer close(c.ended)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-c.done:
				bar.Clear()
				return
			case s := <-c.state:
				state = s
			case <-tick.C:
			}
			n, b := lc.Counters()
			bar.Describe(fmt.Sprintf("%s · %d packets, %.1f MB, %s", state, n, float64(b)/1e6, time.Since(start).Round(time.Second)))
			bar.Add64(0)
		}
	}()
	return c
}

// setState says what the wrapped command is doing now.
func (c *liveCounters) setState(s string) {
	select {
	case c.state <- s:
	default:
	}
}

// stop clears the display.
func (c *liveCounters) stop() {
	select {
	case <-c.done:
	default:
		close(c.done)
	}
	<-c.ended
}
