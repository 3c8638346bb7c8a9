package tlswire

import (
	"github.com/modsniff/modsniff/decode/wire"
)

// Alert is one alert (RFC 8446 §6, RFC 5246 §7.2). An alert that travelled
// encrypted has Encrypted set; without keys its Level and Description are 0
// (Level 0 is no valid level: test Known). Encrypted alerts are only
// recognisable in TLS 1.2 and earlier, whose records keep the outer type
// alert; TLS 1.3 hides them in application_data records (see RecordInfo).
// With keys, an encrypted alert is decrypted: Encrypted stays set and Level
// and Description are the real ones.
type Alert struct {
	From        Dir
	Level       uint8
	Description uint8
	Encrypted   bool
	// At is the packet that completed the alert's record.
	At wire.Ref
}

// Known reports whether the alert's level and description were read.
func (a Alert) Known() bool { return a.Level != 0 }

// Name returns the description's name (see [AlertName]), or "encrypted" for
// an alert that could not be read.
func (a Alert) Name() string {
	if !a.Known() {
		return "encrypted"
	}
	return AlertName(a.Description)
}

// Fatal reports whether the alert is known to be fatal.
func (a Alert) Fatal() bool { return a.Level == AlertLevelFatal }

// ParseAlert decodes one alert message (RFC 8446 §6, RFC 5246 §7.2): a level
// byte and a description byte. More than two bytes is an error, but the
// first alert is still returned.
func ParseAlert(b []byte) (Alert, error) {
	if len(b) < 2 {
		return Alert{}, perr(msgAlert, "level and description", ErrTruncated)
	}
	a := Alert{Level: b[0], Description: b[1]}
	if len(b) > 2 {
		return a, perrd(msgAlert, "record", ErrMalformed, "more than one alert")
	}
	if a.Level != AlertLevelWarning && a.Level != AlertLevelFatal {
		return a, perrd(msgAlert, "level", ErrMalformed, AlertLevelName(a.Level))
	}
	return a, nil
}

// RecordInfo describes one encrypted record: what an analysis without keys
// can still see.
type RecordInfo struct {
	// Type is the outer content type (always application_data in TLS 1.3).
	Type uint8
	// Length is the length of the record body.
	Length int
	// At is the packet that completed the record, as Wireshark reports it
	// (zero when the stream ended first); Start is the packet that carried
	// its header.
	At, Start wire.Ref
}

// HandshakeInfo records one plaintext handshake message.
type HandshakeInfo struct {
	From   Dir
	Type   uint8
	Length int
	// At is the packet that completed the record holding the message's end.
	At wire.Ref
}

// Limits on what a Session keeps.
const (
	// MaxEncryptedRecords is how many encrypted records per direction are
	// kept in Session.Encrypted; the counts go on.
	MaxEncryptedRecords = 8
	maxHandshakes       = 64
	maxAlerts           = 64
)

