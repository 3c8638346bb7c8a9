package tlswire

import (
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// attributeShortNames maps the attribute types of X.520 and RFC 4519 (plus
// the usual PKCS #9 and EV ones) to their short names.
var attributeShortNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O",
	"2.5.4.11": "OU", "2.5.4.5": "serialNumber", "2.5.4.9": "street", "2.5.4.17": "postalCode",
	"2.5.4.12": "title", "2.5.4.42": "GN", "2.5.4.4": "SN", "2.5.4.97": "organizationIdentifier",
	"1.2.840.113549.1.9.1": "emailAddress", "0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1": "UID", "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
	"1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST", "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL",
	"2.5.4.15": "businessCategory",
}

var errBadName = errors.New("tls: malformed distinguished name")

// FormatName formats a DER-encoded X.501 Name (RFC 5280 §4.1.2.4) the way
// reports and the corpus facts show it: every attribute in encoding order
// (not reversed as RFC 4514 would), short names (C, ST, L, O, OU, CN,
// emailAddress …), unknown types as dotted OIDs, joined with ", ", values
// unescaped and decoded from their raw bytes (BMPString as UTF-16,
// UniversalString as UTF-32, TeletexString as Latin-1, the rest as UTF-8
// with invalid bytes replaced), so an embedded NUL stays a NUL:
// "C=US, O=Let's Encrypt, CN=R3". Values of a non-string type are written as
// "#" and the hex of their DER. On malformed input it returns what it could
// format and an error.
func FormatName(der []byte) (string, error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return "", errBadName
	}
	var b strings.Builder
	for !seq.Empty() {
		var set cryptobyte.String
		if !seq.ReadASN1(&set, cbasn1.SET) {
			return b.String(), errBadName
		}
		for !set.Empty() {
			var atv, val cryptobyte.String
			var oid asn1.ObjectIdentifier
			var tag cbasn1.Tag
			if !set.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1ObjectIdentifier(&oid) {
				return b.String(), errBadName
			}
			full := atv
			if !atv.ReadAnyASN1(&val, &tag) {
				return b.String(), errBadName
			}
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			key := oid.String()
			if short, ok := attributeShortNames[key]; ok {
				key = short
			}
			b.WriteString(key)
			b.WriteByte('=')
			b.WriteString(attributeValue(tag, val, full))
		}
	}
	return b.String(), nil
}

// attributeValue decodes a DirectoryString-like value from its raw bytes.
func attributeValue(tag cbasn1.Tag, val, full []byte) string {
	switch tag {
	case cbasn1.UTF8String, cbasn1.PrintableString, cbasn1.IA5String, 26 /* VisibleString */, 18 /* NumericString */ :
		return validUTF8(val)
	case cbasn1.T61String:
		r := make([]rune, len(val))
		for i, c := range val {
			r[i] = rune(c)
		}
		return string(r)
	case 30: // BMPString
		u := make([]uint16, 0, len(val)/2)
		for i := 0; i+1 < len(val); i += 2 {
			u = append(u, binary.BigEndian.Uint16(val[i:]))
		}
		s := string(utf16.Decode(u))
		if len(val)%2 != 0 {
			s += "\uFFFD"
		}
		return s
	case 28: // UniversalString
		var b strings.Builder
		for i := 0; i+3 < len(val); i += 4 {
			r := rune(binary.BigEndian.Uint32(val[i:]))
			if !utf8.ValidRune(r) {
				r = utf8.RuneError
			}
			b.WriteRune(r)
		}
		return b.String()
	}
	return "#" + hex.EncodeToString(full)
}

// validUTF8 replaces every byte that is not part of valid UTF-8 by U+FFFD.
func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			sb.WriteRune(utf8.RuneError)
			b = b[1:]
			continue
		}
		sb.WriteRune(r)
		b = b[n:]
	}
	return sb.String()
}

// rawNames returns the DER of the issuer and subject Names of a certificate
// (RFC 5280 §4.1), found by walking the TBSCertificate without parsing the
// rest, so that a certificate crypto/x509 rejects still has names.
func rawNames(der []byte) (issuer, subject []byte, ok bool) {
	in := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, nil, false
	}
	var iss, sub cryptobyte.String
	if !tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!tbs.SkipASN1(cbasn1.INTEGER) ||
		!tbs.SkipASN1(cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&iss, cbasn1.SEQUENCE) ||
		!tbs.SkipASN1(cbasn1.SEQUENCE) ||
		!tbs.ReadASN1Element(&sub, cbasn1.SEQUENCE) {
		return nil, nil, false
	}
	return iss, sub, true
}
