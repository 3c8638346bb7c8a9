package analyze

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/modsniff/modsniff/decode"
)

// renderJSON writes the report as indented JSON (RFC 8259), the same bytes
// as encoding/json's Encoder with SetIndent("", "  ") and SetEscapeHTML(false)
// would, but as a stream: the report and its events object are walked field
// by field, and every element of their arrays is encoded on its own and
// written out before the next, so no whole-document buffer and no re-indent
// pass of the whole document exist (a 1 GB capture's report is tens of MB).
// The elements of the long arrays (events, findings, hosts) are appended,
// already indented, by the appenders of render_json_append.go; any other
// value is encoded by encoding/json.
func renderJSON(w io.Writer, rep *Report) error {
	jw := &jsonStream{w: bufio.NewWriterSize(w, 64<<10), lazy: rep.lazy, elem: newElemEncoder()}
	jw.object(reflect.ValueOf(rep).Elem(), "")
	jw.w.WriteString("\n")
	if jw.err != nil {
		return jw.err
	}
	return jw.w.Flush()
}

// jsonStream is the state of renderJSON.
type jsonStream struct {
	w    *bufio.Writer
	elem *elemEncoder
	buf  []byte // the element being written, in sequential arrays
	// free holds the batch buffers of parallel arrays for reuse.
	free chan []byte
	err  error
	// lazy are the decoded events written in place of Report.Events.
	lazy *decode.Events
}

// elemEncoder encodes one value at a time with encoding/json, its buffers
// reused from value to value.
type elemEncoder struct {
	buf bytes.Buffer // compact encoding of the value being written
	out []byte       // buf indented
	enc *json.Encoder
	// scratch holds the lists of the events the calling goroutine
	// converts and writes one at a time.
	scratch jsonScratch
}

func newElemEncoder() *elemEncoder {
	e := &elemEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false) // and no indent: appendIndent indents
	return e
}

// indented returns v encoded and indented under prefix: the compact
// encoding re-indented by appendIndent, the bytes an Encoder with
// SetIndent(prefix, "  ") writes, without its final new line. The result
// is valid until the next call.
func (e *elemEncoder) indented(v reflect.Value, prefix string) ([]byte, error) {
	var compact []byte
	if selfMarshaled[v.Type()] {
		// What the Encoder would do with the method's output (compact
		// it, then indent) in one pass: appendIndent drops the same
		// white space compacting would.
		b, err := v.Interface().(json.Marshaler).MarshalJSON()
		if err != nil {
			return nil, err
		}
		compact = bytes.TrimRight(b, " \t\r\n")
	} else {
		e.buf.Reset()
		if err := e.enc.Encode(v.Interface()); err != nil {
			return nil, err
		}
		compact = bytes.TrimSuffix(e.buf.Bytes(), []byte("\n"))
	}
	e.out = appendIndent(e.out[:0], compact, prefix, "  ")
	return e.out, nil
}

// selfMarshaled are the types whose MarshalJSON returns encoding/json's
// own output (valid JSON), written without the Encoder's compact pass.
var selfMarshaled = map[reflect.Type]bool{
	reflect.TypeFor[Host](): true,
}

// streamed are the struct types written field by field; any other value is
// encoded whole (at its indentation) by encoding/json.
var streamed = map[reflect.Type]bool{
	reflect.TypeFor[Report]():     true,
	reflect.TypeFor[EventsJSON](): true,
}

var marshaler = reflect.TypeFor[json.Marshaler]()

// value writes v, whose first line starts where the cursor is and whose
// other lines start with prefix.
func (jw *jsonStream) value(v reflect.Value, prefix string) {
	if jw.err != nil {
		return
	}
	switch {
	case v.Kind() == reflect.Struct && streamed[v.Type()] && !v.Type().Implements(marshaler):
		jw.object(v, prefix)
	case v.Kind() == reflect.Slice && !v.IsNil() && v.Len() > 0 && v.Type().Elem().Kind() != reflect.Uint8:
		elem, ok := sliceElem(v)
		if !ok {
			elem = func(e *elemEncoder, b []byte, i int, in string) ([]byte, error) {
				enc, err := e.indented(v.Index(i), in)
				return append(b, enc...), err
			}
		}
		jw.array(v.Len(), elem, prefix)
	default:
		jw.encode(v, prefix)
	}
}

// encode writes v with encoding/json, indented under prefix.
func (jw *jsonStream) encode(v reflect.Value, prefix string) {
	if jw.err != nil {
		return
	}
	b, err := jw.elem.indented(v, prefix)
	if err != nil {
		jw.err = err
		return
	}
	jw.w.Write(b)
}

// object writes a struct's exported fields by their json tags, honouring
// omitempty and "-" as encoding/json does for the field kinds reports use.
func (jw *jsonStream) object(v reflect.Value, prefix string) {
	t := v.Type()
	in := prefix + "  "
	first := true
	jw.w.WriteString("{")
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		fv := v.Field(i)
		if strings.Contains(","+opts+",", ",omitempty,") && emptyValue(fv) {
			continue
		}
		if !first {
			jw.w.WriteString(",")
		}
		first = false
		jw.w.WriteString("\n")
		jw.w.WriteString(in)
		jw.encode(reflect.ValueOf(name), "")
		jw.w.WriteString(": ")
		if t == reportType && f.Name == "Events" && jw.lazy != nil {
			jw.streamEvents(in)
			continue
		}
		jw.value(fv, in)
	}
	if !first {
		jw.w.WriteString("\n")
		jw.w.WriteString(prefix)
	}
	jw.w.WriteString("}")
}

var reportType = reflect.TypeFor[Report]()

// streamEvents writes jw.lazy as EventsJSON would be written, converting
// one event at a time.
func (jw *jsonStream) streamEvents(prefix string) {
	streams := eventStreams(jw.lazy)
	t := reflect.TypeFor[EventsJSON]()
	in := prefix + "  "
	first := true
	jw.w.WriteString("{")
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		stream := streams[f.Name]
		if stream == nil {
			jw.err = fmt.Errorf("the events field %s cannot be streamed", f.Name)
			return
		}
		n, elem := stream()
		if n == 0 && strings.Contains(","+opts+",", ",omitempty,") {
			continue
		}
		if !first {
			jw.w.WriteString(",")
		}
		first = false
		jw.w.WriteString("\n" + in + strconv.Quote(name) + ": ")
		if n == 0 {
			jw.w.WriteString("[]")
			continue
		}
		jw.array(n, elem, in)
	}
	if !first {
		jw.w.WriteString("\n" + prefix)
	}
	jw.w.WriteString("}")
}

// emptyValue is encoding/json's notion of empty for omitempty.
func emptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}
