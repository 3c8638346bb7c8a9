package capture

import "testing"

// TestTimestampResolutionSplitsLikeTheGeneralCase checks the constant
// divisions of microsecond and nanosecond timestamps against the general
// power-of-ten arithmetic, for timestamps across the whole uint64 range.
func TestTimestampResolutionSplitsLikeTheGeneralCase(t *testing.T) {
	general := func(e uint, ts uint64) (uint64, uint64) {
		return ts / pow10[e], ts % pow10[e] * pow10[9-e]
	}
	for _, e := range []uint8{6, 9} {
		for _, ts := range []uint64{0, 1, 999, 1e6 - 1, 1e6, 1e9 - 1, 1e9, 1748984400123456, 1748984400123456789, 1<<63 + 12345, ^uint64(0)} {
			sec, nsec := tsResolution{exp: e}.split(ts)
			wantSec, wantNsec := general(uint(e), ts)
			if sec != wantSec || nsec != wantNsec {
				t.Errorf("10^-%d: split(%d) = %d s %d ns, want %d s %d ns", e, ts, sec, nsec, wantSec, wantNsec)
			}
		}
	}
}
