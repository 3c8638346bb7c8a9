package analyze

import (
	"fmt"
	"net/netip"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modsniff/modsniff/decode"
)

// TestNameIndexListsEachPairOnce answers names with few and with many
// addresses (past the list searched for repeats, shortAddrs), every answer
// repeated and in varying case, and wants each name's addresses and each
// address's names once, in first-seen order.
func TestNameIndexListsEachPairOnce(t *testing.T) {
	counts := map[string]int{"few.example": 3, "many.example": 3 * shortAddrs, "edge.example": shortAddrs}
	ev := &decode.Events{}
	q := 1
	for round := range 3 {
		for _, name := range []string{"few.example", "many.example", "edge.example"} {
			var answers []string
			for i := range counts[name] {
				// Later rounds answer in another order, with the
				// shared address 192.0.2.1 among them.
				j := (i*7 + round) % counts[name]
				answers = append(answers, fmt.Sprintf("A 198.51.%d.%d", j/200, j%200+1))
			}
			answers = append(answers, "A 192.0.2.1")
			qname := name
			if round == 1 {
				qname = strings.ToUpper(name)
			}
			ev.DNS = append(ev.DNS, exchange(q, "10.0.0.2:40000", "10.0.0.1:53", qname, "A",
				response(q+1, "NOERROR", 64, qname, answers...)))
			q += 2
		}
	}
	// What the index must hold: first-seen order, no repeats.
	wantAddrs := map[string][]netip.Addr{}
	wantNames := map[netip.Addr][]string{}
	for _, x := range ev.DNS {
		name := strings.ToLower(x.Name)
		for _, a := range x.Responses[0].Answers {
			if !slices.Contains(wantAddrs[name], a.Addr) {
				wantAddrs[name] = append(wantAddrs[name], a.Addr)
				wantNames[a.Addr] = append(wantNames[a.Addr], name)
			}
		}
	}
	ctx := &Context{Events: ev}
	for name, n := range counts {
		got := ctx.addrsOf(name)
		if len(got) != n+1 || !slices.Equal(got, wantAddrs[name]) {
			t.Errorf("%s: %d addresses %v, want %d %v", name, len(got), got, n+1, wantAddrs[name])
		}
	}
	for addr, want := range wantNames {
		if got := ctx.namesFor(addr); !slices.Equal(got, want) {
			t.Errorf("%s: names %v, want %v", addr, got, want)
		}
	}
	if got := ctx.namesFor(netip.MustParseAddr("192.0.2.1")); len(got) != 3 {
		t.Errorf("192.0.2.1 resolved from %v, want the three names once each", got)
	}
}

// TestHostNamesAreListedOnceNormalized mentions names in several
// spellings (upper case, a final dot), addresses and an empty name, each
// repeatedly, and wants each host name once, lower-cased, without the dot.
func TestHostNamesAreListedOnceNormalized(t *testing.T) {
	ev := &decode.Events{}
	q := 1
	for range 3 {
		for _, name := range []string{"Proxy.Golang.ORG.", "proxy.golang.org", "192.0.2.1", "2001:db8::1", "", "a.example.",
			"a.example", "A.EXAMPLE"} {
			ev.DNS = append(ev.DNS, exchange(q, "10.0.0.2:40000", "10.0.0.1:53", name, "A"))
			q++
		}
	}
	got := (&Context{Events: ev}).hostNames()
	slices.Sort(got)
	if want := []string{"a.example", "proxy.golang.org"}; !slices.Equal(got, want) {
		t.Errorf("host names %q, want %q", got, want)
	}
}

// TestEachParallelCallsEveryIndexOnce covers every index of short and long
// ranges exactly once, on one core and on several.
func TestEachParallelCallsEveryIndexOnce(t *testing.T) {
	for _, procs := range []int{1, 3} {
		prev := runtime.GOMAXPROCS(procs)
		for _, n := range []int{0, 1, 31, 32, 33, 100, 1000} {
			calls := make([]atomic.Int32, n)
			eachParallel(n, 32, func(i int) { calls[i].Add(1) })
			for i := range calls {
				if c := calls[i].Load(); c != 1 {
					t.Errorf("GOMAXPROCS %d, n %d: index %d called %d times", procs, n, i, c)
				}
			}
		}
		runtime.GOMAXPROCS(prev)
	}
}

// TestChainsJudgedOnSeveralCoresAreJudgedAsOnOne judges the distinct chains
// of foreign, public and self-signed sessions on one core and on three,
// and wants the same verdict for every session.
func TestChainsJudgedOnSeveralCoresAreJudgedAsOnOne(t *testing.T) {
	ev := foreignEvents(t, 200)
	more := hostsEvents(50)
	ev.TLS = append(ev.TLS, more.TLS...)
	verdicts := func(procs int) []chainVerdict {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		ctx := &Context{Events: ev}
		var out []chainVerdict
		for _, s := range ev.TLS {
			if v := ctx.chainOf(s).v; v != nil {
				out = append(out, *v)
			}
		}
		return out
	}
	one, three := verdicts(1), verdicts(3)
	if len(one) < 2*chainBatch {
		t.Fatalf("%d judged chains: too few for several batches", len(one))
	}
	if !reflect.DeepEqual(one, three) {
		t.Errorf("verdicts differ between one core and three")
	}
}
