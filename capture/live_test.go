//go:build unix

package capture

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// fakeSource plays packets as a libpcap handle would: one per read, then
// timeouts.
type fakeSource struct {
	mu      sync.Mutex
	lt      layers.LinkType
	packets [][]byte
	t       time.Time
	closed  bool
	drop    uint64
}

func (s *fakeSource) push(p ...[]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.packets = append(s.packets, p...)
}

func (s *fakeSource) read() ([]byte, time.Time, int, error) {
	s.mu.Lock()
	if len(s.packets) == 0 {
		s.mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		return nil, time.Time{}, 0, errTimeout
	}
	p := s.packets[0]
	s.packets = s.packets[1:]
	s.t = s.t.Add(time.Millisecond)
	t := s.t
	s.mu.Unlock()
	return p, t, len(p), nil
}

func (s *fakeSource) linkType() layers.LinkType { return s.lt }
func (s *fakeSource) snapLen() int              { return DefaultSnapLen }
func (s *fakeSource) stats() (uint64, uint64, uint64, error) {
	return 100, s.drop, 1, nil
}
func (s *fakeSource) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

// readBack reads a capture file: its packets, its reader (for sections
// and interfaces) and its metadata.
func readBack(t *testing.T, path string) ([]got, *Reader, *Metadata) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pkts, r := readAll(t, b)
	if errs := r.Errors(); len(errs) > 0 {
		t.Errorf("%s: damage: %v", path, errs)
	}
	m, ok := ParseMetadata(r.Sections())
	if !ok {
		t.Fatalf("%s: no modsniff metadata", path)
	}
	return pkts, r, m
}

func TestLiveWritesACompleteFile(t *testing.T) {
	old := syscall.Umask(0) // the file must be 0600 whatever the umask
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "cap.pcapng")
	c := newConn(t, "10.0.0.2:40000", "142.250.1.1:443")
	ch := clientHello(300)
	app := record(23, 500, appByte)
	src := &fakeSource{lt: layers.LinkTypeEthernet, t: time.Unix(1_700_000_000, 0), drop: 3}
	src.push(c.Handshake()...)
	src.push(c.Seg(true, "PA", ch), c.Seg(false, "PA", serverHello(0x0304)), c.Seg(true, "PA", record(23, 53, hsByte)), c.Seg(true, "PA", app))

	start := &Metadata{ModsniffVersion: "test", Command: []string{"go", "mod", "download"}, GoVersion: "go version go1.26 linux/amd64"}
	l, err := startLive(LiveConfig{Interfaces: []string{"any"}, Filter: "port 443", Path: path, Meta: start, UID: -1, GID: -1,
		FlushInterval: 5 * time.Millisecond, NewTrimmer: liveTrimmer}, []source{src})
	if err != nil {
		t.Fatal(err)
	}
	if !l.waitOnDisk(7, 10*time.Second) {
		t.Fatal("the 7 packets did not reach the file within 10s")
	}

	// A process killed now leaves a readable file with the start's
	// metadata.
	pkts, _, m := readBack(t, path)
	if len(pkts) != 7 || m.ExitStatus != nil || m.GoVersion != start.GoVersion || m.Filter != "port 443" {
		t.Errorf("while capturing: %d packets, metadata %+v", len(pkts), m)
	}

	if err := l.Stop(); err != nil {
		t.Fatal(err)
	}
	if !src.closed {
		t.Error("the source was not closed")
	}
	final := l.Metadata()
	status := 1
	final.ExitStatus = &status
	final.SetStderrTail([]byte("go: example.com/m@v1: Get \"https://u:pw@proxy/x\": dial tcp: lookup proxy on 127.0.0.53:53: connection refused\n"))
	if err := l.Finalize(final); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	pkts, r, m := readBack(t, path)
	if len(pkts) != 7 {
		t.Errorf("%d packets, want 7", len(pkts))
	}
	if m.ExitStatus == nil || *m.ExitStatus != 1 || m.Ended.IsZero() || m.Started.IsZero() || !reflect.DeepEqual(m.Command, start.Command) {
		t.Errorf("final metadata %+v", m)
	}
	if strings.Contains(m.StderrTail, "pw") || !strings.Contains(m.StderrTail, "connection refused") {
		t.Errorf("stderr tail %q", m.StderrTail)
	}
	ifs := r.Interfaces()
	if len(ifs) != 1 || ifs[0].Name != "any" || ifs[0].Stats == nil {
		t.Fatalf("interfaces %+v", ifs)
	}
	s := ifs[0].Stats
	if s.OSDropped != 3 || s.Dropped != 1 || s.Received != 100 || s.Delivered != 7 {
		t.Errorf("statistics %+v", s)
	}
	last := pkts[6]
	if last.Length != len(c.Seg(true, "PA", app)) || len(last.Data) >= last.Length {
		t.Errorf("application data: %d of %d bytes kept", len(last.Data), last.Length)
	}
	if bytes.Contains(last.Data, []byte{appByte, appByte}) {
		t.Error("application data kept")
	}
	if got := l.Stats(); len(got) != 1 || got[0].Cut != 1 || got[0].Written != 7 || got[0].Dropped != 3 {
		t.Errorf("Stats() = %+v", got)
	}
	sum := r.Sections()[0].Comments[0]
	for _, want := range []string{"Command: go mod download", "Exit status: 1", "Interfaces: any; filter: port 443"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
}

func TestLiveSeveralInterfaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "two.pcapng")
	a := &fakeSource{lt: layers.LinkTypeLinuxSLL2, t: time.Unix(1, 0)}
	b := &fakeSource{lt: layers.LinkTypeEthernet, t: time.Unix(2, 0)}
	c := newConn(t, "10.0.0.2:40000", "10.0.0.9:443")
	b.push(c.Handshake()...)
	l, err := startLive(LiveConfig{Interfaces: []string{"any", "lo"}, Path: path, UID: -1, GID: -1}, []source{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if !l.waitOnDisk(3, 10*time.Second) {
		t.Fatal("the 3 packets did not reach the file within 10s")
	}
	if err := l.Stop(); err != nil {
		t.Fatal(err)
	}
	pkts, r, _ := readBack(t, path)
	ifs := r.Interfaces()
	if len(ifs) != 2 || ifs[0].LinkType != layers.LinkTypeLinuxSLL2 || ifs[1].Name != "lo" {
		t.Errorf("interfaces %+v", ifs)
	}
	if len(pkts) != 3 || pkts[0].Interface != 1 {
		t.Errorf("packets %+v", pkts)
	}
}

func TestLiveReplacesASymlinkInsteadOfWritingThroughIt(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "cap.pcapng")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	l, err := startLive(LiveConfig{Path: path, UID: -1, GID: -1}, []source{&fakeSource{lt: layers.LinkTypeEthernet}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Stop(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me" {
		t.Errorf("the symlink's target was overwritten")
	}
	if st, err := os.Lstat(path); err != nil || st.Mode()&os.ModeSymlink != 0 {
		t.Errorf("%s is still a symlink (%v)", path, err)
	}
}

func TestFinalizeLeavesTheCaptureWhenItCannot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cap.pcapng")
	l, err := startLive(LiveConfig{Path: path, UID: -1, GID: -1, Meta: &Metadata{ModsniffVersion: "v"}},
		[]source{&fakeSource{lt: layers.LinkTypeEthernet}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Finalize(&Metadata{}); err == nil {
		t.Error("Finalize before Stop succeeded")
	}
	if err := l.Stop(); err != nil {
		t.Fatal(err)
	}
	// Someone replaced the file meanwhile: its header is not ours.
	if err := os.WriteFile(path, append([]byte{0x0a, 0x0d, 0x0d, 0x0a, 1, 0, 0, 0}, make([]byte, 20)...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := l.Finalize(&Metadata{}); err == nil {
		t.Error("Finalize rewrote a file whose header it did not write")
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	status := 143
	m := &Metadata{
		ModsniffVersion: "1.2.3", Started: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Ended: time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC),
		Interfaces: []string{"any"}, Filter: "port 53", Command: []string{"go", "mod", "download"}, ExitStatus: &status,
		Signal: "TERM", StderrTail: "go: downloading example.com/m v1\n\x01odd", GoVersion: "go version go1.26.0 linux/amd64",
		GoEnv: map[string]string{"GOPROXY": "https://proxy.golang.org,direct", "GOSUMDB": "sum.golang.org"},
		Env:   map[string]string{"HTTPS_PROXY": "http://u:REDACTED@p:3128"}, ResolvConf: "nameserver 127.0.0.53\noptions edns0\n",
		Hosts: []string{"10.0.0.1 proxy.golang.org"}, NSSwitchHosts: "hosts: files dns", RunAs: "alice", Notes: []string{"n"},
	}
	sec, err := sectionFor(m)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, sec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddInterface(Interface{LinkType: layers.LinkTypeEthernet}); err != nil {
		t.Fatal(err)
	}
	_, r := readAll(t, buf.Bytes())
	back, ok := ParseMetadata(r.Sections())
	if !ok {
		t.Fatal("no metadata read back")
	}
	if !reflect.DeepEqual(back, m) {
		t.Errorf("read back\n%+v\nwant\n%+v", back, m)
	}
	if s := r.Sections()[0]; s.UserAppl != "modsniff 1.2.3" || !strings.Contains(s.Comments[0], "Ended by signal: SIGTERM") {
		t.Errorf("section %+v", s)
	}
}

func TestMetadataCommentsFitAnOption(t *testing.T) {
	m := &Metadata{ModsniffVersion: "v", StderrTail: strings.Repeat("\x01é", 40000), ResolvConf: strings.Repeat("#", 70000),
		Hosts: []string{strings.Repeat("h", 1000)}}
	cs, err := m.Comments()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if len(c) > maxCommentLen {
			t.Errorf("comment of %d bytes", len(c))
		}
	}
	if len(m.StderrTail) != 120000 {
		t.Error("Comments changed its receiver")
	}
	var buf bytes.Buffer
	sec, err := sectionFor(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewWriter(&buf, sec); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultFilter(t *testing.T) {
	env := map[string]string{
		"HTTPS_PROXY": "http://user:pw@proxy.corp:3128",
		"http_proxy":  "proxy.corp:8080",
		"ALL_PROXY":   "socks5://127.0.0.1",
	}
	got := DefaultFilter(func(k string) string { return env[k] },
		map[string]string{"GOPROXY": "https://athens.corp:3000|https://proxy.golang.org,direct", "GOSUMDB": "sum.golang.org+key https://sum.corp:8443"})
	for _, want := range []string{"port 53", "port 853", "tcp port 443", "tcp port 22", "tcp port 80", "udp port 123", "tcp port 3128", "tcp port 8080", "tcp port 1080",
		"tcp port 3000", "tcp port 8443", "icmp[0] == 3", "icmp[0] == 11", "icmp6 and ip6[40] < 128", "ip[6:2] & 0x1fff != 0"} {
		if !strings.Contains(got, want) {
			t.Errorf("filter lacks %q: %s", want, got)
		}
	}
	if plain := DefaultFilter(func(string) string { return "" }, nil); strings.Count(plain, "tcp port") != 3 {
		t.Errorf("without proxies: %s", plain)
	}
	for raw, want := range map[string]int{"http://h": 80, "https://h": 443, "h:81": 81, "socks5h://h": 1080, "": 0, "http://": 0, "http://h:99999": 0} {
		if got := urlPort(raw); got != want {
			t.Errorf("urlPort(%q) = %d, want %d", raw, got, want)
		}
	}
}
