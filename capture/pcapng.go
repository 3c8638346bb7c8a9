package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Block types of draft-ietf-opsawg-pcapng (Block Types registry).
const (
	blockSHB          = 0x0A0D0D0A // Section Header Block
	blockIDB          = 0x00000001 // Interface Description Block
	blockPB           = 0x00000002 // Packet Block (obsolete)
	blockSPB          = 0x00000003 // Simple Packet Block
	blockNRB          = 0x00000004 // Name Resolution Block
	blockISB          = 0x00000005 // Interface Statistics Block
	blockEPB          = 0x00000006 // Enhanced Packet Block
	blockDSB          = 0x0000000A // Decryption Secrets Block
	blockCustom       = 0x00000BAD // Custom Block (copiable)
	blockCustomNoCopy = 0x40000BAD // Custom Block (not to be copied)

	minBlockLen = 12 // type, length, trailing length
	minSHBLen   = 28
)

// Option codes of draft-ietf-opsawg-pcapng used here.
const (
	optEndOfOpt     = 0
	optComment      = 1
	optCustomStr    = 2988
	optCustomBin    = 2989
	optCustomStrNC  = 19372
	optCustomBinNC  = 19373
	optSHBHardware  = 2
	optSHBOS        = 3
	optSHBUserAppl  = 4
	optIfName       = 2
	optIfDesc       = 3
	optIfTSResol    = 9
	optIfTSOffset   = 14
	optISBStart     = 2
	optISBEnd       = 3
	optISBIfRecv    = 4
	optISBIfDrop    = 5
	optISBFilterAcc = 6
	optISBOSDrop    = 7
	optISBUsrDeliv  = 8
)

// SecretsTLSKeyLog is the Decryption Secrets Block type of a TLS key log in
// the NSS key log format ("TLSK"), per draft-ietf-opsawg-pcapng.
const SecretsTLSKeyLog = 0x544c534b

// Section is one pcapng Section Header Block (draft-ietf-opsawg-pcapng,
// Section Header Block) with its options.
type Section struct {
	// Offset is the byte offset of the block in the (decompressed) input.
	Offset int64
	// Comments holds every opt_comment.
	Comments []string
	// Hardware, OS and UserAppl are shb_hardware, shb_os and shb_userappl.
	Hardware, OS, UserAppl string
	// Custom holds the custom options (codes 2988, 2989, 19372, 19373).
	Custom []CustomOption
}

// CustomOption is a pcapng custom option (draft-ietf-opsawg-pcapng, Custom
// Options): an IANA Private Enterprise Number and vendor-defined bytes.
type CustomOption struct {
	Code  uint16
	PEN   uint32
	Value []byte
}

// Interface describes one capture interface: a pcapng Interface Description
// Block (draft-ietf-opsawg-pcapng, Interface Description Block), or the file
// header of a pcap file.
type Interface struct {
	// Section is the index of the section the interface belongs to.
	Section int
	// LinkType is the link-layer header type of its packets.
	LinkType layers.LinkType
	// SnapLen is the largest number of bytes kept per packet; 0 means no
	// limit.
	SnapLen int
	// Name, Description and Comments are if_name, if_description and
	// opt_comment.
	Name, Description string
	Comments          []string
	// TSResolution is the unit of the interface's timestamps (if_tsresol,
	// default 1µs; 1µs or 1ns for pcap), rounded to the nearest nanosecond
	// and at least 1ns. Timestamps themselves are converted exactly.
	TSResolution time.Duration
	// TSOffset is if_tsoffset: seconds added to every timestamp.
	TSOffset int64
	// Stats holds the last Interface Statistics Block for the interface,
	// nil if none.
	Stats *InterfaceStats
}

// StatsFields tells which counters of an InterfaceStats are present.
type StatsFields uint8

// The counters of an Interface Statistics Block.
const (
	StatReceived       StatsFields = 1 << iota // isb_ifrecv
	StatDropped                                // isb_ifdrop
	StatFilterAccepted                         // isb_filteraccept
	StatOSDropped                              // isb_osdrop
	StatDelivered                              // isb_usrdeliv
)

