//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modsniff/modsniff/capture"
)

func capTestEnv(stdin string) (*env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}, &out, &errb
}

func TestRunWrappedExitStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		argv   []string
		stdin  string
		status int
		signal string
		stdout string
		tail   string
	}{
		{"exit code", []string{"sh", "-c", "echo out; echo err >&2; exit 7"}, "", 7, "", "out\n", "err\n"},
		{"success", []string{"true"}, "", 0, "", "", ""},
		{"killed by SIGTERM", []string{"sh", "-c", "echo dying >&2; kill -TERM $$"}, "", 128 + 15, "TERM", "", "dying\n"},
		{"killed by SIGKILL", []string{"sh", "-c", "kill -KILL $$"}, "", 128 + 9, "KILL", "", ""},
		{"stdin passes through", []string{"cat"}, "hello\n", 0, "", "hello\n", ""},
		{"not found", []string{"/nonexistent/cmd"}, "", 127, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, out, errb := capTestEnv(tc.stdin)
			res := runWrapped(tc.argv, os.Environ(), nil, e, make(chan os.Signal), 0, nil)
			if res.status != tc.status || res.signal != tc.signal {
				t.Errorf("status %d signal %q, want %d %q (start error %v)", res.status, res.signal, tc.status, tc.signal, res.startErr)
			}
			if out.String() != tc.stdout {
				t.Errorf("stdout %q, want %q", out, tc.stdout)
			}
			if string(res.stderr) != tc.tail || errb.String() != tc.tail {
				t.Errorf("stderr %q and its tail %q, want %q", errb, res.stderr, tc.tail)
			}
		})
	}
}

func TestRunWrappedPassesSignalsOn(t *testing.T) {
	// Started under nohup, the test has SIGHUP ignored, and so would the
	// command it starts: with a handler installed here, as capture
	// installs one, the command starts with SIGHUP's default action.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for _, tc := range []struct {
		name    string
		sig     os.Signal
		timeout time.Duration
		status  int
		least   time.Duration
	}{
		{"SIGTERM at once", syscall.SIGTERM, 0, 128 + 15, 0},
		{"SIGHUP at once", syscall.SIGHUP, 0, 128 + 1, 0},
		{"SIGINT after its grace", os.Interrupt, 0, 128 + 2, interruptGrace},
		{"duration elapsed", nil, 50 * time.Millisecond, 128 + 15, 50 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := capTestEnv("")
			sigc := make(chan os.Signal, 1)
			if tc.sig != nil {
				sigc <- tc.sig
			}
			start := time.Now()
			res := runWrapped([]string{"sh", "-c", "exec sleep 30"}, os.Environ(), nil, e, sigc, tc.timeout, nil)
			took := time.Since(start)
			if res.status != tc.status {
				t.Errorf("status %d, want %d", res.status, tc.status)
			}
			if took < tc.least || took > 10*time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
}

func TestRunWrappedThirdSignalKills(t *testing.T) {
	e, _, _ := capTestEnv("")
	sigc := make(chan os.Signal)
	go func() {
		time.Sleep(300 * time.Millisecond) // the command is up
		for range 3 {
			sigc <- os.Interrupt
		}
	}()
	// The command ignores SIGINT and SIGTERM, and leaves a child behind
	// that holds its standard error open for a while.
	start := time.Now()
	res := runWrapped([]string{"sh", "-c", "trap '' INT TERM; sleep 8 & while :; do sleep 0.1; done"}, os.Environ(), nil, e, sigc, 0, nil)
	if res.status != 128+9 || res.signal != "KILL" {
		t.Errorf("status %d %q, want 137 KILL", res.status, res.signal)
	}
	if took := time.Since(start); took > waitDelay+4*time.Second {
		t.Errorf("took %v: the orphan's open standard error held modsniff", took)
	}
}

func TestTailBuffer(t *testing.T) {
	tb := &tailBuffer{max: 100}
	for i := range 1000 {
		fmt.Fprintf(tb, "line %d\n", i)
	}
	b := tb.bytes()
	if len(b) > 100+1024 || !bytes.HasSuffix(b, []byte("line 999\n")) {
		t.Errorf("tail of %d bytes ending %q", len(b), b[max(0, len(b)-20):])
	}
	if cap(tb.buf) > 4*(100+1024) {
		t.Errorf("buffer grew to %d", cap(tb.buf))
	}
}

func TestCaptureUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"capture", "--snaplen", "10"},
		{"capture", "--linger", "-1s"},
		{"capture", "--duration", "-5s"},
		{"capture", "--format", "yaml"},
		{"capture", "--fail-on", "sometimes"},
		{"capture", "--no-such-flag"},
	} {
		e, _, errb := capTestEnv("")
		if st := run(args, e.stdin, e.stdout, e.stderr); st != exitUsage {
			t.Errorf("%q: status %d, want %d; stderr %q", args, st, exitUsage, errb)
		}
	}
}

