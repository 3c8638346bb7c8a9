package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Hand-built pcap files: one 4-byte Ethernet packet (de ad be ef, 60 bytes
// on the wire) at 100000000.123456 (µs) or 100000000.123456789 (ns).
var (
	pcapLEMicro = []byte{
		0xd4, 0xc3, 0xb2, 0xa1, // magic: little-endian, microseconds
		0x02, 0x00, 0x04, 0x00, // version 2.4
		0x00, 0x00, 0x00, 0x00, // reserved
		0x00, 0x00, 0x00, 0x00, // reserved
		0xff, 0xff, 0x00, 0x00, // snaplen 65535
		0x01, 0x00, 0x00, 0x00, // link type 1 (ETHERNET)
		0x00, 0xe1, 0xf5, 0x05, // ts_sec 100000000
		0x40, 0xe2, 0x01, 0x00, // ts_usec 123456
		0x04, 0x00, 0x00, 0x00, // captured length 4
		0x3c, 0x00, 0x00, 0x00, // original length 60
		0xde, 0xad, 0xbe, 0xef, // data
	}
	pcapBEMicro = []byte{
		0xa1, 0xb2, 0xc3, 0xd4, // magic: big-endian, microseconds
		0x00, 0x02, 0x00, 0x04, // version 2.4
		0x00, 0x00, 0x00, 0x00, // reserved
		0x00, 0x00, 0x00, 0x00, // reserved
		0x00, 0x00, 0xff, 0xff, // snaplen 65535
		0x00, 0x00, 0x00, 0x01, // link type 1 (ETHERNET)
		0x05, 0xf5, 0xe1, 0x00, // ts_sec 100000000
		0x00, 0x01, 0xe2, 0x40, // ts_usec 123456
		0x00, 0x00, 0x00, 0x04, // captured length 4
		0x00, 0x00, 0x00, 0x3c, // original length 60
		0xde, 0xad, 0xbe, 0xef, // data
	}
	pcapLENano = []byte{
		0x4d, 0x3c, 0xb2, 0xa1, // magic: little-endian, nanoseconds
		0x02, 0x00, 0x04, 0x00, // version 2.4
		0x00, 0x00, 0x00, 0x00, // reserved
		0x00, 0x00, 0x00, 0x00, // reserved
		0xff, 0xff, 0x00, 0x00, // snaplen 65535
		0x01, 0x00, 0x00, 0x00, // link type 1 (ETHERNET)
		0x00, 0xe1, 0xf5, 0x05, // ts_sec 100000000
		0x15, 0xcd, 0x5b, 0x07, // ts_nsec 123456789
		0x04, 0x00, 0x00, 0x00, // captured length 4
		0x3c, 0x00, 0x00, 0x00, // original length 60
		0xde, 0xad, 0xbe, 0xef, // data
	}
	pcapBENano = []byte{
		0xa1, 0xb2, 0x3c, 0x4d, // magic: big-endian, nanoseconds
		0x00, 0x02, 0x00, 0x04, // version 2.4
		0x00, 0x00, 0x00, 0x00, // reserved
		0x00, 0x00, 0x00, 0x00, // reserved
		0x00, 0x00, 0xff, 0xff, // snaplen 65535
		0x00, 0x00, 0x00, 0x01, // link type 1 (ETHERNET)
		0x05, 0xf5, 0xe1, 0x00, // ts_sec 100000000
		0x07, 0x5b, 0xcd, 0x15, // ts_nsec 123456789
		0x00, 0x00, 0x00, 0x04, // captured length 4
		0x00, 0x00, 0x00, 0x3c, // original length 60
		0xde, 0xad, 0xbe, 0xef, // data
	}
	// A big-endian pcapng file: SHB, IDB (Ethernet), EPB at 1µs.
	pcapngBE = []byte{
		0x0a, 0x0d, 0x0d, 0x0a, // SHB
		0x00, 0x00, 0x00, 0x1c, // total length 28
		0x1a, 0x2b, 0x3c, 0x4d, // byte-order magic: big-endian
		0x00, 0x01, 0x00, 0x00, // version 1.0
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // section length -1
		0x00, 0x00, 0x00, 0x1c, // total length 28
		0x00, 0x00, 0x00, 0x01, // IDB
		0x00, 0x00, 0x00, 0x14, // total length 20
		0x00, 0x01, 0x00, 0x00, // link type 1 (ETHERNET), reserved
		0x00, 0x00, 0xff, 0xff, // snaplen 65535
		0x00, 0x00, 0x00, 0x14, // total length 20
		0x00, 0x00, 0x00, 0x06, // EPB
		0x00, 0x00, 0x00, 0x24, // total length 36
		0x00, 0x00, 0x00, 0x00, // interface 0
		0x00, 0x00, 0x00, 0x00, // timestamp high
		0x00, 0x00, 0x00, 0x01, // timestamp low: 1 (µs)
		0x00, 0x00, 0x00, 0x04, // captured length 4
		0x00, 0x00, 0x00, 0x3c, // original length 60
		0xde, 0xad, 0xbe, 0xef, // data
		0x00, 0x00, 0x00, 0x24, // total length 36
	}
)

func TestReadsHandBuiltFiles(t *testing.T) {
	micro := time.Unix(100000000, 123456000)
	nano := time.Unix(100000000, 123456789)
	tests := []struct {
		name   string
		file   []byte
		format string
		time   time.Time
		offset int64
		res    time.Duration
	}{
		{"pcap little-endian microseconds", pcapLEMicro, "pcap", micro, 24, time.Microsecond},
		{"pcap big-endian microseconds", pcapBEMicro, "pcap", micro, 24, time.Microsecond},
		{"pcap little-endian nanoseconds", pcapLENano, "pcap (nanosecond)", nano, 24, time.Nanosecond},
		{"pcap big-endian nanoseconds", pcapBENano, "pcap (nanosecond)", nano, 24, time.Nanosecond},
		{"pcapng big-endian", pcapngBE, "pcapng", time.Unix(0, 1000), 48, time.Microsecond},
		{"gzip of pcap", gz(pcapBENano), "pcap (nanosecond) gzip", nano, 24, time.Nanosecond},
		{"gzip of pcapng", gz(pcapngBE), "pcapng gzip", time.Unix(0, 1000), 48, time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkts, r := readAll(t, tt.file)
			if r.Format() != tt.format {
				t.Errorf("Format = %q, want %q", r.Format(), tt.format)
			}
			want := []got{{Number: 1, Time: tt.time, LinkType: layers.LinkTypeEthernet,
				Data: []byte{0xde, 0xad, 0xbe, 0xef}, Length: 60, Offset: tt.offset}}
			if !reflect.DeepEqual(pkts, want) {
				t.Errorf("packets = %+v, want %+v", pkts, want)
			}
			if errs := r.Errors(); len(errs) != 0 {
				t.Errorf("errors: %v", errs)
			}
			if lt := r.LinkTypes(); !reflect.DeepEqual(lt, []layers.LinkType{layers.LinkTypeEthernet}) {
				t.Errorf("LinkTypes = %v", lt)
			}
			ifs := r.Interfaces()
			if len(ifs) != 1 || ifs[0].TSResolution != tt.res || ifs[0].SnapLen != 65535 {
				t.Errorf("Interfaces = %+v", ifs)
			}
		})
	}
}

