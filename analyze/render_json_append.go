package analyze

import (
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The JSON report's long arrays (events, findings, hosts) are written by
// hand-written appenders: each element appended to a byte slice, indented,
// in one pass and without reflection, the same bytes (RFC 8259) as
// encoding/json's Encoder with SetIndent and SetEscapeHTML(false) writes
// through the types' tags and MarshalJSON methods. A type whose fields no
// longer match what its appender was written for (jsonAppended) is written
// by encoding/json instead, so that a field added to a report struct is
// never silently dropped, and TestJSONAppendersCoverEveryField and
// TestJSONAppendersMatchEncoder fail until the appender and its signature
// are updated.

// jsonNewline is a new line and 80 spaces, deeper than the report's
// indentation goes: a new line indented by n spaces is jsonNewline[:1+n].
const jsonNewline = "\n                                                                                "

// appendJSONNewline appends a new line indented by n spaces.
func appendJSONNewline(b []byte, n int) []byte {
	if n < len(jsonNewline) {
		return append(b, jsonNewline[:1+n]...)
	}
	return append(append(b, '\n'), strings.Repeat(" ", n)...)
}

// jsonSafe and jsonHTMLSafe mark the ASCII bytes encoding/json copies into
// a string as they are: all but the control characters, '"' and '\\', and
// for jsonHTMLSafe (json.Marshal, which escapes HTML) also '<', '>' and '&'.
var jsonSafe, jsonHTMLSafe = func() (safe, html [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		safe[c] = c >= 0x20 && c != '"' && c != '\\'
		html[c] = safe[c] && c != '<' && c != '>' && c != '&'
	}
	return
}()

const jsonHex = "0123456789abcdef"

// appendJSONString appends s as a JSON string (RFC 8259 §7) escaped
// exactly as encoding/json escapes it: '"' and '\\' with a backslash, \b \f \n \r \t,
// other control characters and, when html is set, '<', '>' and '&' as
// \u00XX, U+2028 and U+2029 as \u2028 and \u2029, and every byte that is
// not part of valid UTF-8 as \ufffd.
func appendJSONString(b []byte, s string, html bool) []byte {
	safe := &jsonSafe
	if html {
		safe = &jsonHTMLSafe
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			x := jsonLoad8(s[i:])
			bad := jsonBad8(x)
			if html {
				bad |= jsonHTML8(x)
			}
			if bad == 0 {
				i += 8
				continue
			}
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', jsonHex[c>>4], jsonHex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', jsonHex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonOnes and jsonHighs are the bytes 0x01 and 0x80 in every byte of a word.
const (
	jsonOnes  = 0x0101010101010101
	jsonHighs = 0x8080808080808080
)

// jsonLoad8 reads the first 8 bytes of s as a little-endian word.
func jsonLoad8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// jsonBad8 is non-zero when a byte of x is non-ASCII, a control character,
// '"' or '\\'. The tests are the classic exact ones on a word:
// (x - n*ones) & ^x & highs is non-zero exactly when a byte of x (all below
// 0x80) is below n, and a byte of x^(c*ones) is zero exactly when that byte
// of x is c.
func jsonBad8(x uint64) uint64 {
	return x&jsonHighs | (x-0x20*jsonOnes)&^x&jsonHighs | jsonZero8(x^'"'*jsonOnes) | jsonZero8(x^'\\'*jsonOnes)
}

// jsonHTML8 is non-zero when a byte of x is '<', '>' or '&'.
func jsonHTML8(x uint64) uint64 {
	return jsonZero8(x^'<'*jsonOnes) | jsonZero8(x^'>'*jsonOnes) | jsonZero8(x^'&'*jsonOnes)
}

// jsonZero8 is non-zero when a byte of v is zero.
func jsonZero8(v uint64) uint64 { return (v - jsonOnes) & ^v & jsonHighs }

// jsonObject appends the members of one JSON object.
type jsonObject struct {
	b     []byte
	nl    string // a new line and the members' indentation
	in    int    // indentation of the members
	empty bool   // no member written yet
	html  bool   // strings escaped as json.Marshal escapes them
}

// openJSONObject starts an object whose first line starts where b ends and
// whose closing brace is indented by ind spaces.
func openJSONObject(b []byte, ind int, html bool) jsonObject {
	o := jsonObject{b: append(b, '{'), in: ind + 2, empty: true, html: html}
	if o.in < len(jsonNewline) {
		o.nl = jsonNewline[:1+o.in]
	} else {
		o.nl = "\n" + strings.Repeat(" ", o.in)
	}
	return o
}

// key starts the member name (a tag name: nothing to escape).
func (o *jsonObject) key(name string) {
	b := o.b
	if !o.empty {
		b = append(b, ',')
	}
	o.empty = false
	b = append(b, o.nl...)
	b = append(b, '"')
	b = append(b, name...)
	o.b = append(b, '"', ':', ' ')
}

func (o *jsonObject) str(name, v string) {
	o.key(name)
	o.b = appendJSONString(o.b, v, o.html)
}

func (o *jsonObject) int(name string, v int64) {
	o.key(name)
	o.b = strconv.AppendInt(o.b, v, 10)
}

func (o *jsonObject) uint(name string, v uint64) {
	o.key(name)
	o.b = strconv.AppendUint(o.b, v, 10)
}

func (o *jsonObject) bool(name string, v bool) {
	o.key(name)
	o.b = strconv.AppendBool(o.b, v)
}

func (o *jsonObject) strs(name string, v []string) {
	o.key(name)
	if o.html {
		o.b = appendJSONArray(o.b, v, o.in, appendJSONStringHTMLElem)
	} else {
		o.b = appendJSONArray(o.b, v, o.in, appendJSONStringElem)
	}
}

// close ends the object and returns the bytes.
func (o *jsonObject) close() []byte {
	if !o.empty {
		o.b = appendJSONNewline(o.b, o.in-2)
	}
	return append(o.b, '}')
}

// appendJSONArray appends s as encoding/json indents a slice: null when
// nil, [] when empty, else one element a line, each appended by elem at
// indentation ind+2.
func appendJSONArray[T any](b []byte, s []T, ind int, elem func([]byte, *T, int) []byte) []byte {
	switch {
	case s == nil:
		return append(b, "null"...)
	case len(s) == 0:
		return append(b, "[]"...)
	}
	b = append(b, '[')
	for i := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONNewline(b, ind+2)
		b = elem(b, &s[i], ind+2)
	}
	b = appendJSONNewline(b, ind)
	return append(b, ']')
}

func appendJSONStringElem(b []byte, s *string, _ int) []byte { return appendJSONString(b, *s, false) }

func appendJSONStringHTMLElem(b []byte, s *string, _ int) []byte {
	return appendJSONString(b, *s, true)
}

func appendJSONIntElem(b []byte, n *int, _ int) []byte { return strconv.AppendInt(b, int64(*n), 10) }

// Each appender below appends one value whose first line starts where b
// ends and whose closing line is indented by ind spaces; it writes the
// fields in their declaration order, omitempty as encoding/json judges it.

func appendDNSJSON(b []byte, j *DNSJSON, ind int) []byte {
	o := openJSONObject(b, ind, false)
	o.int("input", int64(j.Input))
	o.int("packet", int64(j.Packet))
	o.str("time", j.Time)
	o.str("client", j.Client)
	o.str("server", j.Server)
	o.str("transport", j.Transport)
	o.uint("id", uint64(j.ID))
	o.str("name", j.Name)
	o.str("type", j.Type)
	if len(j.Retries) > 0 {
		o.key("retries")
		o.b = appendJSONArray(o.b, j.Retries, o.in, appendJSONIntElem)
	}
	o.key("responses")
	o.b = appendJSONArray(o.b, j.Responses, o.in, appendDNSRespJSON)
	if j.ICMP != "" {
		o.str("icmp", j.ICMP)
	}
	if len(j.ICMPs) > 0 {
		o.key("icmp_errors")
		o.b = appendJSONArray(o.b, j.ICMPs, o.in, appendICMPJSON)
	}
	if j.Malformed != "" {
		o.str("malformed", j.Malformed)
	}
	return o.close()
}

func appendDNSRespJSON(b []byte, j *DNSRespJSON, ind int) []byte {
	o := openJSONObject(b, ind, false)
	o.int("packet", int64(j.Packet))
	o.str("time", j.Time)
	o.str("rcode", j.RCode)
	if j.Truncated {
		o.bool("truncated", true)
	}
	o.key("answers")
	o.b = appendJSONArray(o.b, j.Answers, o.in, appendRecordJSON)
	if j.AnswersOmitted != 0 {
		o.int("answers_omitted", int64(j.AnswersOmitted))
	}
	o.uint("ip_ttl", uint64(j.IPTTL))
	if j.IPID != 0 {
		o.uint("ip_id", uint64(j.IPID))
	}
	if j.Malformed != "" {
		o.str("malformed", j.Malformed)
	}
	return o.close()
}

func appendRecordJSON(b []byte, j *RecordJSON, ind int) []byte {
	o := openJSONObject(b, ind, false)
	o.str("name", j.Name)
	o.str("type", j.Type)
	o.uint("ttl", uint64(j.TTL))
	o.str("data", j.Data)
	return o.close()
}

func appendICMPJSON(b []byte, j *ICMPJSON, ind int) []byte {
	o := openJSONObject(b, ind, false)
	o.int("packet", int64(j.Packet))
	o.str("kind", j.Kind)
	o.str("from", j.From)
	o.str("quotes", j.Quotes)
	return o.close()
}

func appendTLSJSON(b []byte, j *TLSJSON, ind int) []byte {
	o := openJSONObject(b, ind, false)
	o.int("input", int64(j.Input))
	o.int("packet", int64(j.Packet))
	o.str("time", j.Time)
	o.str("client", j.Client)
	o.str("server", j.Server)
	if j.Tunnel != "" {
		o.str("tunnel", j.Tunnel)
	}
	o.str("sni", j.SNI)
	o.strs("client_versions", j.ClientVersions)
	o.strs("client_alpn", j.ClientALPN)
	if len(j.ClientGroups) > 0 {
		o.strs("client_key_shares", j.ClientGroups)
	}
	o.str("ja4", j.JA4)
	o.str("version", j.Version)
	o.str("cipher", j.Cipher)
	if j.KeyShare != "" {
		o.str("key_share", j.KeyShare)
	}
	if j.HelloRetry {
		o.bool("hello_retry_request", true)
	}
	o.str("server_alpn", j.ServerALPN)
	o.bool("decrypted", j.Decrypted)
	o.key("certificates")
	o.b = appendJSONArray(o.b, j.Certificates, o.in, appendCertJSON)
	o.key("alerts")
	o.b = appendJSONArray(o.b, j.Alerts, o.in, appendAlertJSON)
	if len(j.Notes) > 0 {
		o.strs("notes", j.Notes)
	}
	if len(j.ClientCertCompression) > 0 {
		o.strs("client_cert_compression", j.ClientCertCompression)
	}
	if j.CertCompression != "" {
		o.str("cert_compression", j.CertCompression)
	}
	if len(j.HelloNotes) > 0 {
		o.strs("hello_notes", j.HelloNotes)
	}
	if len(j.Errors) > 0 {
		o.strs("errors", j.Errors)
	}
	return o.close()
}

func appendCertJSON(b []byte, j *CertJSON, ind int) []byte {
	o := openJSONObject(b, ind, false)
	o.str("subject", j.Subject)
	o.str("issuer", j.Issuer)
	o.strs("dns_names", j.DNSNames)
	o.str("not_before", j.NotBefore)
	o.str("not_after", j.NotAfter)
	o.str("sha256", j.SHA256)
	if j.Error != "" {
		o.str("error", j.Error)
	}
	return o.close()
}

func appendAlertJSON(b []byte, j *AlertJSON, ind int) []byte {
	o := openJSONObject(b, ind, false)
	o.int("packet", int64(j.Packet))
	o.str("from", j.From)
	o.str("level", j.Level)
	o.str("description", j.Description)
	o.bool("encrypted", j.Encrypted)
	return o.close()
}

func appendTCPJSON(b []byte, j *TCPJSON, ind int) []byte {
	o := openJSONObject(b, ind, false)
	o.int("input", int64(j.Input))
	o.int("packet", int64(j.Packet))
	o.str("time", j.Time)
	o.str("client", j.Client)
	o.str("server", j.Server)
	if j.App != "" {
		o.str("app", j.App)
	}
	o.int("syns", int64(j.SYNs))
	if j.SYNACK != 0 {
		o.int("synack", int64(j.SYNACK))
	}
	if len(j.Resets) > 0 {
		o.strs("resets", j.Resets)
	}
	o.int("client_bytes", j.ClientBytes)
	o.int("server_bytes", j.ServerBytes)
	return o.close()
}

func appendTunnelJSON(b []byte, j *TunnelJSON, ind int) []byte {
	o := openJSONObject(b, ind, false)
	o.int("input", int64(j.Input))
	o.int("packet", int64(j.Packet))
	o.str("kind", j.Kind)
	o.str("client", j.Client)
	o.str("proxy", j.Proxy)
	o.str("target", j.Target)
	o.int("status", int64(j.Status))
	if j.StatusLine != "" {
		o.str("status_line", j.StatusLine)
	}
	if j.AuthRealm != "" {
		o.str("auth_realm", j.AuthRealm)
	}
	o.bool("established", j.Established)
	return o.close()
}

func appendHTTPJSON(b []byte, j *HTTPJSON, ind int) []byte {
	o := openJSONObject(b, ind, false)
	o.int("input", int64(j.Input))
	o.int("packet", int64(j.Packet))
	o.str("time", j.Time)
	if j.ResponsePacket != 0 {
		o.int("response_packet", int64(j.ResponsePacket))
	}
	if j.ResponseTime != "" {
		o.str("response_time", j.ResponseTime)
	}
	o.str("host", j.Host)
	o.str("method", j.Method)
	o.str("path", j.Path)
	o.str("proto", j.Proto)
	o.int("status", int64(j.Status))
	optStr := func(name, v string) {
		if v != "" {
			o.str(name, v)
		}
	}
	optStr("goaway", j.GoAway)
	if j.StreamID != 0 {
		o.uint("stream_id", uint64(j.StreamID))
	}
	optStr("reset", j.Reset)
	if j.ResetFromClient {
		o.bool("reset_from_client", true)
	}
	if j.ResetPacket != 0 {
		o.int("reset_packet", int64(j.ResetPacket))
	}
	optStr("content_type", j.ContentType)
	if j.ContentLength != nil {
		o.int("content_length", *j.ContentLength)
	}
	if j.BodyBytes != 0 {
		o.int("body_bytes", j.BodyBytes)
	}
	if j.BodyComplete {
		o.bool("body_complete", true)
	}
	optStr("truncated", j.Truncated)
	optStr("title", j.Title)
	optStr("first_line", j.FirstLine)
	optStr("retry_after", j.RetryAfter)
	optStr("location", j.Location)
	optStr("date", j.Date)
	optStr("malformed", j.Malformed)
	return o.close()
}

// appendFinding writes a finding as the Encoder does: its own strings
// unescaped, its severity and evidence through their MarshalJSON, which
// json.Marshal escapes HTML in.
func appendFinding(b []byte, f *Finding, ind int) []byte { return appendFindingIn(b, f, ind, nil) }

// appendFindingIn is appendFinding with the texts it builds and the
// evidence times from sc.
func appendFindingIn(b []byte, f *Finding, ind int, sc *jsonScratch) []byte {
	if f.text != nil {
		g := f.withTextIn(sc)
		f = &g
	}
	o := openJSONObject(b, ind, false)
	o.str("id", f.ID)
	o.key("severity")
	o.b = appendJSONString(o.b, f.Severity.String(), true)
	o.str("layer", f.Layer)
	o.str("host", f.Host)
	o.str("summary", f.Summary)
	o.str("expected", f.Expected)
	o.str("observed", f.Observed)
	o.key("evidence")
	o.b = appendJSONArray(o.b, f.Evidence, o.in, func(b []byte, e *Evidence, ind int) []byte {
		j := e.jsonFormIn(sc)
		return appendEvidenceJSON(b, &j, ind)
	})
	o.str("wireshark_filter", f.WiresharkFilter)
	o.str("hint", f.Hint)
	return o.close()
}

func appendEvidence(b []byte, e *Evidence, ind int) []byte {
	j := e.jsonForm()
	return appendEvidenceJSON(b, &j, ind)
}

func appendEvidenceJSON(b []byte, j *evidenceJSON, ind int) []byte {
	o := openJSONObject(b, ind, true)
	o.int("input", int64(j.Input))
	o.int("packet", int64(j.Packet))
	o.str("time", j.Time)
	o.str("detail", j.Detail)
	return o.close()
}

// appendHost writes a host as its MarshalJSON (json.Marshal, HTML escaped)
// indented: jsonForm's fields, without building its verdict line and
// address strings (tens of thousands of hosts in a dense capture).
func appendHost(b []byte, h *Host, ind int) []byte { return appendHostIn(b, h, ind, nil) }

// appendHostIn is appendHost with the layers' words from sc.
func appendHostIn(b []byte, h *Host, ind int, sc *jsonScratch) []byte {
	dns, tls, icpt := h.DNS.textIn(sc), h.TLS.textIn(sc), h.interceptionTextIn(sc)
	o := openJSONObject(b, ind, true)
	o.str("name", h.Name)
	o.str("role", h.Role)
	o.key("verdict")
	// verdictLine's string, escaped piece by piece: the separator starts
	// and ends with a space, so no piece's escaping depends on the bytes
	// of its neighbours.
	o.b = append(o.b, '"')
	o.b = appendJSONStringPart(o.b, dns)
	o.b = append(o.b, " · "...)
	o.b = appendJSONStringPart(o.b, tls)
	if icpt != "" {
		o.b = append(o.b, " · "...)
		o.b = appendJSONStringPart(o.b, icpt)
	}
	o.b = append(o.b, '"')
	o.key("layers")
	o.b = appendLayersJSON(o.b, &layersJSON{DNS: dns, TLS: tls, Interception: icpt}, o.in)
	if len(h.Addrs) > 0 {
		o.key("addresses")
		o.b = appendJSONArray(o.b, h.Addrs, o.in, appendAddrJSON)
	}
	return o.close()
}

// appendJSONStringPart appends s escaped as json.Marshal escapes it,
// without quotes: part of a string whose other parts meet it at ASCII
// characters.
func appendJSONStringPart(b []byte, s string) []byte {
	n := len(b)
	b = appendJSONString(b, s, true)
	copy(b[n:], b[n+1:len(b)-1])
	return b[:len(b)-2]
}

// appendAddrJSON appends an address as json.Marshal writes its string:
// only a zone can hold characters to escape, and only String words the
// zero Addr.
func appendAddrJSON(b []byte, a *netip.Addr, _ int) []byte {
	if a.Zone() != "" || !a.IsValid() {
		return appendJSONString(b, a.String(), true)
	}
	b = append(b, '"')
	b = a.AppendTo(b)
	return append(b, '"')
}

func appendHostJSON(b []byte, j *hostJSON, ind int) []byte {
	o := openJSONObject(b, ind, true)
	o.str("name", j.Name)
	o.str("role", j.Role)
	o.str("verdict", j.Verdict)
	if j.Layers != nil {
		o.key("layers")
		o.b = appendLayersJSON(o.b, j.Layers, o.in)
	}
	if len(j.Addrs) > 0 {
		o.strs("addresses", j.Addrs)
	}
	return o.close()
}

func appendLayersJSON(b []byte, j *layersJSON, ind int) []byte {
	o := openJSONObject(b, ind, true)
	o.str("dns", j.DNS)
	o.str("tls", j.TLS)
	o.str("interception", j.Interception)
	return o.close()
}

// jsonAppended are the types the appenders write, with the signature
// (jsonSignature) of the fields each appender was written for, and the
// types it writes nested.
var jsonAppended = map[reflect.Type]struct {
	signature string
	nested    []reflect.Type
}{
	reflect.TypeFor[DNSJSON]():      {"input int;packet int;time string;client string;server string;transport string;id uint16;name string;type string;retries,omitempty []int;responses []analyze.DNSRespJSON;icmp,omitempty string;icmp_errors,omitempty []analyze.ICMPJSON;malformed,omitempty string", []reflect.Type{reflect.TypeFor[DNSRespJSON](), reflect.TypeFor[ICMPJSON]()}},
	reflect.TypeFor[DNSRespJSON]():  {"packet int;time string;rcode string;truncated,omitempty bool;answers []analyze.RecordJSON;answers_omitted,omitempty int;ip_ttl uint8;ip_id,omitempty uint16;malformed,omitempty string", []reflect.Type{reflect.TypeFor[RecordJSON]()}},
	reflect.TypeFor[RecordJSON]():   {"name string;type string;ttl uint32;data string", nil},
	reflect.TypeFor[ICMPJSON]():     {"packet int;kind string;from string;quotes string", nil},
	reflect.TypeFor[TLSJSON]():      {"input int;packet int;time string;client string;server string;tunnel,omitempty string;sni string;client_versions []string;client_alpn []string;client_key_shares,omitempty []string;ja4 string;version string;cipher string;key_share,omitempty string;hello_retry_request,omitempty bool;server_alpn string;decrypted bool;certificates []analyze.CertJSON;alerts []analyze.AlertJSON;notes,omitempty []string;client_cert_compression,omitempty []string;cert_compression,omitempty string;hello_notes,omitempty []string;errors,omitempty []string", []reflect.Type{reflect.TypeFor[CertJSON](), reflect.TypeFor[AlertJSON]()}},
	reflect.TypeFor[CertJSON]():     {"subject string;issuer string;dns_names []string;not_before string;not_after string;sha256 string;error,omitempty string", nil},
	reflect.TypeFor[AlertJSON]():    {"packet int;from string;level string;description string;encrypted bool", nil},
	reflect.TypeFor[TCPJSON]():      {"input int;packet int;time string;client string;server string;app,omitempty string;syns int;synack,omitempty int;resets,omitempty []string;client_bytes int64;server_bytes int64", nil},
	reflect.TypeFor[TunnelJSON]():   {"input int;packet int;kind string;client string;proxy string;target string;status int;status_line,omitempty string;auth_realm,omitempty string;established bool", nil},
	reflect.TypeFor[HTTPJSON]():     {"input int;packet int;time string;response_packet,omitempty int;response_time,omitempty string;host string;method string;path string;proto string;status int;goaway,omitempty string;stream_id,omitempty uint32;reset,omitempty string;reset_from_client,omitempty bool;reset_packet,omitempty int;content_type,omitempty string;content_length,omitempty *int64;body_bytes,omitempty int64;body_complete,omitempty bool;truncated,omitempty string;title,omitempty string;first_line,omitempty string;retry_after,omitempty string;location,omitempty string;date,omitempty string;malformed,omitempty string", nil},
	reflect.TypeFor[Finding]():      {"id string;severity analyze.Severity;layer string;host string;summary string;expected string;observed string;evidence []analyze.Evidence;wireshark_filter string;hint string", []reflect.Type{reflect.TypeFor[evidenceJSON]()}},
	reflect.TypeFor[evidenceJSON](): {"input int;packet int;time string;detail string", nil},
	reflect.TypeFor[hostJSON]():     {"name string;role string;verdict string;layers,omitempty *analyze.layersJSON;addresses,omitempty []string", []reflect.Type{reflect.TypeFor[layersJSON]()}},
	reflect.TypeFor[layersJSON]():   {"dns string;tls string;interception string", nil},
}

// jsonSignature lists a struct's fields as encoding/json sees them: the
// json tag and the Go type of each, ";"-separated.
func jsonSignature(t reflect.Type) string {
	var parts []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue // encoding/json does not see it
		}
		tag, ok := f.Tag.Lookup("json")
		if !ok {
			tag = f.Name
		}
		parts = append(parts, tag+" "+f.Type.String())
	}
	return strings.Join(parts, ";")
}

