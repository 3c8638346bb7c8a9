package analyze

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// litMatcher answers a case-insensitive pattern made only of literals,
// alternations, optional parts, small character classes and word
// boundaries (every pattern of the interceptor table) with substring
// searches instead of the regexp engine. It is exact for ASCII text,
// where (?i) folds only ASCII letters and \b is the ASCII word boundary
// (RE2 syntax); text with other bytes goes to the regexp.
type litMatcher struct {
	alts []litAlt
}

// litAlt is one expansion of the pattern: lower-case text that must occur
// with a word boundary before and/or after it when asked.
type litAlt struct {
	text                  string
	wordBefore, wordAfter bool
}

// litPiece is a step of an expansion: text, or a word boundary.
type litPiece struct {
	text     string
	boundary bool
}

// maxLitAlts bounds the expansion of a pattern (a pattern with more
// alternatives stays with the regexp).
const maxLitAlts = 64

// compileLit expands re into literal alternatives; nil when it holds
// anything else.
func compileLit(re *regexp.Regexp) *litMatcher {
	if re == nil {
		return nil
	}
	parsed, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	seqs, ok := expandLit(parsed.Simplify())
	if !ok {
		return nil
	}
	m := &litMatcher{}
	for _, seq := range seqs {
		var a litAlt
		for len(seq) > 0 && seq[0].boundary {
			a.wordBefore, seq = true, seq[1:]
		}
		for len(seq) > 0 && seq[len(seq)-1].boundary {
			a.wordAfter, seq = true, seq[:len(seq)-1]
		}
		var b strings.Builder
		for _, p := range seq {
			if p.boundary {
				return nil // a boundary inside the text
			}
			b.WriteString(p.text)
		}
		a.text = b.String()
		m.alts = append(m.alts, a)
	}
	return m
}

// expandLit lists the sequences re matches, text lower-cased.
func expandLit(re *syntax.Regexp) ([][]litPiece, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return [][]litPiece{nil}, true
	case syntax.OpWordBoundary:
		return [][]litPiece{{{boundary: true}}}, true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 {
			return nil, false
		}
		var b strings.Builder
		for _, r := range re.Rune {
			if r >= utf8.RuneSelf {
				return nil, false
			}
			b.WriteByte(lowerASCII(byte(r)))
		}
		return [][]litPiece{{{text: b.String()}}}, true
	case syntax.OpCharClass:
		// A class as the parser writes a folded letter or a factored
		// alternation: its ASCII members, lower-cased. Runes beyond
		// ASCII never match ASCII text.
		seen := map[byte]bool{}
		var out [][]litPiece
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1] && r < utf8.RuneSelf; r++ {
				c := lowerASCII(byte(r))
				if !seen[c] {
					seen[c] = true
					out = append(out, []litPiece{{text: string(c)}})
				}
				if len(out) > 16 {
					return nil, false
				}
			}
		}
		if len(out) == 0 {
			return nil, false
		}
		// Case-insensitive only when every letter comes with its other
		// case, as (?i) writes it.
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1] && r < utf8.RuneSelf; r++ {
				if o := otherCase(byte(r)); o != byte(r) && !classHas(re.Rune, rune(o)) {
					return nil, false
				}
			}
		}
		return out, true
	case syntax.OpCapture:
		return expandLit(re.Sub[0])
	case syntax.OpQuest:
		sub, ok := expandLit(re.Sub[0])
		if !ok || len(sub)+1 > maxLitAlts {
			return nil, false
		}
		return append([][]litPiece{nil}, sub...), true
	case syntax.OpAlternate:
		var out [][]litPiece
		for _, s := range re.Sub {
			sub, ok := expandLit(s)
			if !ok || len(out)+len(sub) > maxLitAlts {
				return nil, false
			}
			out = append(out, sub...)
		}
		return out, true
	case syntax.OpConcat:
		out := [][]litPiece{nil}
		for _, s := range re.Sub {
			sub, ok := expandLit(s)
			if !ok || len(out)*len(sub) > maxLitAlts {
				return nil, false
			}
			var next [][]litPiece
			for _, a := range out {
				for _, b := range sub {
					next = append(next, append(append([]litPiece(nil), a...), b...))
				}
			}
			out = next
		}
		return out, true
	}
	return nil, false
}

func classHas(ranges []rune, r rune) bool {
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i] <= r && r <= ranges[i+1] {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func otherCase(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	case 'a' <= c && c <= 'z':
		return c - 'a' + 'A'
	}
	return c
}

// isASCII reports whether s has only ASCII bytes.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// matchLower reports whether lower, ASCII text already lower-cased,
// holds one of the alternatives.
func (m *litMatcher) matchLower(lower string) bool {
	for _, a := range m.alts {
		for from := 0; from <= len(lower); {
			i := strings.Index(lower[from:], a.text)
			if i < 0 {
				break
			}
			i += from
			if (!a.wordBefore || wordBoundary(lower, i)) && (!a.wordAfter || wordBoundary(lower, i+len(a.text))) {
				return true
			}
			from = i + 1
		}
	}
	return false
}

// wordBoundary is \b at byte i of ASCII text: a word byte on one side
// only.
func wordBoundary(s string, i int) bool {
	before := i > 0 && isWordByte(s[i-1])
	after := i < len(s) && isWordByte(s[i])
	return before != after
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
