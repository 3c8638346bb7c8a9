package decode

import (
	"strings"
	"testing"
	"time"
)

func TestBudgetStopsAtTheDeadlineAndStaysStopped(t *testing.T) {
	b := &Budget{Deadline: time.Now().Add(-time.Second)}
	var why string
	var at int
	for i := 1; i <= 3*budgetEvery; i++ {
		if w, ok := b.Exceeded(); ok {
			why, at = w, i
			break
		}
	}
	if at != budgetEvery || !strings.Contains(why, "--timeout") {
		t.Fatalf("stopped at packet %d (%q), want %d and the time limit", at, why, budgetEvery)
	}
	if w, ok := b.Exceeded(); !ok || w != why {
		t.Errorf("after stopping: %q %v", w, ok)
	}
}

func TestBudgetStopsAtTheHeapLimit(t *testing.T) {
	b := &Budget{MaxHeap: 1} // any live heap is over one byte
	for i := 1; i <= budgetEvery; i++ {
		if why, ok := b.Exceeded(); ok {
			if i != budgetEvery || !strings.Contains(why, "--max-memory") {
				t.Errorf("stopped at %d: %q", i, why)
			}
			return
		}
	}
	t.Fatal("never stopped")
}

func TestNoBudgetNeverStops(t *testing.T) {
	var nilBudget *Budget
	roomy := &Budget{Deadline: time.Now().Add(time.Hour), MaxHeap: 1 << 40}
	for range 2 * budgetEvery {
		if _, ok := nilBudget.Exceeded(); ok {
			t.Fatal("a nil budget stopped")
		}
		if _, ok := roomy.Exceeded(); ok {
			t.Fatal("a roomy budget stopped")
		}
	}
}