func TestRejectsInputsThatAreNotCaptures(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		msg  string
	}{
		{"empty file", nil, "notes.txt: not a capture file: empty file"},
		{"text file", []byte("Hello world\n"),
			`notes.txt: not a capture file: starts with 48 65 6c 6c 6f 20 77 6f ("Hello wo"); expected pcap, pcapng or gzip`},
		{"two bytes of text", []byte("hi"), `starts with 68 69 ("hi")`},
		{"start of a pcap magic", []byte{0xd4, 0xc3, 0xb2}, "truncated header: the file has only 3 bytes"},
		{"pcap header cut short", pcapLEMicro[:20], "truncated header: the file has 20 bytes, a pcap file header needs 24"},
		{"pcapng header cut short", pcapngBE[:20], "truncated header: the file has 20 bytes, a pcapng section header needs 28"},
		{"pcapng magic without byte-order magic", []byte("\x0a\x0d\x0d\x0a\x00\x00\x00\x1cABCDEFGHIJKLMNOPQRST"), "has no byte-order magic"},
		{"gzip of text", gz([]byte("Hello world\n")), `not a capture file (inside gzip): starts with 48 65 6c 6c 6f 20 77 6f`},
		{"gzip of nothing", gz(nil), "not a capture file (inside gzip): empty file"},
		{"gzip with a corrupt header", []byte{0x1f, 0x8b, 0x01, 0x00}, "corrupt gzip header"},
		{"gzip cut inside the pcap header", gz(pcapLEMicro)[:25], "truncated header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tt.data), "notes.txt")
			if !errors.Is(err, ErrNotCapture) {
				t.Fatalf("err = %v, want ErrNotCapture", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %q, want it to contain %q", err, tt.msg)
			}
		})
	}
}

