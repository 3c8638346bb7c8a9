package capture

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/modsniff/modsniff/decode/wire"
)

// Labels of the NSS key log format (SSLKEYLOGFILE; the format of
// draft-ietf-tls-keylogfile) that carry TLS secrets.
const (
	LabelClientRandom           = "CLIENT_RANDOM" // TLS 1.2 and earlier: the 48-byte master secret
	LabelClientEarlyTraffic     = "CLIENT_EARLY_TRAFFIC_SECRET"
	LabelClientHandshakeTraffic = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	LabelServerHandshakeTraffic = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	LabelClientTraffic0         = "CLIENT_TRAFFIC_SECRET_0"
	LabelServerTraffic0         = "SERVER_TRAFFIC_SECRET_0"
	LabelExporter               = "EXPORTER_SECRET"
)

// keyLabels lists the labels a KeyLog keeps, in the order Lines writes them;
// the index is the secret's slot in a keyEntry.
var keyLabels = [...]string{
	LabelClientRandom,
	LabelClientEarlyTraffic,
	LabelClientHandshakeTraffic,
	LabelServerHandshakeTraffic,
	LabelClientTraffic0,
	LabelServerTraffic0,
	LabelExporter,
}

// ignoredLabels are labels of the format that carry nothing modsniff uses
// (the pre-master secret of RSA key exchange by its encrypted prefix, ECH);
// their lines are accepted and dropped.
var ignoredLabels = []string{"RSA", "ECH_SECRET", "ECH_CONFIG"}

// Limits of a KeyLog: a hostile file or block cannot make it grow without
// bound.
const (
	// MaxKeyLogEntries is the number of secrets one KeyLog holds; later
	// lines are reported and dropped.
	MaxKeyLogEntries = 1 << 18
	// MaxKeyLogLine is the longest line accepted, CRLF excluded (a
	// CLIENT_RANDOM line is 176 bytes).
	MaxKeyLogLine = 1024
	// MaxKeyLogLines is the number of lines one Read looks at.
	MaxKeyLogLines = 4 << 20
	// maxKeyLogErrors is the number of malformed lines reported per Read.
	maxKeyLogErrors = 100
)

// keyLogEntries is MaxKeyLogEntries (a variable for tests).
var keyLogEntries = MaxKeyLogEntries

// TLSSecrets are the secrets a key log holds for one TLS session. It is an
// alias of [wire.TLSSecrets], kept for callers that name it here.
type TLSSecrets = wire.TLSSecrets

// keyEntry holds the secrets of one client random, by slot of keyLabels.
type keyEntry [len(keyLabels)][]byte

func (e *keyEntry) secrets() TLSSecrets {
	return TLSSecrets{
		MasterSecret:           e[0],
		ClientEarlyTraffic:     e[1],
		ClientHandshakeTraffic: e[2],
		ServerHandshakeTraffic: e[3],
		ClientTraffic0:         e[4],
		ServerTraffic0:         e[5],
		Exporter:               e[6],
	}
}

// KeyLogError is a key log line that could not be used. The other lines of
// the log are still used.
type KeyLogError struct {
	// Source names the log: a file name, or "decryption secrets block at
	// offset N" of a capture.
	Source string
	// Line is the 1-based line number; 0 for an error about the whole log.
	Line int
	Msg  string
}

func (e *KeyLogError) Error() string {
	if e.Line == 0 {
		return e.Source + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.Source, e.Line, e.Msg)
}

// KeyLog holds TLS session secrets in the NSS key log format, keyed by
// ClientHello random. It merges several sources — key log files, and the
// Decryption Secrets Blocks of captures as the reader meets them — and is
// safe for concurrent use: a decoder may look up keys while a reader adds
// the secrets of a block that arrived mid-stream.
//
// For each client random and label the first secret given is kept; a
// different one given later is reported.
type KeyLog struct {
	mu      sync.RWMutex
	entries map[[32]byte]*keyEntry
	n       int // secrets held
}

