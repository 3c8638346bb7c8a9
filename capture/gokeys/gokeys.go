package gokeys

import (
	"fmt"
	"slices"
	"strings"
)

// UnavailableError says why keys cannot be read from Go programs here (no
// Linux, no privileges, no BPF): capture goes on without them.
type UnavailableError struct {
	Reason string
	Err    error
}

func (e *UnavailableError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// Options configure a Collector.
type Options struct {
	// OnSecret receives each secret as one line of the NSS key log format
	// ("LABEL <client random hex> <secret hex>\n") as it arrives, from a
	// single goroutine. The line is the caller's.
	OnSecret func(line []byte)
}

// Attached is a binary whose writeKeyLog carries a uprobe.
type Attached struct {
	Path      string
	GoVersion string
	From      string // ".symtab" or ".gopclntab"
}

// Summary is what a Collector saw, for the capture's context. It holds no
// secret.
type Summary struct {
	// Secrets counts the lines delivered, Sessions the distinct client
	// randoms among them.
	Secrets, Sessions int
	// Attached lists the binaries probed, in the order attached.
	Attached []Attached
	// NotCovered names the programs the command ran whose TLS keys are not
	// read: not Go (git, curl), sorted.
	NotCovered []string
	// Refused says, per binary, why a Go program's keys are not read (too
	// old, no symbol), sorted.
	Refused []string
	// Rejected counts events whose arguments did not look like a key log
	// entry (they are dropped, never written); Lost those the ring buffer
	// had no room for.
	Rejected int
	Lost     uint64
	// Notes are other limits met (exec'd programs not followed).
	Notes []string
}

// Describe says in one line where the keys came from.
func (s *Summary) Describe() string {
	var b strings.Builder
	if len(s.Attached) == 0 {
		b.WriteString("no Go program's TLS keys were read")
	} else {
		var bins []string
		for _, a := range s.Attached {
			bins = append(bins, fmt.Sprintf("%s (%s, %s)", a.Path, a.GoVersion, a.From))
		}
		fmt.Fprintf(&b, "%d TLS secrets of %d sessions read by an eBPF uprobe on %s of %s",
			s.Secrets, s.Sessions, Symbol, strings.Join(bins, ", "))
	}
	if s.Rejected > 0 {
		fmt.Fprintf(&b, "; %d calls with unexpected arguments dropped", s.Rejected)
	}
	if s.Lost > 0 {
		fmt.Fprintf(&b, "; %d secrets lost (ring buffer full)", s.Lost)
	}
	return b.String()
}

// maxNames bounds the names kept in NotCovered and Refused.
const maxNames = 32

func addName(list []string, name string) []string {
	if slices.Contains(list, name) || len(list) >= maxNames {
		return list
	}
	list = append(list, name)
	slices.Sort(list)
	return list
}
