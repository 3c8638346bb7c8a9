package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Netns is a Linux network namespace made with `ip netns add`
// (NewNetns). Processes started with Command run inside it; Delete ends
// them and removes the namespace.
type Netns struct {
	Name string
}

// netnsEtc is where `ip netns exec` finds per-namespace files to
// bind-mount over /etc.
const netnsEtc = "/etc/netns"

var (
	canUseOnce sync.Once
	canUseErr  error
)

// CanUseNetns returns nil when this process can create network
// namespaces (it is root and `ip netns` works), and otherwise an error
// saying why, for tests to skip with.
func CanUseNetns() error {
	canUseOnce.Do(func() { canUseErr = probeNetns() })
	return canUseErr
}

func probeNetns() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root (run the tests as root, as CI does)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("network namespaces need the ip command (apt-get install iproute2)")
	}
	ns, err := NewNetns("modsniff-probe-" + strconv.Itoa(os.Getpid()))
	if err != nil {
		return fmt.Errorf("network namespaces do not work here: %w", err)
	}
	if err := ns.Delete(); err != nil {
		return fmt.Errorf("network namespaces do not work here: %w", err)
	}
	return nil
}

// NewNetns creates the namespace name with its loopback interface up and
// no other interface or route. It fails if the namespace exists.
func NewNetns(name string) (*Netns, error) {
	if name == "" || strings.ContainsAny(name, "/ \t\n") || name == "." || name == ".." {
		return nil, fmt.Errorf("netns %q: invalid name", name)
	}
	if err := run("ip", "netns", "add", name); err != nil {
		return nil, fmt.Errorf("netns %s: %w", name, err)
	}
	n := &Netns{Name: name}
	if err := run("ip", "-n", name, "link", "set", "lo", "up"); err != nil {
		n.Delete()
		return nil, fmt.Errorf("netns %s: %w", name, err)
	}
	return n, nil
}

// SetResolvConf writes /etc/netns/<name>/resolv.conf, which `ip netns
// exec` bind-mounts over /etc/resolv.conf for the commands it runs, so
// that they use the namespace's own resolver. It applies to commands
// started afterwards.
func (n *Netns) SetResolvConf(content string) error {
	dir := filepath.Join(netnsEtc, n.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("netns %s: resolv.conf: %w", n.Name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(content), 0o644); err != nil {
		return fmt.Errorf("netns %s: resolv.conf: %w", n.Name, err)
	}
	return nil
}

// Command returns a command that runs name inside the namespace through
// `ip netns exec`. It runs in a process group of its own; when ctx is
// done the whole group is killed, and Wait gives its pipes five seconds
// more before returning.
func (n *Netns) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Veth joins two namespaces with a veth pair: interface aName in a with
// address aAddr, bName in b with bAddr (prefixes such as 10.77.0.2/24,
// which give each side a route to the other's subnet and nothing more).
// Deleting either namespace removes the pair.
func Veth(a *Netns, aName string, aAddr netip.Prefix, b *Netns, bName string, bAddr netip.Prefix) error {
	steps := [][]string{
		{"ip", "link", "add", aName, "netns", a.Name, "type", "veth", "peer", "name", bName, "netns", b.Name},
		{"ip", "-n", a.Name, "addr", "add", aAddr.String(), "dev", aName},
		{"ip", "-n", b.Name, "addr", "add", bAddr.String(), "dev", bName},
		{"ip", "-n", a.Name, "link", "set", aName, "up"},
		{"ip", "-n", b.Name, "link", "set", bName, "up"},
	}
	for _, s := range steps {
		if err := run(s[0], s[1:]...); err != nil {
			return fmt.Errorf("veth %s/%s–%s/%s: %w", a.Name, aName, b.Name, bName, err)
		}
	}
	return nil
}

// Delete kills the processes still running inside the namespace, removes
// it (with its interfaces) and removes /etc/netns/<name>. Deleting a
// namespace that is already gone is not an error.
func (n *Netns) Delete() error {
	var errs []error
	if out, err := exec.Command("ip", "netns", "pids", n.Name).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	if err := run("ip", "netns", "del", n.Name); err != nil && n.exists() {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(filepath.Join(netnsEtc, n.Name)); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("netns %s: delete: %w", n.Name, err)
	}
	return nil
}

func (n *Netns) exists() bool {
	_, err := os.Stat(filepath.Join("/run/netns", n.Name))
	return err == nil
}

// run runs a command, returning its stderr in the error when it fails.
func run(name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
		}
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, msg)
	}
	return nil
}
