//go:build unix

package capture

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// TestLiveSecretsArriveAsBlocksAndBeforeThePackets gives a live capture
// TLS secrets in the middle of its packets: while it runs the file holds
// them as a Decryption Secrets Block after the packets already written
// (a killed capture keeps them); once finalized, a block holding all of
// them also precedes the first packet, so that a reader has the keys
// before the first encrypted record.
func TestLiveSecretsArriveAsBlocksAndBeforeThePackets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.pcapng")
	c := newConn(t, "10.0.0.2:40000", "142.250.1.1:443")
	src := &fakeSource{lt: layers.LinkTypeEthernet, t: time.Unix(1_700_000_000, 0)}
	src.push(c.Handshake()...)
	l, err := startLive(LiveConfig{Path: path, UID: -1, GID: -1, FlushInterval: 5 * time.Millisecond, NewTrimmer: liveTrimmer}, []source{src})
	if err != nil {
		t.Fatal(err)
	}
	if !l.waitOnDisk(3, 10*time.Second) {
		t.Fatal("the handshake did not reach the file in 10 s")
	}
	line1 := []byte("CLIENT_HANDSHAKE_TRAFFIC_SECRET " + hex32('a') + " " + hex32('b') + "\n")
	line2 := []byte("SERVER_HANDSHAKE_TRAFFIC_SECRET " + hex32('a') + " " + hex32('c') + "\n")
	if err := l.AddSecrets(line1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return fileHas(t, path, line1) })
	src.push(c.Seg(true, "PA", clientHello(300)))
	if err := l.AddSecrets(line2); err != nil {
		t.Fatal(err)
	}
	if !l.waitOnDisk(4, 10*time.Second) {
		t.Fatal("the ClientHello did not reach the file in 10 s")
	}
	waitFor(t, func() bool { return fileHas(t, path, line2) })

	secretsOf := func() ([]Secrets, []got) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewReader(bytes.NewReader(b), "test")
		if err != nil {
			t.Fatal(err)
		}
		var s []Secrets
		r.OnSecrets = func(x Secrets) { x.Data = bytes.Clone(x.Data); s = append(s, x) }
		return s, drain(t, r)
	}
	// While capturing: one block per batch, in order with the packets.
	s, pkts := secretsOf()
	if len(s) != 2 || !bytes.Equal(s[0].Data, line1) || !bytes.Equal(s[1].Data, line2) ||
		s[0].Offset < pkts[2].Offset || s[1].Offset > pkts[len(pkts)-1].Offset {
		t.Fatalf("while capturing: %d blocks (%+v), packets at %d…%d", len(s), s, pkts[0].Offset, pkts[len(pkts)-1].Offset)
	}
	if err := l.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := l.AddSecrets(line1); !errors.Is(err, ErrLiveStopped) {
		t.Errorf("after Stop: %v, want ErrLiveStopped", err)
	}
	if err := l.Finalize(l.Metadata()); err != nil {
		t.Fatal(err)
	}
	s, pkts = secretsOf()
	if len(s) != 3 || s[0].Offset > pkts[0].Offset || !bytes.Equal(s[0].Data, append(bytes.Clone(line1), line2...)) {
		t.Errorf("finalized: %d blocks, first at %d, first packet at %d", len(s), s[0].Offset, pkts[0].Offset)
	}
	if len(pkts) != 4 || l.Secrets() != 2 {
		t.Errorf("%d packets, %d secrets", len(pkts), l.Secrets())
	}
	kl := NewKeyLog()
	for _, x := range s {
		if bad := kl.AddSecrets(x); len(bad) > 0 {
			t.Errorf("block at %d: %v", x.Offset, bad)
		}
	}
	if kl.Secrets() != 2 {
		t.Errorf("%d secrets in the key log, want 2", kl.Secrets())
	}
}

func hex32(c byte) string { return string(bytes.Repeat([]byte{c}, 64)) }

// waitFor polls cond until it holds, failing the test after 10 s: for
// what the writer publishes no flush signal for (secrets blocks).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out")
}

// fileHas reports whether the file at path holds b.
func fileHas(t *testing.T, path string, b []byte) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(data, b)
}
