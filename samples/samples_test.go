// Package samples holds the sample captures and the tests that make and
// check the synthesized ones: each scenario in the table below is built by
// samples/synth, written as samples/<name>.pcapng with its
// samples/<name>.expect.json (and samples/<name>.keys for TLS 1.3), and
// listed in samples/README.md.
package samples

import (
	"bytes"
	"crypto/x509"
	"flag"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/cryptotest"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/pipeline"
	"github.com/modsniff/modsniff/samples/synth"
)

var update = flag.Bool("update", false, "rewrite the synthesized samples, their expectations and the README table")

// scenario is one synthesized sample.
type scenario struct {
	name string
	// shows says in one sentence what the capture shows.
	shows string
	// made says how it was synthesized (after "synthesized: ").
	made string
	gen  func(g *gen) error
	// must lists the findings the capture must raise, written from what
	// the scenario stages. Every other check must stay silent.
	must []analyze.ExpectedFinding
	// healthy samples must raise nothing at warning or error severity.
	healthy bool
	// keylog makes the expectation pass the scenario's key log
	// (--keylog samples/<name>.keys), written even for TLS 1.2;
	// trustPublic adds the synthetic public CA (--trust
	// samples/synthetic-public-ca.pem), which decrypted healthy sessions
	// to Google's hosts need. embedKeys writes the key log into the
	// capture as a Decryption Secrets Block instead, with no flags. With
	// keys every encrypted session must decrypt.
	keylog, trustPublic, embedKeys bool
	// seedFrom, when set, generates the scenario from another scenario's
	// seed: the same packets (with embedKeys: plus its keys).
	seedFrom string
	// issuer, when set, must appear in the summary of the
	// tls-foreign-issuer finding: the product the analysis names.
	issuer string
	// analyzerIssue, when set, says why today's analyzer does not meet the
	// expectation (the expectation states the intent and stays as it is).
	// The drift is then reported as a skip, not a failure, until the
	// analyzer is fixed; a fixed analyzer makes the test ask for the note
	// to go.
	analyzerIssue string
}

// find is shorthand for an expected finding.
func find(id, host, severity string) analyze.ExpectedFinding {
	return analyze.ExpectedFinding{ID: id, Host: host, Severity: severity}
}

// scenarios is the table of synthesized samples.
var scenarios = []scenario{
	healthyDirect,
	healthyConnectProxy,
	healthyInternalGoproxy,
	healthyFragmentedDNS,
	dnsStubNotRunning,
	dnsTCPRefused,
	dnsTimeout,
	dnsAAAADropped,
	dnsServfail,
	dnsRefused,
	dnsNXDomain,
	dnsBogonLoopback,
	dnsBogonUnspecified,
	dnsBogonPrivate,
	dnsFakeIP,
	dnsInjectedRace,
	dnsForgedPool,
	dnsSearchSuffix,
	tcpConnectTimeout,
	tcpConnectRefused,
	tcpIPv6Broken,
	tcpResetAfterHello,
	tcpLargeHelloDropped,
	proxyConnect407,
	proxyConnect403,
	proxySOCKS5Failure,
	tlsMitmproxy,
	tlsZscaler,
	tlsKaspersky,
	tlsCharlesReordered,
	tlsImpersonation,
	tlsHostnameMismatch,
	tlsExpired,
	tls13ClientRejected,
	tls13ClassicalKeyShare,
	tls13WithKeys,
	tls13KeysEmbedded,
	tls13CompressedCert,
	httpErrorStatus,
	http2GoproxyGone,
	h2GoAwayInadequateSecurity,
	inputTruncated,
	tlsNotTLSPortal,
	tlsNotTLSHTTPSProxyURL,
	tcpResetMidTransfer,
	tcpPMTUBlackhole,
	dnsAnswerMismatch,
	dnsTruncatedNoTCP,
	proxyClosedSilently,
	dnsNAT64Unreachable,
	socksLocalDNS,
	captureOneSided,
	proxyBypassed,
	proxyPACRequired,
}

// output is what generating a scenario produced.
type output struct {
	pcapng []byte
	keys   []byte // NSS key log, for samples with TLS 1.3 sessions
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*output{}
)

// seed derives a scenario's random seed from its name, so that adding a
// scenario never changes the others.
func seed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// generate builds a scenario once per test binary. Everything random is
// fixed: crypto/rand and crypto/tls through cryptotest.SetGlobalRandom,
// the rest through seeded math/rand/v2 sources.
func generate(t *testing.T, sc scenario) *output {
	t.Helper()
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if out, ok := cache[sc.name]; ok {
		return out
	}
	out := generateFresh(t, sc)
	cache[sc.name] = out
	return out
}