func TestCaptureHelpText(t *testing.T) {
	e, out, _ := capTestEnv("")
	if st := run([]string{"capture", "--help"}, e.stdin, e.stdout, e.stderr); st != exitOK {
		t.Errorf("--help: status %d", st)
	}
	golden(t, "capture-help.txt", out.String())
	for _, want := range []string{"--interface", "--write", "--filter", "--duration", "--full", "--no-analyze", "--linger",
		"--format", "setcap cap_net_raw,cap_net_admin=eip", "exit status"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// capBinary builds modsniff, with or without cgo, into a directory of the
// test that every user may read (the permission test runs it as nobody).
func capBinary(t *testing.T, cgo bool) string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		t.Skipf("no go command to build modsniff with: %v", err)
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755) // the test's own directory, made by the testing package
	path := filepath.Join(dir, "modsniff")
	cmd := exec.Command(goBin, "build", "-o", path, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+map[bool]string{true: "1", false: "0"}[cgo])
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return path
}

// capRun runs modsniff with args and returns its exit status and
// output.
func capRun(t *testing.T, bin string, prepare func(*exec.Cmd), args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if prepare != nil {
		prepare(cmd)
	}
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("%s: %v", bin, err)
	}
	st, _ := exitStatus(cmd.ProcessState)
	return st, out.String(), errb.String()
}

// TestCaptureWithoutCgo: a CGO_ENABLED=0 binary captures on Linux through
// AF_PACKET with the default filter assembled in Go. The wrapped command
// (bash, over /dev/udp and /dev/tcp) asks 127.0.0.1:53, where no resolver
// listens, for proxy.golang.org and tunnels through a proxy on loopback
// that answers 403; the capture must hold both and the analysis name them.
// A filter expression of the user's needs libpcap, and the error says so.
func TestCaptureWithoutCgo(t *testing.T) {
	bin := capBinary(t, false)
	samples, _ := filepath.Glob("../../samples/*.pcapng")
	if len(samples) == 0 {
		t.Fatal("no sample to analyze")
	}
	if st, _, stderr := capRun(t, bin, nil, "analyze", "--fail-on", "never", samples[0]); st != exitOK {
		t.Errorf("analyze without cgo: status %d, %s", st, stderr)
	}
	if runtime.GOOS != "linux" {
		st, _, stderr := capRun(t, bin, nil, "capture", "--", "true")
		if st != exitUsage || !strings.Contains(stderr, "built without cgo/libpcap: live capture is unavailable; analyze still works") {
			t.Errorf("status %d, stderr %q", st, stderr)
		}
		return
	}
	st, _, stderr := capRun(t, bin, nil, "capture", "-i", "lo", "-f", "udp port 9", "--duration", "1s")
	if st != exitUsage || !strings.Contains(stderr, "compiling a filter expression needs libpcap") {
		t.Errorf("--filter without libpcap: status %d, stderr %q", st, stderr)
	}
	capNeedRoot(t)
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash for the traffic generator")
	}
	proxy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	go func() {
		for {
			c, err := proxy.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					l, err := r.ReadString('\n')
					if err != nil || l == "\r\n" {
						break
					}
				}
				io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			}()
		}
	}()
	port := proxy.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	path := filepath.Join(dir, "nocgo.pcapng")
	query := `\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05proxy\x06golang\x03org\x00\x00\x01\x00\x01`
	script := fmt.Sprintf(`printf '%s' > /dev/udp/127.0.0.1/53; sleep 0.2
exec 3<>/dev/tcp/127.0.0.1/%d
printf 'CONNECT proxy.golang.org:443 HTTP/1.1\r\nHost: proxy.golang.org:443\r\n\r\n' >&3
cat <&3 >/dev/null`, query, port)
	withProxy := func(cmd *exec.Cmd) {
		cmd.Env = append(os.Environ(), fmt.Sprintf("HTTPS_PROXY=http://127.0.0.1:%d", port))
	}
	st, _, stderr = capRun(t, bin, withProxy, "capture", "-i", "lo", "-w", path, "--linger", "300ms",
		"--format", "json", "-o", filepath.Join(dir, "report.json"), "--", "bash", "-c", script)
	if st != 0 {
		t.Fatalf("capture without cgo: status %d, stderr %s", st, stderr)
	}
	n, m, r := capReadFile(t, path)
	t.Logf("CGO-free capture on lo: %d packets, filter %q", n, m.Filter)
	if n < 5 {
		t.Errorf("%d packets; want the DNS query, its ICMP error and the tunnel's handshake and exchange", n)
	}
	if lts := r.LinkTypes(); len(lts) != 1 || capture.LinkTypeName(lts[0]) != "RAW" {
		t.Errorf("link types %v, want RAW", lts)
	}
	if ifs := r.Interfaces(); len(ifs) != 1 || ifs[0].Name != "lo" || ifs[0].Stats == nil || ifs[0].Stats.Received == 0 {
		t.Errorf("interface and its statistics: %+v", ifs)
	}
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Findings []struct{ ID, Host string }
		Events   struct {
			DNS   []struct{ Name, ICMP string }
			Proxy []struct {
				Target string
				Status int
			}
		}
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Events.DNS) != 1 || rep.Events.DNS[0].Name != "proxy.golang.org" || rep.Events.DNS[0].ICMP != "port-unreachable" {
		t.Errorf("DNS events %+v, want the query answered by ICMP port unreachable", rep.Events.DNS)
	}
	if len(rep.Events.Proxy) != 1 || rep.Events.Proxy[0].Status != 403 {
		t.Errorf("proxy events %+v, want the CONNECT answered 403", rep.Events.Proxy)
	}
	ids := map[string]bool{}
	for _, f := range rep.Findings {
		ids[f.ID] = true
	}
	for _, id := range []string{"dns-unreachable", "proxy-connect-failed"} {
		if !ids[id] {
			t.Errorf("finding %s missing; findings %+v", id, rep.Findings)
		}
	}
}

