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
// can still see (Session.SoleAppDataRecord); the packet that carried the
// header of a direction's first protected record is DirState.ProtectedFrom.
type RecordInfo struct {
	// Type is the outer content type (always application_data in TLS 1.3).
	Type uint8
	// Length is the length of the record body (at most 2^16-1 in a record
	// header).
	Length int32
	// At is the packet that completed the record, as Wireshark reports it
	// (zero when the stream ended first).
	At wire.Ref
}

// Message is one handshake message of a session's log (RFC 8446 §4, RFC
// 5246 §7.4), plaintext or decrypted, in the order the messages completed.
// A Session keeps its log compactly and gives Messages back on demand.
type Message struct {
	From Dir
	Type uint8
	// Protected is set for a message that travelled in a protected record
	// and was read with keys.
	Protected bool
	// Length is the length of the message body (at most 2^24-1 in a
	// handshake header).
	Length int32
	// At is the packet that completed the record holding the message's end:
	// the frame Wireshark shows it in.
	At wire.Ref
	// Value is the parsed message: *ClientHello, *ServerHello (a
	// HelloRetryRequest too), *EncryptedExtensions, *CertificateMsg,
	// *CompressedCertificate or *ServerKeyExchange; nil for the types that
	// are only logged (Finished, CertificateVerify, ServerHelloDone …).
	Value any
	// Err is the parse error of a message that could not be fully decoded:
	// Value then holds what was read before the damage.
	Err error
}

// Notes returns the notes of the parsed message (duplicate extensions,
// trailing bytes …: see ClientHello.Notes), nil when it has none.
func (m *Message) Notes() []string {
	switch v := m.Value.(type) {
	case *ClientHello:
		return v.Notes
	case *ServerHello:
		return v.Notes
	case *EncryptedExtensions:
		return v.Notes
	case *CertificateMsg:
		return v.Notes
	case *CompressedCertificate:
		if v.Certificate != nil {
			return v.Certificate.Notes
		}
	}
	return nil
}

// ServerKeyExchange is what is read of a ServerKeyExchange message: the
// named group of an ECDHE key exchange (RFC 8422 §5.4), 0 for others.
type ServerKeyExchange struct {
	Group uint16
}

// Phase is the record-layer state of one direction (RFC 8446 §5, RFC 5246
// §6.1): which records it sends in clear and which are protected.
type Phase uint8

// The phases of a direction, in the order they follow each other.
const (
	// PhaseIdle: no record seen yet.
	PhaseIdle Phase = iota
	// PhasePlain: records travel in clear (the hellos; the TLS 1.2
	// certificate flight).
	PhasePlain
	// PhaseProtected: records are protected: in TLS 1.2 and earlier after
	// the direction's ChangeCipherSpec, in TLS 1.3 after the ServerHello
	// (server) or from the client's first protected record.
	PhaseProtected
	// PhaseLost: the record stream could not be followed any more (a gap of
	// unknown size, a protocol error) or did not look like TLS.
	PhaseLost
)

func (p Phase) String() string {
	switch p {
	case PhasePlain:
		return "plain"
	case PhaseProtected:
		return "protected"
	case PhaseLost:
		return "lost"
	}
	return "idle"
}

