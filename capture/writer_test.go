package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// roundTrip is a capture written with every field the Writer supports.
type roundTrip struct {
	sec    Section
	ifaces []Interface
	stats  map[int]InterfaceStats
	file   []byte
	writes []int // size of each Write the Writer made
}

var keyLog = []byte("CLIENT_RANDOM 52362c10a2665e323a2adb4b9da0c10d4a8823719272f8b4c97af24f92784812 9F9A0F19A02BDDBE1A05926597D622CCA06D2AF416A28AD9C03163B87FF1B0BD1FDB4E0A5E6F8D6E3A1A9D4C5E2E8A1B\n")

func newRoundTrip(t testing.TB) *roundTrip {
	t.Helper()
	rt := &roundTrip{
		sec: Section{
			Comments: []string{"made by modsniff probe", "second comment"},
			Hardware: "x86_64", OS: "Linux 6.8", UserAppl: "modsniff test",
			Custom: []CustomOption{
				{Code: optCustomStr, PEN: 32473, Value: []byte("example")},
				{Code: optCustomBinNC, PEN: 12345, Value: []byte{0, 1, 2}},
			},
		},
		ifaces: []Interface{
			{LinkType: layers.LinkTypeEthernet, SnapLen: 262144, Name: "eth0", Description: "uplink", Comments: []string{"promiscuous"}},
			{LinkType: layers.LinkTypeNull, Name: "lo0", TSOffset: 3600},
			{LinkType: layers.LinkTypeLinuxSLL2, SnapLen: 96, Name: "any"},
		},
	}
	rec := &writeRecorder{}
	w, err := NewWriter(rec, rt.sec)
	if err != nil {
		t.Fatal(err)
	}
	for i, ifc := range rt.ifaces {
		id, err := w.AddInterface(ifc)
		if err != nil || id != i {
			t.Fatalf("AddInterface = %d, %v", id, err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.WritePacket(0, t0, frame(1, 60), 60))
	must(w.WriteSecrets(SecretsTLSKeyLog, keyLog))
	must(w.WritePacketComment(1, t0.Add(time.Nanosecond), frame(2, 33), 40, "retransmission?"))
	must(w.WritePacket(2, t0.Add(2*time.Second), frame(3, 96), 1500))
	rt.stats = map[int]InterfaceStats{
		0: {Time: t0.Add(3 * time.Second), StartTime: t0, EndTime: t0.Add(3 * time.Second),
			Received: 10, Dropped: 1, FilterAccepted: 9, OSDropped: 2, Delivered: 8,
			Present:  StatReceived | StatDropped | StatFilterAccepted | StatOSDropped | StatDelivered,
			Comments: []string{"final"}},
		1: {Time: t0.Add(4 * time.Second), Received: 0, Present: StatReceived},
	}
	must(w.WriteStats(0, rt.stats[0]))
	must(w.WriteStats(1, rt.stats[1]))
	must(w.Flush())
	rt.file = rec.Bytes()
	rt.writes = rec.sizes
	return rt
}

// writeRecorder keeps what is written and the size of each Write.
type writeRecorder struct {
	bytes.Buffer
	sizes []int
}

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return w.Buffer.Write(p)
}

func TestWriterRoundTripsEveryField(t *testing.T) {
	rt := newRoundTrip(t)
	r, err := NewReader(bytes.NewReader(rt.file), "rt")
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	r.OnSecrets = func(s Secrets) {
		if s.Type != SecretsTLSKeyLog || !bytes.Equal(s.Data, keyLog) {
			t.Errorf("secrets = %+v", s)
		}
		events = append(events, "secrets")
	}
	var pkts []got
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		events = append(events, "packet")
		pkts = append(pkts, got{p.Number, p.Time, p.LinkType, bytes.Clone(p.Data), p.Length, p.Interface, p.Offset, p.Comments})
	}
	if want := []string{"packet", "secrets", "packet", "packet"}; !reflect.DeepEqual(events, want) {
		t.Errorf("events = %v, want %v (secrets before the packets that follow them)", events, want)
	}
	if errs := r.Errors(); len(errs) != 0 {
		t.Errorf("errors: %v", errs)
	}
	if r.Format() != "pcapng" {
		t.Errorf("Format = %q", r.Format())
	}

	wantSec := rt.sec
	if secs := r.Sections(); !reflect.DeepEqual(secs, []Section{wantSec}) {
		t.Errorf("Sections = %+v\nwant %+v", secs, wantSec)
	}

	want := []got{
		{Number: 1, Time: t0, LinkType: layers.LinkTypeEthernet, Data: frame(1, 60), Length: 60, Interface: 0},
		{Number: 2, Time: t0.Add(time.Nanosecond), LinkType: layers.LinkTypeNull, Data: frame(2, 33), Length: 40, Interface: 1, Comments: []string{"retransmission?"}},
		{Number: 3, Time: t0.Add(2 * time.Second), LinkType: layers.LinkTypeLinuxSLL2, Data: frame(3, 96), Length: 1500, Interface: 2},
	}
	if len(pkts) != len(want) {
		t.Fatalf("read %d packets, want %d", len(pkts), len(want))
	}
	for i := range want {
		want[i].Offset = pkts[i].Offset
		if !pkts[i].Time.Equal(want[i].Time) {
			t.Errorf("packet %d time %v, want %v", i+1, pkts[i].Time, want[i].Time)
		}
		want[i].Time = pkts[i].Time
		if !reflect.DeepEqual(pkts[i], want[i]) {
			t.Errorf("packet %d = %+v\nwant %+v", i+1, pkts[i], want[i])
		}
	}

	ifs := r.Interfaces()
	if len(ifs) != len(rt.ifaces) {
		t.Fatalf("%d interfaces, want %d", len(ifs), len(rt.ifaces))
	}
	for i, ifc := range ifs {
		w := rt.ifaces[i]
		w.TSResolution = time.Nanosecond
		if s, ok := rt.stats[i]; ok {
			if ifc.Stats == nil {
				t.Errorf("interface %d has no stats", i)
				continue
			}
			for _, p := range []struct{ got, want time.Time }{{ifc.Stats.Time, s.Time}, {ifc.Stats.StartTime, s.StartTime}, {ifc.Stats.EndTime, s.EndTime}} {
				if !p.got.Equal(p.want) {
					t.Errorf("interface %d stats time %v, want %v", i, p.got, p.want)
				}
			}
			s.Time, s.StartTime, s.EndTime = ifc.Stats.Time, ifc.Stats.StartTime, ifc.Stats.EndTime
			w.Stats = &s
		}
		if !reflect.DeepEqual(ifc, w) {
			t.Errorf("interface %d = %+v\nwant %+v", i, ifc, w)
		}
	}
	if !ifs[1].Stats.Has(StatReceived) || ifs[1].Stats.Has(StatDropped) {
		t.Errorf("interface 1 stats present = %b", ifs[1].Stats.Present)
	}
	if lt := r.LinkTypes(); !reflect.DeepEqual(lt, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeNull, layers.LinkTypeLinuxSLL2}) {
		t.Errorf("LinkTypes = %v", lt)
	}
}