func TestCaptureUnknownInterface(t *testing.T) {
	bin := capBinary(t, true)
	st, _, stderr := capRun(t, bin, nil, "capture", "-i", "nosuchif0", "--", "true")
	if st != exitUsage || !strings.Contains(stderr, `no interface "nosuchif0"`) || !strings.Contains(stderr, "\n  lo") {
		t.Errorf("status %d, stderr %q", st, stderr)
	}
}

// capAsNobody makes a command run as nobody (when the test runs as root).
func capAsNobody(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Dir = "/"
}

func TestCaptureWithoutPermission(t *testing.T) {
	bin := capBinary(t, true)
	var prepare func(*exec.Cmd)
	if os.Geteuid() == 0 {
		prepare = capAsNobody
	}
	st, _, stderr := capRun(t, bin, prepare, "capture", "-i", "lo", "--", "true")
	if st != exitUsage || !strings.Contains(stderr, "no permission to capture on lo") ||
		!strings.Contains(stderr, "sudo setcap cap_net_raw,cap_net_admin=eip $(command -v modsniff)") {
		t.Errorf("status %d, stderr %q", st, stderr)
	}
}

// capNeedRoot skips a test that captures for real.
func capNeedRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root; CI runs these tests as root")
	}
}

// capReadFile reads a file written by modsniff capture.
func capReadFile(t *testing.T, path string) (int, *capture.Metadata, *capture.Reader) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want 0600", path, st.Mode().Perm())
	}
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		if _, err := r.Next(); err != nil {
			break
		}
		n++
	}
	if errs := r.Errors(); len(errs) > 0 {
		t.Errorf("%s is damaged: %v", path, errs)
	}
	m, ok := capture.ParseMetadata(r.Sections())
	if !ok {
		t.Fatalf("%s: no metadata", path)
	}
	return n, m, r
}

