package capture

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/klauspost/compress/gzip"
)

// Layout of the damage test files: five packets of 100 bytes, frame(i, 100).
const (
	pcapRec  = 16 + 100 // one pcap record
	ngEPB    = 32 + 100 // one Enhanced Packet Block
	pcapHead = 24
)

// pcapAt is the offset of pcap record i.
func pcapAt(i int) int64 { return int64(pcapHead + i*pcapRec) }

// splice returns b with ins inserted at offset at.
func splice(b []byte, at int64, ins []byte) []byte {
	return cat(b[:at], ins, b[at:])
}

// patch returns a copy of b with v written at offset at.
func patch(b []byte, at int64, v []byte) []byte {
	c := bytes.Clone(b)
	copy(c[at:], v)
	return c
}

// fill returns n bytes of value c.
func fillBytes(c byte, n int) []byte { return bytes.Repeat([]byte{c}, n) }

func TestDamageIsRecordedAndSkipped(t *testing.T) {
	pc := pcapFile(t, le, false, 5, 100)
	ng := pcapngFile(t, le, 5, 100)
	ngHead := int64(len(pcapngFile(t, le, 0, 100)))
	ngAt := func(i int) int64 { return ngHead + int64(i*ngEPB) }
	rec := func(sec uint32, caplen uint32) []byte {
		return cat(u32(le, sec), u32(le, 0), u32(le, caplen), u32(le, caplen))
	}
	near, far := uint32(t0.Unix())+60, uint32(t0.Add(10*24*time.Hour).Unix())

	tests := []struct {
		name    string
		file    []byte
		packets []int // which frames are recovered, in order
		errs    []InputError
	}{
		{"pcap with a header and nothing else", pc[:pcapHead], nil, nil},
		{"pcapng with no packets", ng[:ngHead], nil, nil},
		{"pcap truncated last record", pc[:len(pc)-50], []int{0, 1, 2, 3},
			[]InputError{{pcapAt(4), 5, "truncated record: header says 100 captured bytes, only 50 left in the file"}}},
		{"pcap truncated record header", pc[:pcapAt(4)+7], []int{0, 1, 2, 3},
			[]InputError{{pcapAt(4), 5, "truncated record header: 7 bytes left in the file"}}},
		{"pcapng truncated last block", ng[:len(ng)-10], []int{0, 1, 2, 3},
			[]InputError{{ngAt(4), 5, "truncated block: header says 132 bytes, only 122 left in the file"}}},
		{"pcapng truncated block header", ng[:ngAt(4)+6], []int{0, 1, 2, 3},
			[]InputError{{ngAt(4), 5, "truncated block header: 6 bytes left in the file"}}},
		{"pcapng block length not a multiple of 4, later blocks recovered",
			patch(ng, ngAt(2)+4, u32(le, 131)), []int{0, 1, 3, 4},
			[]InputError{
				{ngAt(2), 3, "corrupt block length 131: not a multiple of 4"},
				{ngAt(2), 3, "skipped 132 bytes of garbage at offset " + itoa(ngAt(2))},
			}},
		{"pcapng leading and trailing lengths disagree, later blocks recovered",
			patch(ng, ngAt(2)+4, u32(le, 136)), []int{0, 1, 3, 4},
			[]InputError{
				{ngAt(2), 3, "corrupt block length: leading length 136, trailing length 6"},
				{ngAt(2), 3, "skipped 132 bytes of garbage at offset " + itoa(ngAt(2))},
			}},
		{"pcapng block length past the end, later blocks recovered",
			patch(ng, ngAt(1)+4, u32(le, 4096)), []int{0, 2, 3, 4},
			[]InputError{
				{ngAt(1), 2, "truncated block: header says 4096 bytes, only 528 left in the file"},
				{ngAt(1), 2, "skipped 132 bytes of garbage at offset " + itoa(ngAt(1))},
			}},
		{"pcapng block length above the cap",
			patch(ng, ngAt(2)+4, u32(le, 1<<30)), []int{0, 1, 3, 4},
			[]InputError{
				{ngAt(2), 3, "corrupt block length 1073741824: above the maximum of 16777216"},
				{ngAt(2), 3, "skipped 132 bytes"},
			}},
		{"pcapng huge captured length inside a well-framed block",
			patch(ng, ngAt(2)+20, u32(le, 0x7fffffff)), []int{0, 1, 3, 4},
			[]InputError{{ngAt(2), 3, "captured length 2147483647 exceeds the 100 data bytes of the block"}}},
		{"pcapng garbage between blocks", splice(ng, ngAt(3), fillBytes(0xee, 37)), []int{0, 1, 2, 3, 4},
			[]InputError{
				{ngAt(3), 4, "corrupt block length 4008636142: not a multiple of 4"},
				{ngAt(3), 4, "skipped 37 bytes of garbage at offset " + itoa(ngAt(3))},
			}},
		{"pcapng garbage appended", cat(ng, fillBytes(0xff, 100)), []int{0, 1, 2, 3, 4},
			[]InputError{
				{int64(len(ng)), 6, "not a multiple of 4"},
				{int64(len(ng)), 6, "no valid block in the 100 bytes after offset " + itoa(int64(len(ng))) + "; stopped reading"},
			}},
		{"pcapng second section with a bad byte-order magic",
			cat(ng, patch(shb(le), 8, []byte("XXXX")), ng[ngAt(0):ngAt(1)]), []int{0, 1, 2, 3, 4, 0},
			[]InputError{
				{int64(len(ng)), 6, "section header block with a bad byte-order magic 58 58 58 58"},
				{int64(len(ng)), 6, "skipped 28 bytes"},
			}},
		{"pcap garbage appended", cat(pc, fillBytes(0xff, 100)), []int{0, 1, 2, 3, 4},
			[]InputError{
				{int64(len(pc)), 6, "corrupt record header: captured length 4294967295 exceeds the maximum of 262144"},
				{int64(len(pc)), 6, "no valid record in the 100 bytes after offset " + itoa(int64(len(pc))) + "; stopped reading"},
			}},
		{"pcap garbage in the middle", splice(pc, pcapAt(2), fillBytes(0xee, 37)), []int{0, 1, 2, 3, 4},
			[]InputError{
				{pcapAt(2), 3, "corrupt record header: captured length 4008636142"},
				{pcapAt(2), 3, "skipped 37 bytes of garbage at offset " + itoa(pcapAt(2))},
			}},
		{"pcap garbage before the last record, which ends at EOF", splice(pc, pcapAt(4), fillBytes(0xee, 5)), []int{0, 1, 2, 3, 4},
			[]InputError{
				{pcapAt(4), 5, "corrupt record header"},
				{pcapAt(4), 5, "skipped 5 bytes of garbage"},
			}},
		{"pcap huge captured length", patch(pc, pcapAt(2)+8, u32(le, 0x7fffffff)), []int{0, 1, 3, 4},
			[]InputError{
				{pcapAt(2), 3, "captured length 2147483647 exceeds the maximum of 262144"},
				{pcapAt(2), 3, "skipped 116 bytes of garbage"},
			}},
		{"pcap resync ignores a header a day away from the last packet",
			splice(pc, pcapAt(2), cat(rec(0, 0xffffffff), rec(far, 4), frame(9, 4))), []int{0, 1, 2, 3, 4},
			[]InputError{
				{pcapAt(2), 3, "corrupt record header"},
				{pcapAt(2), 3, "skipped 36 bytes of garbage"},
			}},
		{"pcap resync ignores a header not followed by a plausible one",
			splice(pc, pcapAt(2), cat(rec(0, 0xffffffff), rec(near, 4), frame(9, 4), fillBytes(0xee, 8))), []int{0, 1, 2, 3, 4},
			[]InputError{
				{pcapAt(2), 3, "corrupt record header"},
				{pcapAt(2), 3, "skipped 44 bytes of garbage"},
			}},
		{"pcap garbage with nothing valid in reach", cat(pc[:pcapAt(1)], fillBytes(0xee, 2*ResyncWindow), pc[pcapAt(1):]), []int{0},
			[]InputError{
				{pcapAt(1), 2, "corrupt record header"},
				{pcapAt(1), 2, "no valid record in the 1048576 bytes after offset 140; stopped reading"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkts, r := readAll(t, tt.file)
			checkFrames(t, pkts, tt.packets)
			wantErrors(t, r, tt.errs)
		})
	}
}

// checkFrames checks that pkts are frame(i, 100) for each i of want,
// numbered from 1.
func checkFrames(t *testing.T, pkts []got, want []int) {
	t.Helper()
	if len(pkts) != len(want) {
		t.Fatalf("read %d packets, want %d", len(pkts), len(want))
	}
	for i, w := range want {
		if pkts[i].Number != i+1 || !bytes.Equal(pkts[i].Data, frame(w, 100)) {
			t.Errorf("packet %d: number %d, data % x…, want frame %d", i+1, pkts[i].Number, pkts[i].Data[:4], w)
		}
	}
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestGzipCutInHalfDeliversWhatWasDecompressed(t *testing.T) {
	// Random payloads, so that half the compressed stream is about half the
	// capture.
	rng := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	w, _ := NewPcapWriter(&buf, layers.LinkTypeEthernet, 65535, false)
	for i := range 50 {
		data := make([]byte, 1000)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		w.WritePacket(t0.Add(time.Duration(i)*time.Millisecond), data, 1000)
	}
	compressed := gz(buf.Bytes())
	cut := compressed[:len(compressed)/2]

	// What a plain gzip reader gets out of the cut stream.
	zr, _ := gzip.NewReader(bytes.NewReader(cut))
	plain, err := io.ReadAll(zr)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("gzip of the cut stream: %v", err)
	}
	whole := (len(plain) - pcapHead) / 1016 // records entirely decompressed

	pkts, r := readAll(t, cut)
	if len(pkts) != whole {
		t.Errorf("read %d packets, want the %d whole records of %d decompressed bytes", len(pkts), whole, len(plain))
	}
	want := []InputError{{int64(len(plain)), whole + 1, "gzip stream truncated after " + itoa(int64(len(plain))) + " decompressed bytes"}}
	if (len(plain)-pcapHead)%1016 != 0 {
		want = append(want, InputError{int64(pcapHead + whole*1016), whole + 1, "truncated record"})
	}
	wantErrors(t, r, want)
	if r.Format() != "pcap gzip" {
		t.Errorf("Format = %q", r.Format())
	}
}

func TestReadErrorIsRecordedAndEndsTheInput(t *testing.T) {
	pc := pcapFile(t, le, false, 5, 100)
	r, err := NewReader(&errorReader{data: pc[:300], err: errDisk}, "flaky")
	if err != nil {
		t.Fatal(err)
	}
	pkts := drain(t, r)
	checkFrames(t, pkts, []int{0, 1})
	wantErrors(t, r, []InputError{
		{300, 3, "read error after 300 bytes: disk on fire"},
		{pcapAt(2), 3, "truncated record: header says 100 captured bytes, only 28 left"},
	})
}

func TestStuckSourceDoesNotHang(t *testing.T) {
	r, err := NewReader(io.MultiReader(bytes.NewReader(pcapLEMicro), zeroReader{}), "stuck")
	if err != nil {
		t.Fatal(err)
	}
	pkts := drain(t, r)
	if errs := r.Errors(); len(pkts) != 1 || len(errs) != 1 || !strings.Contains(errs[0].Msg, io.ErrNoProgress.Error()) {
		t.Errorf("%d packets, errors %v", len(pkts), r.Errors())
	}
}

// zeroReader returns 0, nil forever.
type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestErrorsAreBounded(t *testing.T) {
	// Thousands of well-framed blocks, each naming an interface that does
	// not exist: each is damage, but the list stops growing.
	bad := epb(le, 9, 0, frame(0, 4), 4)
	file := cat(shb(le), idb(le, 1, 0), bytes.Repeat(bad, 3*maxErrors))
	pkts, r := readAll(t, file)
	if len(pkts) != 0 || len(r.Errors()) != maxErrors+1 {
		t.Errorf("%d packets, %d errors", len(pkts), len(r.Errors()))
	}
}
