package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// byteOrder is what the writers need of a byte order: binary.LittleEndian
// and binary.BigEndian have both halves.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// Writer writes a pcapng file (draft-ietf-opsawg-pcapng) of one section,
// little-endian, with nanosecond timestamps. Each block is built in memory
// and handed to the underlying writer in one Write, so a process killed
// while writing leaves a file that is readable up to its last whole block.
type Writer struct {
	w       io.Writer
	bo      byteOrder
	buf     []byte
	ifaces  []int64 // if_tsoffset of each interface, in seconds
	err     error   // first write error; every later call returns it
	optErr  error   // an option that could not be encoded in the block being built
	hasOpts bool    // the block being built has options
}

// NewWriter writes the Section Header Block of a new pcapng file to w: byte
// order magic, version 1.0, section length -1 (unknown), and the options of
// sec (opt_comment, shb_hardware, shb_os, shb_userappl, custom options).
// sec.Offset is ignored.
func NewWriter(w io.Writer, sec Section) (*Writer, error) {
	return newWriter(w, sec, binary.LittleEndian)
}

// newWriter is NewWriter in byte order bo (big-endian files for tests).
func newWriter(w io.Writer, sec Section, bo byteOrder) (*Writer, error) {
	wr := &Writer{w: w, bo: bo}
	wr.begin(blockSHB)
	wr.buf = bo.AppendUint32(wr.buf, 0x1A2B3C4D)
	wr.buf = bo.AppendUint16(wr.buf, 1)
	wr.buf = bo.AppendUint16(wr.buf, 0)
	wr.buf = bo.AppendUint64(wr.buf, math.MaxUint64)
	for _, c := range sec.Comments {
		wr.option(optComment, []byte(c))
	}
	wr.stringOption(optSHBHardware, sec.Hardware)
	wr.stringOption(optSHBOS, sec.OS)
	wr.stringOption(optSHBUserAppl, sec.UserAppl)
	for _, c := range sec.Custom {
		switch c.Code {
		case optCustomStr, optCustomBin, optCustomStrNC, optCustomBinNC:
		default:
			return nil, fmt.Errorf("pcapng writer: section header: %d is not a custom option code", c.Code)
		}
		wr.option(c.Code, append(bo.AppendUint32(nil, c.PEN), c.Value...))
	}
	if err := wr.finish("section header"); err != nil {
		return nil, err
	}
	return wr, nil
}

// AddInterface writes an Interface Description Block for ifc (link type,
// snap length, if_name, if_description, opt_comment, if_tsoffset when not
// zero, and if_tsresol 9: nanoseconds) and returns the interface's ID for
// WritePacket. ifc.TSResolution and ifc.Stats are ignored.
func (w *Writer) AddInterface(ifc Interface) (int, error) {
	if ifc.SnapLen < 0 || int64(ifc.SnapLen) > math.MaxUint32 {
		return 0, fmt.Errorf("pcapng writer: interface: snap length %d out of range", ifc.SnapLen)
	}
	w.begin(blockIDB)
	w.buf = w.bo.AppendUint16(w.buf, uint16(ifc.LinkType))
	w.buf = w.bo.AppendUint16(w.buf, 0)
	w.buf = w.bo.AppendUint32(w.buf, uint32(ifc.SnapLen))
	w.stringOption(optIfName, ifc.Name)
	w.stringOption(optIfDesc, ifc.Description)
	for _, c := range ifc.Comments {
		w.option(optComment, []byte(c))
	}
	w.option(optIfTSResol, []byte{9})
	if ifc.TSOffset != 0 {
		w.option(optIfTSOffset, w.bo.AppendUint64(nil, uint64(ifc.TSOffset)))
	}
	if err := w.finish("interface"); err != nil {
		return 0, err
	}
	w.ifaces = append(w.ifaces, ifc.TSOffset)
	return len(w.ifaces) - 1, nil
}

// WritePacket writes an Enhanced Packet Block: data captured at time t on
// interface iface, origLen bytes long on the wire (raised to len(data) if
// smaller).
func (w *Writer) WritePacket(iface int, t time.Time, data []byte, origLen int) error {
	return w.writePacket(iface, t, data, origLen, "")
}

// WritePacketComment is WritePacket with an opt_comment on the packet.
func (w *Writer) WritePacketComment(iface int, t time.Time, data []byte, origLen int, comment string) error {
	return w.writePacket(iface, t, data, origLen, comment)
}

