package synth

import "encoding/binary"

// CutInsideBlock truncates a little-endian pcapng file (as Capture.Bytes
// writes it) in the middle of its nth block from the end, as a copy taken
// while the capture was still being written would be. A file whose blocks
// cannot be followed is cut in half.
func CutInsideBlock(b []byte, nth int) []byte {
	var starts []int
	for off := 0; off+12 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+4:]))
		if n < 12 || off+n > len(b) {
			break
		}
		starts = append(starts, off)
		off += n
	}
	if nth < 1 || len(starts) < nth {
		return b[:len(b)/2]
	}
	off := starts[len(starts)-nth]
	return b[:off+int(binary.LittleEndian.Uint32(b[off+4:]))/2]
}
