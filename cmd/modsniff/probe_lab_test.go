//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modsniff/modsniff/samples/lab"
)

// TestProbeInTheLab runs `modsniff probe` inside a network namespace
// against the lab's GOPROXY (answering as proxy.golang.org, a name only the
// namespace's own resolver knows): directly, where nothing is wrong, and
// through Debian's mitmproxy, whose certificate TLS 1.3 hides — the keys
// probe embeds must reveal it. Root only; mitmproxy must be installed.
func TestProbeInTheLab(t *testing.T) {
	mitmdump, err := exec.LookPath("mitmdump")
	if err != nil {
		t.Skip("skipping the probe lab test: mitmdump (Debian package mitmproxy) is not installed")
	}
	le := newLab(t, "probe")
	ctx, ns, bin, labd, dir := le.ctx, le.ns, le.bin, le.labd, le.dir
	ca := filepath.Join(dir, "lab-ca.pem")
	server := ns.Command(ctx, labd, "serve", "-goproxy", "127.0.0.1:443", "-resolver", "127.0.0.1:53",
		"-zone", "proxy.golang.org=127.0.0.1", "-cert-host", "proxy.golang.org", "-ca-out", ca)
	if err := lab.StartReady(server, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.Stop(server, 5*time.Second) })

	// mitmproxy, trusting the lab's CA upstream, listening inside the
	// namespace.
	confdir := filepath.Join(dir, "mitmproxy")
	mitm := ns.Command(ctx, mitmdump, "--mode", "regular", "--listen-host", "127.0.0.1", "-p", "8080",
		"--set", "confdir="+confdir, "--set", "ssl_verify_upstream_trusted_ca="+ca)
	mitm.Env = append(os.Environ(), "HOME="+dir)
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
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening") {
				ready <- true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		t.Fatal("mitmdump did not start listening within 60s")
	}

	goEnv := func(work string) []string {
		os.MkdirAll(work, 0o755)
		return lab.GoEnv(work, "https://proxy.golang.org", ca)
	}
	probeRun := func(name string, env []string) (int, string, map[string]any) {
		path := filepath.Join(dir, name+".pcapng")
		report := filepath.Join(dir, name+".json")
		cmd := ns.Command(ctx, bin, "probe", "-i", "lo", "-w", path, "--timeout", "10s", "--allow-addr", "127.0.0.0/8",
			"--trust", ca, "--format", "json", "-o", report, "example.com/hello")
		cmd.Env = env
		cmd.Dir = dir
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if err != nil && cmd.ProcessState == nil {
			t.Fatal(err)
		}
		st, _ := exitStatus(cmd.ProcessState)
		t.Logf("%s: probe exited %d\n%s%s", name, st, stdout.String(), stderr.String())
		var rep map[string]any
		b, err := os.ReadFile(report)
		if err != nil {
			t.Fatalf("%s: no report: %v", name, err)
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		return st, stdout.String(), rep
	}
	findings := func(rep map[string]any) []map[string]any {
		var out []map[string]any
		for _, f := range rep["findings"].([]any) {
			out = append(out, f.(map[string]any))
		}
		return out
	}

	// Directly: the go command would get the module; nothing is wrong.
	st, stdout, rep := probeRun("direct", goEnv(filepath.Join(dir, "direct")))
	if st != 0 || !strings.Contains(stdout, "the go command would get it") {
		t.Errorf("direct: status %d", st)
	}
	for _, f := range findings(rep) {
		if f["severity"] != "info" {
			t.Errorf("direct: finding %v", f)
		}
	}

	// Through mitmproxy, which the client does not trust: TLS 1.3 hides the
	// certificate on the wire, the embedded keys reveal it.
	env := append(goEnv(filepath.Join(dir, "mitm")), "HTTPS_PROXY=http://127.0.0.1:8080")
	st, stdout, rep = probeRun("mitm", env)
	if st == 0 || !strings.Contains(stdout, "mitmproxy") {
		t.Errorf("mitm: status %d; the TLS stack's view should name mitmproxy", st)
	}
	named := false
	for _, f := range findings(rep) {
		if f["id"] == "tls-foreign-issuer" && f["host"] == "proxy.golang.org" && strings.Contains(f["summary"].(string), "mitmproxy") {
			named = true
		}
	}
	decrypted := false
	for _, s := range rep["events"].(map[string]any)["tls"].([]any) {
		decrypted = decrypted || s.(map[string]any)["decrypted"] == true
	}
	if !named || !decrypted {
		t.Errorf("mitm: the capture's report does not name mitmproxy as the issuer (decrypted: %v): %v", decrypted, findings(rep))
	}
}