func TestWriterWritesEachBlockInOneWrite(t *testing.T) {
	rt := newRoundTrip(t)
	off := 0
	for i, n := range rt.writes {
		length := int(binary.LittleEndian.Uint32(rt.file[off+4:]))
		if n != length || int(binary.LittleEndian.Uint32(rt.file[off+n-4:])) != length {
			t.Fatalf("write %d: %d bytes, block at offset %d is %d bytes", i, n, off, length)
		}
		off += n
	}
	if off != len(rt.file) {
		t.Errorf("writes cover %d of %d bytes", off, len(rt.file))
	}
}

func TestWriterFileKilledMidWriteIsReadableUpToItsLastBlock(t *testing.T) {
	rt := newRoundTrip(t)
	// Block boundaries and how many packets precede each.
	var ends []int
	off := 0
	for _, n := range rt.writes {
		off += n
		ends = append(ends, off)
	}
	packetsBefore := func(cut int) int {
		n, off := 0, 0
		for _, size := range rt.writes {
			if off+size > cut {
				break
			}
			if binary.LittleEndian.Uint32(rt.file[off:]) == blockEPB {
				n++
			}
			off += size
		}
		return n
	}
	for cut := ends[0]; cut <= len(rt.file); cut++ {
		pkts, r := readAll(t, rt.file[:cut])
		if want := packetsBefore(cut); len(pkts) != want {
			t.Fatalf("cut at %d: read %d packets, want %d", cut, len(pkts), want)
		}
		atBoundary := false
		for _, e := range ends {
			atBoundary = atBoundary || e == cut
		}
		errs := r.Errors()
		switch {
		case atBoundary && len(errs) != 0:
			t.Fatalf("cut at block boundary %d: errors %v", cut, errs)
		case !atBoundary && (len(errs) != 1 || !strings.Contains(errs[0].Msg, "truncated block")):
			t.Fatalf("cut at %d: errors %v, want one truncated block", cut, errs)
		}
	}
}

