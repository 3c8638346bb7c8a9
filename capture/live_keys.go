package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
)

// liveKeys holds the TLS secrets given to a live capture while it runs
// (from an eBPF probe of the command's TLS stack). Each batch is written
// as a Decryption Secrets Block as it arrives, so that a capture that is
// killed keeps the keys it had; Finalize also writes all of them in one
// block after the interfaces, so that every reader — modsniff, tshark —
// has the keys before the first encrypted record even though a secret is
// known only once the handshake that derives it has been captured.
type liveKeys struct {
	mu      sync.Mutex
	lines   []byte
	closed  bool
	headLen int64 // bytes of the file before the first packet (SHB and IDBs)
}

// MaxLiveSecrets bounds the secrets a live capture keeps (about 40,000
// TLS 1.3 connections); later ones are refused.
const MaxLiveSecrets = 16 << 20

// ErrLiveStopped is returned for secrets given after Stop.
var ErrLiveStopped = errors.New("capture: the capture has stopped")

// AddSecrets writes key log lines (the NSS format; see KeyLog) into the
// capture as a Decryption Secrets Block, in order with the packets, and
// keeps them for the block Finalize puts before the packets. It is safe to
// call from any goroutine until Stop.
func (l *Live) AddSecrets(lines []byte) error {
	k := &l.keys
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.closed:
		return ErrLiveStopped
	case len(k.lines)+len(lines) > MaxLiveSecrets:
		return errors.New("capture: too many TLS secrets; later ones are not kept")
	}
	k.lines = append(k.lines, lines...)
	l.packets <- livePacket{secrets: bytes.Clone(lines)}
	return nil
}

// close refuses secrets from now on (Stop, before the queue closes).
func (k *liveKeys) close() {
	k.mu.Lock()
	k.closed = true
	k.mu.Unlock()
}

// insertion is a block to insert into a capture file at an offset.
type insertion struct {
	at    int64
	block []byte
}

// block is the Decryption Secrets Block of all the secrets, to insert
// after the interfaces; none without secrets.
func (k *liveKeys) block() insertion {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.lines) == 0 {
		return insertion{}
	}
	var buf bytes.Buffer
	w := &Writer{w: &buf, bo: binary.LittleEndian}
	if err := w.WriteSecrets(SecretsTLSKeyLog, k.lines); err != nil {
		return insertion{}
	}
	return insertion{at: k.headLen, block: buf.Bytes()}
}

// Secrets returns the number of key log lines given to the capture.
func (l *Live) Secrets() int {
	l.keys.mu.Lock()
	defer l.keys.mu.Unlock()
	return bytes.Count(l.keys.lines, []byte("\n"))
}
