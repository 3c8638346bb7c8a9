package analyze

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/modsniff/modsniff/decode"
)

// Check is one independent analysis over the decoded events. Its ID is a
// contract (DESIGN §4): reports, expectations and users' scripts refer to
// it.
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
	run       func(*Context) []Finding
}

// catalog holds every check; checks.go files add theirs in init.
var catalog []*Check

// register adds a check to the catalog.
func register(c *Check) { catalog = append(catalog, c) }

// Checks returns every check, sorted by layer order then ID.
func Checks() []*Check {
	out := slices.Clone(catalog)
	slices.SortFunc(out, func(a, b *Check) int {
		if c := cmp.Compare(layerRank(a.Layer), layerRank(b.Layer)); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// layerRank orders layers the way a connection is built: DNS first.
func layerRank(l string) int {
	return slices.Index([]string{"input", "dns", "tcp", "proxy", "tls", "http"}, l)
}

// Context is what every check sees: the events of all inputs, the inputs
// themselves and the user's options, with indexes built once.
type Context struct {
	Events *decode.Events
	Inputs []*Input
	Opt    Options

	learnt map[string]string       // roles learnt from the capture
	byAddr map[netip.Addr][]string // names that resolved to an address
	byName map[string][]netip.Addr // addresses a name resolved to
	ts     *trustStore
}

// run executes every check and returns the findings, finalized and sorted.
func run(ctx *Context) []Finding {
	var all []Finding
	for _, c := range Checks() {
		for _, f := range c.run(ctx) {
			f.ID = c.ID
			if f.Layer == "" {
				f.Layer = c.Layer
			}
			f.finalize()
			all = append(all, f)
		}
	}
	all = downgradeOneSided(ctx, all)
	sortFindings(all)
	if all == nil {
		all = []Finding{}
	}
	return all
}
