package decode

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds on what is read of a response besides its status: a block page's
// title, not its body.
const (
	maxBodyPeek  = 2 << 10 // body bytes kept to find a <title> or a first line
	maxFactText  = 160     // a title or first line
	maxFieldFact = 64      // a media type, Retry-After, a Location host
	maxErrorBody = 1 << 10 // the start of an error's text body
)

// startResponse prepares an exchange for its response's facts.
func (x *HTTPExchange) startResponse() {
	x.ContentLength = -1
	x.ContentType, x.RetryAfter, x.Location = "", "", ""
	x.BodyBytes, x.BodyDone, x.Truncated, x.ErrorBody, x.Date = 0, false, "", "", time.Time{}
	x.body, x.encoded = nil, false
}

// responseField records the response header fields the checks use (RFC
// 9110): Content-Type, Content-Length, Content-Encoding, Retry-After and
// the host of Location. Other values are never kept.
func (x *HTTPExchange) responseField(name, value string) {
	switch strings.ToLower(name) {
	case "content-type":
		mt, _, _ := strings.Cut(value, ";")
		x.ContentType = clipText(strings.ToLower(strings.TrimSpace(mt)), maxFieldFact)
	case "content-length":
		if n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64); err == nil && n >= 0 {
			x.ContentLength = n
		}
	case "content-encoding":
		if v := strings.TrimSpace(value); v != "" && !strings.EqualFold(v, "identity") {
			x.encoded = true
		}
	case "retry-after":
		x.RetryAfter = clipText(strings.TrimSpace(value), maxFieldFact)
	case "date":
		if t, err := http.ParseTime(strings.TrimSpace(value)); err == nil {
			x.Date = t
		}
	case "location":
		x.Location = clipText(locationHost(strings.TrimSpace(value)), maxFieldFact)
	}
}

// locationHost returns the host of an absolute Location ("" for a
// relative one): only where a redirect leads, never its path or query.
func locationHost(v string) string {
	_, rest, ok := strings.Cut(v, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:] // never keep userinfo
	}
	return strings.ToLower(rest)
}

// peeks reports whether the body's first bytes are worth keeping: an
// uncompressed HTML page, or the text of an error or redirect.
func (x *HTTPExchange) peeks() bool {
	if x.encoded || len(x.body) >= maxBodyPeek {
		return false
	}
	return x.ContentType == "text/html" || x.Status >= 300 && (x.ContentType == "" || strings.HasPrefix(x.ContentType, "text/"))
}

// bodyData counts n body bytes; p holds them when they were captured (nil
// for bytes missing from the capture).
func (x *HTTPExchange) bodyData(p []byte, n int64) {
	x.BodyBytes += n
	if p != nil && x.peeks() {
		x.body = append(x.body, p[:min(len(p), maxBodyPeek-len(x.body))]...)
	}
}

// bodyEnd closes the body: complete when truncated is "", else how it was
// cut short. The title or first line is read from the kept bytes, which
// are then dropped.
func (x *HTTPExchange) bodyEnd(truncated string) {
	x.BodyDone, x.Truncated = truncated == "", truncated
	if len(x.body) > 0 {
		x.Title = htmlTitle(x.body)
		if x.Title == "" && x.Status >= 300 {
			x.FirstLine = firstTextLine(x.body)
		}
		if x.Status >= 400 && x.Title == "" && bytes.IndexByte(x.body, 0) < 0 {
			x.ErrorBody = clipText(string(x.body[:min(len(x.body), maxErrorBody)]), maxErrorBody)
		}
	}
	x.body = nil
}

// htmlTitle returns the text of the first <title> element in b, with
// white space collapsed, or "". b is bounded (maxBodyPeek): the searches
// are linear.
func htmlTitle(b []byte) string {
	lower := make([]byte, len(b)) // ASCII lower case: the offsets stay those of b
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	i := bytes.Index(lower, []byte("<title"))
	if i < 0 {
		return ""
	}
	j := bytes.IndexByte(lower[i:], '>')
	if j < 0 {
		return ""
	}
	start := i + j + 1
	end := bytes.Index(lower[start:], []byte("</title"))
	if end < 0 {
		end = len(b) - start // cut by the peek limit: keep what came
	}
	return clipText(strings.Join(strings.Fields(clipText(string(b[start:start+end]), maxBodyPeek)), " "), maxFactText)
}

// firstTextLine returns the first non-empty line of a text body, or ""
// when b does not look like text.
func firstTextLine(b []byte) string {
	if bytes.IndexByte(b, 0) >= 0 {
		return ""
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if t := strings.TrimSpace(string(l)); t != "" {
			return clipText(t, maxFactText)
		}
	}
	return ""
}

// clipText makes attacker-controlled text safe for a report: control
// characters become spaces, invalid UTF-8 is replaced, and it is cut at n
// bytes on a rune boundary.
func clipText(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// serverClosed reports whether the server's side of c ended: its FIN or a
// reset from it. A body still open then was cut short; without either the
// capture merely stopped.
func serverClosed(c *TCPConn) bool {
	if c == nil {
		return false
	}
	if !c.FIN[1].IsZero() {
		return true
	}
	for _, r := range c.Resets() {
		if !r.FromClient {
			return true
		}
	}
	return false
}
