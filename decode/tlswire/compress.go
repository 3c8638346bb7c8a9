package tlswire

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/crypto/cryptobyte"
)

// Certificate compression algorithms (RFC 8879 §3, IANA TLS Certificate
// Compression Algorithm IDs).
const (
	CertCompressionZlib   uint16 = 1
	CertCompressionBrotli uint16 = 2
	CertCompressionZstd   uint16 = 3
)

// CertCompressionName returns the name of a certificate compression
// algorithm (RFC 8879 §3): "zlib", "brotli", "zstd", else "0x%04x".
func CertCompressionName(a uint16) string {
	switch a {
	case CertCompressionZlib:
		return "zlib"
	case CertCompressionBrotli:
		return "brotli"
	case CertCompressionZstd:
		return "zstd"
	}
	return fmt.Sprintf("0x%04x", a)
}

// MaxUncompressedCertificate is the largest uncompressed_length of a
// CompressedCertificate this package decompresses: the reassembly limit of
// any other handshake message (MaxHandshakeBuffer, 64 KiB).
const MaxUncompressedCertificate = MaxHandshakeBuffer

// maxZstdWindow bounds the window a zstd frame may ask for: a Certificate
// of at most 64 KiB never needs more.
const maxZstdWindow = 1 << 20

// CompressedCertificate is a decoded CompressedCertificate message (RFC 8879
// §4): the server's (or client's) Certificate message, compressed.
type CompressedCertificate struct {
	// Algorithm is the compression algorithm (see CertCompressionName).
	Algorithm uint16
	// UncompressedLength is the length the sender announced; the
	// decompressed bytes must have exactly this length.
	UncompressedLength int
	// CompressedLength is the length of compressed_certificate_message.
	CompressedLength int
	// Certificate is the decompressed message parsed as a Certificate
	// (RFC 8446 §4.4.2); nil when decompression failed.
	Certificate *CertificateMsg
}

const msgCompressedCertificate = "compressed certificate"

// DecompressCertificate decodes the body of a CompressedCertificate
// handshake message (RFC 8879 §4), without its handshake header, and
// returns its fields and the uncompressed Certificate message body.
//
// The announced uncompressed_length is checked against
// MaxUncompressedCertificate before anything is decompressed, and is a
// hard bound while decompressing: the output buffer is allocated once at
// that length, and a stream that would produce more (a decompression bomb)
// or less (a lying length) is an error (RFC 8879 §4: bad_certificate).
// The decoders' own working memory is bounded by their formats: 32 KiB
// for zlib, the 1 MiB window accepted for zstd, and for brotli the ring
// buffer its stream declares, at most the 16 MiB window of RFC 7932.
func DecompressCertificate(body []byte) (*CompressedCertificate, []byte, error) {
	s := cryptobyte.String(body)
	m := &CompressedCertificate{}
	var ulen uint32
	var comp cryptobyte.String
	switch {
	case !s.ReadUint16(&m.Algorithm):
		return nil, nil, perr(msgCompressedCertificate, "algorithm", ErrTruncated)
	case !s.ReadUint24(&ulen):
		return m, nil, perr(msgCompressedCertificate, "uncompressed_length", ErrTruncated)
	case !s.ReadUint24LengthPrefixed(&comp):
		m.UncompressedLength = int(ulen)
		return m, nil, perr(msgCompressedCertificate, "compressed_certificate_message", ErrTruncated)
	}
	m.UncompressedLength, m.CompressedLength = int(ulen), len(comp)
	field := "compressed_certificate_message"
	switch {
	case len(comp) == 0:
		return m, nil, perrd(msgCompressedCertificate, field, ErrMalformed, "empty (at least 1 byte)")
	case !s.Empty():
		return m, nil, perrd(msgCompressedCertificate, "message", ErrMalformed, fmt.Sprintf("%d bytes of trailing data", len(s)))
	case ulen == 0:
		return m, nil, perrd(msgCompressedCertificate, "uncompressed_length", ErrMalformed, "0")
	case ulen > MaxUncompressedCertificate:
		return m, nil, perrd(msgCompressedCertificate, "uncompressed_length", ErrMalformed,
			fmt.Sprintf("%d bytes exceeds the %d-byte limit", ulen, MaxUncompressedCertificate))
	}
	out, err := decompress(m.Algorithm, comp, int(ulen))
	if err != nil {
		return m, nil, perrd(msgCompressedCertificate, field, err, CertCompressionName(m.Algorithm))
	}
	return m, out, nil
}

// errLength is wrapped with ErrMalformed for output of the wrong length.
var errLength = errors.New("length differs from uncompressed_length")

// decompress inflates comp with the algorithm into exactly n bytes.
func decompress(alg uint16, comp []byte, n int) ([]byte, error) {
	var r io.Reader
	switch alg {
	case CertCompressionZlib:
		zr, err := zlib.NewReader(bytes.NewReader(comp))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		defer zr.Close()
		r = zr
	case CertCompressionBrotli:
		r = brotli.NewReader(bytes.NewReader(comp))
	case CertCompressionZstd:
		return decompressZstd(comp, n)
	default:
		return nil, fmt.Errorf("%w: algorithm %s", ErrUnsupported, CertCompressionName(alg))
	}
	out := make([]byte, n) // n was checked against MaxUncompressedCertificate
	got, err := io.ReadFull(r, out)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%w: %s: %d bytes, %d announced", ErrMalformed, errLength, got, n)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	// One more byte means the stream is longer than announced: a bomb, or a
	// lie about the length. It is read into a one-byte buffer, never kept.
	var extra [1]byte
	if k, _ := io.ReadFull(r, extra[:]); k > 0 {
		return nil, fmt.Errorf("%w: %s: more than the %d bytes announced", ErrMalformed, errLength, n)
	}
	return out, nil
}

// zstdDecoder decodes every zstd CompressedCertificate: one goroutine-free
// decoder whose DecodeAll never writes past the capacity it is given.
var zstdDecoder = sync.OnceValues(func() (*zstd.Decoder, error) {
	return zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(maxZstdWindow), zstd.WithDecoderMaxMemory(MaxUncompressedCertificate),
		zstd.WithDecodeAllCapLimit(true))
})

func decompressZstd(comp []byte, n int) ([]byte, error) {
	d, err := zstdDecoder()
	if err != nil {
		return nil, fmt.Errorf("%w: zstd: %v", ErrUnsupported, err)
	}
	// With the cap limit, DecodeAll fails rather than grow dst past n+1:
	// the extra byte tells a stream longer than announced from one that
	// fits exactly.
	out, err := d.DecodeAll(comp, make([]byte, 0, n+1))
	switch {
	case len(out) > n, errors.Is(err, zstd.ErrDecoderSizeExceeded):
		return nil, fmt.Errorf("%w: %s: more than the %d bytes announced", ErrMalformed, errLength, n)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	case len(out) != n:
		return nil, fmt.Errorf("%w: %s: %d bytes, %d announced", ErrMalformed, errLength, len(out), n)
	}
	return out, nil
}

// ParseCompressedCertificate decompresses a CompressedCertificate message
// body (see DecompressCertificate) and parses the result as a Certificate
// message (RFC 8879 §4: "the result of decompression is a Certificate
// message"), with certificates from the cache. On error the returned
// message, when not nil, holds what was read.
func (cc *CertCache) ParseCompressedCertificate(body []byte, tls13 bool) (*CompressedCertificate, error) {
	m, out, err := DecompressCertificate(body)
	if err != nil {
		return m, err
	}
	m.Certificate, err = cc.ParseCertificate(out, tls13)
	return m, err
}
