//go:build !cgo && !linux

package capture

// openSources reports that live capture needs libpcap, which needs cgo.
func openSources(names []string, filter string, snaplen int) ([]source, error) {
	return nil, ErrLiveUnavailable
}
