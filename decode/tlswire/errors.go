package tlswire

import "errors"

// Sentinel errors wrapped by [ParseError]; test for them with errors.Is.
var (
	// ErrTruncated means a field or a length-prefixed block runs past the end
	// of the bytes that enclose it.
	ErrTruncated = errors.New("truncated")
	// ErrMalformed means a field is complete but cannot be valid: a list of
	// 16-bit values with an odd length, an empty list the RFC requires to be
	// non-empty, a value outside its range.
	ErrMalformed = errors.New("malformed")
	// ErrUnsupported means the bytes are well formed but describe something
	// this package does not decode (an SSLv2 message other than CLIENT-HELLO).
	ErrUnsupported = errors.New("unsupported")
)

// ParseError reports where a message could not be decoded:
// "tls: client hello: extension 0x0010 (application_layer_protocol_negotiation): truncated".
type ParseError struct {
	// Message names the message being parsed ("client hello", "certificate").
	Message string
	// Field names the field that was wrong ("cipher_suites", "extension 0x002b
	// (supported_versions)", "certificate 2").
	Field string
	// Err is one of the sentinel errors of this package.
	Err error
	// Detail adds what was found, when that helps ("odd length 5").
	Detail string
}

func (e *ParseError) Error() string {
	s := "tls: " + e.Message + ": " + e.Field + ": " + e.Err.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns the sentinel error.
func (e *ParseError) Unwrap() error { return e.Err }

func perr(msg, field string, err error) *ParseError {
	return &ParseError{Message: msg, Field: field, Err: err}
}

func perrd(msg, field string, err error, detail string) *ParseError {
	return &ParseError{Message: msg, Field: field, Err: err, Detail: detail}
}

// Message names used in errors.
const (
	msgClientHello         = "client hello"
	msgSSLv2ClientHello    = "sslv2 client hello"
	msgServerHello         = "server hello"
	msgCertificate         = "certificate"
	msgEncryptedExtensions = "encrypted extensions"
	msgAlert               = "alert"
)

// maxNotes bounds the notes kept on one message, and on one Session, so that a
// hostile stream cannot grow them without limit.
const maxNotes = 64

// addNote appends a note unless the list is full; the last slot says that
// more were dropped.
func addNote(notes []string, s string) []string {
	switch {
	case len(notes) < maxNotes-1:
		return append(notes, s)
	case len(notes) == maxNotes-1:
		return append(notes, "further notes suppressed")
	}
	return notes
}