func TestOpenNamesTheFileAndClosesIt(t *testing.T) {
	dir := t.TempDir()
	txt := filepath.Join(dir, "notes.txt")
	os.WriteFile(txt, []byte("Hello world"), 0o600)
	if _, err := Open(txt); !errors.Is(err, ErrNotCapture) || !strings.HasPrefix(err.Error(), txt+": not a capture file") {
		t.Errorf("Open(text) = %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing.pcap")); err == nil || errors.Is(err, ErrNotCapture) {
		t.Errorf("Open(missing) = %v, want a not-exist error", err)
	}
	// The name says pcapng, the bytes say gzip'd pcap: the bytes win.
	p := filepath.Join(dir, "capture.pcapng")
	os.WriteFile(p, gz(pcapLEMicro), 0o600)
	r, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if pkts := drain(t, r); len(pkts) != 1 || r.Format() != "pcap gzip" || r.Name() != p {
		t.Errorf("read %d packets, format %q, name %q", len(pkts), r.Format(), r.Name())
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next after Close = %v, want io.EOF", err)
	}
}

func TestTimestampsHonourTSResolAndTSOffset(t *testing.T) {
	tests := []struct {
		name    string
		tsresol []byte // if_tsresol value, nil for the default
		offset  int64
		ts      uint64
		want    time.Time
		res     time.Duration
	}{
		{"default is microseconds", nil, 0, 5_500_001, time.Unix(5, 500_001_000), time.Microsecond},
		{"10^-6", []byte{6}, 0, 5_500_001, time.Unix(5, 500_001_000), time.Microsecond},
		{"10^-9", []byte{9}, 0, 5_500_000_001, time.Unix(5, 500_000_001), time.Nanosecond},
		{"10^-3", []byte{3}, 0, 5_501, time.Unix(5, 501_000_000), time.Millisecond},
		{"10^-12 truncates below a nanosecond", []byte{12}, 0, 5_500_000_001_999, time.Unix(5, 500_000_001), time.Nanosecond},
		{"10^0", []byte{0}, 0, 1700000000, time.Unix(1700000000, 0), time.Second},
		{"2^-20", []byte{0x80 | 20}, 0, 5<<20 | 1<<19, time.Unix(5, 500_000_000), 954 * time.Nanosecond},
		{"2^-10", []byte{0x80 | 10}, 0, 3<<10 | 1<<8, time.Unix(3, 250_000_000), 976563 * time.Nanosecond},
		{"2^0", []byte{0x80}, 0, 42, time.Unix(42, 0), time.Second},
		{"2^-100", []byte{0x80 | 100}, 0, 1 << 63, time.Unix(0, 0), time.Nanosecond},
		{"if_tsoffset adds seconds", []byte{6}, 1_600_000_000, 2_000_000, time.Unix(1_600_000_002, 0), time.Microsecond},
		{"negative if_tsoffset", nil, -10, 12_000_000, time.Unix(2, 0), time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts [][]byte
			if tt.tsresol != nil {
				opts = append(opts, opt(le, optIfTSResol, tt.tsresol))
			}
			if tt.offset != 0 {
				opts = append(opts, opt(le, optIfTSOffset, le.AppendUint64(nil, uint64(tt.offset))))
			}
			opts = append(opts, endOpt)
			file := cat(shb(le), idb(le, layers.LinkTypeEthernet, 0, opts...), epb(le, 0, tt.ts, []byte{1}, 1))
			pkts, r := readAll(t, file)
			if len(pkts) != 1 || !pkts[0].Time.Equal(tt.want) {
				t.Fatalf("packets %+v, want time %v", pkts, tt.want)
			}
			ifc := r.Interfaces()[0]
			if ifc.TSResolution != tt.res || ifc.TSOffset != tt.offset {
				t.Errorf("TSResolution %v, TSOffset %d; want %v, %d", ifc.TSResolution, ifc.TSOffset, tt.res, tt.offset)
			}
			if errs := r.Errors(); len(errs) != 0 {
				t.Errorf("errors: %v", errs)
			}
		})
	}
}

