//go:build linux

package gokeys

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"
)

// capSysAdmin is CAP_SYS_ADMIN's bit: creating a uprobe needs it (CAP_BPF
// and CAP_PERFMON are not enough on current kernels).
const capSysAdmin = 21

// initPidNS is the inode of the initial PID namespace (PROC_PID_INIT_INO).
const initPidNS = 0xEFFFFFFC

// Sizes of the maps.
const (
	keyRingSize  = 1 << 20 // ~6,000 events
	execRingSize = 1 << 16
	maxTracked   = 8192
)

// Check says whether keys can be read here: it needs CAP_SYS_ADMIN and the
// host's PID namespace (the probes see the host's process IDs).
func Check() error {
	eff, err := capEff()
	if err != nil {
		return &UnavailableError{Reason: "could not read modsniff's capabilities", Err: err}
	}
	if eff&(1<<capSysAdmin) == 0 {
		return &UnavailableError{Reason: "modsniff lacks CAP_SYS_ADMIN, which attaching an eBPF uprobe needs (run with sudo)"}
	}
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/ns/pid", &st); err == nil && st.Ino != initPidNS {
		return &UnavailableError{Reason: "modsniff runs in a PID namespace of its own (a container): the eBPF probes would not see its processes"}
	}
	return nil
}

// capEff reads the effective capabilities of this process.
func capEff() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, errors.New("no CapEff in /proc/self/status")
}

// Collector holds the probes and reads their events.
type Collector struct {
	opt        Options
	regs       registerMap
	tracked    *ebpf.Map
	keyEvents  *ebpf.Map
	execEvents *ebpf.Map
	lost       *ebpf.Map
	filtered   *ebpf.Program
	unfiltered *ebpf.Program
	execProg   *ebpf.Program
	execLink   link.Link
	keyRd      *ringbuf.Reader
	execRd     *ringbuf.Reader
	wg         sync.WaitGroup // readKeys
	execWG     sync.WaitGroup // readExecs

	mu      sync.Mutex
	links   []link.Link
	probed  map[probeKey]bool
	seen    map[fileKey]bool // binaries already classified by an exec
	sum     Summary
	randoms map[[32]byte]struct{}
	closed  bool
}

type fileKey struct{ dev, ino uint64 }

type probeKey struct {
	fileKey
	filtered bool
}

// Start loads the programs and maps. It returns an *UnavailableError when
// the system does not allow it. Following exec'd programs needs the
// kernel's BTF; without it a note says so and only the binaries attached
// explicitly are covered.
func Start(opt Options) (c *Collector, err error) {
	if err := Check(); err != nil {
		return nil, err
	}
	regs, ok := registerMaps[runtime.GOARCH]
	if !ok {
		return nil, &UnavailableError{Reason: "no register map for " + runtime.GOARCH}
	}
	unavailable := func(what string, err error) error {
		return &UnavailableError{Reason: "the kernel refused the eBPF " + what, Err: err}
	}
	if err := raiseMemlock(); err != nil {
		return nil, unavailable("memory limit", err)
	}
	c = &Collector{opt: opt, regs: regs, probed: map[probeKey]bool{}, seen: map[fileKey]bool{}, randoms: map[[32]byte]struct{}{}}
	defer func() {
		if err != nil {
			c.closeAll()
		}
	}()
	if c.tracked, err = ebpf.NewMap(&ebpf.MapSpec{Name: "modsniff_track", Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: maxTracked}); err != nil {
		return nil, unavailable("map", err)
	}
	if c.keyEvents, err = ebpf.NewMap(&ebpf.MapSpec{Name: "modsniff_keys", Type: ebpf.RingBuf, MaxEntries: keyRingSize}); err != nil {
		return nil, unavailable("ring buffer", err)
	}
	if c.execEvents, err = ebpf.NewMap(&ebpf.MapSpec{Name: "modsniff_execs", Type: ebpf.RingBuf, MaxEntries: execRingSize}); err != nil {
		return nil, unavailable("ring buffer", err)
	}
	if c.lost, err = ebpf.NewMap(&ebpf.MapSpec{Name: "modsniff_lost", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1}); err != nil {
		return nil, unavailable("map", err)
	}
	newProg := func(name string, typ ebpf.ProgramType, insns asm.Instructions) (*ebpf.Program, error) {
		return ebpf.NewProgram(&ebpf.ProgramSpec{Name: name, Type: typ, Instructions: insns, License: "Dual MIT/GPL"})
	}
	if c.filtered, err = newProg("modsniff_keylog", ebpf.Kprobe, keyProgram(regs, c.keyEvents, c.tracked, c.lost)); err != nil {
		return nil, unavailable("uprobe program", err)
	}
	if c.unfiltered, err = newProg("modsniff_keyall", ebpf.Kprobe, keyProgram(regs, c.keyEvents, nil, c.lost)); err != nil {
		return nil, unavailable("uprobe program", err)
	}
	if c.keyRd, err = ringbuf.NewReader(c.keyEvents); err != nil {
		return nil, unavailable("ring buffer", err)
	}
	if err := c.startFollowing(); err != nil {
		c.sum.Notes = append(c.sum.Notes, "programs the command executes are not followed: "+err.Error())
	}
	c.wg.Add(1)
	go c.readKeys()
	return c, nil
}

