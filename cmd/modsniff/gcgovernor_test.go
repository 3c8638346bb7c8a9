package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestGCGovernorKeepsHeadroomProportionalToTheLiveHeap(t *testing.T) {
	const mib = 1 << 20
	g := &gcGovernor{floor: 48 * mib}
	g.ceiling.Store(1024 * mib)
	tests := []struct {
		name        string
		live, other int64
		want        int64
	}{
		{"a small heap gets the floor", 4 * mib, 6 * mib, 48 * mib},
		{"a large heap gets a third of itself on top", 120 * mib, 10 * mib, 170 * mib},
		{"never above the user's ceiling", 900 * mib, 10 * mib, 1024 * mib},
		{"a negative estimate of the rest counts as none", 66 * mib, -mib, 88 * mib},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := g.limit(tt.live, tt.other); got != tt.want {
				t.Errorf("limit(%d MiB, %d MiB) = %d MiB, want %d MiB", tt.live/mib, tt.other/mib, got/mib, tt.want/mib)
			}
		})
	}
	if got := (&gcGovernor{floor: 48 * mib}).limit(900*mib, 0); got != 1200*mib {
		t.Errorf("without a ceiling: %d MiB, want 1200 MiB", got/mib)
	}
	held := &gcGovernor{floor: 48 * mib}
	held.ceiling.Store(1024 * mib)
	held.set(held.limit(60*mib, 8*mib)) // 88 MiB at the end of reading
	held.hold()
	for _, tt := range []struct {
		name        string
		live, other int64
		want        int64
	}{
		{"held: a smaller live heap keeps the limit reading reached", 40 * mib, 8 * mib, 88 * mib},
		{"held: a larger live heap still raises it", 90 * mib, 10 * mib, 130 * mib},
	} {
		if got := held.limit(tt.live, tt.other); got != tt.want {
			t.Errorf("%s: limit(%d MiB, %d MiB) = %d MiB, want %d MiB", tt.name, tt.live/mib, tt.other/mib, got/mib, tt.want/mib)
		}
	}
}

func TestGCGovernorSetsTheLimitAfterEachCollection(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	g := newGCGovernor(48<<20, 1<<30)
	defer g.stop()
	if got := debug.SetMemoryLimit(-1); got != 48<<20 {
		t.Fatalf("limit at start %d, want the floor", got)
	}
	// Keep 81 MiB alive: after a collection the limit must leave room
	// for a third of it again.
	keep := make([][]byte, 81)
	for i := range keep {
		keep[i] = make([]byte, 1<<20)
	}
	for range 3 {
		runtime.GC()
		runtime.Gosched()
	}
	deadline := 200
	for debug.SetMemoryLimit(-1) < 108<<20 && deadline > 0 {
		runtime.GC()
		deadline--
	}
	if got := debug.SetMemoryLimit(-1); got < 108<<20 || got > 1<<30 {
		t.Errorf("limit %d MiB with 81 MiB live, want 4/3 of the live heap and more", got>>20)
	}
	runtime.KeepAlive(keep)
}

func TestGCGovernorHeldLimitDoesNotFallWithTheLiveHeap(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	g := newGCGovernor(48<<20, 1<<30)
	defer g.stop()
	keep := make([][]byte, 81)
	for i := range keep {
		keep[i] = make([]byte, 1<<20)
	}
	for deadline := 200; debug.SetMemoryLimit(-1) < 108<<20 && deadline > 0; deadline-- {
		runtime.GC()
		runtime.Gosched()
	}
	runtime.KeepAlive(keep)
	// The limit this governor sets, not the process's: another test's
	// governor (analyze runs in this process) may set it too.
	for deadline := 200; g.current.Load() < 108<<20 && deadline > 0; deadline-- {
		runtime.GC()
		runtime.Gosched()
	}
	runtime.KeepAlive(keep)
	g.hold()
	at := g.current.Load()
	if at < 108<<20 {
		t.Fatalf("limit %d MiB with 81 MiB live, want at least 108 MiB", at>>20)
	}
	keep = nil // the live heap falls to almost nothing
	for range 5 {
		runtime.GC()
		runtime.Gosched()
	}
	if got := g.current.Load(); got < at {
		t.Errorf("held limit fell from %d MiB to %d MiB", at>>20, got>>20)
	}
}
