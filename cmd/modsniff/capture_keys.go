package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/capture/gokeys"
)

// Values of --keys.
const (
	keysAuto = "auto" // read Go programs' keys when the system allows it
	keysEBPF = "ebpf" // read them or fail
	keysOff  = "off"
)

// probeHint ends the line that says why a capture has no keys.
const probeHint = "`modsniff probe` repeats the fetch with modsniff's own TLS stack and shows the certificate"

// captureKeys reads the TLS secrets of the Go programs a capture covers
// (the wrapped command, the programs it executes, --keys-from) and passes
// them to the capture as they arrive. Secrets go only into the capture
// file: nothing here prints them.
type captureKeys struct {
	c *gokeys.Collector

	mu      sync.Mutex
	lc      *capture.Live
	pending []byte // lines read before the capture started
}

// startKeys starts reading keys as --keys and --keys-from ask, before the
// capture and the command start. It returns nil and, in auto mode, the one
// line saying why there are no keys; in ebpf mode a failure is an error.
func startKeys(mode string, from, command []string) (*captureKeys, string, error) {
	if mode == keysOff {
		return nil, "not read (--keys=off)", nil
	}
	if len(command) == 0 && len(from) == 0 {
		return nil, "", nil // nothing to read them from
	}
	k := &captureKeys{}
	c, err := gokeys.Start(gokeys.Options{OnSecret: k.add})
	if err != nil {
		if mode == keysEBPF {
			return nil, "", err
		}
		return nil, "none: " + err.Error() + "; " + probeHint, nil
	}
	k.c = c
	fail := func(err error) (*captureKeys, string, error) {
		c.Close()
		return nil, "", err
	}
	for _, f := range from {
		var err error
		if pid, perr := strconv.Atoi(f); perr == nil && pid > 0 {
			err = c.AttachPID(pid)
		} else {
			err = c.AttachPath(f)
		}
		if err != nil && mode == keysEBPF {
			return fail(fmt.Errorf("--keys-from %s: %w", f, err))
		}
	}
	if len(command) > 0 {
		c.TrackChildrenOf(os.Getpid())
		if path, err := exec.LookPath(command[0]); err == nil {
			if err := c.AttachCommand(path); err != nil && mode == keysEBPF && !c.Following() {
				return fail(err)
			}
		}
	}
	return k, "", nil
}

// add takes one key log line from the collector.
func (k *captureKeys) add(line []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.lc == nil {
		k.pending = append(k.pending, line...)
		return
	}
	_ = k.lc.AddSecrets(line)
}

// started connects the running capture.
func (k *captureKeys) started(lc *capture.Live) {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.lc = lc
	if len(k.pending) > 0 {
		_ = lc.AddSecrets(k.pending)
		k.pending = nil
	}
}

// commandStarted tracks the wrapped command's process: where exec'd
// programs cannot be followed, its keys are read from now on.
func (k *captureKeys) commandStarted(pid int) {
	if k != nil {
		k.c.TrackPID(pid)
	}
}

// stop detaches the probes (before the capture stops, so that every
// secret read reaches the file) and returns what the capture's context
// says of its keys and the programs not covered.
func (k *captureKeys) stop() (string, []string) {
	if k == nil {
		return "", nil
	}
	sum := k.c.Close()
	desc := sum.Describe()
	if sum.Secrets == 0 {
		desc += "; " + probeHint
	}
	if len(sum.Refused) > 0 {
		desc += "; not read: " + strings.Join(sum.Refused, "; ")
	}
	if len(sum.Notes) > 0 {
		desc += "; " + strings.Join(sum.Notes, "; ")
	}
	return desc, sum.NotCovered
}

// keysUnavailable reports whether err says that the system does not allow
// reading keys (as opposed to a wrong --keys-from).
func keysUnavailable(err error) bool {
	_, ok := errors.AsType[*gokeys.UnavailableError](err)
	return ok
}