// DirState is the record-layer state of one direction as a Conn publishes
// it: what a check needs to tell a client that carried on from one that
// gave up, without looking at record types itself.
//
// Its flags are grouped after the references, with the 32-bit record
// count, so that the two DirStates of a Session take 56 bytes each. What
// only the Conn needs while it decodes (the bytes fed, whether a
// ChangeCipherSpec came) is kept in the Conn, not here: a Session is kept
// for the whole analysis.
type DirState struct {
	// ProtectedFrom is the packet carrying the header of the direction's
	// first protected record.
	ProtectedFrom wire.Ref
	// Finished is the packet that completed the record holding the
	// direction's Finished (RFC 8446 §4.4.4, RFC 5246 §7.4.9): read in clear
	// or decrypted, or, without keys, taken from the record layer: in TLS
	// 1.3 the client's first protected application_data record long enough
	// for a Finished (a 19-byte alert is not), in TLS 1.2 the first
	// protected record after the ChangeCipherSpec. The server's TLS 1.3
	// flight has no such shape: without keys its Finished stays zero.
	// FinishedInferred says it was taken from the shape.
	Finished wire.Ref
	// AppData is the packet that completed the direction's first record of
	// application data: decrypted, or without keys the first protected
	// application_data record after the one holding Finished (TLS 1.3) or
	// the first application_data record (TLS 1.2). AppDataInferred says it
	// was taken from the shape. AppDataRecords counts the records taken as
	// application data (up to math.MaxInt32).
	AppData        wire.Ref
	AppDataRecords int32
	// Phase is where the direction's record stream stands.
	Phase            Phase
	FinishedInferred bool
	AppDataInferred  bool
}

// Limits on what a Session keeps.
const (
	// MaxEncryptedRecords is how many of the first encrypted records per
	// direction Session.SoleAppDataRecord looks at; the counts go on.
	MaxEncryptedRecords = 4
	// maxMessages bounds the log; messages that fill one of the Session's
	// views (ClientHello, ServerHello, Certificates …) are logged even past
	// it, which adds at most a handful.
	maxMessages = 64
	maxAlerts   = 64
)

// Session is what a [Conn] learned about one TLS connection: the log of
// handshake messages, the alerts, and the record-layer state of each
// direction. The first messages of each kind are also kept as views
// (ClientHello, ServerHello, Certificates …, each with the packet that
// completed it); pointers are nil and references zero for what was not
// seen. Arrays indexed by [Dir] hold one value per direction.
//
// A Session is kept for the whole analysis, one per TLS connection: what
// few sessions have (a HelloRetryRequest, client certificates, decrypted
// EncryptedExtensions, notes, errors) is in Extra, read through the methods
// of the same names, and the fields are ordered to leave no padding.
type Session struct {
	// ClientHello is the first ClientHello; ClientHelloAt is the packet that
	// completed it, ClientHelloFirstAt the packet that carried its first
	// record header, and ClientHelloPackets the number of distinct packets
	// that carried client bytes up to and including the one that completed
	// it: more than one means a multi-segment hello, the kind some
	// middleboxes drop.
	ClientHello *ClientHello
	// ServerHello is the ServerHello that is not a HelloRetryRequest.
	ServerHello *ServerHello
	// Certificates is the server's Certificate message (in clear in TLS 1.2
	// and earlier; in TLS 1.3 only when decrypted), also when it came
	// compressed (RFC 8879: see CompressedCertificate).
	Certificates *CertificateMsg
	// Extra holds what few sessions have; nil when there is none of it.
	Extra *SessionExtra

	ClientHelloAt      wire.Ref
	ClientHelloFirstAt wire.Ref
	ServerHelloAt      wire.Ref
	CertificatesAt     wire.Ref

	// log is the log of handshake messages (see Messages), nil when it was
	// the two hellos alone (helloLog).
	log []logEntry
	// Alerts lists the alerts of both directions in order.
	Alerts []Alert
	// Dirs is the record-layer state of each direction.
	Dirs [2]DirState

	// FirstAppDataAt and FirstAppDataLength locate and measure the first
	// protected record of outer type application_data among the first
	// MaxEncryptedRecords protected records of each direction (its type
	// needs no room: it is application_data), and AppDataAmongFirst counts
	// such records among them up to 2: what SoleAppDataRecord needs.
	// EncryptedCount counts all protected records (up to math.MaxInt32).
	FirstAppDataAt     [2]wire.Ref
	FirstAppDataLength [2]int32
	EncryptedCount     [2]int32

	ClientHelloPackets int32
	// Lost is set for a direction whose record stream could not be followed
	// to the end (a gap of unknown size or inside a header, a protocol
	// error): Dirs[d].Phase is then PhaseLost.
	Lost [2]bool

	// Keys says whether keys were found for the session and what became of
	// them (see ConnOptions.Keys). Decrypted is set once a protected record
	// was decrypted and authenticated; from then on the messages above
	// include those that travelled encrypted (TLS 1.3 EncryptedExtensions,
	// Certificate …; Alerts with Encrypted set and their real level and
	// description). DecryptedRecords counts them per direction.
	Keys              KeyState
	Decrypted         bool
	AppDataAmongFirst [2]uint8
	// helloLog is set when the finished log was the two hellos and nothing
	// else, as a TLS 1.3 session without keys logs: it is then not kept,
	// since the views say all of it (see entries).
	helloLog bool
}

