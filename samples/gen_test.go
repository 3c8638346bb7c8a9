package samples

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/cpu"

	"github.com/modsniff/modsniff/samples/synth"
)

// gen is what a scenario's generator works with.
type gen struct {
	name string
	rand *rand.Rand
	is   *synth.Issuer
	// keys collects the NSS key log of every TLS client in the scenario.
	keys bytes.Buffer
	cap  *synth.Capture
	// public holds the synthetic public root and issuing CA, the same in
	// every scenario (see publicCA).
	public [2]*synth.CA
	// post rewrites the finished file (to damage it).
	post func([]byte) []byte
	// keepKeys keeps the key log even without a TLS 1.3 session (the
	// expectation passes it with --keylog); embedKeys writes it into the
	// capture as a Decryption Secrets Block instead of beside it.
	keepKeys, embedKeys bool
}

func newGen(name string, seed uint64) *gen {
	r := rand.New(rand.NewPCG(seed, 0x73796e7468))
	return &gen{name: name, rand: r, is: &synth.Issuer{Rand: rand.New(rand.NewPCG(seed, 0x6365727473))}}
}

// capture starts the scenario's capture; comment says what it shows.
func (g *gen) capture(link synth.Link, ifName, ifDesc, comment string) *synth.Capture {
	g.cap = synth.NewCapture(link, ifName, g.rand.Uint64())
	g.cap.IfDesc = ifDesc
	g.cap.Comment = comment
	return g.cap
}

// output finishes the scenario: the pcapng file and, when a TLS 1.3
// session was made or the expectation uses it, the key log — or, with
// embedKeys, the pcapng file holding the key log.
func (g *gen) output() (*output, error) {
	if g.cap == nil {
		return nil, errors.New("the scenario made no capture")
	}
	if g.embedKeys {
		if g.keys.Len() == 0 {
			return nil, errors.New("keys to embed, but no TLS client logged any")
		}
		g.cap.Secrets = bytes.Clone(g.keys.Bytes())
	}
	data, err := g.cap.Bytes()
	if err != nil {
		return nil, err
	}
	if g.post != nil {
		data = g.post(data)
	}
	out := &output{pcapng: data}
	if g.keepKeys && g.keys.Len() == 0 {
		return nil, errors.New("the expectation passes a key log, but no TLS client logged any")
	}
	if !g.embedKeys && (g.keepKeys || bytes.Contains(g.keys.Bytes(), []byte("CLIENT_HANDSHAKE_TRAFFIC_SECRET"))) {
		out.keys = bytes.Clone(g.keys.Bytes())
	}
	return out, nil
}

// at returns the base time plus d.
func at(d time.Duration) time.Time { return synth.BaseTime.Add(d) }

// ms is shorthand for a duration in (fractional) milliseconds.
func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// expectErr checks that a side of a conversation ended as the scenario
// intends: err must be nil when want is "", else contain want.
func expectErr(side string, err error, want string) error {
	switch {
	case want == "" && err != nil:
		return fmt.Errorf("%s failed: %w", side, err)
	case want != "" && err == nil:
		return fmt.Errorf("%s succeeded, want an error containing %q", side, want)
	case want != "" && !bytes.Contains([]byte(err.Error()), []byte(want)):
		return fmt.Errorf("%s: %v, want an error containing %q", side, err, want)
	}
	return nil
}

// ended checks both sides of a conversation.
func ended(conv synth.Conversation, clientWant, serverWant string) error {
	return errors.Join(expectErr("client", conv.ClientErr, clientWant), expectErr("server", conv.ServerErr, serverWant))
}

// noServer is the far end of a conversation nobody answers.
func noServer(net.Conn) error { return nil }

// skipWithoutAESHardware skips byte-for-byte comparisons where crypto/tls
// would prefer ChaCha20-Poly1305 over AES-GCM (no AES instructions): the
// samples were generated on hardware with them, as almost every amd64 and
// arm64 machine has.
func skipWithoutAESHardware(t *testing.T) {
	t.Helper()
	var has bool
	switch runtime.GOARCH {
	case "amd64", "386":
		has = cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ
	case "arm64":
		has = cpu.ARM64.HasAES && cpu.ARM64.HasPMULL
	case "s390x":
		has = cpu.S390X.HasAES && cpu.S390X.HasAESGCM
	}
	if !has {
		t.Skip("no AES-GCM hardware: crypto/tls would choose other cipher suites than the committed samples")
	}
}