// InterfaceStats is one Interface Statistics Block (draft-ietf-opsawg-pcapng,
// Interface Statistics Block).
type InterfaceStats struct {
	// Time is the time the statistics refer to.
	Time time.Time
	// StartTime and EndTime are isb_starttime and isb_endtime; zero when
	// absent.
	StartTime, EndTime time.Time
	// The counters; Present tells which ones the block carried.
	Received, Dropped, FilterAccepted, OSDropped, Delivered uint64
	Present                                                 StatsFields
	Comments                                                []string
}

// Has reports whether every counter in f is present.
func (s InterfaceStats) Has(f StatsFields) bool { return s.Present&f == f }

// Secrets is one Decryption Secrets Block (draft-ietf-opsawg-pcapng,
// Decryption Secrets Block).
type Secrets struct {
	// Type is the secrets type, e.g. SecretsTLSKeyLog.
	Type uint32
	// Data holds the secrets (for SecretsTLSKeyLog, NSS key log lines).
	Data []byte
	// Offset is the byte offset of the block in the (decompressed) input.
	Offset int64
}

// ngInterface is what the reader needs of an interface of the current
// section to deliver its packets.
type ngInterface struct {
	linkType layers.LinkType
	snapLen  uint32
	res      tsResolution
	offset   int64
	hist     int  // index in Reader.interfaces, -1 when not kept
	seen     bool // carried a packet
}

// readPcapngHeader checks the start of a pcapng file (the Section Header
// Block's type and byte-order magic) and reads that first block.
func (r *Reader) readPcapngHeader(where string) error {
	n := r.fill(minSHBLen)
	if n < 12 {
		return r.notCapture(where, fmt.Sprintf("truncated header: the file has %d bytes, a pcapng section header needs %d", n, minSHBLen))
	}
	bo := byteOrderMagic(r.buf[r.start+8 : r.start+12])
	if bo == nil {
		return r.notCapture(where, "starts with the pcapng magic 0a 0d 0d 0a but has no byte-order magic 1a2b3c4d")
	}
	if n < minSHBLen {
		return r.notCapture(where, fmt.Sprintf("truncated header: the file has %d bytes, a pcapng section header needs %d", n, minSHBLen))
	}
	r.ng, r.bo, r.format = true, bo, "pcapng"
	r.stepPcapng()
	return nil
}

// byteOrderMagic returns the byte order a Section Header Block's
// byte-order magic b says, or nil.
func byteOrderMagic(b []byte) binary.ByteOrder {
	switch {
	case bytes.Equal(b, magicByteOrderL):
		return binary.LittleEndian
	case bytes.Equal(b, magicByteOrderB):
		return binary.BigEndian
	}
	return nil
}

// isSHB reports whether b starts with the Section Header Block type, which
// reads the same in both byte orders.
func isSHB(b []byte) bool { return bytes.HasPrefix(b, magicPcapng) }

// nextPcapng reads blocks until one carries a packet.
func (r *Reader) nextPcapng() bool {
	for {
		packet, more := r.stepPcapng()
		if packet {
			return true
		}
		if !more {
			return false
		}
	}
}

