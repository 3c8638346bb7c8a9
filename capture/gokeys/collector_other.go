//go:build !linux

package gokeys

// Collector reads keys on Linux only.
type Collector struct{}

// Check says why keys cannot be read here.
func Check() error {
	return &UnavailableError{Reason: "TLS keys from Go programs are read with eBPF, which needs Linux"}
}

// Start fails: there is no eBPF here.
func Start(Options) (*Collector, error) { return nil, Check() }

// TrackChildrenOf does nothing here.
func (c *Collector) TrackChildrenOf(pid int) {}

// TrackPID does nothing here.
func (c *Collector) TrackPID(pid int) {}

// Following reports false here.
func (c *Collector) Following() bool { return false }

// AttachCommand does nothing here.
func (c *Collector) AttachCommand(path string) error { return Check() }

// AttachPID does nothing here.
func (c *Collector) AttachPID(pid int) error { return Check() }

// AttachPath does nothing here.
func (c *Collector) AttachPath(path string) error { return Check() }

// Close returns an empty summary.
func (c *Collector) Close() *Summary { return &Summary{} }