// SessionExtra is the part of a [Session] that few sessions have.
type SessionExtra struct {
	// HelloRetry is a HelloRetryRequest (RFC 8446 §4.1.4) and
	// SecondClientHello the ClientHello that answered it.
	HelloRetry        *ServerHello
	SecondClientHello *ClientHello
	// ClientCertificates is the client's Certificate message.
	ClientCertificates *CertificateMsg
	// EncryptedExtensions is the server's EncryptedExtensions (RFC 8446
	// §4.3.1): in clear only in TLS 1.3 drafts, else once decrypted.
	EncryptedExtensions *EncryptedExtensions

	HelloRetryAt          wire.Ref
	SecondClientHelloAt   wire.Ref
	ClientCertificatesAt  wire.Ref
	EncryptedExtensionsAt wire.Ref

	// DecryptedRecords counts the records decrypted per direction (up to
	// math.MaxInt32).
	DecryptedRecords [2]int32

	// values holds the parsed values and errors of the logged messages
	// whose value is not one of the views (see logEntry).
	values []loggedValue

	// Notes are anomalies of the record and handshake layers, each prefixed
	// with the packet and the sender ("#12 client: …"); notes about one
	// message's content are on the message. Errors are messages that could
	// not be decoded and protocol errors that stopped a direction.
	Notes  []string
	Errors []string
}

// logEntry is one message of a Session's log as the Session keeps it: 24
// bytes where a Message takes 64, because every session keeps a log and
// most of its values are the session's views. A message that filled a view
// (view) takes its value from it; a ServerKeyExchange without error keeps
// its group in aux; any other value or parse error is in
// SessionExtra.values, at index aux (the log is bounded by maxMessages and
// a handful of views, so the index fits). The sender, the protected flag,
// the view and where the value is share one byte (see the methods).
type logEntry struct {
	at     wire.Ref
	length int32
	aux    uint16
	typ    uint8
	bits   uint8 // from (bit 0), prot (bit 1), view (bits 2–4), val (bits 5–6)
}

// newLogEntry returns the entry of a message of type typ and length
// length from dir, completed at at, which filled view.
func newLogEntry(at wire.Ref, length int32, from Dir, typ uint8, prot bool, view uint8) logEntry {
	e := logEntry{at: at, length: length, typ: typ, bits: uint8(from&1) | view&7<<2}
	if prot {
		e.bits |= 2
	}
	return e
}

// from returns the sender of the entry's message.
func (e *logEntry) from() Dir { return Dir(e.bits & 1) }

// prot reports whether the message travelled protected.
func (e *logEntry) prot() bool { return e.bits&2 != 0 }

// view returns the view the message filled: viewNone …
func (e *logEntry) view() uint8 { return e.bits >> 2 & 7 }

// val returns where the message's value is: valNone …
func (e *logEntry) val() uint8 { return e.bits >> 5 & 3 }

// setVal records that the value is at val, with aux.
func (e *logEntry) setVal(val uint8, aux uint16) {
	e.bits = e.bits&^(3<<5) | val&3<<5
	e.aux = aux
}

// The views a logged message can fill.
const (
	viewNone uint8 = iota
	viewClientHello
	viewSecondClientHello
	viewServerHello
	viewHelloRetry
	viewCertificates
	viewClientCertificates
	viewEncryptedExtensions
)