func TestPcapngBlockKinds(t *testing.T) {
	spb := func(orig uint32, data []byte) []byte { return block(le, blockSPB, u32(le, orig), data) }
	pb := func(iface uint16, ts uint64, data []byte) []byte {
		h := le.AppendUint16(nil, iface)
		h = le.AppendUint16(h, 7) // drops count
		h = le.AppendUint32(h, uint32(ts>>32))
		h = le.AppendUint32(h, uint32(ts))
		h = le.AppendUint32(h, uint32(len(data)))
		h = le.AppendUint32(h, uint32(len(data)))
		padded := append(bytes.Clone(data), make([]byte, pad4(len(data))-len(data))...)
		return block(le, blockPB, h, padded, opt(le, optComment, []byte("old")), endOpt)
	}
	nrb := block(le, blockNRB,
		opt(le, 1, []byte{192, 0, 2, 1, 'h', 'o', 's', 't', 0}), // nrb_record_ipv4
		endOpt)
	custom := block(le, blockCustom, u32(le, 32473), []byte("vendor data"))
	unknown := block(le, 0x12345678, []byte("who knows"))
	dsb := block(le, blockDSB, u32(le, SecretsTLSKeyLog), u32(le, 4), []byte("keys"))
	file := cat(
		shb(le),
		unknown,
		idb(le, layers.LinkTypeLinuxSLL, 6), // snap length 6
		idb(le, layers.LinkTypeNull, 0),
		nrb,
		spb(10, frame(1, 12)), // 10 bytes on the wire, 6 captured (snap length)
		custom,
		pb(1, 2_000_000, frame(2, 5)), // obsolete Packet Block on interface 1
		dsb,
		spb(3, frame(3, 4)), // 3 bytes on the wire, padded to 4
		epb(le, 1, 3_000_000, frame(4, 8), 8, opt(le, optComment, []byte("one")), opt(le, optComment, []byte("two\x00")), endOpt),
	)
	pkts, r := readAll(t, file)
	want := []struct {
		lt       layers.LinkType
		iface    int
		data     []byte
		length   int
		time     time.Time
		comments []string
	}{
		{layers.LinkTypeLinuxSLL, 0, frame(1, 6), 10, time.Time{}, nil},
		{layers.LinkTypeNull, 1, frame(2, 5), 5, time.Unix(2, 0), []string{"old"}},
		{layers.LinkTypeLinuxSLL, 0, frame(3, 3), 3, time.Time{}, nil},
		{layers.LinkTypeNull, 1, frame(4, 8), 8, time.Unix(3, 0), []string{"one", "two"}},
	}
	if len(pkts) != len(want) {
		t.Fatalf("read %d packets, want %d: %+v", len(pkts), len(want), pkts)
	}
	for i, w := range want {
		p := pkts[i]
		if p.Number != i+1 || p.LinkType != w.lt || p.Interface != w.iface || !bytes.Equal(p.Data, w.data) ||
			p.Length != w.length || !p.Time.Equal(w.time) || !reflect.DeepEqual(p.Comments, w.comments) {
			t.Errorf("packet %d = %+v, want %+v", i+1, p, w)
		}
	}
	if errs := r.Errors(); len(errs) != 0 {
		t.Errorf("errors: %v", errs)
	}
	if lt := r.LinkTypes(); !reflect.DeepEqual(lt, []layers.LinkType{layers.LinkTypeLinuxSLL, layers.LinkTypeNull}) {
		t.Errorf("LinkTypes = %v", lt)
	}
}