// stepPcapng reads one block (draft-ietf-opsawg-pcapng, General Block
// Structure): type, total length, body, total length again. It reports
// whether the block delivered a packet into r.pkt and whether reading can go
// on. Damaged framing is recorded and skipped by resynchronising.
func (r *Reader) stepPcapng() (packet, more bool) {
	avail := r.fill(minBlockLen)
	if avail == 0 {
		return false, false
	}
	at := r.off
	if avail < 8 {
		r.damage(at, "truncated block header: %d bytes left in the file, a block header needs 8", avail)
		return false, false
	}
	b := r.buf[r.start:r.end]
	bo := r.bo
	if isSHB(b) {
		if avail < minBlockLen {
			r.damage(at, "truncated section header block: %d bytes left in the file", avail)
			return false, false
		}
		if bo = byteOrderMagic(b[8:12]); bo == nil {
			r.damage(at, "section header block with a bad byte-order magic % x", b[8:12])
			return false, r.resyncPcapng(at, false)
		}
	}
	typ, length := bo.Uint32(b), bo.Uint32(b[4:])
	switch {
	case length%4 != 0:
		r.damage(at, "corrupt block length %d: not a multiple of 4 (block type 0x%x)", length, typ)
		return false, r.resyncPcapng(at, false)
	case length < minBlockLen:
		r.damage(at, "corrupt block length %d: below the minimum of %d (block type 0x%x)", length, minBlockLen, typ)
		return false, r.resyncPcapng(at, false)
	case length > MaxBlockSize:
		r.damage(at, "corrupt block length %d: above the maximum of %d (block type 0x%x)", length, MaxBlockSize, typ)
		return false, r.resyncPcapng(at, false)
	}
	n := int(length)
	if got := r.fill(n); got < n {
		r.damage(at, "truncated block: header says %d bytes, only %d left in the file (block type 0x%x)", n, got, typ)
		return false, r.resyncPcapng(at, true)
	}
	b = r.buf[r.start : r.start+n]
	if trailer := bo.Uint32(b[n-4:]); trailer != length {
		r.damage(at, "corrupt block length: leading length %d, trailing length %d (block type 0x%x)", length, trailer, typ)
		return false, r.resyncPcapng(at, false)
	}
	packet = r.block(typ, b[8:n-4], bo, at)
	r.consume(n)
	return packet, true
}

// resyncPcapng looks, within ResyncWindow bytes after the damaged block at
// offset bad (which is buf[start]), for an offset where a known block sits
// with matching leading and trailing lengths (and, for blocks that name an
// interface, an interface that exists). On success it skips to it, records
// what was skipped and reports true. quiet suppresses the record of failure.
func (r *Reader) resyncPcapng(bad int64, quiet bool) bool {
	for d := 1; d <= ResyncWindow; d++ {
		if r.fill(d+minBlockLen) < d+minBlockLen {
			break
		}
		if !r.blockAt(d) {
			continue
		}
		r.consume(d)
		r.damage(bad, "skipped %d bytes of garbage at offset %d", d, bad)
		return true
	}
	if !quiet {
		left := r.end - r.start
		r.damage(bad, "no valid block in the %d bytes after offset %d; stopped reading", min(left, ResyncWindow), bad)
	}
	return false
}

// blockAt reports whether a plausible, whole block starts d bytes into the
// available data.
func (r *Reader) blockAt(d int) bool {
	b := r.buf[r.start+d : r.end]
	bo := r.bo
	if isSHB(b) {
		if bo = byteOrderMagic(b[8:12]); bo == nil {
			return false
		}
	}
	typ, length := bo.Uint32(b), bo.Uint32(b[4:])
	least, known := blockMinimum(typ)
	if !known || length%4 != 0 || length < uint32(least) || length > MaxBlockSize {
		return false
	}
	n := int(length)
	if r.fill(d+n) < d+n {
		return false
	}
	b = r.buf[r.start+d : r.start+d+n]
	if bo.Uint32(b[n-4:]) != length {
		return false
	}
	switch typ {
	case blockEPB, blockISB:
		return bo.Uint32(b[8:]) < uint32(len(r.ifaces))
	case blockPB:
		return int(bo.Uint16(b[8:])) < len(r.ifaces)
	case blockSPB:
		return len(r.ifaces) > 0
	}
	return true
}

// blockMinimum returns the smallest total length of a known block type.
func blockMinimum(typ uint32) (int, bool) {
	switch typ {
	case blockSHB:
		return minSHBLen, true
	case blockIDB:
		return 20, true
	case blockPB, blockEPB:
		return 32, true
	case blockSPB:
		return 16, true
	case blockNRB:
		return 12, true
	case blockISB:
		return 24, true
	case blockDSB:
		return 20, true
	case blockCustom, blockCustomNoCopy:
		return 16, true
	}
	return 0, false
}

// block interprets one well-framed block with body b, found at offset at.
// It reports whether it delivered a packet.
func (r *Reader) block(typ uint32, b []byte, bo binary.ByteOrder, at int64) bool {
	switch typ {
	case blockSHB:
		r.sectionHeader(b, bo, at)
	case blockIDB:
		r.interfaceDescription(b, at)
	case blockEPB:
		return r.enhancedPacket(b, at)
	case blockSPB:
		return r.simplePacket(b, at)
	case blockPB:
		return r.obsoletePacket(b, at)
	case blockISB:
		r.interfaceStatistics(b, at)
	case blockDSB:
		r.decryptionSecrets(b, at)
	}
	// Name Resolution Blocks, custom blocks and unknown types are skipped.
	return false
}