// generateFresh builds a scenario without looking at the cache.
func generateFresh(t *testing.T, sc scenario) *output {
	t.Helper()
	root, issuing := publicCA(t)
	from := sc.name
	if sc.seedFrom != "" {
		from = sc.seedFrom
	}
	cryptotest.SetGlobalRandom(t, seed(from))
	g := newGen(sc.name, seed(from))
	g.public = [2]*synth.CA{root, issuing}
	g.keepKeys, g.embedKeys = sc.keylog, sc.embedKeys
	if err := sc.gen(g); err != nil {
		t.Fatalf("generating %s: %v", sc.name, err)
	}
	out, err := g.output()
	if err != nil {
		t.Fatalf("generating %s: %v", sc.name, err)
	}
	return out
}

// publicCAFile holds the synthetic public root and issuing CA, the same in
// every sample, for analyses that decrypt the healthy samples (--trust).
const publicCAFile = "synthetic-public-ca.pem"

// publicCA makes the synthetic public CA from its own seed, so that every
// scenario gets the same one.
func publicCA(t *testing.T) (root, issuing *synth.CA) {
	t.Helper()
	cryptotest.SetGlobalRandom(t, seed(publicCAFile))
	is := &synth.Issuer{Rand: rand.New(rand.NewPCG(seed(publicCAFile), 0))}
	root, issuing, err := is.SyntheticPublicCA()
	if err != nil {
		t.Fatal(err)
	}
	return root, issuing
}

// expectation is the scenario's expectation file: its findings,
// exhaustive (every other check must stay silent, including checks added
// later, without the file naming them), and the flags that give the
// analysis its keys and trust.
func (sc scenario) expectation() *analyze.Expectation {
	return &analyze.Expectation{Findings: append([]analyze.ExpectedFinding{}, sc.must...), Exhaustive: true,
		Flags: sc.flags(), Note: sc.shows}
}

// flags returns the analyze flags of the scenario's expectation, with
// paths from the repository's root (replay also finds them beside the
// expectation).
func (sc scenario) flags() []string {
	var f []string
	if sc.keylog {
		f = append(f, "--keylog", "samples/"+sc.name+".keys")
	}
	if sc.trustPublic {
		f = append(f, "--trust", "samples/"+publicCAFile)
	}
	return f
}

// files returns the sample's files by name.
func (sc scenario) files(out *output) map[string][]byte {
	files := map[string][]byte{
		sc.name + ".pcapng":      out.pcapng,
		sc.name + ".expect.json": sc.expectation().Marshal(),
	}
	if len(out.keys) > 0 {
		files[sc.name+".keys"] = out.keys
	}
	return files
}

func TestSamplesReproducible(t *testing.T) {
	skipWithoutAESHardware(t)
	want := map[string]bool{}
	root, issuing := publicCA(t)
	shared := map[string][]byte{publicCAFile: synth.PEM(root, issuing)}
	for _, sc := range append([]scenario{{}}, scenarios...) {
		files := shared
		if sc.name != "" {
			files = sc.files(generate(t, sc))
		}
		for _, name := range slices.Sorted(maps.Keys(files)) {
			want[name] = true
			data := files[name]
			if *update {
				if err := os.WriteFile(name, data, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(name)
			switch {
			case err != nil:
				t.Errorf("%s: %v (run `go test ./samples -run TestSamplesReproducible -update`)", name, err)
			case !bytes.Equal(got, data):
				t.Errorf("%s: the committed file (%d bytes) differs from a fresh generation (%d bytes); "+
					"review the generator change and run `go test ./samples -run TestSamplesReproducible -update`", name, len(got), len(data))
			}
		}
	}
	// Synthesized captures no scenario makes any more (lab recordings
	// live beside them and are left alone).
	matches, _ := filepath.Glob("*.pcapng")
	for _, m := range matches {
		if !want[m] && isSynthesized(m) {
			t.Errorf("%s: no scenario generates it; delete it (and its .expect.json, .keys) or add its scenario", m)
		}
	}
	checkReadme(t)
}

// TestSamplesReproducibleInAnyOrder generates the scenarios again, last
// first, and compares with the committed files: no scenario may depend on
// state another one left behind (a random stream, a cache in crypto/tls).
func TestSamplesReproducibleInAnyOrder(t *testing.T) {
	skipWithoutAESHardware(t)
	if *update {
		t.Skip("the files are being rewritten")
	}
	for _, sc := range slices.Backward(scenarios) {
		for name, data := range sc.files(generateFresh(t, sc)) {
			if got, err := os.ReadFile(name); err == nil && !bytes.Equal(got, data) {
				t.Errorf("%s: generated last-first, it differs from the committed file", name)
			}
		}
	}
}

// synthMark starts the section comment of every synthesized capture.
const synthMark = "Synthesized by modsniff's sample generator"

// isSynthesized reports whether the capture at path was made by
// samples/synth: its section header comment says so.
func isSynthesized(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := f.Read(head)
	return bytes.Contains(head[:n], []byte(synthMark))
}

func TestSamplesMeetExpectations(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			out := generate(t, sc)
			rep, in, err := analyzeScenario(t, sc, out)
			if err != nil {
				t.Fatal(err)
			}
			d := sc.expectation().Compare(rep)
			var problems []string
			if sc.keylog || sc.embedKeys {
				for _, s := range in.Events.TLS {
					if s.EncryptedCount[0]+s.EncryptedCount[1] > 0 && !s.Decrypted {
						problems = append(problems, fmt.Sprintf("not decrypted: the TLS session to %s (ClientHello at packet %d)",
							s.Server(), s.ClientHelloAt.Packet))
					}
				}
			}
			if sc.issuer != "" && !slices.ContainsFunc(rep.Findings, func(f analyze.Finding) bool {
				return f.ID == "tls-foreign-issuer" && strings.Contains(f.Summary, sc.issuer)
			}) {
				problems = append(problems, "no tls-foreign-issuer finding names "+sc.issuer)
			}
			for _, m := range d.Missing {
				problems = append(problems, "missing:    "+m.String())
			}
			for _, u := range d.Unexpected {
				problems = append(problems, fmt.Sprintf("unexpected: %s host=%s severity=%s: %s", u.ID, u.Host, u.Severity, u.Summary))
			}
			if sc.healthy {
				for _, f := range rep.Findings {
					if f.Severity != analyze.Info {
						problems = append(problems, fmt.Sprintf("not healthy: %s host=%s severity=%s: %s", f.ID, f.Host, f.Severity, f.Summary))
					}
				}
			}
			switch {
			case len(problems) > 0 && sc.analyzerIssue != "":
				t.Skipf("known analyzer issue: %s\n%s\nall findings:\n%s", sc.analyzerIssue, strings.Join(problems, "\n"), describe(rep))
			case len(problems) > 0:
				t.Errorf("%s drifts from its expectation:\n%s\nall findings:\n%s", sc.name, strings.Join(problems, "\n"), describe(rep))
			case sc.analyzerIssue != "":
				t.Errorf("%s now meets its expectation: delete its analyzerIssue note", sc.name)
			}
		})
	}
}