// Session is what a [Conn] learned about one TLS connection. Pointers are nil
// and references zero for what was not seen. Arrays indexed by [Dir] hold
// one value per direction.
type Session struct {
	// Every ...At of a handshake message is the packet that completed the
	// record holding the message's last byte: the frame Wireshark shows it in.
	//
	// ClientHello is the first ClientHello; ClientHelloAt is the packet that
	// completed it, ClientHelloFirstAt the
	// packet that carried its first record header, and ClientHelloPackets the
	// number of distinct packets that carried client bytes up to and
	// including the one that completed it: more than one means a
	// multi-segment hello, the kind some middleboxes drop.
	ClientHello        *ClientHello
	ClientHelloAt      wire.Ref
	ClientHelloFirstAt wire.Ref
	ClientHelloPackets int

	// HelloRetry is a HelloRetryRequest (RFC 8446 §4.1.4) and
	// SecondClientHello the ClientHello that answered it.
	HelloRetry          *ServerHello
	HelloRetryAt        wire.Ref
	SecondClientHello   *ClientHello
	SecondClientHelloAt wire.Ref

	// ServerHello is the ServerHello that is not a HelloRetryRequest.
	ServerHello   *ServerHello
	ServerHelloAt wire.Ref

	// Certificates is the server's Certificate message (in clear in TLS 1.2
	// and earlier; in TLS 1.3 only when decrypted); ClientCertificates the
	// client's.
	Certificates           *CertificateMsg
	CertificatesAt         wire.Ref
	ClientCertificates     *CertificateMsg
	ClientCertificatesAt   wire.Ref
	EncryptedExtensions    *EncryptedExtensions
	EncryptedExtensionsAt  wire.Ref
	CertificateRequest     bool
	CertificateRequestAt   wire.Ref
	ServerKeyExchange      bool
	ServerKeyExchangeAt    wire.Ref
	ServerKeyExchangeGroup uint16 // the named group of an ECDHE ServerKeyExchange (RFC 8422 §5.4)
	ServerHelloDone        bool
	ServerHelloDoneAt      wire.Ref
	ClientKeyExchange      bool
	ClientKeyExchangeAt    wire.Ref

	// Handshakes lists the first handshake messages of both directions
	// (plaintext or decrypted) in the order they completed.
	Handshakes []HandshakeInfo
	// Alerts lists the alerts of both directions in order.
	Alerts []Alert

	// ChangeCipherSpec is the packet of each direction's first
	// ChangeCipherSpec record (in TLS 1.3 the middlebox-compatibility one).
	ChangeCipherSpec [2]wire.Ref
	// EncryptedAt is the packet carrying the header of each direction's first
	// encrypted record.
	EncryptedAt [2]wire.Ref
	// Encrypted holds the first MaxEncryptedRecords encrypted records of each
	// direction; EncryptedCount and EncryptedBytes (record bodies, as
	// declared in their headers) count all of them.
	Encrypted      [2][]RecordInfo
	EncryptedCount [2]int
	EncryptedBytes [2]int64
	// Bytes counts the bytes fed per direction.
	Bytes [2]int64
	// Lost is set for a direction whose record stream could not be followed
	// to the end (a gap of unknown size or inside a header, a protocol error).
	Lost [2]bool

	// Keys says whether keys were found for the session and what became of
	// them (see ConnOptions.Keys). Decrypted is set once a protected record
	// was decrypted and authenticated; from then on the messages above
	// include those that travelled encrypted (TLS 1.3 EncryptedExtensions,
	// Certificate …; Alerts with Encrypted set and their real level and
	// description). DecryptedRecords counts them per direction.
	Keys             KeyState
	Decrypted        bool
	DecryptedRecords [2]int

	// Notes are anomalies of the record and handshake layers, each prefixed
	// with the packet and the sender ("#12 client: …"); notes about one
	// message's content are on the message. Errors are messages that could
	// not be decoded and protocol errors that stopped a direction.
	Notes  []string
	Errors []string
}

// Version returns the negotiated version (the ServerHello's, see
// [ServerHello.Version]; the HelloRetryRequest's when only that was seen),
// 0 if unknown.
func (s *Session) Version() uint16 {
	if s.ServerHello != nil {
		return s.ServerHello.Version()
	}
	if s.HelloRetry != nil {
		return s.HelloRetry.Version()
	}
	return 0
}

// TLS13 reports whether the negotiated version is TLS 1.3 or a draft of it.
func (s *Session) TLS13() bool { return isTLS13(s.Version()) }

// ServerALPN returns the protocol the server chose: from the ServerHello (TLS
// 1.2 and earlier) or from EncryptedExtensions (TLS 1.3, once decrypted).
func (s *Session) ServerALPN() string {
	if s.ServerHello != nil && s.ServerHello.ALPN != "" {
		return s.ServerHello.ALPN
	}
	if s.EncryptedExtensions != nil {
		return s.EncryptedExtensions.ALPN
	}
	return ""
}