// sectionHeader reads a Section Header Block body: byte-order magic, major
// and minor version, section length, options. A new section forgets the
// interfaces of the previous one.
func (r *Reader) sectionHeader(b []byte, bo binary.ByteOrder, at int64) {
	r.bo = bo
	r.ifaces = r.ifaces[:0]
	r.nsections++
	if len(b) < 16 {
		r.damage(at, "section header block too short: %d body bytes, need 16", len(b))
		return
	}
	if major, minor := bo.Uint16(b[4:]), bo.Uint16(b[6:]); major != 1 {
		r.damage(at, "section header: unsupported pcapng version %d.%d; reading it as 1.0", major, minor)
	}
	s := Section{Offset: at}
	cost := 64
	o := optionReader{b: b[16:], bo: bo}
	for code, v, ok := o.next(); ok; code, v, ok = o.next() {
		switch code {
		case optComment:
			s.Comments = append(s.Comments, optString(v))
		case optSHBHardware:
			s.Hardware = optString(v)
		case optSHBOS:
			s.OS = optString(v)
		case optSHBUserAppl:
			s.UserAppl = optString(v)
		case optCustomStr, optCustomBin, optCustomStrNC, optCustomBinNC:
			if c, ok := customOption(code, v, bo); ok {
				s.Custom = append(s.Custom, c)
			} else {
				r.damage(at, "section header: custom option %d: %d bytes, too short for its enterprise number", code, len(v))
			}
		default:
			continue
		}
		cost += 16 + len(v)
	}
	if o.err != nil {
		r.damage(at, "section header options: %v", o.err)
	}
	if r.keep(at, cost) {
		r.sections = append(r.sections, s)
	}
}

// customOption decodes a custom option value: Private Enterprise Number,
// then the vendor's bytes.
func customOption(code uint16, v []byte, bo binary.ByteOrder) (CustomOption, bool) {
	if len(v) < 4 {
		return CustomOption{}, false
	}
	return CustomOption{Code: code, PEN: bo.Uint32(v), Value: bytes.Clone(v[4:])}, true
}

// optString converts a UTF-8 option value to a string, without the
// terminating NULs some writers add.
func optString(v []byte) string { return strings.TrimRight(string(v), "\x00") }

// interfaceDescription reads an Interface Description Block body: link type,
// reserved, snap length, options (if_name, if_description, if_tsresol,
// if_tsoffset, opt_comment).
func (r *Reader) interfaceDescription(b []byte, at int64) {
	if len(b) < 8 {
		r.damage(at, "interface description block too short: %d body bytes, need 8", len(b))
		return
	}
	if len(r.ifaces) >= maxInterfaces {
		r.damage(at, "more than %d interfaces in one section; interface ignored", maxInterfaces)
		return
	}
	bo := r.bo
	ifc := Interface{
		Section:      r.nsections - 1,
		LinkType:     layers.LinkType(bo.Uint16(b)),
		SnapLen:      int(bo.Uint32(b[4:])),
		TSResolution: time.Microsecond,
	}
	ng := ngInterface{linkType: ifc.LinkType, snapLen: bo.Uint32(b[4:]), res: tsResolution{exp: 6}, hist: -1}
	cost := 128
	o := optionReader{b: b[8:], bo: bo}
	for code, v, ok := o.next(); ok; code, v, ok = o.next() {
		switch code {
		case optComment:
			ifc.Comments = append(ifc.Comments, optString(v))
		case optIfName:
			ifc.Name = optString(v)
		case optIfDesc:
			ifc.Description = optString(v)
		case optIfTSResol:
			if len(v) != 1 {
				r.damage(at, "interface description: if_tsresol has %d bytes, want 1", len(v))
				continue
			}
			ng.res = tsResolution{binary: v[0]&0x80 != 0, exp: v[0] & 0x7f}
			ifc.TSResolution = ng.res.duration()
		case optIfTSOffset:
			if len(v) != 8 {
				r.damage(at, "interface description: if_tsoffset has %d bytes, want 8", len(v))
				continue
			}
			ng.offset = int64(bo.Uint64(v))
			ifc.TSOffset = ng.offset
		default:
			continue
		}
		cost += 16 + len(v)
	}
	if o.err != nil {
		r.damage(at, "interface description options: %v", o.err)
	}
	if r.keep(at, cost) {
		ng.hist = len(r.interfaces)
		r.interfaces = append(r.interfaces, ifc)
	}
	r.ifaces = append(r.ifaces, ng)
}