// NewKeyLog returns an empty KeyLog.
func NewKeyLog() *KeyLog {
	return &KeyLog{entries: make(map[[32]byte]*keyEntry)}
}

// Len returns the number of sessions (distinct client randoms) with secrets.
func (k *KeyLog) Len() int {
	if k == nil {
		return 0
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.entries)
}

// Secrets returns the number of secrets held.
func (k *KeyLog) Secrets() int {
	if k == nil {
		return 0
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.n
}

// Lookup returns the secrets of the session whose ClientHello carried
// clientRandom. A nil KeyLog holds nothing.
func (k *KeyLog) Lookup(clientRandom [32]byte) (TLSSecrets, bool) {
	if k == nil {
		return TLSSecrets{}, false
	}
	k.mu.RLock()
	e := k.entries[clientRandom]
	var s TLSSecrets
	if e != nil {
		s = e.secrets()
	}
	k.mu.RUnlock()
	return s, e != nil
}

// ReadFile adds the secrets of the key log file at path. It returns the
// lines that could not be used; err is set only when the file could not be
// read.
func (k *KeyLog) ReadFile(path string) (bad []*KeyLogError, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return k.Read(f, path)
}

// AddSecrets adds the secrets of a pcapng Decryption Secrets Block of type
// SecretsTLSKeyLog; blocks of other types are ignored. It returns the lines
// that could not be used.
func (k *KeyLog) AddSecrets(s Secrets) []*KeyLogError {
	if s.Type != SecretsTLSKeyLog {
		return nil
	}
	bad, _ := k.Read(bytes.NewReader(s.Data), fmt.Sprintf("decryption secrets block at offset %d", s.Offset))
	return bad
}

// Read adds the secrets of a key log in the NSS format: one "LABEL
// <client random hex> <secret hex>" per line, '#' comments, blank lines,
// LF or CRLF line ends. Malformed lines are returned (at most 100, then one
// line saying how many more) and skipped; err is set only when r failed.
func (k *KeyLog) Read(r io.Reader, source string) (bad []*KeyLogError, err error) {
	br := bufio.NewReaderSize(r, 4096)
	more := 0
	report := func(line int, format string, args ...any) {
		if len(bad) < maxKeyLogErrors {
			bad = append(bad, &KeyLogError{Source: source, Line: line, Msg: fmt.Sprintf(format, args...)})
		} else {
			more++
		}
	}
	defer func() {
		if more > 0 {
			bad = append(bad, &KeyLogError{Source: source, Msg: fmt.Sprintf("%d more lines could not be used", more)})
		}
	}()
	var long []byte // a line longer than the buffer, kept up to the limit
	for n := 1; ; n++ {
		line, rerr := br.ReadSlice('\n')
		tooLong := false
		for errors.Is(rerr, bufio.ErrBufferFull) {
			if len(long)+len(line) <= MaxKeyLogLine+2 {
				long = append(long, line...)
			} else {
				tooLong = true
			}
			line, rerr = br.ReadSlice('\n')
		}
		if long != nil {
			if len(long)+len(line) <= MaxKeyLogLine+2 {
				line = append(long, line...)
			} else {
				tooLong = true
			}
			long = long[:0]
		}
		if rerr != nil && rerr != io.EOF {
			return bad, fmt.Errorf("%s: %w", source, rerr)
		}
		if len(line) == 0 && rerr == io.EOF {
			return bad, nil
		}
		if n > MaxKeyLogLines {
			report(n, "more than %d lines; the rest of the log is ignored", MaxKeyLogLines)
			return bad, nil
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case tooLong || len(line) > MaxKeyLogLine:
			report(n, "line longer than %d bytes", MaxKeyLogLine)
		default:
			if msg := k.addLine(line); msg != "" {
				report(n, "%s", msg)
			}
		}
		if rerr == io.EOF {
			return bad, nil
		}
	}
}

// addLine adds one line of a key log; it returns why the line could not be
// used, or "".
func (k *KeyLog) addLine(line []byte) string {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] == '#' {
		return ""
	}
	f := bytes.Fields(line)
	if len(f) != 3 {
		return fmt.Sprintf("want LABEL CLIENT_RANDOM SECRET, got %d fields", len(f))
	}
	label := string(f[0])
	slot := slices.Index(keyLabels[:], label)
	if slot < 0 {
		if slices.Contains(ignoredLabels, label) {
			return ""
		}
		return fmt.Sprintf("unknown label %q", truncate(label, 40))
	}
	var random [32]byte
	if len(f[1]) != 64 {
		return fmt.Sprintf("%s: client random has %d hex digits, want 64", label, len(f[1]))
	}
	if _, err := hex.Decode(random[:], f[1]); err != nil {
		return fmt.Sprintf("%s: client random is not hex", label)
	}
	secret := make([]byte, hex.DecodedLen(len(f[2])))
	if _, err := hex.Decode(secret, f[2]); err != nil || len(f[2])%2 != 0 {
		return fmt.Sprintf("%s: secret is not hex", label)
	}
	switch {
	case slot == 0 && len(secret) != 48:
		return fmt.Sprintf("%s: master secret of %d bytes, want 48", label, len(secret))
	case slot > 0 && len(secret) != 32 && len(secret) != 48:
		return fmt.Sprintf("%s: secret of %d bytes, want 32 (SHA-256) or 48 (SHA-384)", label, len(secret))
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.entries == nil {
		k.entries = make(map[[32]byte]*keyEntry)
	}
	e := k.entries[random]
	if e != nil && e[slot] != nil {
		if !bytes.Equal(e[slot], secret) {
			return fmt.Sprintf("%s: another secret for client random %x… was given before; the first is kept", label, random[:4])
		}
		return ""
	}
	if k.n >= keyLogEntries {
		return fmt.Sprintf("more than %d secrets; line dropped", keyLogEntries)
	}
	if e == nil {
		e = new(keyEntry)
		k.entries[random] = e
	}
	e[slot] = secret
	k.n++
	return ""
}

// AddKeyLog adds the secrets o holds that k lacks (k's come first, as for
// lines given twice), within k's bound.
func (k *KeyLog) AddKeyLog(o *KeyLog) {
	if o == nil || o == k {
		return
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.entries == nil {
		k.entries = make(map[[32]byte]*keyEntry)
	}
	// In the order of the randoms: which secrets fit under the bound must
	// not depend on map order.
	randoms := make([][32]byte, 0, len(o.entries))
	for r := range o.entries {
		randoms = append(randoms, r)
	}
	slices.SortFunc(randoms, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	for _, r := range randoms {
		oe := o.entries[r]
		e := k.entries[r]
		for slot, secret := range oe {
			if secret == nil || e != nil && e[slot] != nil || k.n >= keyLogEntries {
				continue
			}
			if e == nil {
				e = new(keyEntry)
				k.entries[r] = e
			}
			e[slot] = secret
			k.n++
		}
	}
}

// Lines returns the key log lines of the given sessions (those the log
// holds secrets for), in the order of randoms then of the labels, each
// "LABEL <random hex> <secret hex>\n"; and how many sessions had secrets.
func (k *KeyLog) Lines(randoms [][32]byte) (lines []byte, sessions int) {
	if k == nil {
		return nil, 0
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	seen := make(map[[32]byte]bool, len(randoms))
	for _, r := range randoms {
		e := k.entries[r]
		if e == nil || seen[r] {
			continue
		}
		seen[r] = true
		sessions++
		for slot, s := range e {
			if s != nil {
				lines = fmt.Appendf(lines, "%s %x %x\n", keyLabels[slot], r[:], s)
			}
		}
	}
	return lines, sessions
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
