//go:build linux

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modsniff/modsniff/samples/lab"
)

// TestCaptureGoModDownloadInTheLab runs `modsniff capture -- go mod
// download` inside a network namespace against the lab's GOPROXY and
// resolver (labd), first healthy, then with the resolver gone. It needs
// root; it is skipped otherwise.
func TestCaptureGoModDownloadInTheLab(t *testing.T) {
	le := newLab(t, "capture")
	ctx, ns, bin, dir := le.ctx, le.ns, le.bin, le.dir
	labd := le.labd
	goBin, err := lab.GoBinary()
	if err != nil {
		t.Fatal(err)
	}

	// startLabd serves the GOPROXY on 127.0.0.1:443 and, when resolver is
	// set, DNS on 127.0.0.1:53 with proxy.lab → 127.0.0.1.
	startLabd := func(name string, resolver bool) (string, *exec.Cmd) {
		ca := filepath.Join(dir, name+"-ca.pem")
		args := []string{"serve", "-goproxy", "127.0.0.1:443", "-cert-host", "proxy.lab", "-ca-out", ca}
		if resolver {
			args = append(args, "-resolver", "127.0.0.1:53", "-zone", "proxy.lab=127.0.0.1")
		}
		server := ns.Command(ctx, labd, args...)
		if err := lab.StartReady(server, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lab.Stop(server, 5*time.Second) })
		return ca, server
	}
	// capture runs modsniff capture around go mod download in the
	// namespace, with a fresh module cache.
	capture := func(name, ca string, extra ...string) (int, string, string) {
		work := filepath.Join(dir, name)
		if err := os.MkdirAll(work, 0o755); err != nil {
			t.Fatal(err)
		}
		args := append([]string{"capture", "-i", "lo", "-w", filepath.Join(dir, name+".pcapng"), "--linger", "500ms"}, extra...)
		args = append(args, "--", goBin, "mod", "download", "example.com/hello@v1.1.0")
		cmd := ns.Command(ctx, bin, args...)
		cmd.Env = lab.GoEnv(work, "https://proxy.lab", ca)
		cmd.Dir = work
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if err != nil && cmd.ProcessState == nil {
			t.Fatal(err)
		}
		st, _ := exitStatus(cmd.ProcessState)
		t.Logf("%s: modsniff capture exited %d\n%s", name, st, errb.String())
		return st, out.String(), errb.String()
	}

	// Healthy: go succeeds, the capture says so. The lab answers
	// proxy.lab with a loopback address, which --allow-addr declares
	// legitimate (as for the lab samples); --trust accepts the lab's CA.
	ca, server := startLabd("healthy", true)
	lablike := []string{"--allow-addr", "127.0.0.0/8", "--trust", ca}
	st, _, stderr := capture("healthy", ca, lablike...)
	if st != 0 {
		t.Fatalf("healthy: status %d, want 0", st)
	}
	path := filepath.Join(dir, "healthy.pcapng")
	n, m, _ := capReadFile(t, path)
	if n == 0 {
		t.Error("healthy: no packets")
	}
	if m.ExitStatus == nil || *m.ExitStatus != 0 || !strings.HasSuffix(m.Command[0], "go") ||
		strings.Join(m.Command[1:], " ") != "mod download example.com/hello@v1.1.0" || m.GoEnv["GOPROXY"] != "https://proxy.lab" {
		t.Errorf("healthy: metadata %+v", m)
	}
	if !strings.Contains(m.ResolvConf, "nameserver 127.0.0.1") || !strings.HasPrefix(m.GoVersion, "go version go") {
		t.Errorf("healthy: context %q %q", m.ResolvConf, m.GoVersion)
	}
	if !strings.Contains(stderr, "proxy.lab") {
		t.Errorf("healthy: the report does not name proxy.lab")
	}
	var rep struct {
		Inputs []struct {
			Packets int `json:"packets"`
		} `json:"inputs"`
		Findings []struct{ ID, Severity, Host string } `json:"findings"`
		Hosts    []struct{ Name, Role string }         `json:"hosts"`
	}
	out, err := exec.CommandContext(ctx, bin, append([]string{"analyze", "--format", "json", path}, lablike...)...).Output()
	if err != nil {
		t.Errorf("healthy: analyze: %v", err)
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("healthy: report: %v", err)
	}
	for _, f := range rep.Findings {
		if f.Severity == "error" {
			t.Errorf("healthy: error finding %+v", f)
		}
	}
	roles := map[string]string{}
	for _, h := range rep.Hosts {
		roles[h.Name] = h.Role
	}
	if roles["proxy.lab"] != "goproxy" {
		t.Errorf("healthy: hosts %+v: proxy.lab should be the goproxy (from the recorded GOPROXY)", rep.Hosts)
	}

	// The resolver is gone: go fails, its status passes through and the
	// report says why.
	if err := lab.Stop(server, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	ca, _ = startLabd("noresolver", false)
	report := filepath.Join(dir, "noresolver.json")
	st, _, _ = capture("noresolver", ca, "--format", "json", "-o", report)
	if st == 0 {
		t.Errorf("no resolver: status 0, want go's failure")
	}
	_, m, _ = capReadFile(t, filepath.Join(dir, "noresolver.pcapng"))
	if m.ExitStatus == nil || *m.ExitStatus != st || !strings.Contains(m.StderrTail, "proxy.lab") {
		t.Errorf("no resolver: metadata exit %v, stderr tail %q", m.ExitStatus, m.StderrTail)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	rep.Findings = nil
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range rep.Findings {
		found = found || f.ID == "dns-unreachable"
		t.Logf("no resolver: finding %s %s %s", f.Severity, f.ID, f.Host)
	}
	if !found {
		t.Errorf("no resolver: findings %+v, want dns-unreachable", rep.Findings)
	}
}