// Where a logged message's value is.
const (
	valNone uint8 = iota // no value, no error
	valView              // the view the message filled
	valSKE               // a ServerKeyExchange of group aux
	valSide              // SessionExtra.values[aux]
)

// loggedValue is the value and parse error of a logged message.
type loggedValue struct {
	value any
	err   error
}

// viewValue returns the view v as a message value.
func (s *Session) viewValue(v uint8) any {
	switch v {
	case viewClientHello:
		return s.ClientHello
	case viewSecondClientHello:
		return s.Extra.SecondClientHello
	case viewServerHello:
		return s.ServerHello
	case viewHelloRetry:
		return s.Extra.HelloRetry
	case viewCertificates:
		return s.Certificates
	case viewClientCertificates:
		return s.Extra.ClientCertificates
	case viewEncryptedExtensions:
		return s.Extra.EncryptedExtensions
	}
	return nil
}

// entry returns the log entry of m, which filled the view view.
func (s *Session) entry(m *Message, view uint8) logEntry {
	e := newLogEntry(m.At, m.Length, m.From, m.Type, m.Protected, view)
	switch v := m.Value.(type) {
	case nil:
		if m.Err == nil {
			return e
		}
	case *ServerKeyExchange:
		if m.Err == nil {
			e.setVal(valSKE, v.Group)
			return e
		}
	default:
		if view != viewNone && m.Err == nil && s.viewValue(view) == m.Value {
			e.setVal(valView, 0)
			return e
		}
	}
	x := s.extra()
	e.setVal(valSide, uint16(len(x.values)))
	x.values = append(x.values, loggedValue{m.Value, m.Err})
	return e
}

// message returns the logged message of e.
func (s *Session) message(e *logEntry) Message {
	m := Message{From: e.from(), Type: e.typ, Protected: e.prot(), Length: e.length, At: e.at}
	switch e.val() {
	case valView:
		m.Value = s.viewValue(e.view())
	case valSKE:
		m.Value = &ServerKeyExchange{Group: uint16(e.aux)}
	case valSide:
		v := s.Extra.values[e.aux]
		m.Value, m.Err = v.value, v.err
	}
	return m
}

// Messages returns the log of handshake messages of both directions in the
// order they completed, with their parsed values and parse errors: a new
// slice at each call.
func (s *Session) Messages() []Message {
	log := s.entries()
	if len(log) == 0 {
		return nil
	}
	out := make([]Message, len(log))
	for i := range log {
		out[i] = s.message(&log[i])
	}
	return out
}

// entries returns the log entries: the kept ones, or the two hellos'.
func (s *Session) entries() []logEntry {
	if s.helloLog {
		e := s.helloEntries()
		return e[:]
	}
	return s.log
}

// helloEntries returns the log entries of the two hello views, as the Conn
// logs them.
func (s *Session) helloEntries() [2]logEntry {
	e := [2]logEntry{
		newLogEntry(s.ClientHelloAt, s.ClientHello.Length, ClientToServer, TypeClientHello, false, viewClientHello),
		newLogEntry(s.ServerHelloAt, s.ServerHello.Length, ServerToClient, TypeServerHello, false, viewServerHello),
	}
	e[0].setVal(valView, 0)
	e[1].setVal(valView, 0)
	return e
}

// logged reports whether a message of type typ from dir was logged.
func (s *Session) logged(dir Dir, typ uint8) bool {
	log := s.entries()
	for i := range log {
		if e := &log[i]; e.from() == dir && e.typ == typ {
			return true
		}
	}
	return false
}

// extra returns s.Extra, allocating it the first time.
func (s *Session) extra() *SessionExtra {
	if s.Extra == nil {
		s.Extra = &SessionExtra{}
	}
	return s.Extra
}

// noSessionExtra is what a session without rare parts reads: a zero value
// that is never written.
var noSessionExtra SessionExtra