func (w *Writer) writePacket(iface int, t time.Time, data []byte, origLen int, comment string) error {
	if iface < 0 || iface >= len(w.ifaces) {
		return fmt.Errorf("pcapng writer: packet: no interface %d (%d added)", iface, len(w.ifaces))
	}
	if len(data) > MaxPacketSize {
		return fmt.Errorf("pcapng writer: packet: %d bytes exceed the maximum of %d", len(data), MaxPacketSize)
	}
	origLen = max(origLen, len(data))
	if int64(origLen) > math.MaxUint32 {
		return fmt.Errorf("pcapng writer: packet: original length %d out of range", origLen)
	}
	ts := w.timestamp(iface, t)
	w.begin(blockEPB)
	w.buf = w.bo.AppendUint32(w.buf, uint32(iface))
	w.buf = w.bo.AppendUint32(w.buf, uint32(ts>>32))
	w.buf = w.bo.AppendUint32(w.buf, uint32(ts))
	w.buf = w.bo.AppendUint32(w.buf, uint32(len(data)))
	w.buf = w.bo.AppendUint32(w.buf, uint32(origLen))
	w.buf = append(w.buf, data...)
	w.pad()
	w.stringOption(optComment, comment)
	return w.finish("packet")
}

// WriteSecrets writes a Decryption Secrets Block: secrets type typ (such as
// SecretsTLSKeyLog), length, and data padded to 32 bits. Readers apply it to
// the packets that follow it.
func (w *Writer) WriteSecrets(typ uint32, data []byte) error {
	if len(data) > MaxBlockSize-32 {
		return fmt.Errorf("pcapng writer: secrets: %d bytes exceed the maximum of %d", len(data), MaxBlockSize-32)
	}
	w.begin(blockDSB)
	w.buf = w.bo.AppendUint32(w.buf, typ)
	w.buf = w.bo.AppendUint32(w.buf, uint32(len(data)))
	w.buf = append(w.buf, data...)
	w.pad()
	return w.finish("secrets")
}

// WriteStats writes an Interface Statistics Block for interface iface: the
// time s.Time, isb_starttime and isb_endtime when not zero, the counters
// flagged in s.Present (isb_ifrecv, isb_ifdrop, isb_filteraccept,
// isb_osdrop, isb_usrdeliv) and s.Comments.
func (w *Writer) WriteStats(iface int, s InterfaceStats) error {
	if iface < 0 || iface >= len(w.ifaces) {
		return fmt.Errorf("pcapng writer: statistics: no interface %d (%d added)", iface, len(w.ifaces))
	}
	w.begin(blockISB)
	w.buf = w.bo.AppendUint32(w.buf, uint32(iface))
	ts := w.timestamp(iface, s.Time)
	w.buf = w.bo.AppendUint32(w.buf, uint32(ts>>32))
	w.buf = w.bo.AppendUint32(w.buf, uint32(ts))
	for _, c := range s.Comments {
		w.option(optComment, []byte(c))
	}
	for _, st := range []struct {
		code uint16
		t    time.Time
	}{{optISBStart, s.StartTime}, {optISBEnd, s.EndTime}} {
		if !st.t.IsZero() {
			ts := w.timestamp(iface, st.t)
			v := w.bo.AppendUint32(nil, uint32(ts>>32))
			w.option(st.code, w.bo.AppendUint32(v, uint32(ts)))
		}
	}
	for _, c := range []struct {
		code uint16
		f    StatsFields
		v    uint64
	}{
		{optISBIfRecv, StatReceived, s.Received},
		{optISBIfDrop, StatDropped, s.Dropped},
		{optISBFilterAcc, StatFilterAccepted, s.FilterAccepted},
		{optISBOSDrop, StatOSDropped, s.OSDropped},
		{optISBUsrDeliv, StatDelivered, s.Delivered},
	} {
		if s.Has(c.f) {
			w.option(c.code, w.bo.AppendUint64(nil, c.v))
		}
	}
	return w.finish("statistics")
}

// Flush flushes the underlying writer if it has a Flush method (such as a
// *bufio.Writer); the Writer itself buffers nothing between blocks.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if f, ok := w.w.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			w.err = fmt.Errorf("pcapng writer: flush: %w", err)
		}
	}
	return w.err
}

// timestamp returns t in nanoseconds since the epoch, less the interface's
// if_tsoffset; a zero t is written as 0.
func (w *Writer) timestamp(iface int, t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano() - w.ifaces[iface]*1e9)
}

// begin starts building a block of type typ; its length is filled in by
// finish.
func (w *Writer) begin(typ uint32) {
	w.buf = w.bo.AppendUint32(w.buf[:0], typ)
	w.buf = w.bo.AppendUint32(w.buf, 0)
	w.optErr = nil
	w.hasOpts = false
}

