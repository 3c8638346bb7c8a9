package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTrustFlags: a chain from a CA that is no public root is foreign; the
// same CA given with --trust, or placed in the system store and chosen with
// --system-roots, is accepted. The system store is read from
// SSL_CERT_FILE in a child process (crypto/x509 loads it once per process).
func TestTrustFlags(t *testing.T) {
	const sample = "../../samples/healthy-connect-proxy.pcapng"
	keys := []string{"--keylog", "../../samples/healthy-connect-proxy.keys"}
	ca := "../../samples/synthetic-public-ca.pem"
	bin := capBinary(t, false)
	run := func(env []string, args ...string) string {
		cmd := exec.Command(bin, append(append([]string{"analyze", "--format", "json", "--fail-on", "never"}, keys...), append(args, sample)...)...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return string(out)
	}
	if out := run(nil); !strings.Contains(out, `"tls-foreign-issuer"`) {
		t.Error("the synthetic CA is not a public root: tls-foreign-issuer expected")
	}
	if out := run(nil, "--trust", ca); strings.Contains(out, `"tls-foreign-issuer"`) {
		t.Error("--trust: the chain should be accepted")
	}
	if out := run([]string{"SSL_CERT_FILE=" + ca, "SSL_CERT_DIR=/nonexistent"}, "--system-roots"); strings.Contains(out, `"tls-foreign-issuer"`) {
		t.Error("--system-roots with the CA in the system store: the chain should be accepted")
	}
	if out := run([]string{"SSL_CERT_FILE=" + ca, "SSL_CERT_DIR=/nonexistent"}); !strings.Contains(out, `"tls-foreign-issuer"`) {
		t.Error("without --system-roots the verdict must not depend on the machine's store")
	}
}