// rare returns s.Extra, or noSessionExtra when s has none: for reading
// only.
func (s *Session) rare() *SessionExtra {
	if s.Extra == nil {
		return &noSessionExtra
	}
	return s.Extra
}

// HelloRetry returns the HelloRetryRequest (see SessionExtra), nil if none.
func (s *Session) HelloRetry() *ServerHello { return s.rare().HelloRetry }

// HelloRetryAt returns the packet that completed the HelloRetryRequest.
func (s *Session) HelloRetryAt() wire.Ref { return s.rare().HelloRetryAt }

// SecondClientHello returns the ClientHello that answered a
// HelloRetryRequest, nil if none.
func (s *Session) SecondClientHello() *ClientHello { return s.rare().SecondClientHello }

// SecondClientHelloAt returns the packet that completed the second
// ClientHello.
func (s *Session) SecondClientHelloAt() wire.Ref { return s.rare().SecondClientHelloAt }

// ClientCertificates returns the client's Certificate message, nil if none.
func (s *Session) ClientCertificates() *CertificateMsg { return s.rare().ClientCertificates }

// ClientCertificatesAt returns the packet that completed the client's
// Certificate message.
func (s *Session) ClientCertificatesAt() wire.Ref { return s.rare().ClientCertificatesAt }

// EncryptedExtensions returns the server's EncryptedExtensions, nil if it
// was not read.
func (s *Session) EncryptedExtensions() *EncryptedExtensions { return s.rare().EncryptedExtensions }

// EncryptedExtensionsAt returns the packet that completed the
// EncryptedExtensions.
func (s *Session) EncryptedExtensionsAt() wire.Ref { return s.rare().EncryptedExtensionsAt }

// DecryptedRecords returns the number of records of dir that were
// decrypted.
func (s *Session) DecryptedRecords(dir Dir) int32 { return s.rare().DecryptedRecords[dir&1] }

// Notes returns the anomalies of the record and handshake layers (see
// SessionExtra.Notes).
func (s *Session) Notes() []string { return s.rare().Notes }

// AddNote appends a note of a layer above TLS (the HTTP/2 of decrypted
// data …) to Notes, as is: the caller bounds them and prefixes the packet.
func (s *Session) AddNote(note string) {
	x := s.extra()
	x.Notes = append(x.Notes, note)
}

// Errors returns the messages that could not be decoded and the protocol
// errors that stopped a direction (see SessionExtra.Errors).
func (s *Session) Errors() []string { return s.rare().Errors }

// Message returns the first logged message of type typ from dir, nil if
// none was seen.
func (s *Session) Message(dir Dir, typ uint8) *Message {
	log := s.entries()
	for i := range log {
		if e := &log[i]; e.from() == dir && e.typ == typ {
			m := s.message(e)
			return &m
		}
	}
	return nil
}

// SoleAppDataRecord returns dir's one protected record of outer type
// application_data among its first MaxEncryptedRecords protected records
// (in TLS 1.3 every protected record, Finished included; in TLS 1.2 only
// application data proper, since Finished travels as handshake); ok is
// false when there are none or several.
func (s *Session) SoleAppDataRecord(dir Dir) (rec RecordInfo, ok bool) {
	if s.AppDataAmongFirst[dir&1] != 1 {
		return RecordInfo{}, false
	}
	return RecordInfo{Type: ContentApplicationData, Length: s.FirstAppDataLength[dir&1], At: s.FirstAppDataAt[dir&1]}, true
}

// FinishedSeen reports whether dir's Finished was read or inferred (see
// DirState.Finished).
func (s *Session) FinishedSeen(dir Dir) bool { return !s.Dirs[dir].Finished.IsZero() }

// ClientSentAppData reports whether the client sent application data after
// its handshake (see DirState.AppData): the mark of a client that accepted
// the server's certificate.
func (s *Session) ClientSentAppData() bool { return !s.Dirs[ClientToServer].AppData.IsZero() }

