package analyze

// appendIndent appends src, valid JSON (RFC 8259), to dst indented exactly
// as encoding/json's Indent (and an Encoder with SetIndent) writes it:
// leading white space dropped, white space between tokens dropped, a new
// line plus prefix plus one indent per level after '{', '[' and ',' unless
// the container is empty ("{}", "[]"), ": " after a key, and white space
// after the top-level value copied as it is.
//
// It does not validate: src must be valid JSON, as encoding/json's compact
// output always is. One pass, no allocation beyond growing dst, so that the
// report's events are indented at memory speed rather than through
// encoding/json's scanner state machine.
func appendIndent(dst, src []byte, prefix, indent string) []byte {
	nest := 0        // open containers
	depth := 0       // indentation levels written
	started := false // the top-level value has begun
	needIndent := false
	// line is "\n", the prefix and as many indents as the deepest level
	// so far: a new line at a depth is a slice of it.
	var lineBuf [128]byte
	line := append(append(append(lineBuf[:0], '\n'), prefix...), indent...)
	newline := func(dst []byte, depth int) []byte {
		n := 1 + len(prefix) + depth*len(indent)
		for len(line) < n {
			line = append(line, indent...)
		}
		return append(dst, line[:n]...)
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			// Inside the value white space separates tokens and is
			// dropped; after the top-level value it is kept.
			if started && nest == 0 {
				dst = append(dst, c)
			}
			continue
		}
		started = true
		if needIndent && c != '}' && c != ']' {
			needIndent = false
			depth++
			dst = newline(dst, depth)
		}
		switch c {
		case '"':
			// Copy the string through its closing quote; a backslash
			// escapes the byte after it.
			j := i + 1
			for j < len(src) {
				b := src[j]
				if b == '\\' {
					j += 2
					continue
				}
				j++
				if b == '"' {
					break
				}
			}
			j = min(j, len(src))
			dst = append(dst, src[i:j]...)
			i = j - 1
		case '{', '[':
			nest++
			needIndent = true // "{}" and "[]" stay on one line
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = newline(dst, depth)
		case ':':
			dst = append(dst, c, ' ')
		case '}', ']':
			nest--
			if needIndent {
				needIndent = false
			} else {
				depth--
				dst = newline(dst, depth)
			}
			dst = append(dst, c)
		default:
			// Numbers and literals: copy the run up to the next
			// structural byte or white space.
			j := i + 1
			for j < len(src) && !jsonDelim[src[j]] {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j - 1
		}
	}
	return dst
}

// jsonDelim marks the bytes that end a number or a literal.
var jsonDelim = [256]bool{',': true, ':': true, '{': true, '}': true, '[': true, ']': true, '"': true, ' ': true, '\t': true, '\n': true, '\r': true}