func TestSectionsResetInterfacesAndMayChangeByteOrder(t *testing.T) {
	first := cat(
		shb(le, opt(le, optComment, []byte("first")), opt(le, optSHBOS, []byte("Linux")), endOpt),
		idb(le, layers.LinkTypeEthernet, 0, opt(le, optIfName, []byte("eth0")), endOpt),
		epb(le, 0, 1_000_000, frame(1, 4), 4),
	)
	second := cat(
		shb(be, opt(be, optSHBHardware, []byte("big iron")), endOpt),
		idb(be, layers.LinkTypeNull, 0, opt(be, optIfName, []byte("lo0")), endOpt),
		idb(be, layers.LinkTypeRaw, 0, opt(be, optIfName, []byte("utun3")), endOpt),
		epb(be, 1, 2_000_000, frame(2, 4), 4),
		epb(be, 2, 2_500_000, frame(9, 4), 4), // no interface 2 in this section
		epb(be, 0, 3_000_000, frame(3, 4), 4),
	)
	file := cat(first, second)
	pkts, r := readAll(t, file)
	if len(pkts) != 3 {
		t.Fatalf("read %d packets, want 3", len(pkts))
	}
	wantLT := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypeNull}
	for i, p := range pkts {
		if p.Number != i+1 || p.LinkType != wantLT[i] || !bytes.Equal(p.Data, frame(i+1, 4)) || !p.Time.Equal(time.Unix(int64(i+1), 0)) {
			t.Errorf("packet %d = %+v", i+1, p)
		}
	}
	if lt := r.LinkTypes(); !reflect.DeepEqual(lt, wantLT) {
		t.Errorf("LinkTypes = %v, want %v (order of first packet)", lt, wantLT)
	}
	secs := r.Sections()
	if len(secs) != 2 || secs[0].Offset != 0 || secs[1].Offset != int64(len(first)) ||
		!reflect.DeepEqual(secs[0].Comments, []string{"first"}) || secs[0].OS != "Linux" || secs[1].Hardware != "big iron" {
		t.Errorf("Sections = %+v", secs)
	}
	var names []string
	var sections []int
	for _, ifc := range r.Interfaces() {
		names = append(names, ifc.Name)
		sections = append(sections, ifc.Section)
	}
	if !reflect.DeepEqual(names, []string{"eth0", "lo0", "utun3"}) || !reflect.DeepEqual(sections, []int{0, 1, 1}) {
		t.Errorf("interfaces %v in sections %v", names, sections)
	}
	bad := int64(len(first) + len(second) - 2*len(epb(be, 0, 0, frame(0, 4), 4)))
	wantErrors(t, r, []InputError{{Offset: bad, Packet: 3, Msg: "enhanced packet block for interface 2, but the section has 2 interfaces"}})
}

func TestMalformedOptionsStillDeliverThePacket(t *testing.T) {
	overrun := append(le.AppendUint16(nil, optComment), 0xff, 0x00, 'a', 'b', 'c', 'd') // says 255 bytes
	ifcOpts := cat(opt(le, optIfName, []byte("eth0")), opt(le, optIfTSResol, []byte{9, 9}), endOpt)
	file := cat(
		shb(le, overrun),
		idb(le, layers.LinkTypeEthernet, 0, ifcOpts),
		epb(le, 0, 7, frame(1, 4), 4, overrun),
	)
	pkts, r := readAll(t, file)
	if len(pkts) != 1 || !bytes.Equal(pkts[0].Data, frame(1, 4)) || !pkts[0].Time.Equal(time.Unix(0, 7000)) {
		t.Fatalf("packets = %+v", pkts)
	}
	if ifs := r.Interfaces(); len(ifs) != 1 || ifs[0].Name != "eth0" {
		t.Errorf("Interfaces = %+v", ifs)
	}
	shbLen, idbLen := int64(len(shb(le, overrun))), int64(len(idb(le, 1, 0, ifcOpts)))
	wantErrors(t, r, []InputError{
		{Offset: 0, Packet: 1, Msg: "section header options: option 1: length 255 overruns the 4 bytes left"},
		{Offset: shbLen, Packet: 1, Msg: "if_tsresol has 2 bytes, want 1"},
		{Offset: shbLen + idbLen, Packet: 1, Msg: "enhanced packet block options: option 1: length 255 overruns"},
	})
}