// jsonAppendable reports whether t and the types it nests still have the
// fields their appenders write.
func jsonAppendable(t reflect.Type) bool {
	a, ok := jsonAppended[t]
	if !ok || jsonSignature(t) != a.signature {
		return false
	}
	for _, n := range a.nested {
		if !jsonAppendable(n) {
			return false
		}
	}
	return true
}

// jsonFastTypes says, for each element type of the report's long arrays,
// whether its appender may write it.
type jsonFastTypes struct {
	dns, tls, tcp, tunnel, http, finding, host bool
}

// jsonFast is jsonFastTypes judged once, by jsonAppendable.
var jsonFast = jsonFastTypes{
	dns:     jsonAppendable(reflect.TypeFor[DNSJSON]()),
	tls:     jsonAppendable(reflect.TypeFor[TLSJSON]()),
	tcp:     jsonAppendable(reflect.TypeFor[TCPJSON]()),
	tunnel:  jsonAppendable(reflect.TypeFor[TunnelJSON]()),
	http:    jsonAppendable(reflect.TypeFor[HTTPJSON]()),
	finding: jsonAppendable(reflect.TypeFor[Finding]()),
	host:    jsonAppendable(reflect.TypeFor[hostJSON]()),
}

// arrayElem appends element i of an array, its first line where b ends and
// its other lines indented by in (spaces, as everything renderJSON writes).
// e is the calling goroutine's encoder, for the elements encoding/json writes.
type arrayElem func(e *elemEncoder, b []byte, i int, in string) ([]byte, error)

