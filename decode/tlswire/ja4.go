package tlswire

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
)

// JA4 returns the JA4 fingerprint of a ClientHello (FoxIO JA4 technical
// details, BSD-3-Clause): transport is 't' (TLS over TCP), 'q' (QUIC) or 'd'
// (DTLS). GREASE values are ignored everywhere; the version is the highest
// supported_versions entry, else the legacy version; 'd' or 'i' says whether
// server_name is present; cipher and extension counts are capped at 99; the
// ALPN part is the first and last character of the first protocol (their
// hex digits when either is not alphanumeric, "00" when there is none); the
// two hashes are the first 12 hex digits of the SHA-256 of the sorted cipher
// list and of the sorted extension list (without server_name and ALPN)
// followed by the signature algorithms in wire order, "000000000000" for an
// empty list. Example: "t13d1516h2_8daaf6152771_e5627efa2ab1".
func JA4(ch *ClientHello, transport byte) string {
	var buf [64]byte
	return string(appendJA4(buf[:0], ch, transport, false, false))
}

// AppendJA4 appends JA4(ch, transport) to dst.
func AppendJA4(dst []byte, ch *ClientHello, transport byte) []byte {
	return appendJA4(dst, ch, transport, false, false)
}

// JA4Raw returns the raw form of JA4 ("ja4_r"): the same prefix followed by
// the sorted lists themselves instead of their hashes.
func JA4Raw(ch *ClientHello, transport byte) string {
	return string(appendJA4(nil, ch, transport, false, true))
}

// JA4Original returns JA4 over the lists in wire order ("ja4_o"): ciphers and
// extensions unsorted, server_name and ALPN kept (but a hello with no other
// extension gets the empty-list hash, as in FoxIO's ja4.py).
func JA4Original(ch *ClientHello, transport byte) string {
	var buf [64]byte
	return string(appendJA4(buf[:0], ch, transport, true, false))
}

// JA4RawOriginal returns the raw form of JA4Original ("ja4_ro").
func JA4RawOriginal(ch *ClientHello, transport byte) string {
	return string(appendJA4(nil, ch, transport, true, true))
}

// appendJA4 appends a form of JA4 to dst: over the lists in wire order
// with original, with the lists themselves instead of their hashes with
// raw. It works in buffers on the stack for the usual hello (JA4 is
// computed for every TLS session a report lists), so that the fingerprint
// is its only allocation.
func appendJA4(dst []byte, ch *ClientHello, transport byte, original, raw bool) []byte {
	var csBuf, esBuf, sigBuf [64]uint16
	cs := appendWithoutGREASE(csBuf[:0], ch.CipherSuites)
	es := appendWithoutGREASE(esBuf[:0], ch.Extensions)
	dst = append(dst, transport)
	dst = append(dst, ja4Version(ch)...)
	if slices.Contains(ch.Extensions, ExtServerName) {
		dst = append(dst, 'd')
	} else {
		dst = append(dst, 'i')
	}
	dst = appendCount99(dst, len(cs))
	dst = appendCount99(dst, len(es))
	dst = appendJA4ALPN(dst, ch.ALPN)
	if !original {
		slices.Sort(cs)
		es = slices.DeleteFunc(es, func(t uint16) bool { return t == ExtServerName || t == ExtALPN })
		slices.Sort(es)
	}
	var listBuf [640]byte
	ciphers := appendHexList(listBuf[:0], cs)
	exts := appendHexList(ciphers[len(ciphers):], es)
	if len(exts) > 0 {
		if sigs := appendWithoutGREASE(sigBuf[:0], ch.SignatureAlgorithms); len(sigs) > 0 {
			exts = appendHexList(append(exts, '_'), sigs)
		}
	}
	if original && !raw && onlySNIAndALPN(ch) {
		exts = exts[:0]
	}
	dst = append(dst, '_')
	if raw {
		dst = append(dst, ciphers...)
		dst = append(dst, '_')
		return append(dst, exts...)
	}
	dst = appendJA4Hash(dst, ciphers)
	dst = append(dst, '_')
	return appendJA4Hash(dst, exts)
}

// appendJA4Hash appends the truncated SHA-256 of JA4's b or c part, twelve
// zeros for an empty list.
func appendJA4Hash(dst, list []byte) []byte {
	if len(list) == 0 {
		return append(dst, "000000000000"...)
	}
	sum := sha256.Sum256(list)
	return hex.AppendEncode(dst, sum[:6])
}

// onlySNIAndALPN reports whether the hello has no extension but server_name
// and ALPN (GREASE aside): then the original-order c part hashes to zeros,
// as FoxIO's reference implementation (ja4.py) does, although its list is
// not empty.
func onlySNIAndALPN(ch *ClientHello) bool {
	for _, t := range ch.Extensions {
		if t != ExtServerName && t != ExtALPN && !IsGREASE(t) {
			return false
		}
	}
	return true
}

func ja4Version(ch *ClientHello) string {
	v := ch.LegacyVersion
	if slices.Contains(ch.Extensions, ExtSupportedVersions) {
		best := uint16(0)
		for _, x := range ch.SupportedVersions {
			if !IsGREASE(x) && x > best {
				best = x
			}
		}
		if best != 0 {
			v = best
		}
	}
	switch v {
	case VersionTLS13:
		return "13"
	case VersionTLS12:
		return "12"
	case VersionTLS11:
		return "11"
	case VersionTLS10:
		return "10"
	case VersionSSL30:
		return "s3"
	case VersionSSL20:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

// appendJA4ALPN appends JA4's ALPN part: the first and last character of
// the first protocol, their hex digits when either is not alphanumeric,
// "00" when there is none.
func appendJA4ALPN(dst []byte, alpn []string) []byte {
	if len(alpn) == 0 || alpn[0] == "" {
		return append(dst, "00"...)
	}
	p := alpn[0]
	first, last := p[0], p[len(p)-1]
	if isAlnum(first) && isAlnum(last) {
		return append(dst, first, last)
	}
	const digits = "0123456789abcdef"
	return append(dst, digits[first>>4], digits[last&0xf])
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// appendCount99 appends n in two digits, capped at 99.
func appendCount99(dst []byte, n int) []byte {
	n = min(n, 99)
	return append(dst, byte('0'+n/10), byte('0'+n%10))
}

// appendWithoutGREASE appends the values of list that are not GREASE.
func appendWithoutGREASE(dst, list []uint16) []uint16 {
	for _, v := range list {
		if !IsGREASE(v) {
			dst = append(dst, v)
		}
	}
	return dst
}

// appendHexList appends list as comma-separated four-digit hex values.
func appendHexList(dst []byte, list []uint16) []byte {
	const digits = "0123456789abcdef"
	for i, v := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf])
	}
	return dst
}