// enhancedPacket reads an Enhanced Packet Block body: interface ID,
// timestamp (high, low), captured length, original length, data padded to 32
// bits, options.
func (r *Reader) enhancedPacket(b []byte, at int64) bool {
	if len(b) < 20 {
		r.damage(at, "enhanced packet block too short: %d body bytes, need 20", len(b))
		return false
	}
	bo := r.bo
	id, caplen := bo.Uint32(b), bo.Uint32(b[12:])
	if id >= uint32(len(r.ifaces)) {
		r.damage(at, "enhanced packet block for interface %d, but the section has %d interfaces", id, len(r.ifaces))
		return false
	}
	if caplen > uint32(len(b)-20) {
		r.damage(at, "enhanced packet block: captured length %d exceeds the %d data bytes of the block", caplen, len(b)-20)
		return false
	}
	if caplen > MaxPacketSize {
		r.damage(at, "enhanced packet block: captured length %d exceeds the maximum of %d", caplen, MaxPacketSize)
		return false
	}
	ts := uint64(bo.Uint32(b[4:]))<<32 | uint64(bo.Uint32(b[8:]))
	r.deliver(int(id), ts, b[20:20+caplen], bo.Uint32(b[16:]), at)
	if opts := 20 + pad4(int(caplen)); opts < len(b) {
		r.pkt.Comments = r.packetComments(b[opts:], "enhanced packet", at)
	}
	return true
}

// simplePacket reads a Simple Packet Block body: original length and data.
// It belongs to the section's first interface; its captured length is the
// smallest of the original length, that interface's snap length and the
// data in the block. It has no timestamp: Packet.Time is zero.
func (r *Reader) simplePacket(b []byte, at int64) bool {
	if len(b) < 4 {
		r.damage(at, "simple packet block too short: %d body bytes, need 4", len(b))
		return false
	}
	if len(r.ifaces) == 0 {
		r.damage(at, "simple packet block before any interface description block")
		return false
	}
	orig := r.bo.Uint32(b)
	caplen := min(uint64(orig), uint64(len(b)-4))
	if snap := r.ifaces[0].snapLen; snap != 0 {
		caplen = min(caplen, uint64(snap))
	}
	if caplen > MaxPacketSize {
		r.damage(at, "simple packet block: captured length %d exceeds the maximum of %d", caplen, MaxPacketSize)
		return false
	}
	r.deliver(0, 0, b[4:4+caplen], orig, at)
	r.pkt.Time = time.Time{}
	return true
}

// obsoletePacket reads an obsolete Packet Block body: 16-bit interface ID,
// drops count, timestamp, captured length, original length, data, options.
func (r *Reader) obsoletePacket(b []byte, at int64) bool {
	if len(b) < 20 {
		r.damage(at, "packet block too short: %d body bytes, need 20", len(b))
		return false
	}
	bo := r.bo
	id, caplen := bo.Uint16(b), bo.Uint32(b[12:])
	if int(id) >= len(r.ifaces) {
		r.damage(at, "packet block for interface %d, but the section has %d interfaces", id, len(r.ifaces))
		return false
	}
	if caplen > uint32(len(b)-20) {
		r.damage(at, "packet block: captured length %d exceeds the %d data bytes of the block", caplen, len(b)-20)
		return false
	}
	if caplen > MaxPacketSize {
		r.damage(at, "packet block: captured length %d exceeds the maximum of %d", caplen, MaxPacketSize)
		return false
	}
	ts := uint64(bo.Uint32(b[4:]))<<32 | uint64(bo.Uint32(b[8:]))
	r.deliver(int(id), ts, b[20:20+caplen], bo.Uint32(b[16:]), at)
	if opts := 20 + pad4(int(caplen)); opts < len(b) {
		r.pkt.Comments = r.packetComments(b[opts:], "packet", at)
	}
	return true
}