// startFollowing attaches the exec program, with task_struct offsets from
// the kernel's BTF.
func (c *Collector) startFollowing() error {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return fmt.Errorf("no kernel BTF: %w", err)
	}
	var task *btf.Struct
	if err := spec.TypeByName("task_struct", &task); err != nil {
		return fmt.Errorf("kernel BTF: %w", err)
	}
	parent, tgid := int32(-1), int32(-1)
	for _, m := range task.Members {
		switch m.Name {
		case "real_parent":
			parent = int32(m.Offset.Bytes())
		case "tgid":
			tgid = int32(m.Offset.Bytes())
		}
	}
	if parent < 0 || tgid < 0 {
		return errors.New("kernel BTF: task_struct has no real_parent or tgid")
	}
	if c.execProg, err = ebpf.NewProgram(&ebpf.ProgramSpec{Name: "modsniff_exec", Type: ebpf.RawTracepoint,
		Instructions: execProgram(c.execEvents, c.tracked, c.lost, parent, tgid), License: "Dual MIT/GPL"}); err != nil {
		return fmt.Errorf("exec program: %w", err)
	}
	if c.execRd, err = ringbuf.NewReader(c.execEvents); err != nil {
		return err
	}
	if c.execLink, err = link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sched_process_exec", Program: c.execProg}); err != nil {
		return fmt.Errorf("raw tracepoint sched_process_exec: %w", err)
	}
	c.execWG.Add(1)
	go c.readExecs()
	return nil
}

// TrackChildrenOf marks pid as an ancestor: the programs its descendants
// execute are followed (not pid itself).
func (c *Collector) TrackChildrenOf(pid int) {
	_ = c.tracked.Put(uint32(pid), uint32(trackedAncestor))
}

// TrackPID marks the process pid as one whose keys are read (the wrapped
// command once started: without the exec program, its keys are read from
// then on).
func (c *Collector) TrackPID(pid int) {
	_ = c.tracked.Put(uint32(pid), uint32(trackedProcess))
}

// Following reports whether programs executed by tracked processes are
// attached to before they run.
func (c *Collector) Following() bool { return c.execLink != nil }

// AttachCommand attaches to the program at path that a tracked process is
// about to execute (the wrapped command), before it starts. A program that
// is not Go is recorded as not covered.
func (c *Collector) AttachCommand(path string) error {
	_, err := c.attachFile(path, path, true)
	return err
}

// AttachPID reads the keys of the running process pid.
func (c *Collector) AttachPID(pid int) error {
	if err := c.tracked.Put(uint32(pid), uint32(trackedProcess)); err != nil {
		return fmt.Errorf("tracking process %d: %w", pid, err)
	}
	exe := fmt.Sprintf("/proc/%d/exe", pid)
	name, err := os.Readlink(exe)
	if err != nil {
		return fmt.Errorf("process %d: %w", pid, err)
	}
	_, err = c.attachFile(exe, name, true)
	return err
}

// AttachPath reads the keys of every process running the binary at path.
func (c *Collector) AttachPath(path string) error {
	_, err := c.attachFile(path, path, false)
	return err
}

