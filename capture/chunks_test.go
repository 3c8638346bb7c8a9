package capture

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture/capturetest"
)

// readout is everything a Reader tells about its input.
type readout struct {
	Err        string
	Format     string
	Packets    []got
	Errors     []InputError
	Notes      []InputError
	Sections   []Section
	Interfaces []Interface
	LinkTypes  []layers.LinkType
	Secrets    []Secrets
}

// readOut reads data with a Reader that reads ahead in chunks of ahead
// bytes (in line for 0) to its end, and closes it.
func readOut(t testing.TB, data []byte, ahead int) readout {
	t.Helper()
	var out readout
	r, err := newReader(bytes.NewReader(data), "capture", ahead)
	if err != nil {
		out.Err = err.Error()
		if !errors.Is(err, ErrNotCapture) {
			t.Fatalf("NewReader error %v does not wrap ErrNotCapture", err)
		}
		return out
	}
	defer r.Close()
	r.OnSecrets = func(s Secrets) { out.Secrets = append(out.Secrets, s) }
	out.Packets = drain(t, r)
	out.Format, out.Errors, out.Notes = r.Format(), r.Errors(), r.Notes()
	out.Sections, out.Interfaces, out.LinkTypes = r.Sections(), r.Interfaces(), r.LinkTypes()
	return out
}

// sameReadout fails unless a (read ahead) and b (read in line) are equal.
func sameReadout(t testing.TB, what string, a, b readout) {
	t.Helper()
	if reflect.DeepEqual(a, b) {
		return
	}
	if len(a.Packets) != len(b.Packets) {
		t.Fatalf("%s: %d packets read ahead, %d in line", what, len(a.Packets), len(b.Packets))
	}
	for i := range a.Packets {
		if !reflect.DeepEqual(a.Packets[i], b.Packets[i]) {
			t.Fatalf("%s: packet %d differs:\nahead   %+v\nin line %+v", what, i+1, a.Packets[i], b.Packets[i])
		}
	}
	a.Packets, b.Packets = nil, nil
	t.Fatalf("%s: read ahead and in line differ:\nahead   %+v\nin line %+v", what, a, b)
}

// chunkSizes are the read-ahead chunk sizes the tests read with: a few
// bytes (every block spans chunks; 3 leaves part of a chunk pending when
// the format is sniffed), a block or so, the default.
var chunkSizes = []int{1, 3, 7, 64, 1500, 4096, readAheadSize}

// TestReadAheadChunksReadExactlyLikeInline reads every sample and corpus
// capture, and damaged and odd files of every format, through read-ahead
// chunks read in place and in line: the packets, their bytes and offsets,
// the damage, notes, sections and interfaces are the same whatever the
// chunk size.
func TestReadAheadChunksReadExactlyLikeInline(t *testing.T) {
	samples, err := filepath.Glob("../samples/*.pcap*")
	if err != nil || len(samples) < 40 {
		t.Fatalf("sample captures in ../samples: %d (%v)", len(samples), err)
	}
	files := map[string][]byte{}
	for _, p := range append(samples, capturetest.Captures(t)...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[p] = b
	}
	pc := pcapFile(t, le, false, 300, 1000)
	ng := pcapngFile(t, be, 300, 1000)
	rt := newRoundTrip(t)
	for name, b := range map[string][]byte{
		"le-micro.pcap":        pc,
		"be-nano.pcap":         pcapFile(t, be, true, 300, 1000),
		"be.pcapng":            ng,
		"roundtrip.pcapng":     rt.file,
		"gzip.pcap.gz":         gz(pc),
		"truncated.pcap":       pc[:len(pc)-123],
		"truncated.pcapng.gz":  gz(rt.file[:len(rt.file)-7]),
		"truncated-gzip":       gz(ng)[:2000],
		"garbage-inside.pcap":  splice(pc, pcapAt(100), fillBytes(0xee, 5000)),
		"garbage-inside.ng":    splice(ng, 5000, fillBytes(0xee, 3333)),
		"not-a-capture":        []byte("hello, world\n"),
		"three-bytes":          {0xd4, 0xc3, 0xb2},
		"empty":                {},
		"header-only.pcapng":   pcapngFile(t, le, 0, 0),
		"big-packets.pcap":     pcapFile(t, le, false, 40, MaxPacketSize),
		"resync-at-end.pcapng": splice(pcapngFile(t, le, 20, 100), 2000, fillBytes(0xee, 13)),
	} {
		files[name] = b
	}
	for name, b := range files {
		want := readOut(t, b, 0)
		for _, size := range chunkSizes {
			if size == 1 && len(b) > 1<<20 {
				continue // a channel operation per byte
			}
			sameReadout(t, fmt.Sprintf("%s in chunks of %d", name, size), readOut(t, b, size), want)
		}
	}
}

// TestOpenReadsRegularFilesAhead: a file opened by path is read ahead, in
// chunks read in place, and reads as its bytes do in line.
func TestOpenReadsRegularFilesAhead(t *testing.T) {
	b := pcapngFile(t, le, 2000, 700)
	path := filepath.Join(t.TempDir(), "c.pcapng")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.ra == nil {
		t.Fatal("a regular file is not read ahead")
	}
	n := 0
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		if n++; len(p.Data) != 700 || p.Number != n {
			t.Fatalf("packet %d: %d bytes, number %d", n, len(p.Data), p.Number)
		}
	}
	r.Close()
	if n != 2000 || cap(r.own) > 2*(700+64) {
		t.Fatalf("%d packets, own buffer of %d bytes: blocks spanning chunks should copy one block", n, cap(r.own))
	}
}

// FuzzReadAhead reads any input in line and through read-ahead chunks of
// any size: the two say exactly the same.
func FuzzReadAhead(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(uint16(7), s)
	}
	f.Add(uint16(1), gz(pcapFile(f, le, false, 5, 60)))
	f.Fuzz(func(t *testing.T, size uint16, data []byte) {
		ahead := int(size)%8192 + 1
		sameReadout(t, fmt.Sprintf("chunks of %d", ahead), readOut(t, data, ahead), readOut(t, data, 0))
	})
}
