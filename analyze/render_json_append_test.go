package analyze

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/pipeline"
)

// trickyStrings are the strings every appender is tried with: each of
// encoding/json's escapes (quote, backslash, \b \f \n \r \t, other control
// characters, DEL kept), HTML characters (escaped only where json.Marshal
// wrote them), U+2028 and U+2029, invalid UTF-8 (a stray continuation byte,
// a truncated sequence, a surrogate, an overlong form), a valid U+FFFD and
// non-ASCII text.
var trickyStrings = []string{
	"proxy.golang.org",
	`say "hi" \ back\\slash\`,
	"ctl \x00\x01\b\f\n\r\t\x1b\x1f\x7f end",
	"<b>a & b</b> -> x<y",
	"line\u2028sep\u2029para",
	"bad \xff\xfe utf8 \xe2\x80 cut \xed\xa0\x80 surrogate \xc0\xaf overlong",
	"é 日本語 🙂 \ufffd kept",
	"\xe2\x80",
	"a",
}

// jsonFill sets values of the report's types for the appender tests:
// every field set (fillFull), every field zero (fillZero: nil slices and
// pointers), slices empty but not nil (fillEmpty), or each choice taken
// from fuzz input (fillFuzz).
type jsonFill struct {
	mode fillMode
	data []byte // fillFuzz's input
	n    int    // values set so far, to rotate through the choices
}

type fillMode int

const (
	fillFull fillMode = iota
	fillZero
	fillEmpty
	fillFuzz
)

func (f *jsonFill) byte() byte {
	if len(f.data) == 0 {
		return 0
	}
	b := f.data[0]
	f.data = f.data[1:]
	return b
}

func (f *jsonFill) str() string {
	f.n++
	switch f.mode {
	case fillFull:
		return trickyStrings[f.n%len(trickyStrings)]
	case fillFuzz:
		b := f.byte()
		if b >= 0xe0 {
			return trickyStrings[int(b)%len(trickyStrings)]
		}
		n := min(int(b)%32, len(f.data))
		s := string(f.data[:n])
		f.data = f.data[n:]
		return s
	}
	return ""
}

func (f *jsonFill) uint64() uint64 {
	f.n++
	switch f.mode {
	case fillFull:
		return []uint64{1, 7, 255, 65535, 1<<32 - 1, 1 << 40, 1<<63 - 1, 1<<64 - 1}[f.n%8]
	case fillFuzz:
		var b [8]byte
		copy(b[:int(f.byte())%9], f.data)
		f.data = f.data[min(len(f.data), int(b[0])%9):]
		return binary.LittleEndian.Uint64(b[:])
	}
	return 0
}

func (f *jsonFill) int64() int64 {
	v := int64(f.uint64())
	if f.mode == fillFull && f.n%3 == 0 {
		v = -v
	}
	return v
}

// count is a slice's length, -1 for nil, or whether a pointer is set (>0).
func (f *jsonFill) count() int {
	switch f.mode {
	case fillFull:
		return 2
	case fillZero:
		return -1
	case fillEmpty:
		return 0
	}
	return int(f.byte()%5) - 1
}

var refType = reflect.TypeFor[capture.Ref]()

// fill sets v, and whatever it holds, as f's mode says.
func (f *jsonFill) fill(v reflect.Value) {
	if v.Type() == refType {
		if f.mode == fillZero || f.mode == fillEmpty {
			v.Set(reflect.Zero(refType))
			return
		}
		t := time.Unix(int64(f.uint64()%(1<<34)), int64(f.uint64()%1e9))
		v.Set(reflect.ValueOf(capture.NewRef(int(f.uint64()%8), int(f.uint64()%(1<<31)), t)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(f.str())
	case reflect.Bool:
		v.SetBool(f.mode == fillFull || f.mode == fillFuzz && f.byte()&1 == 1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(f.int64())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(f.uint64())
	case reflect.Pointer:
		if f.count() > 0 {
			p := reflect.New(v.Type().Elem())
			f.fill(p.Elem())
			v.Set(p)
		}
	case reflect.Slice:
		if n := f.count(); n >= 0 {
			s := reflect.MakeSlice(v.Type(), n, n)
			for i := range n {
				f.fill(s.Index(i))
			}
			v.Set(s)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i))
			}
		}
	default:
		panic(fmt.Sprintf("jsonFill: no values for %s: teach the appenders and this filler the kind", v.Type()))
	}
}

// encoderJSON is v as encoding/json's Encoder writes it inside the report:
// SetEscapeHTML(false), indented under prefix, without the final new line.
func encoderJSON(t testing.TB, v any, prefix string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// marshalJSON is v as json.Marshal writes it (HTML escaped), indented
// under prefix: what a MarshalJSON returning it puts in the report.
func marshalJSON(t testing.TB, v any, prefix string) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, prefix, "  "); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// appenderCase is one appender and the encoding/json path it stands for.
type appenderCase struct {
	typ reflect.Type
	// check fills a value of typ with f, writes it with the appender at
	// indentation ind and with encoding/json, and returns both.
	check func(t testing.TB, f *jsonFill, ind int) (got, want []byte, v any)
}

func appenderCaseOf[T any](app func([]byte, *T, int) []byte, want func(testing.TB, any, string) []byte) appenderCase {
	return appenderCase{typ: reflect.TypeFor[T](), check: func(t testing.TB, f *jsonFill, ind int) ([]byte, []byte, any) {
		var v T
		f.fill(reflect.ValueOf(&v).Elem())
		got := app([]byte("x"), &v, ind)[1:]
		return got, want(t, v, strings.Repeat(" ", ind)), v
	}}
}

// appenderCases are every appender: the events and findings against the
// Encoder (which calls Severity's and Evidence's MarshalJSON), the forms
// of Host and Evidence against json.Marshal.
var appenderCases = []appenderCase{
	appenderCaseOf(appendDNSJSON, encoderJSON),
	appenderCaseOf(appendDNSRespJSON, encoderJSON),
	appenderCaseOf(appendRecordJSON, encoderJSON),
	appenderCaseOf(appendICMPJSON, encoderJSON),
	appenderCaseOf(appendTLSJSON, encoderJSON),
	appenderCaseOf(appendCertJSON, encoderJSON),
	appenderCaseOf(appendAlertJSON, encoderJSON),
	appenderCaseOf(appendTCPJSON, encoderJSON),
	appenderCaseOf(appendTunnelJSON, encoderJSON),
	appenderCaseOf(appendHTTPJSON, encoderJSON),
	appenderCaseOf(appendFinding, encoderJSON),
	appenderCaseOf(appendEvidence, encoderJSON),
	appenderCaseOf(appendEvidenceJSON, marshalJSON),
	appenderCaseOf(appendHostJSON, marshalJSON),
	appenderCaseOf(appendLayersJSON, marshalJSON),
}

// TestJSONAppendersMatchEncoder writes every appended type with every
// field set, every field zero and every slice empty, at the indentations
// the report uses, and wants encoding/json's bytes. A field added to one
// of these structs is set here too, so the test fails until its appender
// writes it.
func TestJSONAppendersMatchEncoder(t *testing.T) {
	modes := map[string]fillMode{"every field set": fillFull, "every field zero": fillZero, "slices empty": fillEmpty}
	for _, c := range appenderCases {
		for name, mode := range modes {
			for _, ind := range []int{0, 6, 100} {
				t.Run(fmt.Sprintf("%s/%s/indent %d", c.typ.Name(), name, ind), func(t *testing.T) {
					for start := range len(trickyStrings) {
						f := &jsonFill{mode: mode, n: start}
						got, want, v := c.check(t, f, ind)
						if !bytes.Equal(got, want) {
							t.Fatalf("%+v\n got: %s\nwant: %s", v, got, want)
						}
					}
				})
			}
		}
	}
}

// TestJSONAppendersCoverEveryField wants every appended type's fields to be
// the ones its appender was written for: otherwise renderJSON writes the
// type with encoding/json (correct, slower) until the appender and its
// signature in jsonAppended are updated.
func TestJSONAppendersCoverEveryField(t *testing.T) {
	for typ, a := range jsonAppended {
		if got := jsonSignature(typ); got != a.signature {
			t.Errorf("%s has fields its appender was not written for; update it and its signature:\n%q", typ, got)
		}
	}
	for _, c := range appenderCases {
		if _, ok := jsonAppended[c.typ]; !ok && c.typ != reflect.TypeFor[Evidence]() {
			t.Errorf("%s has an appender but no signature in jsonAppended", c.typ)
		}
	}
	if want := (jsonFastTypes{true, true, true, true, true, true, true}); jsonFast != want {
		t.Errorf("some types fall back to encoding/json: %+v", jsonFast)
	}
}

// TestJSONSignatureSeesNewFields checks the guard itself: a struct with a
// field more than the signature says is not appendable.
func TestJSONSignatureSeesNewFields(t *testing.T) {
	type grown struct {
		Packet int    `json:"packet"`
		From   string `json:"from"`
		Extra  string `json:"extra,omitempty"`
		hidden int
	}
	_ = grown{}.hidden
	if got, want := jsonSignature(reflect.TypeFor[grown]()), "packet int;from string;extra,omitempty string"; got != want {
		t.Fatalf("signature %q, want %q", got, want)
	}
	typ := reflect.TypeFor[grown]()
	jsonAppended[typ] = struct {
		signature string
		nested    []reflect.Type
	}{"packet int;from string", nil}
	defer delete(jsonAppended, typ)
	if jsonAppendable(typ) {
		t.Fatal("a struct with a field its appender does not write is appendable")
	}
}

// TestJSONStringMatchesEncodingJSON compares appendJSONString with
// encoding/json on every byte value alone and in context, with and without
// HTML escaping.
func TestJSONStringMatchesEncodingJSON(t *testing.T) {
	inputs := append([]string{}, trickyStrings...)
	for c := range 256 {
		inputs = append(inputs, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"b")
	}
	for c := range 256 {
		for pos := range 17 {
			inputs = append(inputs, strings.Repeat("x", pos)+string([]byte{byte(c)})+strings.Repeat("y", 16-pos))
		}
	}
	for _, r := range []rune{0x80, 0x7ff, 0x800, 0x2027, 0x2028, 0x2029, 0x202a, 0xfffd, 0xffff, 0x10000, 0x10ffff} {
		inputs = append(inputs, string(r), "x"+string(r)+"y")
	}
	for _, s := range inputs {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		if got, want := appendJSONString(nil, s, false), bytes.TrimSuffix(buf.Bytes(), []byte("\n")); !bytes.Equal(got, want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s, true); !bytes.Equal(got, want) {
			t.Errorf("appendJSONString(%q, html) = %s, want %s", s, got, want)
		}
	}
}

// jsonPlain8 is appendJSONString's test of 8 bytes: whether it copies
// them as they are.
func jsonPlain8(s string, html bool) bool {
	x := jsonLoad8(s)
	bad := jsonBad8(x)
	if html {
		bad |= jsonHTML8(x)
	}
	return bad == 0
}

// TestJSONPlain8IsTheByteTable compares the word-at-a-time test with the
// byte tables: every byte value at every position of a plain word, and
// random words.
func TestJSONPlain8IsTheByteTable(t *testing.T) {
	table := func(w []byte, html bool) bool {
		for _, c := range w {
			if c >= utf8.RuneSelf || html && !jsonHTMLSafe[c] || !html && !jsonSafe[c] {
				return false
			}
		}
		return true
	}
	check := func(w []byte) {
		for _, html := range []bool{false, true} {
			if got, want := jsonPlain8(string(w), html), table(w, html); got != want {
				t.Fatalf("jsonPlain8(%q, %v) = %v, want %v", w, html, got, want)
			}
		}
	}
	for pos := range 8 {
		for c := range 256 {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			check(w)
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 200000 {
		var w [8]byte
		for i := range w {
			w[i] = byte(r.IntN(256))
			if r.IntN(2) == 0 {
				w[i] = byte(0x20 + r.IntN(0x60)) // mostly plain ASCII
			}
		}
		check(w[:])
	}
}

// testHosts are hosts whose verdicts word tricky strings: failed layers
// name their findings' summaries, addresses carry zones.
func testHosts() []Host {
	var hs []Host
	for i, s := range trickyStrings {
		f := &Finding{Layer: s, Summary: trickyStrings[(i+1)%len(trickyStrings)]}
		h := Host{Name: s, Role: trickyStrings[(i+2)%len(trickyStrings)]}
		switch i % 3 {
		case 0:
			h.Addrs = []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("fe80::1").WithZone("eth<0>&"),
				netip.MustParseAddr("::ffff:192.0.2.2"), netip.MustParseAddr("2001:db8::1"), {}}
			h.DNS.State, h.DNS.Finding = Failed, f
		case 1:
			h.TLS.State, h.TLS.Finding = Failed, f
			h.Interception.State, h.Interception.Finding = Failed, f
		case 2:
			h.Addrs = []netip.Addr{}
			h.DNS.Asked = true
			h.TLS.Sessions = 3
		}
		hs = append(hs, h)
	}
	return hs
}

// TestJSONHostsMatchEncoder writes hosts (through their worded verdicts)
// with appendHost and with their MarshalJSON through the Encoder.
func TestJSONHostsMatchEncoder(t *testing.T) {
	for _, h := range testHosts() {
		got := appendHost(nil, &h, 4)
		if want := encoderJSON(t, h, "    "); !bytes.Equal(got, want) {
			t.Errorf("host %q:\n got: %s\nwant: %s", h.Name, got, want)
		}
	}
}

// withoutAppenders runs fn with every type written by encoding/json, as
// renderJSON wrote the report before the appenders (and still does for a
// type whose fields changed).
func withoutAppenders(fn func()) {
	saved := jsonFast
	jsonFast = jsonFastTypes{}
	defer func() { jsonFast = saved }()
	fn()
}

// TestAppendedReportIsEncoderReport renders the sample captures' reports,
// events streamed and built, sequentially and in parallel batches, with the
// appenders and with encoding/json alone, and wants the same bytes.
func TestAppendedReportIsEncoderReport(t *testing.T) {
	paths, _ := filepath.Glob("../samples/*.pcapng")
	if len(paths) < 10 {
		t.Fatalf("%d sample captures found", len(paths))
	}
	render := func(rep *Report) []byte {
		var b bytes.Buffer
		if err := renderJSON(&b, rep); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for _, path := range paths {
		in, err := pipeline.Open(0, path, nil, decode.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, stream := range []bool{false, true} {
			rep := Build([]*Input{in}, Options{StreamEvents: stream})
			var want []byte
			withoutAppenders(func() { want = render(rep) })
			if got := render(rep); !bytes.Equal(got, want) {
				t.Errorf("%s (streamed %v): appended JSON differs from encoding/json's", filepath.Base(path), stream)
			}
			func() {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
				batch, least := arrayBatch, arrayParallelMin
				arrayBatch, arrayParallelMin = 2, 2
				defer func() { arrayBatch, arrayParallelMin = batch, least }()
				if got := render(rep); !bytes.Equal(got, want) {
					t.Errorf("%s (streamed %v, parallel): appended JSON differs from encoding/json's", filepath.Base(path), stream)
				}
			}()
		}
	}
}

// fuzzReport builds a report of every appended type from fuzz input.
func fuzzReport(f *jsonFill) *Report {
	rep := &Report{Schema: Schema}
	f.fill(reflect.ValueOf(&rep.Inputs).Elem())
	f.fill(reflect.ValueOf(&rep.Findings).Elem())
	f.fill(reflect.ValueOf(&rep.Events).Elem())
	hosts := testHosts()
	for i := range int(f.byte() % 4) {
		h := hosts[i%len(hosts)]
		h.Name, h.Role = f.str(), f.str()
		rep.Hosts = append(rep.Hosts, h)
	}
	return rep
}

// FuzzReportJSON writes values of every appended type, and whole reports,
// built from fuzz input, with the appenders and with encoding/json, and
// wants the same bytes.
//
//	go test ./analyze -run '^$' -fuzz FuzzReportJSON -fuzztime 2m
func FuzzReportJSON(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x01\x02\x03\x04\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8\x05abcde\x03\xff\xfe<\x08\x01\x02\x03\x04\x05\x06\x07\x08"))
	f.Add(bytes.Repeat([]byte{0x03, 0xe2, 0x80, 0xa8, 0xe4}, 40))
	f.Add(bytes.Repeat([]byte("\x02\x09\"\\\n<&>\x7f\xc3"), 30))
	f.Fuzz(func(t *testing.T, data []byte) {
		for i, c := range appenderCases {
			fill := &jsonFill{mode: fillFuzz, data: data, n: i}
			got, want, v := c.check(t, fill, 2*int(fill.byte()%8))
			if !bytes.Equal(got, want) {
				t.Fatalf("%s %+v\n got: %s\nwant: %s", c.typ, v, got, want)
			}
		}
		rep := fuzzReport(&jsonFill{mode: fillFuzz, data: data})
		var got bytes.Buffer
		if err := renderJSON(&got, rep); err != nil {
			t.Fatal(err)
		}
		if want := append(encoderJSON(t, rep, ""), '\n'); !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("report:\n got: %s\nwant: %s", got.Bytes(), want)
		}
	})
}
