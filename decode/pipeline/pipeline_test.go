package pipeline

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// frame is an Ethernet frame carrying an ARP-sized payload the decoder
// counts and otherwise ignores.
func frame(i int) []byte {
	b := make([]byte, 60)
	copy(b[0:6], []byte{2, 0, 0, 0, 0, 1})
	copy(b[6:12], []byte{2, 0, 0, 0, 0, 2})
	b[12], b[13] = 0x08, 0x06
	b[14] = byte(i)
	return b
}

// pcapng writes n packets one second apart on one Ethernet interface,
// then the given interface statistics blocks.
func pcapng(t *testing.T, n int, stats ...capture.InterfaceStats) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := capture.NewWriter(&b, capture.Section{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddInterface(capture.Interface{LinkType: layers.LinkTypeEthernet, Name: "eth0"}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := w.WritePacket(0, t0.Add(time.Duration(i)*time.Second), frame(i), 60); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range stats {
		if err := w.WriteStats(0, s); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestInterfaceStatisticsExtendTheCaptureAndCountDrops(t *testing.T) {
	last := t0.Add(2 * time.Second)
	tests := []struct {
		name    string
		stats   []capture.InterfaceStats
		end     time.Time
		dropped uint64
	}{
		{"no statistics: the capture ends at its last packet", nil, last, 0},
		{"statistics after the last packet end the capture",
			[]capture.InterfaceStats{{Time: t0.Add(9 * time.Second), EndTime: t0.Add(10 * time.Second),
				Dropped: 3, OSDropped: 4, Present: capture.StatDropped | capture.StatOSDropped}},
			t0.Add(10 * time.Second), 7},
		{"statistics a day later are a clock error, not the end",
			[]capture.InterfaceStats{{Time: t0.Add(24 * time.Hour), Dropped: 1, Present: capture.StatDropped}},
			last, 1},
		{"statistics before the last packet do not move the end",
			[]capture.InterfaceStats{{Time: t0}}, last, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := Open(0, "-", bytes.NewReader(pcapng(t, 3, tt.stats...)), decode.Options{})
			if err != nil {
				t.Fatal(err)
			}
			st := in.Events.Stats[0]
			if !st.End.Equal(tt.end) {
				t.Errorf("End = %v, want %v", st.End, tt.end)
			}
			if in.Info.Dropped != tt.dropped {
				t.Errorf("Dropped = %d, want %d", in.Info.Dropped, tt.dropped)
			}
			if in.Info.Packets != 3 || !in.Info.First.Equal(t0) || !in.Info.Last.Equal(last) {
				t.Errorf("info %+v: want 3 packets from %v to %v", in.Info, t0, last)
			}
		})
	}
}

func TestDamageIsListedAndThePacketsBeforeItDecoded(t *testing.T) {
	b := pcapng(t, 3)
	b = b[:len(b)-10] // the last packet block is cut
	in, err := Open(0, "-", bytes.NewReader(b), decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if in.Info.Packets != 2 {
		t.Errorf("decoded %d packets, want the 2 before the damage", in.Info.Packets)
	}
	if len(in.Info.Errors) != 1 || in.Info.Errors[0].Packet != 3 {
		t.Errorf("errors %+v, want one at packet 3", in.Info.Errors)
	}
	if in.Info.Format == "" || len(in.Info.LinkTypes) != 1 || in.Info.LinkTypes[0] != layers.LinkTypeEthernet {
		t.Errorf("format %q link types %v", in.Info.Format, in.Info.LinkTypes)
	}
}

func TestOpenAllNumbersTheInputsThatCouldBeRead(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "a.pcapng")
	if err := os.WriteFile(good, pcapng(t, 1), 0o600); err != nil {
		t.Fatal(err)
	}
	notCapture := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notCapture, []byte("hello, this is not a capture at all\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pcapng")
	inputs, errs := OpenAll([]string{missing, good, notCapture, "-"}, bytes.NewReader(pcapng(t, 2)), decode.Options{})
	if len(inputs) != 2 || inputs[0].Info.Path != good || inputs[1].Info.Path != "-" {
		t.Fatalf("inputs %v, want %s then -", inputs, good)
	}
	for i, in := range inputs {
		if in.Index != i || in.Events.Stats[0].Input != i {
			t.Errorf("input %s has index %d (stats %d), want %d", in.Info.Path, in.Index, in.Events.Stats[0].Input, i)
		}
	}
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "missing.pcapng") || !strings.Contains(errs[1].Error(), "notes.txt") {
		t.Errorf("errors %v, want the missing file then the text file, by name", errs)
	}
	if got := Merge(inputs); len(got.Stats) != 2 || got.Stats[0].Packets != 1 || got.Stats[1].Packets != 2 {
		t.Errorf("merged stats %+v", got.Stats)
	}
}

func TestStandardInputIsNeededForDash(t *testing.T) {
	if _, err := Open(0, "-", nil, decode.Options{}); err == nil {
		t.Error("reading - without standard input succeeded")
	}
}

// TestMergeOfOneInputSharesItsEventsWithoutLettingAppendsThrough checks
// that the events of a single input are handed on as they are, empty lists
// as nil like a copy would give, and that appending to a merged list
// leaves the input's own untouched.
func TestMergeOfOneInputSharesItsEventsWithoutLettingAppendsThrough(t *testing.T) {
	c1, c2 := &decode.TCPConn{}, &decode.TCPConn{}
	tcp := make([]*decode.TCPConn, 2, 8)
	tcp[0], tcp[1] = c1, c2
	in := &Input{Events: &decode.Events{TCP: tcp, DNS: []*decode.DNSExchange{}, Stats: []decode.Stats{{Packets: 3}}}}
	got := Merge([]*Input{in})
	if len(got.TCP) != 2 || got.TCP[0] != c1 || got.TCP[1] != c2 || &got.TCP[0] != &tcp[0] {
		t.Fatalf("merged connections %v, want the input's own list", got.TCP)
	}
	if got.DNS != nil || got.TLS != nil || len(got.Stats) != 1 || got.Stats[0].Packets != 3 {
		t.Errorf("merged DNS %#v TLS %#v stats %+v, want nil, nil and the input's", got.DNS, got.TLS, got.Stats)
	}
	got.TCP = append(got.TCP, &decode.TCPConn{})
	if tcp[:3][2] != nil {
		t.Error("an append to the merged list wrote into the input's")
	}
}
