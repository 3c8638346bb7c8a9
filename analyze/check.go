package analyze

import (
	"cmp"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/modsniff/modsniff/decode"
)

// Check is one independent analysis over the decoded events, declared as a
// value in its own file (check_<id>.go) in the manner of
// golang.org/x/tools/go/analysis: everything the project decides about a
// check — its ID, layer, severity policy, title, doc, its role among
// causes and symptoms, whether it speaks of interception, the go command's
// errors it explains and its run function — is a field here, never a
// switch on its ID elsewhere. Its ID is a contract (DESIGN §4): reports,
// expectations and users' scripts refer to it.
type Check struct {
	ID    string `json:"id"`
	Layer string `json:"layer"`
	// Severity is the severity the check usually reports; some checks
	// grade individual findings by what the client did (SeverityNote says
	// how).
	Severity     Severity `json:"severity"`
	SeverityNote string   `json:"severity_note,omitempty"`
	Title        string   `json:"title"`
	Doc          string   `json:"doc"`
	// NeedsKeys is set for checks that can only fire with TLS key logs.
	NeedsKeys bool `json:"needs_keys,omitempty"`
	// Role says whether the check names a cause or a symptom of one (the
	// client's alert after a foreign certificate). A symptom at the layer
	// of an interception finding is left out of the host's own line: the
	// interception line tells it.
	Role Role `json:"role,omitempty"`
	// Interception is set for checks whose findings say someone stands
	// between the client and the host; they make the host's interception
	// line.
	Interception bool `json:"interception,omitempty"`
	// GoErrors are messages of the go command (as net, crypto/tls,
	// net/http and cmd/go print them) that this check can explain in a
	// capture; `modsniff explain` lists the check for every message of
	// the same family.
	GoErrors []string `json:"go_errors,omitempty"`
	// RestsOnSilence is set for checks whose findings rest on packets that
	// never came (timeouts, unanswered SYNs and queries, dropped hellos): a
	// capture that sees one direction only (capture-one-sided) makes them
	// info.
	RestsOnSilence bool `json:"rests_on_silence,omitempty"`
	run            func(*Context) []Finding
}

// Role is a check's place between causes and symptoms.
type Role string

const (
	// RoleCause: the finding names why the download failed.
	RoleCause Role = "cause"
	// RoleSymptom: the finding is what a cause made the client or server
	// do (an alert, a GOAWAY, a refused dial to a wrong address).
	RoleSymptom Role = "symptom"
	// RoleContext: the finding informs and decides nothing (what the
	// capture could not see).
	RoleContext Role = "context"
)

// late holds checks added with register, after the Suite.
var late []*Check

// register appends a check after the Suite.
//
// Deprecated: list the check in Suite (suite.go), at its place between
// causes and symptoms.
func register(c *Check) { late = append(late, c) }

// suite returns every check in cause order: the Suite, then any added with
// register.
func suite() []*Check { return append(slices.Clip(Suite), late...) }

// checkIndex maps an ID to its check and its rank in cause order; it is
// built on first use, after every package initialiser ran.
var checkIndex = sync.OnceValue(func() map[string]checkRank {
	m := make(map[string]checkRank)
	for i, c := range suite() {
		m[c.ID] = checkRank{c, i}
	}
	return m
})

type checkRank struct {
	check *Check
	rank  int
}

// CheckByID returns the check with that ID, or nil.
func CheckByID(id string) *Check { return checkIndex()[id].check }

// causeRank is a check's position in cause order (unknown IDs last).
func causeRank(id string) int {
	if r, ok := checkIndex()[id]; ok {
		return r.rank
	}
	return len(checkIndex())
}

// Checks returns every check, sorted by layer order then ID (the order of
// `modsniff checks`).
func Checks() []*Check {
	out := suite()
	slices.SortFunc(out, func(a, b *Check) int {
		if c := cmp.Compare(layerRank(a.Layer), layerRank(b.Layer)); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// eachParallel calls f(i) for every i in [0, n), in batches of batch on
// up to GOMAXPROCS goroutines, or on the calling goroutine when there is a
// single batch or a single core. f must be safe to call concurrently for
// different i.
func eachParallel(n, batch int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), (n+batch-1)/batch)
	if workers < 2 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				lo := int(next.Add(int64(batch))) - batch
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+batch, n); i++ {
					f(i)
				}
			}
		})
	}
	wg.Wait()
}

// layerRank orders layers the way a connection is built: DNS first.
func layerRank(l string) int {
	return slices.Index([]string{"input", "dns", "tcp", "proxy", "tls", "http", "vcs"}, l)
}

// Context is what every check sees: the events of all inputs, the inputs
// themselves and the user's options, with indexes built once.
type Context struct {
	Events *decode.Events
	Inputs []*Input
	Opt    Options

	learnt map[string]string // roles learnt from the capture
	ix     index
	ts     *trustStore
	// learntOnce and tsOnce build learnt and ts once, for the checks
	// running in parallel.
	learntOnce, tsOnce sync.Once
}

// run executes every check and returns the findings, finalized and sorted.
// The checks run on every core: they only read the events, and the
// Context's indexes and trust store are built once and guarded. The
// findings are gathered in the suite's order whatever order the checks
// end in.
func run(ctx *Context) []Finding {
	checks := suite()
	found := make([][]Finding, len(checks))
	eachParallel(len(checks), 1, func(i int) {
		c := checks[i]
		fs := c.run(ctx)
		for j := range fs {
			fs[j].ID = c.ID
			if fs[j].Layer == "" {
				fs[j].Layer = c.Layer
			}
			fs[j].finalize()
		}
		found[i] = fs
	})
	n := 0
	for _, fs := range found {
		n += len(fs)
	}
	var all []Finding
	if n > 0 {
		all = make([]Finding, 0, n) // the report's findings: no spare room
	}
	for _, fs := range found {
		all = append(all, fs...)
	}
	all = downgradeOneSided(ctx, all)
	sortFindings(all)
	if all == nil {
		all = []Finding{}
	}
	return all
}