// attachFile resolves and attaches the binary at path (shown as name); it
// returns whether a probe is in place.
func (c *Collector) attachFile(path, name string, filtered bool) (bool, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return false, fmt.Errorf("%s: %w", name, err)
	}
	key := probeKey{fileKey{st.Dev, st.Ino}, filtered}
	c.mu.Lock()
	done := c.probed[key]
	c.mu.Unlock()
	if done {
		return true, nil
	}
	t, err := Resolve(path)
	if err != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, notGo := errors.AsType[*NotGoError](err); notGo {
			c.sum.NotCovered = addName(c.sum.NotCovered, filepath.Base(name))
			return false, fmt.Errorf("%s is not a Go program: its TLS keys are not covered", name)
		}
		msg := strings.ReplaceAll(err.Error(), path, name)
		if !errors.Is(err, ErrNoSymbol) {
			c.sum.Refused = addName(c.sum.Refused, msg)
		}
		return false, errors.New(msg)
	}
	if t.Arch != runtime.GOARCH {
		err := fmt.Errorf("%s is an %s binary and modsniff runs on %s: %w", name, t.Arch, runtime.GOARCH, ErrArch)
		c.mu.Lock()
		c.sum.Refused = addName(c.sum.Refused, err.Error())
		c.mu.Unlock()
		return false, err
	}
	ex, err := link.OpenExecutable(path)
	if err != nil {
		return false, fmt.Errorf("%s: %w", name, err)
	}
	prog := c.unfiltered
	if filtered {
		prog = c.filtered
	}
	l, err := ex.Uprobe("", prog, &link.UprobeOptions{Address: t.Offset})
	if err != nil {
		return false, &UnavailableError{Reason: "the kernel refused the uprobe on " + name, Err: err}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		l.Close()
		return false, errors.New("collector closed")
	}
	c.links = append(c.links, l)
	c.probed[key] = true
	c.sum.Attached = append(c.sum.Attached, Attached{Path: name, GoVersion: t.GoVersion, From: t.From})
	return true, nil
}

// readExecs handles the programs tracked processes execute: each is
// stopped by the exec program; it is attached to when it is Go, recorded
// as not covered when not, and let go on.
func (c *Collector) readExecs() {
	defer c.execWG.Done()
	var rec ringbuf.Record
	for {
		if err := c.execRd.ReadInto(&rec); err != nil {
			return
		}
		if len(rec.RawSample) < 8 {
			continue
		}
		pid := int(binary.NativeEndian.Uint32(rec.RawSample))
		stopped := binary.NativeEndian.Uint32(rec.RawSample[4:]) == 0
		c.handleExec(pid)
		if stopped {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}
}

// handleExec classifies what process pid now runs.
func (c *Collector) handleExec(pid int) {
	exe := fmt.Sprintf("/proc/%d/exe", pid)
	name, err := os.Readlink(exe)
	if err != nil {
		return // gone already
	}
	var st syscall.Stat_t
	if err := syscall.Stat(exe, &st); err != nil {
		return
	}
	fk := fileKey{st.Dev, st.Ino}
	c.mu.Lock()
	seen := c.seen[fk] || c.probed[probeKey{fk, true}]
	c.seen[fk] = true
	c.mu.Unlock()
	if !seen {
		_, _ = c.attachFile(exe, name, true)
	}
}

// readKeys turns key events into key log lines.
func (c *Collector) readKeys() {
	defer c.wg.Done()
	var rec ringbuf.Record
	for {
		if err := c.keyRd.ReadInto(&rec); err != nil {
			return // closed, or flushed by Close
		}
		line, random, ok := parseEvent(rec.RawSample)
		c.mu.Lock()
		if !ok {
			c.sum.Rejected++
			c.mu.Unlock()
			continue
		}
		c.sum.Secrets++
		c.randoms[random] = struct{}{}
		c.sum.Sessions = len(c.randoms)
		c.mu.Unlock()
		if c.opt.OnSecret != nil {
			c.opt.OnSecret(line)
		}
	}
}

// parseEvent checks a key event and renders it as a key log line. An event
// whose copies failed or whose arguments do not have the lengths of a key
// log entry is refused: a wrong key is never written.
func parseEvent(b []byte) (line []byte, random [32]byte, ok bool) {
	if len(b) < eventSize {
		return nil, random, false
	}
	le := binary.NativeEndian
	pid := le.Uint32(b)
	flags := le.Uint32(b[4:])
	labelPtr := le.Uint64(b[evLabelPtr:])
	labelLen, randomLen, secretLen := le.Uint64(b[evLabelLen:]), le.Uint64(b[evRandomLen:]), le.Uint64(b[evSecretLen:])
	if labelLen == 0 || labelLen > maxLabel || randomLen != 32 || (secretLen != 32 && secretLen != 48) ||
		flags&(flagRandom|flagSecret) != 0 {
		return nil, random, false
	}
	label := b[evLabel : evLabel+labelLen]
	if flags&flagLabel != 0 {
		// The label is a string constant not yet paged in: read it from
		// the process's memory (it cannot have changed).
		var err error
		if label, err = readMem(int(pid), labelPtr, int(labelLen)); err != nil {
			return nil, random, false
		}
	}
	if !knownLabel(string(label), int(secretLen)) {
		return nil, random, false
	}
	copy(random[:], b[evRandom:evRandom+32])
	line = make([]byte, 0, len(label)+2+64+2*int(secretLen)+1)
	line = append(line, label...)
	line = append(line, ' ')
	line = hex.AppendEncode(line, random[:])
	line = append(line, ' ')
	line = hex.AppendEncode(line, b[evSecret:evSecret+secretLen])
	line = append(line, '\n')
	return line, random, true
}

// knownLabel reports whether label is one crypto/tls writes, with a secret
// of a length it can have.
func knownLabel(label string, secretLen int) bool {
	switch label {
	case "CLIENT_RANDOM":
		return secretLen == 48
	case "CLIENT_EARLY_TRAFFIC_SECRET", "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
		"CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET":
		return true
	}
	return false
}

// readMem reads n bytes at addr of process pid.
func readMem(pid int, addr uint64, n int) ([]byte, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, int64(addr)); err != nil {
		return nil, err
	}
	return b, nil
}

