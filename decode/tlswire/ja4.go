package tlswire

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
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
	a, ciphers, exts := ja4Parts(ch, transport, false)
	return a + "_" + ja4Hash(ciphers) + "_" + ja4Hash(exts)
}

// JA4Raw returns the raw form of JA4 ("ja4_r"): the same prefix followed by
// the sorted lists themselves instead of their hashes.
func JA4Raw(ch *ClientHello, transport byte) string {
	a, ciphers, exts := ja4Parts(ch, transport, false)
	return a + "_" + ciphers + "_" + exts
}

// JA4Original returns JA4 over the lists in wire order ("ja4_o"): ciphers and
// extensions unsorted, server_name and ALPN kept (but a hello with no other
// extension gets the empty-list hash, as in FoxIO's ja4.py).
func JA4Original(ch *ClientHello, transport byte) string {
	a, ciphers, exts := ja4Parts(ch, transport, true)
	if onlySNIAndALPN(ch) {
		exts = ""
	}
	return a + "_" + ja4Hash(ciphers) + "_" + ja4Hash(exts)
}

// JA4RawOriginal returns the raw form of JA4Original ("ja4_ro").
func JA4RawOriginal(ch *ClientHello, transport byte) string {
	a, ciphers, exts := ja4Parts(ch, transport, true)
	return a + "_" + ciphers + "_" + exts
}

// ja4Hash is the truncated SHA-256 of JA4's b and c parts.
func ja4Hash(list string) string {
	if list == "" {
		return "000000000000"
	}
	sum := sha256.Sum256([]byte(list))
	return hex.EncodeToString(sum[:6])
}

func ja4Parts(ch *ClientHello, transport byte, original bool) (a, ciphers, exts string) {
	var b strings.Builder
	b.WriteByte(transport)
	b.WriteString(ja4Version(ch))
	if slices.Contains(ch.Extensions, ExtServerName) {
		b.WriteByte('d')
	} else {
		b.WriteByte('i')
	}
	cs := withoutGREASE(ch.CipherSuites)
	es := withoutGREASE(ch.Extensions)
	b.WriteString(count99(len(cs)))
	b.WriteString(count99(len(es)))
	b.WriteString(ja4ALPN(ch.ALPN))
	if !original {
		slices.Sort(cs)
		es = slices.DeleteFunc(es, func(t uint16) bool { return t == ExtServerName || t == ExtALPN })
		slices.Sort(es)
	}
	exts = hexList(es)
	if sigs := withoutGREASE(ch.SignatureAlgorithms); len(sigs) > 0 && exts != "" {
		exts += "_" + hexList(sigs)
	}
	return b.String(), hexList(cs), exts
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

func ja4ALPN(alpn []string) string {
	if len(alpn) == 0 || alpn[0] == "" {
		return "00"
	}
	p := alpn[0]
	first, last := p[0], p[len(p)-1]
	if isAlnum(first) && isAlnum(last) {
		return string([]byte{first, last})
	}
	h := hex.EncodeToString([]byte(p))
	return string([]byte{h[0], h[len(h)-1]})
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func count99(n int) string {
	if n > 99 {
		n = 99
	}
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func withoutGREASE(list []uint16) []uint16 {
	out := make([]uint16, 0, len(list))
	for _, v := range list {
		if !IsGREASE(v) {
			out = append(out, v)
		}
	}
	return out
}

func hexList(list []uint16) string {
	var b strings.Builder
	b.Grow(len(list) * 5)
	const digits = "0123456789abcdef"
	for i, v := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte(digits[v>>12])
		b.WriteByte(digits[v>>8&0xf])
		b.WriteByte(digits[v>>4&0xf])
		b.WriteByte(digits[v&0xf])
	}
	return b.String()
}