// deliver fills r.pkt with the next packet, captured on interface id of the
// current section at timestamp ts (in that interface's units).
func (r *Reader) deliver(id int, ts uint64, data []byte, origlen uint32, at int64) {
	ifc := &r.ifaces[id]
	sec, nsec := ifc.res.split(ts)
	r.number++
	r.pkt = Packet{
		Number:    r.number,
		Time:      time.Unix(int64(sec)+ifc.offset, int64(nsec)),
		LinkType:  ifc.linkType,
		Data:      data[:len(data):len(data)],
		Length:    int(origlen),
		Interface: id,
		Offset:    at,
		ByteOrder: r.bo,
	}
	if !ifc.seen {
		ifc.seen = true
		r.sawLinkType(ifc.linkType)
	}
}

// packetComments returns the opt_comment options of a packet block's
// options b; other options are ignored.
func (r *Reader) packetComments(b []byte, block string, at int64) []string {
	var comments []string
	o := optionReader{b: b, bo: r.bo}
	for code, v, ok := o.next(); ok; code, v, ok = o.next() {
		if code == optComment {
			comments = append(comments, optString(v))
		}
	}
	if o.err != nil {
		// The packet is delivered all the same: the error is its own.
		r.record(at, r.number, "%s block options: %v", block, o.err)
	}
	return comments
}

// interfaceStatistics reads an Interface Statistics Block body: interface
// ID, timestamp, options (isb_starttime, isb_endtime and the counters).
func (r *Reader) interfaceStatistics(b []byte, at int64) {
	if len(b) < 12 {
		r.damage(at, "interface statistics block too short: %d body bytes, need 12", len(b))
		return
	}
	bo := r.bo
	id := bo.Uint32(b)
	if id >= uint32(len(r.ifaces)) {
		r.damage(at, "interface statistics block for interface %d, but the section has %d interfaces", id, len(r.ifaces))
		return
	}
	ifc := r.ifaces[id]
	stamp := func(v []byte) time.Time {
		ts := uint64(bo.Uint32(v))<<32 | uint64(bo.Uint32(v[4:]))
		sec, nsec := ifc.res.split(ts)
		return time.Unix(int64(sec)+ifc.offset, int64(nsec))
	}
	s := InterfaceStats{Time: stamp(b[4:12])}
	cost := 128
	o := optionReader{b: b[12:], bo: bo}
	for code, v, ok := o.next(); ok; code, v, ok = o.next() {
		if code == optComment {
			s.Comments = append(s.Comments, optString(v))
			cost += 16 + len(v)
			continue
		}
		if code < optISBStart || code > optISBUsrDeliv {
			continue
		}
		if len(v) != 8 {
			r.damage(at, "interface statistics: option %d has %d bytes, want 8", code, len(v))
			continue
		}
		switch code {
		case optISBStart:
			s.StartTime = stamp(v)
		case optISBEnd:
			s.EndTime = stamp(v)
		case optISBIfRecv:
			s.Received, s.Present = bo.Uint64(v), s.Present|StatReceived
		case optISBIfDrop:
			s.Dropped, s.Present = bo.Uint64(v), s.Present|StatDropped
		case optISBFilterAcc:
			s.FilterAccepted, s.Present = bo.Uint64(v), s.Present|StatFilterAccepted
		case optISBOSDrop:
			s.OSDropped, s.Present = bo.Uint64(v), s.Present|StatOSDropped
		case optISBUsrDeliv:
			s.Delivered, s.Present = bo.Uint64(v), s.Present|StatDelivered
		}
	}
	if o.err != nil {
		r.damage(at, "interface statistics options: %v", o.err)
	}
	if ifc.hist >= 0 && r.keep(at, cost) {
		r.interfaces[ifc.hist].Stats = &s
	}
}