// Close detaches everything, delivers the secrets still buffered, lets
// every stopped process go on and returns the summary.
func (c *Collector) Close() *Summary {
	if c == nil {
		return &Summary{}
	}
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	if c.execLink != nil {
		c.execLink.Close()
		c.execLink = nil
		// Processes stopped by an event not yet read are continued before
		// readExecs returns.
		c.execRd.Flush()
	}
	c.execWG.Wait()
	c.mu.Lock()
	links := c.links
	c.links = nil
	c.mu.Unlock()
	for _, l := range links {
		l.Close()
	}
	c.keyRd.Flush()
	c.wg.Wait()
	var lost uint64
	if c.lost.Lookup(uint32(0), &lost) == nil {
		c.sum.Lost = lost
	}
	c.closeAll()
	s := c.sum
	s.Attached = slices.Clone(s.Attached)
	return &s
}

// closeAll releases the readers, maps and programs.
func (c *Collector) closeAll() {
	if c.execLink != nil {
		c.execLink.Close()
	}
	if c.execRd != nil {
		c.execRd.Close()
	}
	if c.keyRd != nil {
		c.keyRd.Close()
	}
	for _, p := range []*ebpf.Program{c.execProg, c.filtered, c.unfiltered} {
		if p != nil {
			p.Close()
		}
	}
	for _, m := range []*ebpf.Map{c.tracked, c.keyEvents, c.execEvents, c.lost} {
		if m != nil {
			m.Close()
		}
	}
}

// raiseMemlock lifts RLIMIT_MEMLOCK, against which kernels before 5.11
// charge the memory of eBPF maps (later ones charge the memory cgroup and
// ignore it): to infinity when the process may raise the hard limit, else
// the soft limit to the hard one. It replaces cilium/ebpf/rlimit, whose
// package initialisation creates an eBPF map to probe the kernel in every
// process that links it, so that even "modsniff version" made bpf(2)
// calls and lowered its own memory lock limit at start.
func raiseMemlock() error {
	if unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}) == nil {
		return nil
	}
	var l unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &l); err != nil {
		return fmt.Errorf("RLIMIT_MEMLOCK: %w", err)
	}
	if l.Cur == l.Max {
		return nil
	}
	l.Cur = l.Max
	if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &l); err != nil {
		return fmt.Errorf("RLIMIT_MEMLOCK: %w", err)
	}
	return nil
}
