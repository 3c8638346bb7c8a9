//go:build linux

package gokeys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// startCollector starts a Collector that gathers the lines, or skips the
// test with the reason when eBPF is not available here.
func startCollector(t *testing.T) (*Collector, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var lines []string
	c, err := Start(Options{OnSecret: func(l []byte) {
		mu.Lock()
		lines = append(lines, string(l))
		mu.Unlock()
	}})
	if _, ok := errors.AsType[*UnavailableError](err); ok {
		t.Skipf("skipping: TLS keys cannot be read with eBPF here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := slices.Clone(lines)
		slices.Sort(out)
		return out
	}
}

// tlsServer is a crypto/tls server on loopback that answers "pong" and
// logs its keys: the truth the client's keys are compared with.
type tlsServer struct {
	addr, caFile string
	mu           sync.Mutex
	keylog       bytes.Buffer
}

func (s *tlsServer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keylog.Write(p)
}

// lines returns the server's key log, sorted.
func (s *tlsServer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for l := range strings.Lines(s.keylog.String()) {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

func newTLSServer(t *testing.T) *tlsServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "server.test"},
		DNSNames: []string{"server.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	s := &tlsServer{caFile: filepath.Join(t.TempDir(), "ca.pem")}
	if err := os.WriteFile(s.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, KeyLogWriter: s}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s.addr = ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				b := make([]byte, 5)
				if _, err := c.Read(b); err == nil {
					fmt.Fprintln(c, "pong")
				}
			}()
		}
	}()
	return s
}

// runClient runs argv and fails the test when it fails.
func runClient(t *testing.T, argv ...string) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", argv, err, b)
	}
}

// labels counts the lines by label.
func labels(lines []string) map[string]int {
	m := map[string]int{}
	for _, l := range lines {
		label, _, _ := strings.Cut(l, " ")
		m[label]++
	}
	return m
}

// TestCollectorReadsTLS13KeysOfAGoClient runs a Go client built by the test
// (no KeyLogWriter) against a loopback crypto/tls server: the secrets read
// at writeKeyLog's entry are exactly those the server logged — the four
// TLS 1.3 secrets of every connection — for a binary with its symbol
// table, a stripped one (found through .gopclntab) and a stripped PIE.
func TestCollectorReadsTLS13KeysOfAGoClient(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
		from  string
	}{
		{"symbol table", nil, ".symtab"},
		{"stripped", []string{"-ldflags=-s -w"}, ".gopclntab"},
		{"stripped PIE", []string{"-buildmode=pie", "-ldflags=-s -w"}, ".gopclntab"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, got := startCollector(t)
			srv := newTLSServer(t)
			bin := buildProgram(t, "tlsclient", tc.flags...)
			c.TrackChildrenOf(os.Getpid())
			if err := c.AttachCommand(bin); err != nil {
				t.Fatal(err)
			}
			runClient(t, bin, "-ca", srv.caFile, "-n", "3", srv.addr)
			sum := c.Close()
			lines := got()
			want := srv.lines()
			if !slices.Equal(lines, want) {
				t.Errorf("read %d lines, the server logged %d:\n%s\nwant\n%s", len(lines), len(want), strings.Join(lines, ""), strings.Join(want, ""))
			}
			l := labels(lines)
			for _, label := range []string{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"} {
				if l[label] != 3 {
					t.Errorf("%s: %d lines, want 3 (one per connection)", label, l[label])
				}
			}
			if sum.Secrets != len(want) || sum.Sessions != 3 || sum.Rejected != 0 || sum.Lost != 0 ||
				len(sum.Attached) != 1 || sum.Attached[0].From != tc.from {
				t.Errorf("summary %+v", sum)
			}
			t.Logf("%s", sum.Describe())
		})
	}
}

// TestCollectorFollowsExecs runs the client through a shell that the
// collector was not told about: the exec program stops the client before
// its first instruction, the collector attaches to it, and its keys of a
// TLS 1.2 connection (CLIENT_RANDOM) are read; the shell is named as not
// covered.
func TestCollectorFollowsExecs(t *testing.T) {
	c, got := startCollector(t)
	if len(c.sum.Notes) > 0 {
		t.Skipf("skipping: %s", strings.Join(c.sum.Notes, "; "))
	}
	srv := newTLSServer(t)
	bin := buildProgram(t, "tlsclient")
	c.TrackChildrenOf(os.Getpid())
	runClient(t, "/bin/sh", "-c", fmt.Sprintf("%s -tls12 -ca %s %s && echo done", bin, srv.caFile, srv.addr))
	sum := c.Close()
	lines, want := got(), srv.lines()
	if !slices.Equal(lines, want) || labels(lines)["CLIENT_RANDOM"] != 1 {
		t.Errorf("read\n%s\nwant\n%s", strings.Join(lines, ""), strings.Join(want, ""))
	}
	if !slices.Contains(sum.NotCovered, filepath.Base(mustEval(t, "/bin/sh"))) || len(sum.Attached) != 1 {
		t.Errorf("summary %+v: want the shell not covered and the client attached", sum)
	}
}

// TestCollectorIgnoresOtherProcesses: a process of an attached binary that
// is not a descendant of a tracked process is not read.
func TestCollectorIgnoresOtherProcesses(t *testing.T) {
	c, got := startCollector(t)
	srv := newTLSServer(t)
	bin := buildProgram(t, "tlsclient")
	if err := c.AttachCommand(bin); err != nil { // no process tracked
		t.Fatal(err)
	}
	runClient(t, bin, "-ca", srv.caFile, srv.addr)
	sum := c.Close()
	if l := got(); len(l) != 0 || sum.Secrets != 0 {
		t.Errorf("read %d lines of an untracked process", len(l))
	}
	if len(srv.lines()) != 4 {
		t.Errorf("the server logged %d lines, want 4", len(srv.lines()))
	}
}

func mustEval(t *testing.T, p string) string {
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRaiseMemlockLiftsTheSoftLimit lowers the soft RLIMIT_MEMLOCK and
// checks that raiseMemlock lifts it to at least the hard limit.
func TestRaiseMemlockLiftsTheSoftLimit(t *testing.T) {
	var orig unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &orig); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Setrlimit(unix.RLIMIT_MEMLOCK, &orig) })
	low := unix.Rlimit{Cur: min(orig.Max, 64<<10), Max: orig.Max}
	if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &low); err != nil {
		t.Fatal(err)
	}
	if err := raiseMemlock(); err != nil {
		t.Fatalf("raiseMemlock: %v", err)
	}
	var got unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &got); err != nil {
		t.Fatal(err)
	}
	if got.Cur < orig.Max || got.Cur > got.Max {
		t.Errorf("RLIMIT_MEMLOCK %+v after raiseMemlock, want the soft limit at least the hard limit %d", got, orig.Max)
	}
}
