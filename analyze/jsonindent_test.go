package analyze

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// indentCases are valid JSON documents that exercise every rule of
// json.Indent: empty containers, nesting, escapes (an escaped quote and an
// escaped backslash before the closing quote), white space inside and
// around the value, and scalars at the top level.
var indentCases = []string{
	`{}`, `[]`, `{"a":[]}`, `{"a":{},"b":[{}]}`, `[[],[[]],{}]`, `0`, `-1.5e+10`, `true`, `null`, `"x"`,
	`""`, `"\""`, `"a\\"`, `"\\\""`, `{"k\"ey":"v\\","n":"\u00e9\n\t"}`, ` { "a" : [ 1 , 2 ] } `,
	"\n[\r\n1,\t2]\n", `{"a":1}` + "\n", `[1,"]",{"}":"{["}]`, `{"a":[1,[2,[3,{"b":null}]]],"c":false}`,
	`"héllo, wörld <&>"`, `[1e5, -0, 0.25]  `, "  \"lead\"",
}

func TestAppendIndentMatchesEncodingJSON(t *testing.T) {
	for _, src := range indentCases {
		for _, pi := range [][2]string{{"", "  "}, {"    ", "  "}, {">", "\t"}, {"", ""}} {
			var want bytes.Buffer
			if err := json.Indent(&want, []byte(src), pi[0], pi[1]); err != nil {
				t.Fatalf("json.Indent(%q): %v", src, err)
			}
			if got := appendIndent(nil, []byte(src), pi[0], pi[1]); !bytes.Equal(got, want.Bytes()) {
				t.Errorf("appendIndent(%q, %q, %q) = %q, want %q", src, pi[0], pi[1], got, want.Bytes())
			}
		}
	}
}

// TestAppendIndentMatchesEncoder compares with an Encoder with SetIndent on
// random nested values: the compact encoding, indented, plus the Encoder's
// trailing new line.
func TestAppendIndentMatchesEncoder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		v := randomJSONValue(r, 4)
		var compact bytes.Buffer
		cenc := json.NewEncoder(&compact)
		cenc.SetEscapeHTML(false)
		if err := cenc.Encode(v); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.SetIndent("      ", "  ")
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		got := appendIndent(nil, compact.Bytes(), "      ", "  ")
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("appendIndent(%s) = %q, want %q", compact.Bytes(), got, want.Bytes())
		}
	}
}

// randomJSONValue builds a value of maps, slices, strings with quotes,
// backslashes, control and non-ASCII characters, numbers and literals.
func randomJSONValue(r *rand.Rand, depth int) any {
	k := r.IntN(8)
	if depth == 0 {
		k = r.IntN(4)
	}
	switch k {
	case 0:
		return randomJSONString(r)
	case 1:
		return r.NormFloat64() * 1e6
	case 2:
		return r.IntN(3) == 0
	case 3:
		return nil
	case 4, 5:
		m := make(map[string]any)
		for range r.IntN(4) {
			m[randomJSONString(r)] = randomJSONValue(r, depth-1)
		}
		return m
	default:
		s := make([]any, r.IntN(4))
		for i := range s {
			s[i] = randomJSONValue(r, depth-1)
		}
		return s
	}
}

func randomJSONString(r *rand.Rand) string {
	const alphabet = "ab \"\\{}[],:\n\t\x01é<>&"
	var b strings.Builder
	runes := []rune(alphabet)
	for range r.IntN(8) {
		b.WriteRune(runes[r.IntN(len(runes))])
	}
	return b.String()
}

func FuzzAppendIndent(f *testing.F) {
	for _, c := range indentCases {
		f.Add([]byte(c), "", "  ")
	}
	f.Add([]byte(`{"a":[1,2,{"b":"c"}]}`), "    ", "\t")
	f.Fuzz(func(t *testing.T, src []byte, prefix, indent string) {
		if !json.Valid(src) {
			return
		}
		var want bytes.Buffer
		if err := json.Indent(&want, src, prefix, indent); err != nil {
			t.Fatalf("json.Indent of valid JSON: %v", err)
		}
		if got := appendIndent(nil, src, prefix, indent); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("appendIndent(%q, %q, %q) = %q, want %q", src, prefix, indent, got, want.Bytes())
		}
	})
}

// BenchmarkIndent compares appendIndent with json.Indent on the compact
// encoding of a report-sized event.
func BenchmarkIndent(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	var vals []any
	for range 64 {
		vals = append(vals, randomJSONValue(r, 5))
	}
	src, _ := json.Marshal(vals)
	b.Run("appendIndent", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		var dst []byte
		for b.Loop() {
			dst = appendIndent(dst[:0], src, "      ", "  ")
		}
	})
	b.Run("json.Indent", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		var dst bytes.Buffer
		for b.Loop() {
			dst.Reset()
			json.Indent(&dst, src, "      ", "  ")
		}
	})
}