func TestCaptureStopsCleanlyOnSIGINT(t *testing.T) {
	capNeedRoot(t)
	bin := capBinary(t, true)
	ln, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.LocalAddr().(*net.UDPAddr).Port
	path := filepath.Join(t.TempDir(), "sigint.pcapng")
	cmd := exec.Command(bin, "capture", "-i", "lo", "-f", "udp port "+strconv.Itoa(port), "-w", path, "--no-analyze")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() && !strings.Contains(sc.Text(), "press Ctrl-C") {
	}
	go io.Copy(io.Discard, stderr)
	conn, err := net.Dial("udp", ln.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		conn.Write([]byte("ping"))
	}
	conn.Close()
	time.Sleep(50 * time.Millisecond)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("modsniff: %v", err)
	}
	n, m, r := capReadFile(t, path)
	if n != 3 {
		t.Errorf("%d packets, want 3", n)
	}
	if m.Ended.IsZero() || m.ExitStatus != nil || len(m.Command) != 0 {
		t.Errorf("metadata %+v", m)
	}
	if ifs := r.Interfaces(); len(ifs) != 1 || ifs[0].Stats == nil {
		t.Errorf("no interface statistics: %+v", ifs)
	}
}

func TestCaptureWrappedCommand(t *testing.T) {
	capNeedRoot(t)
	bin := capBinary(t, true)
	dir := t.TempDir()
	path := filepath.Join(dir, "wrapped.pcapng")
	st, stdout, stderr := capRun(t, bin, nil, "capture", "-i", "lo", "-w", path, "--linger", "100ms",
		"--", "sh", "-c", `echo to-stdout; echo "Get https://u:secret@proxy/x: dial tcp: lookup proxy: i/o timeout" >&2; kill -TERM $$`)
	if st != 128+15 {
		t.Errorf("status %d, want 143; stderr %s", st, stderr)
	}
	if stdout != "to-stdout\n" {
		t.Errorf("stdout %q: only the command's output belongs there", stdout)
	}
	if !strings.Contains(stderr, "i/o timeout") || !strings.Contains(stderr, "modsniff: wrote "+path) {
		t.Errorf("stderr %q", stderr)
	}
	if !strings.Contains(stderr, "sh said: Get https://REDACTED@proxy/x") {
		t.Errorf("no go-error summary in %q", stderr)
	}
	_, m, _ := capReadFile(t, path)
	if m.ExitStatus == nil || *m.ExitStatus != 143 || m.Signal != "TERM" || m.Command[0] != "sh" {
		t.Errorf("metadata %+v", m)
	}
	if strings.Contains(m.StderrTail, "secret") || !strings.Contains(m.StderrTail, "i/o timeout") {
		t.Errorf("stderr tail %q", m.StderrTail)
	}

	// The exit status passes through when the report is written too.
	st, _, _ = capRun(t, bin, nil, "capture", "-i", "lo", "-w", filepath.Join(dir, "three.pcapng"), "--linger", "0s",
		"--format", "json", "-o", filepath.Join(dir, "r.json"), "--", "sh", "-c", "exit 3")
	if st != 3 {
		t.Errorf("status %d, want 3", st)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "r.json")); err != nil || !bytes.Contains(b, []byte(`"schema": 1`)) {
		t.Errorf("report: %v %.100s", err, b)
	}
}

func TestCaptureRunsTheCommandAsTheSudoUser(t *testing.T) {
	capNeedRoot(t)
	bin := capBinary(t, true)
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	path := filepath.Join(dir, "sudo.pcapng")
	st, stdout, stderr := capRun(t, bin, func(c *exec.Cmd) {
		c.Env = append(os.Environ(), "SUDO_UID=65534", "SUDO_GID=65534", "SUDO_USER=nobody", "HOME=/root", "USER=root")
		c.Dir = dir
	}, "capture", "-i", "lo", "-w", path, "--linger", "0s", "--no-analyze", "--", "sh", "-c", `id -u; id -g; echo "$HOME $USER"`)
	if st != 0 {
		t.Fatalf("status %d: %s", st, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || lines[0] != "65534" || lines[1] != "65534" || strings.Contains(lines[2], "root") {
		t.Errorf("the command ran as %q", lines)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if sys, ok := fi.Sys().(*syscall.Stat_t); !ok || sys.Uid != 65534 {
		t.Errorf("the capture is not the user's: %+v", fi.Sys())
	}
	_, m, _ := capReadFile(t, path)
	if m.RunAs != "nobody" {
		t.Errorf("run_as %q", m.RunAs)
	}
}