// appendedElem returns the arrayElem of element i given by get: written by
// app when fast, else by encoding/json.
func appendedElem[T any](fast bool, app func([]byte, *T, int) []byte, get func(int) T) arrayElem {
	if fast {
		return func(_ *elemEncoder, b []byte, i int, in string) ([]byte, error) {
			v := get(i)
			return app(b, &v, len(in)), nil
		}
	}
	return func(e *elemEncoder, b []byte, i int, in string) ([]byte, error) {
		enc, err := e.indented(reflect.ValueOf(get(i)), in)
		return append(b, enc...), err
	}
}

// sliceElem returns the arrayElem of a slice the appenders may write,
// else ok false.
func sliceElem(v reflect.Value) (elem arrayElem, ok bool) {
	if !v.CanInterface() {
		return nil, false
	}
	switch s := v.Interface().(type) {
	case []DNSJSON:
		return sliceAppender(jsonFast.dns, s, appendDNSJSON), true
	case []TLSJSON:
		return sliceAppender(jsonFast.tls, s, appendTLSJSON), true
	case []TCPJSON:
		return sliceAppender(jsonFast.tcp, s, appendTCPJSON), true
	case []TunnelJSON:
		return sliceAppender(jsonFast.tunnel, s, appendTunnelJSON), true
	case []HTTPJSON:
		return sliceAppender(jsonFast.http, s, appendHTTPJSON), true
	case []Finding:
		if !jsonFast.finding {
			// encoding/json reads the fields: build the texts first.
			return func(e *elemEncoder, b []byte, i int, in string) ([]byte, error) {
				enc, err := e.indented(reflect.ValueOf(s[i].withText()), in)
				return append(b, enc...), err
			}, true
		}
		return func(e *elemEncoder, b []byte, i int, in string) ([]byte, error) {
			e.scratch.begin()
			return appendFindingIn(b, &s[i], len(in), &e.scratch), nil
		}, true
	case []Host:
		if !jsonFast.host {
			return sliceAppender(false, s, appendHost), true
		}
		return func(e *elemEncoder, b []byte, i int, in string) ([]byte, error) {
			e.scratch.begin()
			return appendHostIn(b, &s[i], len(in), &e.scratch), nil
		}, true
	}
	return nil, false
}

// sliceAppender is the arrayElem of s's elements: app when fast, else
// encoding/json.
func sliceAppender[T any](fast bool, s []T, app func([]byte, *T, int) []byte) arrayElem {
	if fast {
		return func(_ *elemEncoder, b []byte, i int, in string) ([]byte, error) {
			return app(b, &s[i], len(in)), nil
		}
	}
	return func(e *elemEncoder, b []byte, i int, in string) ([]byte, error) {
		enc, err := e.indented(reflect.ValueOf(&s[i]).Elem(), in)
		return append(b, enc...), err
	}
}
