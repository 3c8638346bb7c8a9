package analyze

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func TestBuiltinPatternsAnswerBySubstring(t *testing.T) {
	for _, p := range builtinInterceptors() {
		if p.lit == nil {
			t.Errorf("%s: pattern %s falls back to the regexp engine", p.Product, p.Pattern)
		}
	}
}

// TestLiteralMatcherAgreesWithRegexp compares the literal matcher with the
// regexp on names built from pieces of the patterns, random case, word and
// non-word neighbours, for the built-in table and user-style patterns.
func TestLiteralMatcherAgreesWithRegexp(t *testing.T) {
	res := []*regexp.Regexp{}
	for _, p := range builtinInterceptors() {
		res = append(res, p.Pattern)
	}
	for _, u := range []string{"a.b", "x|y", "Corp (Root) CA", "dev-proxy", `back\slash`, "ACME_ca"} {
		res = append(res, regexp.MustCompile(`(?i)`+regexp.QuoteMeta(u)))
	}
	res = append(res, regexp.MustCompile(`(?i)\bfoo\b|bar?|ba(z|q)x`), regexp.MustCompile(`(?i)[a-c]x\b`))
	// Pieces: every literal run of the patterns plus separators.
	pieces := []string{" ", "=", "CN=", "O=", "OU=", "_", "-", "1", ".", "x", "Ltd", "Inc."}
	for _, re := range res {
		for _, f := range regexp.MustCompile(`[A-Za-z0-9 ._=-]+`).FindAllString(strings.TrimPrefix(re.String(), "(?i)"), -1) {
			pieces = append(pieces, f, f[:len(f)/2], f[len(f)/2:])
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	checked := 0
	for _, re := range res {
		lit := compileLit(re)
		if lit == nil {
			t.Errorf("%s: no literal form", re)
			continue
		}
		for range 3000 {
			var b strings.Builder
			for range 1 + r.IntN(5) {
				piece := pieces[r.IntN(len(pieces))]
				for _, c := range []byte(piece) {
					if r.IntN(2) == 0 {
						c = otherCase(c)
					}
					b.WriteByte(c)
				}
			}
			name := newCertName(b.String())
			p := interceptor{Pattern: re, lit: lit}
			if got, want := p.matches(&name), re.MatchString(name.text); got != want {
				t.Fatalf("%s on %q: literal matcher says %v, regexp %v", re, name.text, got, want)
			}
			checked++
		}
	}
	// Non-ASCII names go to the regexp: the Kelvin sign folds to k.
	p := builtinInterceptors()[0]
	for i := range builtinInterceptors() {
		if builtinInterceptors()[i].Product == "Kaspersky" {
			p = builtinInterceptors()[i]
		}
	}
	n := newCertName("CN=\u212aaspersky")
	if !p.matches(&n) {
		t.Errorf("a non-ASCII name folding to Kaspersky is not matched")
	}
}

func TestLiteralMatcherRefusesOtherSyntax(t *testing.T) {
	for _, pat := range []string{`a.b`, `a+`, `^x`, `[^a]`, `(?i)a\bb`, `abc`, `(?i)x*`} {
		if compileLit(regexp.MustCompile(pat)) != nil {
			t.Errorf("%s: compiled to literals, want the regexp engine", pat)
		}
	}
}

// FuzzLiteralMatcher holds the literal matcher to the regexp for any
// pattern it accepts (raw, and quoted as user entries are) on any name.
func FuzzLiteralMatcher(f *testing.F) {
	for _, p := range builtinInterceptors() {
		f.Add(strings.TrimPrefix(p.Pattern.String(), "(?i)"), "CN="+p.Product+" O=x")
	}
	f.Add(`\bfoo\b|ba(r|z)?`, "a foo_bar baz")
	f.Add("Corp CA", "CN=corp ca OU=\u212a")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		for _, src := range []string{`(?i)` + pattern, `(?i)` + regexp.QuoteMeta(pattern), pattern} {
			re, err := regexp.Compile(src)
			if err != nil {
				continue
			}
			lit := compileLit(re)
			if lit == nil {
				continue
			}
			n := newCertName(name)
			p := interceptor{Pattern: re, lit: lit}
			if got, want := p.matches(&n), re.MatchString(name); got != want {
				t.Fatalf("%s on %q: literal matcher says %v, regexp %v", src, name, got, want)
			}
		}
	})
}
