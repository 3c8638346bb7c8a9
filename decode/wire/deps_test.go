package wire

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestLeavesDependOnNoCaptureCode checks that the protocol leaves link
// neither the capture readers nor libpcap: with cgo on (where the pcap
// bindings would be linked) their dependencies hold no modsniff package
// but this one, and no gopacket package at all.
func TestLeavesDependOnNoCaptureCode(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	leaves := []string{"../reassembly", "../ipfrag", "../tlswire", "."}
	cmd := exec.Command(goCmd, append([]string{"list", "-deps"}, leaves...)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	allowed := map[string]bool{
		"github.com/modsniff/modsniff/decode/wire":       true,
		"github.com/modsniff/modsniff/decode/reassembly": true,
		"github.com/modsniff/modsniff/decode/ipfrag":     true,
		"github.com/modsniff/modsniff/decode/tlswire":    true,
	}
	for _, pkg := range strings.Fields(string(out)) {
		if (strings.HasPrefix(pkg, "github.com/modsniff/") && !allowed[pkg]) || strings.HasPrefix(pkg, "github.com/gopacket/") {
			t.Errorf("a leaf depends on %s", pkg)
		}
	}
}
