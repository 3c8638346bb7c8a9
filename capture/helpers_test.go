package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// got is one packet as a test sees it, copied out of the reader's buffer.
type got struct {
	Number    int
	Time      time.Time
	LinkType  layers.LinkType
	Data      []byte
	Length    int
	Interface int
	Offset    int64
	Comments  []string
}

// readAll reads every packet of the capture in b.
func readAll(t testing.TB, b []byte) ([]got, *Reader) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b), "test")
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	return drain(t, r), r
}

// drain reads r to its end.
func drain(t testing.TB, r *Reader) []got {
	t.Helper()
	var pkts []got
	for {
		p, err := r.Next()
		if err == io.EOF {
			return pkts
		}
		if err != nil {
			t.Fatalf("Next returned %v; only io.EOF is allowed", err)
		}
		pkts = append(pkts, got{p.Number, p.Time, p.LinkType, bytes.Clone(p.Data), p.Length, p.Interface, p.Offset, p.Comments})
	}
}

// frame returns n bytes that identify packet i.
func frame(i, n int) []byte {
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(i + j)
	}
	return b
}

// t0 is the time of the first test packet.
var t0 = time.Date(2024, 5, 17, 9, 30, 0, 123456789, time.UTC)

// pcapFile builds a pcap file of n packets of size bytes, one second apart,
// in byte order bo and micro- or nanosecond resolution.
func pcapFile(t testing.TB, bo byteOrder, nanos bool, n, size int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := newPcapWriter(&buf, layers.LinkTypeEthernet, 65535, nanos, bo)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := w.WritePacket(t0.Add(time.Duration(i)*time.Second), frame(i, size), size+4); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// pcapngFile builds a pcapng file with one Ethernet interface and n
// packets of size bytes, one second apart, in byte order bo.
func pcapngFile(t testing.TB, bo byteOrder, n, size int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := newWriter(&buf, Section{UserAppl: "modsniff test"}, bo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddInterface(Interface{LinkType: layers.LinkTypeEthernet, SnapLen: 65535}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := w.WritePacket(0, t0.Add(time.Duration(i)*time.Second), frame(i, size), size); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// gz compresses b.
func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// block builds a raw pcapng block of type typ with body (padded to 32 bits).
func block(bo byteOrder, typ uint32, body ...[]byte) []byte {
	var b []byte
	for _, p := range body {
		b = append(b, p...)
	}
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	n := uint32(len(b) + 12)
	out := bo.AppendUint32(nil, typ)
	out = bo.AppendUint32(out, n)
	out = append(out, b...)
	return bo.AppendUint32(out, n)
}

// opt builds one pcapng option with its padding.
func opt(bo byteOrder, code uint16, v []byte) []byte {
	b := bo.AppendUint16(nil, code)
	b = bo.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// endOpt is opt_endofopt.
var endOpt = []byte{0, 0, 0, 0}

// shb builds a Section Header Block with the given options.
func shb(bo byteOrder, opts ...[]byte) []byte {
	body := bo.AppendUint32(nil, 0x1A2B3C4D)
	body = bo.AppendUint16(body, 1)
	body = bo.AppendUint16(body, 0)
	body = bo.AppendUint64(body, ^uint64(0))
	return block(bo, blockSHB, append([][]byte{body}, opts...)...)
}

// idb builds an Interface Description Block.
func idb(bo byteOrder, lt layers.LinkType, snap uint32, opts ...[]byte) []byte {
	body := bo.AppendUint16(nil, uint16(lt))
	body = bo.AppendUint16(body, 0)
	body = bo.AppendUint32(body, snap)
	return block(bo, blockIDB, append([][]byte{body}, opts...)...)
}

// epb builds an Enhanced Packet Block with timestamp ts (interface units).
func epb(bo byteOrder, iface uint32, ts uint64, data []byte, orig uint32, opts ...[]byte) []byte {
	h := bo.AppendUint32(nil, iface)
	h = bo.AppendUint32(h, uint32(ts>>32))
	h = bo.AppendUint32(h, uint32(ts))
	h = bo.AppendUint32(h, uint32(len(data)))
	h = bo.AppendUint32(h, orig)
	d := append([]byte(nil), data...)
	for len(d)%4 != 0 {
		d = append(d, 0)
	}
	return block(bo, blockEPB, append([][]byte{h, d}, opts...)...)
}

// cat concatenates byte slices.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// u32 is the 4 bytes of v in byte order bo.
func u32(bo byteOrder, v uint32) []byte { return bo.AppendUint32(nil, v) }

var (
	le = binary.LittleEndian
	be = binary.BigEndian
)

// wantErrors checks the offsets and packet numbers of r's errors and that
// each message contains the given text.
func wantErrors(t *testing.T, r *Reader, want []InputError) {
	t.Helper()
	errs := r.Errors()
	if len(errs) != len(want) {
		t.Fatalf("errors = %v, want %d: %v", errs, len(want), want)
	}
	for i, w := range want {
		e := errs[i]
		if e.Offset != w.Offset || e.Packet != w.Packet || !bytes.Contains([]byte(e.Msg), []byte(w.Msg)) {
			t.Errorf("error %d = %q, want offset %d, packet %d, containing %q", i, e.Error(), w.Offset, w.Packet, w.Msg)
		}
	}
}

// errorReader returns its data, then err.
type errorReader struct {
	data []byte
	err  error
}

func (e *errorReader) Read(p []byte) (int, error) {
	if len(e.data) == 0 {
		return 0, e.err
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}

var errDisk = errors.New("disk on fire")
