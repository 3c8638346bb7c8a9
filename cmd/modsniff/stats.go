package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// runStats measures one run for the bench (samples/bench/bench.sh): it is
// on only when MODSNIFF_STATS=1, and then prints one line to standard error
// at exit: wall time, the time of each phase, the fraction of CPU time the
// garbage collector took (runtime/metrics) and the peak RSS. With
// MODSNIFF_CPUPROFILE=FILE it also writes a CPU profile. Neither is a flag:
// they are for measuring modsniff, not for using it.
type runStats struct {
	on     bool
	start  time.Time
	last   time.Time
	phases []string
	prof   *os.File
}

// stats is the process's runStats; phase marks go to it.
var stats *runStats

func startStats() *runStats {
	st := &runStats{on: os.Getenv("MODSNIFF_STATS") == "1", start: time.Now()}
	st.last = st.start
	switch r, err := strconv.Atoi(os.Getenv("MODSNIFF_MEMPROFILE_RATE")); {
	case err == nil && r > 0:
		runtime.MemProfileRate = r // finer heap profiles than every 512 KiB
	case os.Getenv("MODSNIFF_MEMPROFILE") == "":
		// Nobody reads the heap profile: do not sample allocations for it
		// (its buckets alone take over a megabyte on a large capture).
		runtime.MemProfileRate = 0
	}
	if path := os.Getenv("MODSNIFF_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			st.prof = f
		}
	}
	if d, err := time.ParseDuration(os.Getenv("MODSNIFF_MEMPROFILE_AT")); err == nil {
		// A duration takes the heap profile that long after the start,
		// in the middle of a phase: decoding's transient state.
		path := os.Getenv("MODSNIFF_MEMPROFILE")
		time.AfterFunc(d, func() { writeHeapProfile(path) })
	}
	stats = st
	return st
}

// writeHeapProfile writes the heap profile, after a collection, to path.
func writeHeapProfile(path string) {
	if path == "" {
		return
	}
	if f, err := os.Create(path); err == nil {
		runtime.GC()
		pprof.WriteHeapProfile(f)
		f.Close()
	}
}

// mark ends the phase called name. With MODSNIFF_MEMPROFILE=FILE, the heap
// profile at the end of the phase MODSNIFF_MEMPROFILE_AT (default analyze,
// when the events and the report are alive) is written to FILE, sampled
// every MODSNIFF_MEMPROFILE_RATE bytes (default 512 KiB). A duration in
// MODSNIFF_MEMPROFILE_AT (500ms) takes it that long after the start instead.
func (st *runStats) mark(name string) {
	at := os.Getenv("MODSNIFF_MEMPROFILE_AT")
	if at == "" {
		at = "analyze"
	}
	if st != nil && name == at {
		writeHeapProfile(os.Getenv("MODSNIFF_MEMPROFILE"))
	}
	if st == nil || !st.on {
		return
	}
	now := time.Now()
	st.phases = append(st.phases, fmt.Sprintf("%s=%.3fs", name, now.Sub(st.last).Seconds()))
	st.last = now
}

func (st *runStats) finish(w io.Writer) {
	if st.prof != nil {
		pprof.StopCPUProfile()
		st.prof.Close()
	}
	if !st.on {
		return
	}
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/total:cpu-seconds"}}
	metrics.Read(s)
	gc, total := s[0].Value.Float64(), s[1].Value.Float64()
	pct := 0.0
	if total > 0 {
		pct = 100 * gc / total
	}
	fmt.Fprintf(w, "modsniff-stats: wall=%.3fs %s gc-cpu=%.1f%% peak-rss=%s\n",
		time.Since(st.start).Seconds(), strings.Join(st.phases, " "), pct, peakRSS())
}

// peakRSS is VmHWM from /proc/self/status, in MiB ("?" elsewhere).
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return fmt.Sprintf("%.1fMiB", float64(kb)/1024)
		}
	}
	return "?"
}
