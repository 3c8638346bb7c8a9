package lab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// killGroup sends sig to the process group cmd leads (commands from
// Netns.Command and StartReady run in their own group).
func killGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	if cmd.Process == nil {
		return nil
	}
	if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill process group %d: %w", cmd.Process.Pid, err)
	}
	return nil
}

// StartReady starts cmd in a process group of its own and waits until it
// prints a line "ready" on its standard output (as labd does), at most
// timeout. Later output is copied to cmd.Stdout when that was set, or
// discarded. If the process exits or the time runs out first, the group
// is killed and the error includes the process's standard error (when
// cmd.Stderr was nil). Stop ends it.
func StartReady(cmd *exec.Cmd, timeout time.Duration) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	rest := cmd.Stdout
	if rest == nil {
		rest = io.Discard
	}
	cmd.Stdout = nil
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	var stderr *tailBuffer
	if cmd.Stderr == nil {
		stderr = &tailBuffer{max: 4096}
		cmd.Stderr = stderr
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		said := false
		for sc.Scan() {
			if !said && strings.TrimSpace(sc.Text()) == "ready" {
				said = true
				ready <- true
				continue
			}
			if said {
				fmt.Fprintln(rest, sc.Text())
			}
		}
		if !said {
			ready <- false
		}
		io.Copy(rest, stdout)
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case ok := <-ready:
		if ok {
			return nil
		}
		cmd.Wait()
		return fmt.Errorf("%s exited before it was ready (%v)%s", strings.Join(cmd.Args, " "), cmd.ProcessState, stderr.suffix())
	case <-timer.C:
		killGroup(cmd, syscall.SIGKILL)
		cmd.Wait()
		return fmt.Errorf("%s not ready after %v%s", strings.Join(cmd.Args, " "), timeout, stderr.suffix())
	}
}

// Stop ends a command started with StartReady or Netns.Command: SIGTERM
// to its process group, then SIGKILL after grace. It waits for the
// command and returns nil if it exited on the signal or with status 0.
func Stop(cmd *exec.Cmd, grace time.Duration) error {
	if cmd.Process == nil || cmd.ProcessState != nil {
		return nil
	}
	killGroup(cmd, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(grace):
		killGroup(cmd, syscall.SIGKILL)
		err = <-done
	}
	// Whatever else is left in the group goes too.
	killGroup(cmd, syscall.SIGKILL)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("stop %s: %w", strings.Join(cmd.Args, " "), err)
	}
	return nil
}

// BuildLabd builds the labd command into dir and returns its path.
func BuildLabd(ctx context.Context, dir string) (string, error) {
	goBin, err := GoBinary()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "labd")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "github.com/modsniff/modsniff/samples/lab/labd")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build labd: %w: %s", err, strings.TrimSpace(string(b)))
	}
	return out, nil
}

// GoBinary returns the path of the go command: the one in PATH, or the
// one of the toolchain that built this program.
func GoBinary() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return filepath.Abs(p)
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("no go command in PATH or in %s", filepath.Dir(p))
	}
	return p, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) suffix() string {
	if t == nil || len(strings.TrimSpace(string(t.buf))) == 0 {
		return ""
	}
	return ": " + strings.TrimSpace(string(t.buf))
}