func TestNotesOdditiesThatAreNotDamage(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewPcapWriter(&buf, layers.LinkTypeEthernet, 8, false)
	w.WritePacket(t0, frame(1, 16), 16) // more than the snap length
	file := buf.Bytes()
	// A second record whose captured length exceeds its original length.
	rec := cat(u32(le, 1), u32(le, 0), u32(le, 4), u32(le, 2), frame(2, 4))
	file = cat(file, rec, rec)
	pkts, r := readAll(t, file)
	if len(pkts) != 3 || len(r.Errors()) != 0 {
		t.Fatalf("%d packets, errors %v", len(pkts), r.Errors())
	}
	notes := r.Notes()
	if len(notes) != 2 || !strings.Contains(notes[0].Msg, "exceeds the file's snap length 8") ||
		notes[1].Packet != 2 || !strings.Contains(notes[1].Msg, "captured length 4 exceeds original length 2") {
		t.Errorf("Notes = %v", notes)
	}
}

func TestStreamsLargeInputsThroughABoundedBuffer(t *testing.T) {
	// 3000 packets of 1514 bytes (4.5 MB) read through a reader that hands
	// out odd-sized chunks: records straddle every buffer boundary.
	file := pcapngFile(t, le, 3000, 1514)
	r, err := NewReader(&chunkReader{data: file, n: 7777}, "chunks")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		p, err := r.Next()
		if err == io.EOF {
			if i != 3000 {
				t.Fatalf("read %d packets, want 3000", i)
			}
			break
		}
		if p.Number != i+1 || !bytes.Equal(p.Data, frame(i, 1514)) {
			t.Fatalf("packet %d: number %d, data differs: %v", i+1, p.Number, !bytes.Equal(p.Data, frame(i, 1514)))
		}
	}
	if cap(r.buf) > bufSize {
		t.Errorf("buffer grew to %d bytes, want at most %d", cap(r.buf), bufSize)
	}
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.data)
	c.data = c.data[k:]
	return k, nil
}

func TestMetadataIsBounded(t *testing.T) {
	defer func(b int) { metadataBudget = b }(metadataBudget)
	metadataBudget = 2000
	var ifcs [][]byte
	for range 20 {
		ifcs = append(ifcs, idb(le, layers.LinkTypeEthernet, 0, opt(le, optIfName, bytes.Repeat([]byte("n"), 100)), endOpt))
	}
	file := cat(shb(le), cat(ifcs...), epb(le, 19, 1, frame(1, 4), 4))
	pkts, r := readAll(t, file)
	if len(pkts) != 1 || pkts[0].Interface != 19 {
		t.Errorf("packets %+v: the packet on the last interface must still be read", pkts)
	}
	if n := len(r.Interfaces()); n == 0 || n >= 20 {
		t.Errorf("kept %d interfaces, want some but not all", n)
	}
	if errs := r.Errors(); len(errs) != 1 || !strings.Contains(errs[0].Msg, "metadata is not kept") {
		t.Errorf("errors %v", errs)
	}
}

func TestOpenDashReadsStandardInput(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(pcapngBE)
	f.Seek(0, io.SeekStart)
	defer func(s *os.File) { os.Stdin = s }(os.Stdin)
	os.Stdin = f
	r, err := Open("-")
	if err != nil {
		t.Fatal(err)
	}
	if pkts := drain(t, r); len(pkts) != 1 || r.Name() != "stdin" {
		t.Errorf("%d packets from %q", len(pkts), r.Name())
	}
	r.Close()
	if _, err := f.Stat(); err != nil {
		t.Errorf("Close closed standard input: %v", err)
	}
}