func TestWriterRejectsWhatItCannotWrite(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Section{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(0, t0, nil, 0); err == nil {
		t.Error("packet on a missing interface accepted")
	}
	if _, err := w.AddInterface(Interface{Name: strings.Repeat("x", 70000)}); err == nil {
		t.Error("70000-byte if_name accepted")
	}
	id, _ := w.AddInterface(Interface{LinkType: layers.LinkTypeEthernet})
	if err := w.WritePacket(id, t0, make([]byte, MaxPacketSize+1), 0); err == nil {
		t.Error("oversized packet accepted")
	}
	if _, err := NewWriter(&buf, Section{Custom: []CustomOption{{Code: 7}}}); err == nil {
		t.Error("custom option with code 7 accepted")
	}
	if err := w.WriteStats(5, InterfaceStats{}); err == nil {
		t.Error("statistics for a missing interface accepted")
	}
	// The rejected blocks left nothing behind: the file still reads cleanly.
	if _, r := readAll(t, buf.Bytes()); len(r.Errors()) != 0 || len(r.Interfaces()) != 1 {
		t.Errorf("errors %v, interfaces %d", r.Errors(), len(r.Interfaces()))
	}
}

func TestPcapWriterRoundTrips(t *testing.T) {
	for _, nanos := range []bool{false, true} {
		for _, bo := range []byteOrder{le, be} {
			file := pcapFile(t, bo, nanos, 3, 70)
			pkts, r := readAll(t, file)
			if len(pkts) != 3 || len(r.Errors()) != 0 {
				t.Fatalf("nanos %v %v: %d packets, errors %v", nanos, bo, len(pkts), r.Errors())
			}
			for i, p := range pkts {
				want := t0.Add(time.Duration(i) * time.Second)
				if !nanos {
					want = want.Truncate(time.Microsecond)
				}
				if !p.Time.Equal(want) || !bytes.Equal(p.Data, frame(i, 70)) || p.Length != 74 {
					t.Errorf("nanos %v %v: packet %d = %+v", nanos, bo, i+1, p)
				}
			}
		}
	}
}

// TestTsharkReadsWriterOutput checks the Writer's files with Wireshark's
// own reader when tshark is installed.
func TestTsharkReadsWriterOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("tshark is slow to start; skipped in -short mode")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	rt := newRoundTrip(t)
	path := filepath.Join(t.TempDir(), "rt.pcapng")
	f, _ := os.Create(path)
	bw := bufio.NewWriter(f)
	bw.Write(rt.file)
	bw.Flush()
	f.Close()
	cmd := exec.Command(tshark, "-r", path, "-T", "fields", "-e", "frame.number", "-e", "frame.time_epoch",
		"-e", "frame.len", "-e", "frame.cap_len", "-e", "frame.interface_name", "-e", "frame.comment")
	cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	msgs := strings.TrimSpace(strings.ReplaceAll(stderr.String(), `Running as user "root" and group "root". This could be dangerous.`, ""))
	if err != nil || msgs != "" {
		t.Fatalf("tshark: %v: %s", err, msgs)
	}
	want := []string{
		"1\t1715938200.123456789\t60\t60\teth0\t",
		"2\t1715938200.123456790\t40\t33\tlo0\tretransmission?",
		"3\t1715938202.123456789\t1500\t96\tany\t",
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("tshark fields:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