// FatalAlert returns the first fatal alert dir sent, nil if none.
func (s *Session) FatalAlert(dir Dir) *Alert {
	for i := range s.Alerts {
		if a := &s.Alerts[i]; a.From == dir && a.Fatal() {
			return a
		}
	}
	return nil
}

// CertCompression returns the server's CompressedCertificate (RFC 8879), nil
// when the certificate was not compressed or not seen.
func (s *Session) CertCompression() *CompressedCertificate {
	if m := s.Message(ServerToClient, TypeCompressedCertificate); m != nil {
		cc, _ := m.Value.(*CompressedCertificate)
		return cc
	}
	return nil
}

// HelloNotes returns the notes of the hellos and the server's certificate
// message, each prefixed with its message ("client hello: duplicate …"):
// the marks a middlebox that rewrote a hello leaves behind.
func (s *Session) HelloNotes() []string {
	var out []string
	add := func(name string, notes []string) {
		for _, n := range notes {
			out = append(out, name+": "+n)
		}
	}
	if s.ClientHello != nil {
		add(msgClientHello, s.ClientHello.Notes)
	}
	if ch := s.SecondClientHello(); ch != nil {
		add("second "+msgClientHello, ch.Notes)
	}
	if hrr := s.HelloRetry(); hrr != nil {
		add("hello retry request", hrr.Notes)
	}
	if s.ServerHello != nil {
		add(msgServerHello, s.ServerHello.Notes)
	}
	if s.Certificates != nil {
		add(msgCertificate, s.Certificates.Notes)
	}
	return out
}

// MessageErrors returns the parse errors of the logged messages, each
// prefixed with the packet and the sender like Errors.
func (s *Session) MessageErrors() []string {
	var out []string
	for i := range s.log { // a log of the hellos alone has no errors
		if e := &s.log[i]; e.val() == valSide {
			if err := s.Extra.values[e.aux].err; err != nil {
				out = append(out, e.at.String()+" "+e.from().String()+": "+err.Error())
			}
		}
	}
	return out
}

// Version returns the negotiated version (the ServerHello's, see
// [ServerHello.Version]; the HelloRetryRequest's when only that was seen),
// 0 if unknown.
func (s *Session) Version() uint16 {
	if s.ServerHello != nil {
		return s.ServerHello.Version()
	}
	if hrr := s.HelloRetry(); hrr != nil {
		return hrr.Version()
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
	if ee := s.EncryptedExtensions(); ee != nil {
		return ee.ALPN
	}
	return ""
}

// follow moves the packet of the view that e filled, if any, to e.at: a
// message's packet is only known when its record ends.
func (s *Session) follow(e *logEntry) {
	switch e.view() {
	case viewClientHello:
		s.ClientHelloAt = e.at
	case viewSecondClientHello:
		s.Extra.SecondClientHelloAt = e.at
	case viewServerHello:
		s.ServerHelloAt = e.at
	case viewHelloRetry:
		s.Extra.HelloRetryAt = e.at
	case viewCertificates:
		s.CertificatesAt = e.at
	case viewClientCertificates:
		s.Extra.ClientCertificatesAt = e.at
	case viewEncryptedExtensions:
		s.Extra.EncryptedExtensionsAt = e.at
	}
	if d := e.from(); e.typ == TypeFinished && !s.Dirs[d].FinishedInferred {
		s.Dirs[d].Finished = e.at
	}
}

// clip reallocates the log without the spare capacity that growing it by
// append left: a Session is kept for the whole analysis, and a TLS 1.2
// flight of five or six messages would otherwise keep room for eight.
func (s *Session) clip() {
	if len(s.log) == 2 && s.ClientHello != nil && s.ServerHello != nil && [2]logEntry(s.log) == s.helloEntries() {
		s.log, s.helloLog = nil, true
	}
	if cap(s.log) > len(s.log) {
		s.log = append([]logEntry(nil), s.log...)
	}
	if s.Extra != nil && cap(s.Extra.values) > len(s.Extra.values) {
		s.Extra.values = append([]loggedValue(nil), s.Extra.values...)
	}
}
