package capture

// liveTrimmer makes the trimmers of the live capture's tests: decode/trim's,
// installed by live_trim_test.go (package capture_test), because package
// capture's own tests cannot import decode (decode imports capture).
var liveTrimmer func() Trimmer

// SetLiveTrimmer installs the trimmer the live capture's tests use.
func SetLiveTrimmer(f func() Trimmer) { liveTrimmer = f }