// pad pads the block being built to 32 bits.
func (w *Writer) pad() {
	for len(w.buf)%4 != 0 {
		w.buf = append(w.buf, 0)
	}
}

// option appends an option (code, length, value padded to 32 bits).
func (w *Writer) option(code uint16, v []byte) {
	if len(v) > math.MaxUint16 {
		w.optErr = fmt.Errorf("option %d: %d bytes exceed the maximum of %d", code, len(v), math.MaxUint16)
		return
	}
	w.buf = w.bo.AppendUint16(w.buf, code)
	w.buf = w.bo.AppendUint16(w.buf, uint16(len(v)))
	w.buf = append(w.buf, v...)
	w.pad()
	w.hasOpts = true
}

// stringOption appends a UTF-8 option unless s is empty.
func (w *Writer) stringOption(code uint16, s string) {
	if s != "" {
		w.option(code, []byte(s))
	}
}

// finish ends the options (opt_endofopt), fills in both total lengths and
// writes the block in one Write.
func (w *Writer) finish(what string) error {
	if w.err != nil {
		return w.err
	}
	if w.optErr != nil {
		return fmt.Errorf("pcapng writer: %s: %w", what, w.optErr)
	}
	if w.hasOpts {
		w.buf = w.bo.AppendUint32(w.buf, 0)
	}
	n := len(w.buf) + 4
	if n > MaxBlockSize {
		return fmt.Errorf("pcapng writer: %s: block of %d bytes exceeds the maximum of %d", what, n, MaxBlockSize)
	}
	w.bo.PutUint32(w.buf[4:], uint32(n))
	w.buf = w.bo.AppendUint32(w.buf, uint32(n))
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = fmt.Errorf("pcapng writer: %s: %w", what, err)
	}
	return w.err
}

// PcapWriter writes a classic pcap file (draft-ietf-opsawg-pcap), each
// record in one Write.
type PcapWriter struct {
	w     io.Writer
	bo    byteOrder
	nanos bool
	buf   []byte
	err   error
}

// NewPcapWriter writes a pcap File Header to w (little-endian, version 2.4,
// the given link type and snap length, micro- or nanosecond timestamps).
func NewPcapWriter(w io.Writer, linkType layers.LinkType, snaplen int, nanos bool) (*PcapWriter, error) {
	return newPcapWriter(w, linkType, snaplen, nanos, binary.LittleEndian)
}

// newPcapWriter is NewPcapWriter in byte order bo.
func newPcapWriter(w io.Writer, linkType layers.LinkType, snaplen int, nanos bool, bo byteOrder) (*PcapWriter, error) {
	if snaplen < 0 || int64(snaplen) > math.MaxUint32 {
		return nil, fmt.Errorf("pcap writer: snap length %d out of range", snaplen)
	}
	pw := &PcapWriter{w: w, bo: bo, nanos: nanos}
	magic := uint32(0xa1b2c3d4)
	if nanos {
		magic = 0xa1b23c4d
	}
	b := bo.AppendUint32(nil, magic)
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint16(b, 4)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, uint32(snaplen))
	b = bo.AppendUint32(b, uint32(linkType))
	if _, err := w.Write(b); err != nil {
		return nil, fmt.Errorf("pcap writer: file header: %w", err)
	}
	return pw, nil
}

// WritePacket writes one Packet Record: data captured at t, origLen bytes
// long on the wire (raised to len(data) if smaller).
func (w *PcapWriter) WritePacket(t time.Time, data []byte, origLen int) error {
	if w.err != nil {
		return w.err
	}
	if len(data) > MaxPacketSize {
		return fmt.Errorf("pcap writer: packet: %d bytes exceed the maximum of %d", len(data), MaxPacketSize)
	}
	origLen = max(origLen, len(data))
	if int64(origLen) > math.MaxUint32 {
		return errors.New("pcap writer: packet: original length out of range")
	}
	frac := uint32(t.Nanosecond() / 1000)
	if w.nanos {
		frac = uint32(t.Nanosecond())
	}
	b := w.bo.AppendUint32(w.buf[:0], uint32(t.Unix()))
	b = w.bo.AppendUint32(b, frac)
	b = w.bo.AppendUint32(b, uint32(len(data)))
	b = w.bo.AppendUint32(b, uint32(origLen))
	w.buf = append(b, data...)
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = fmt.Errorf("pcap writer: packet: %w", err)
	}
	return w.err
}