// decryptionSecrets reads a Decryption Secrets Block body: secrets type,
// secrets length, data padded to 32 bits, options; it hands a copy of the
// data to OnSecrets.
func (r *Reader) decryptionSecrets(b []byte, at int64) {
	if len(b) < 8 {
		r.damage(at, "decryption secrets block too short: %d body bytes, need 8", len(b))
		return
	}
	typ, n := r.bo.Uint32(b), r.bo.Uint32(b[4:])
	if n > uint32(len(b)-8) {
		r.damage(at, "decryption secrets block: secrets length %d exceeds the %d data bytes of the block", n, len(b)-8)
		return
	}
	if r.OnSecrets != nil {
		r.OnSecrets(Secrets{Type: typ, Data: bytes.Clone(b[8 : 8+n]), Offset: at})
	}
}

// pad4 rounds n up to a multiple of 4.
func pad4(n int) int { return (n + 3) &^ 3 }

// optionReader walks a pcapng option list (draft-ietf-opsawg-pcapng,
// Options): 16-bit code, 16-bit length, value padded to 32 bits; the list
// ends with opt_endofopt or at the end of the block. Values alias the block.
type optionReader struct {
	b   []byte
	bo  binary.ByteOrder
	err error // why the list was malformed, if it was
}

// next returns the next option, or ok false at the end of the list or when
// the list is malformed (then err says why).
func (o *optionReader) next() (code uint16, value []byte, ok bool) {
	if len(o.b) == 0 {
		return 0, nil, false
	}
	if len(o.b) < 4 {
		o.err = fmt.Errorf("%d stray bytes after the last option", len(o.b))
		o.b = nil
		return 0, nil, false
	}
	code, n := o.bo.Uint16(o.b), int(o.bo.Uint16(o.b[2:]))
	if code == optEndOfOpt {
		o.b = nil // what follows opt_endofopt is ignored
		return 0, nil, false
	}
	if n > len(o.b)-4 {
		o.err = fmt.Errorf("option %d: length %d overruns the %d bytes left", code, n, len(o.b)-4)
		o.b = nil
		return 0, nil, false
	}
	value = o.b[4 : 4+n : 4+n]
	o.b = o.b[min(4+pad4(n), len(o.b)):]
	return code, value, true
}

// tsResolution is an if_tsresol value (draft-ietf-opsawg-pcapng, Interface
// Description Block): timestamps count units of 10^-exp seconds, or of
// 2^-exp seconds when binary is set.
type tsResolution struct {
	binary bool
	exp    uint8
}

// pow10 holds the powers of ten that fit in a uint64.
var pow10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// split converts a timestamp in units of t to seconds and nanoseconds,
// truncating anything finer than a nanosecond.
func (t tsResolution) split(ts uint64) (sec, nsec uint64) {
	e := uint(t.exp)
	if t.binary {
		switch {
		case e == 0:
			return ts, 0
		case e < 64:
			hi, lo := bits.Mul64(ts&(1<<e-1), 1e9)
			return ts >> e, hi<<(64-e) | lo>>e
		default:
			hi, _ := bits.Mul64(ts, 1e9)
			return 0, hi >> (e - 64)
		}
	}
	switch {
	// Microseconds (if_tsresol's default, draft-ietf-opsawg-pcapng) and nanoseconds
	// divide by constants, which the compiler turns into multiplications:
	// a 64-bit division per packet was a visible share of reading.
	case e == 6:
		return ts / 1e6, ts % 1e6 * 1e3
	case e == 9:
		return ts / 1e9, ts % 1e9
	case e <= 9:
		return ts / pow10[e], ts % pow10[e] * pow10[9-e]
	case e <= 19:
		return ts / pow10[e], ts % pow10[e] / pow10[e-9]
	case e-9 <= 19:
		return 0, ts / pow10[e-9]
	}
	return 0, 0
}

// duration returns the unit of t rounded to the nearest nanosecond, at
// least 1ns.
func (t tsResolution) duration() time.Duration {
	e := uint(t.exp)
	if t.binary {
		if e >= 31 {
			return 1
		}
		return max(time.Duration((uint64(1e9)+uint64(1)<<e/2)>>e), 1)
	}
	if e <= 9 {
		return time.Duration(pow10[9-e])
	}
	return 1
}
