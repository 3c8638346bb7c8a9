package tlswire

import (
	"testing"
	"unsafe"
)

// TestSessionStaysCompact holds the per-session structures to the sizes
// they were laid out for: a Session is kept for every TLS connection of a
// capture until the analysis ends.
func TestSessionStaysCompact(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"Session", unsafe.Sizeof(Session{}), 320},
		{"DirState", unsafe.Sizeof(DirState{}), 56},
		{"logEntry", unsafe.Sizeof(logEntry{}), 24},
		// A Conn lives only while its connection is decoded, but one is
		// allocated per TLS connection: 608 bytes fill the 640-byte class.
		// It counts the bytes fed and remembers the ChangeCipherSpec, which
		// the Session does not keep.
		{"Conn", unsafe.Sizeof(Conn{}), 608},
		{"RecordInfo", unsafe.Sizeof(RecordInfo{}), 24},
		// Every session keeps its ClientHello: 88 bytes are the 96-byte
		// class.
		{"ClientHello", unsafe.Sizeof(ClientHello{}), 88},
	} {
		if tc.got > tc.want {
			t.Errorf("%s is %d bytes, more than %d", tc.name, tc.got, tc.want)
		}
	}
}

// TestRareSessionPartsAreAllocatedOnlyWhenSet checks that a session without
// notes, errors or a HelloRetryRequest has no Extra, and that the methods
// read the rare parts once they are set.
func TestRareSessionPartsAreAllocatedOnlyWhenSet(t *testing.T) {
	var s Session
	if s.HelloRetry() != nil || s.SecondClientHello() != nil || s.ClientCertificates() != nil ||
		s.EncryptedExtensions() != nil || s.Notes() != nil || s.Errors() != nil || s.DecryptedRecords(ServerToClient) != 0 ||
		!s.HelloRetryAt().IsZero() || s.Extra != nil {
		t.Fatalf("empty session reads rare parts: %+v", s.Extra)
	}
	s.AddNote("#3 client: HTTP/2: odd")
	if got := s.Notes(); len(got) != 1 || got[0] != "#3 client: HTTP/2: odd" || s.Errors() != nil {
		t.Errorf("notes %q errors %q", got, s.Errors())
	}
}
