//go:build linux

package gokeys

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// keyEvent builds a ring-buffer record as the uprobe program writes it.
func keyEvent(label string, random, secret []byte) []byte {
	b := make([]byte, eventSize)
	le := binary.NativeEndian
	le.PutUint32(b, 1234)
	le.PutUint64(b[evLabelLen:], uint64(len(label)))
	le.PutUint64(b[evRandomLen:], uint64(len(random)))
	le.PutUint64(b[evSecretLen:], uint64(len(secret)))
	copy(b[evLabel:], label)
	copy(b[evRandom:], random)
	copy(b[evSecret:], secret)
	return b
}

// FuzzParseEvent: whatever a record holds, parseEvent refuses it or writes
// one well-formed key log line of a known label; it never reads outside the
// record. (The flag that sends it to the process's memory is cleared: the
// fuzzer must not read other processes.)
func FuzzParseEvent(f *testing.F) {
	f.Add(keyEvent("CLIENT_HANDSHAKE_TRAFFIC_SECRET", bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)))
	f.Add(keyEvent("CLIENT_RANDOM", bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 48)))
	f.Add(keyEvent("CLIENT_RANDOM", bytes.Repeat([]byte{1}, 31), bytes.Repeat([]byte{2}, 48)))
	f.Add(make([]byte, eventSize-1))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= 8 {
			b[4] &^= flagLabel
		}
		line, _, ok := parseEvent(b)
		if !ok {
			return
		}
		fields := bytes.Fields(line)
		if len(fields) != 3 || len(fields[1]) != 64 || line[len(line)-1] != '\n' {
			t.Fatalf("malformed line %q", line)
		}
		if !knownLabel(string(fields[0]), len(fields[2])/2) {
			t.Fatalf("unknown label or secret length in %q", line)
		}
	})
}