// analyzeScenario analyzes a generated capture held in memory as
// `modsniff analyze` would with the flags of the scenario's expectation:
// the generated key log and the synthetic public CA.
func analyzeScenario(t *testing.T, sc scenario, out *output) (*analyze.Report, *analyze.Input, error) {
	var dopt decode.Options
	if sc.keylog {
		kl := capture.NewKeyLog()
		bad, err := kl.Read(bytes.NewReader(out.keys), sc.name+".keys")
		if err != nil {
			return nil, nil, err
		}
		if len(bad) > 0 {
			return nil, nil, fmt.Errorf("%s.keys: %v", sc.name, bad[0])
		}
		dopt.Keys = kl
	}
	var opt analyze.Options
	if sc.trustPublic {
		root, issuing := publicCA(t)
		opt.Trust = []*x509.Certificate{root.Cert, issuing.Cert}
	}
	in, err := pipeline.Open(0, "-", bytes.NewReader(out.pcapng), dopt)
	if err != nil {
		return nil, nil, err
	}
	return analyze.Build([]*analyze.Input{in}, opt), in, nil
}

// describe lists a report's findings one per line.
func describe(rep *analyze.Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "  %s host=%s severity=%s: %s\n", f.ID, f.Host, f.Severity, f.Summary)
	}
	return b.String()
}

func TestSamplesCoverEveryCheck(t *testing.T) {
	for _, c := range analyze.Checks() {
		covered := slices.ContainsFunc(scenarios, func(sc scenario) bool {
			return slices.ContainsFunc(sc.must, func(f analyze.ExpectedFinding) bool { return f.ID == c.ID })
		})
		if !covered {
			t.Errorf("check %s: no synthesized sample expects it", c.ID)
		}
	}
}

func TestSamplesTable(t *testing.T) {
	seen := map[string]bool{}
	healthy := 0
	for _, sc := range scenarios {
		switch {
		case seen[sc.name]:
			t.Errorf("%s: listed twice", sc.name)
		case sc.shows == "" || sc.made == "" || len(sc.must) == 0 && !sc.healthy:
			t.Errorf("%s: needs what it shows, how it was made and its findings (only a healthy sample may have none)", sc.name)
		case sc.healthy && len(sc.must) == 0 && !sc.keylog:
			t.Errorf("%s: a healthy sample without findings must be decrypted (keylog), or it shows nothing", sc.name)
		case sc.seedFrom != "" && !slices.ContainsFunc(scenarios, func(o scenario) bool { return o.name == sc.seedFrom }):
			t.Errorf("%s: seedFrom names no scenario", sc.name)
		case strings.ToLower(sc.name) != sc.name || strings.ContainsAny(sc.name, " _."):
			t.Errorf("%s: names are kebab-case", sc.name)
		}
		seen[sc.name] = true
		if sc.healthy {
			healthy++
		}
		out := generate(t, sc)
		if len(out.pcapng) >= 200<<10 {
			t.Errorf("%s: %d bytes, over the 200 KB a sample may have", sc.name, len(out.pcapng))
		}
	}
	if len(scenarios) < 25 || healthy < 3 {
		t.Errorf("%d scenarios (%d healthy): the corpus needs at least 25, three of them healthy", len(scenarios), healthy)
	}
}
