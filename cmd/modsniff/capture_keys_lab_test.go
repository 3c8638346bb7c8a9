//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/capture/gokeys"
	"github.com/modsniff/modsniff/samples/lab"
)

// TestCaptureReadsTheGoCommandsKeysInTheLab runs `modsniff capture -- go
// mod download` (the real go command) inside a network namespace against
// the lab's GOPROXY answering as proxy.golang.org: healthy, the capture
// holds all four TLS 1.3 secrets of every connection and the report has no
// finding; through Debian's mitmproxy, which the go command rejects, the
// secrets the go command derived before rejecting it reveal the
// certificate TLS 1.3 hides: the report names mitmproxy with the session
// decrypted, and so does tshark with the embedded keys. Root, eBPF and
// mitmproxy are needed; the test is skipped without them.
func TestCaptureReadsTheGoCommandsKeysInTheLab(t *testing.T) {
	if err := gokeys.Check(); err != nil {
		t.Skipf("skipping the capture keys lab test: %v", err)
	}
	mitmdump, err := exec.LookPath("mitmdump")
	if err != nil {
		t.Skip("skipping the capture keys lab test: mitmdump (Debian package mitmproxy) is not installed")
	}
	le := newLab(t, "keys")
	ctx, ns, bin, labd, dir := le.ctx, le.ns, le.bin, le.labd, le.dir
	goBin, err := lab.GoBinary()
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(dir, "lab-ca.pem")
	server := ns.Command(ctx, labd, "serve", "-goproxy", "127.0.0.1:443", "-resolver", "127.0.0.1:53",
		"-zone", "proxy.golang.org=127.0.0.1", "-cert-host", "proxy.golang.org", "-ca-out", ca)
	if err := lab.StartReady(server, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.Stop(server, 5*time.Second) })
	startMitmdump(t, le, mitmdump, ca)

	type report struct {
		Findings []struct{ ID, Severity, Host, Summary string } `json:"findings"`
		Events   struct {
			TLS []struct {
				Decrypted bool `json:"decrypted"`
			} `json:"tls"`
		} `json:"events"`
		Context struct {
			Keys string `json:"keys"`
		} `json:"context"`
	}
	run := func(name string, extraEnv ...string) (int, string, *report) {
		work := filepath.Join(dir, name)
		if err := os.MkdirAll(work, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".pcapng")
		cmd := ns.Command(ctx, bin, "capture", "-i", "lo", "-w", path, "--linger", "500ms", "--keys", "ebpf",
			"--allow-addr", "127.0.0.0/8", "--trust", ca, "--format", "json", "-o", filepath.Join(dir, name+".json"),
			"--", goBin, "mod", "download", "example.com/hello@v1.1.0")
		cmd.Env = append(lab.GoEnv(work, "https://proxy.golang.org", ca), extraEnv...)
		cmd.Dir = work
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		if err != nil && cmd.ProcessState == nil {
			t.Fatal(err)
		}
		st, _ := exitStatus(cmd.ProcessState)
		t.Logf("%s: modsniff capture exited %d\n%s", name, st, stderr.String())
		// Secrets never reach standard error.
		if strings.Contains(stderr.String(), "TRAFFIC_SECRET ") {
			t.Errorf("%s: a secret was printed", name)
		}
		b, err := os.ReadFile(filepath.Join(dir, name+".json"))
		if err != nil {
			t.Fatalf("%s: no report: %v", name, err)
		}
		var rep report
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("TRAFFIC_SECRET ")) {
			t.Errorf("%s: a secret is in the report", name)
		}
		return st, path, &rep
	}

	// Healthy: every connection's four TLS 1.3 secrets, no finding.
	st, path, rep := run("healthy")
	if st != 0 {
		t.Fatalf("healthy: go failed (%d)", st)
	}
	perSession := secretsBySession(t, path)
	if len(perSession) == 0 {
		t.Fatal("healthy: no secrets in the capture")
	}
	for random, labels := range perSession {
		for _, l := range []string{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"} {
			if !labels[l] {
				t.Errorf("healthy: session %s… has no %s", random[:12], l)
			}
		}
	}
	for _, f := range rep.Findings {
		if f.Severity != "info" {
			t.Errorf("healthy: finding %+v", f)
		}
	}
	if len(rep.Events.TLS) == 0 || !rep.Events.TLS[0].Decrypted {
		t.Errorf("healthy: sessions not decrypted: %+v", rep.Events.TLS)
	}
	if !strings.Contains(rep.Context.Keys, "writeKeyLog") || !strings.Contains(rep.Context.Keys, goBin) {
		t.Errorf("healthy: context keys %q", rep.Context.Keys)
	}

	// Through mitmproxy: go rejects the certificate; its own handshake
	// secrets show it.
	st, path, rep = run("mitm", "HTTPS_PROXY=http://127.0.0.1:8080")
	if st == 0 {
		t.Errorf("mitm: go succeeded through an untrusted proxy")
	}
	named := false
	for _, f := range rep.Findings {
		named = named || (f.ID == "tls-foreign-issuer" && strings.Contains(f.Summary, "mitmproxy"))
	}
	decrypted := false
	for _, s := range rep.Events.TLS {
		decrypted = decrypted || s.Decrypted
	}
	if !named || !decrypted {
		t.Errorf("mitm: tls-foreign-issuer naming mitmproxy %v, decrypted %v: %+v", named, decrypted, rep.Findings)
	}
	if tshark, err := exec.LookPath("tshark"); err == nil {
		out, err := exec.CommandContext(ctx, tshark, "-r", path, "-Y", "tls.handshake.type == 11", "-T", "fields",
			"-e", "x509sat.uTF8String", "-e", "x509sat.printableString").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "mitmproxy") {
			t.Errorf("mitm: tshark does not decrypt the Certificate with the embedded keys: %v\n%s", err, out)
		}
	} else {
		t.Log("tshark not installed: the decryption by tshark is not checked")
	}
}

// secretsBySession reads the capture's Decryption Secrets Blocks: the
// labels present per client random (hex).
func secretsBySession(t *testing.T, path string) map[string]map[string]bool {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := map[string]map[string]bool{}
	r.OnSecrets = func(s capture.Secrets) {
		sc := bufio.NewScanner(bytes.NewReader(s.Data))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 3 {
				continue
			}
			if out[f[1]] == nil {
				out[f[1]] = map[string]bool{}
			}
			out[f[1]][f[0]] = true
		}
	}
	for {
		if _, err := r.Next(); err != nil {
			break
		}
	}
	return out
}

// startMitmdump runs Debian's mitmproxy in the lab's namespace on
// 127.0.0.1:8080, trusting the lab's CA upstream, until the test ends.
func startMitmdump(t *testing.T, le *labEnv, mitmdump, ca string) {
	t.Helper()
	mitm := le.ns.Command(le.ctx, mitmdump, "--mode", "regular", "--listen-host", "127.0.0.1", "-p", "8080",
		"--set", "confdir="+filepath.Join(le.dir, "mitmproxy"), "--set", "ssl_verify_upstream_trusted_ca="+ca)
	mitm.Env = append(os.Environ(), "HOME="+le.dir)
	out, err := mitm.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := mitm.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-mitm.Process.Pid, syscall.SIGTERM)
		mitm.Wait()
	})
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening") {
				ready <- nil
			}
		}
		ready <- errors.New("mitmdump exited")
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("mitmdump did not start listening within 60s")
	}
}
