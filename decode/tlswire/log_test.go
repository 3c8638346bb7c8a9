package tlswire

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode/wire"
)

// TestCompactLogGivesBackEveryMessage checks the log a Session keeps in
// compact form: each message comes back with its own packet, length and
// direction, the value of one that filled a view is the view itself, a
// ServerKeyExchange keeps its group, a repeated hello its own value, and a
// damaged message its error.
func TestCompactLogGivesBackEveryMessage(t *testing.T) {
	c := NewConn(ConnOptions{})
	pkts := tls12Flight(t)[:3]
	pkts = append(pkts,
		packet{ClientToServer, record(ContentHandshake, msg(TypeClientHello, browserHello))},       // #4 another ClientHello
		packet{ServerToClient, record(ContentHandshake, msg(TypeServerHello, serverHello12[:40]))}, // #5 a damaged ServerHello
	)
	feedPackets(c, pkts, 1)
	c.Finish()
	s := c.Session()
	msgs := s.Messages()
	type want struct {
		from  Dir
		typ   uint8
		at    capture.Ref
		value any
	}
	wants := []want{
		{ClientToServer, TypeClientHello, ref(1), s.ClientHello},
		{ServerToClient, TypeServerHello, ref(2), s.ServerHello},
		{ServerToClient, TypeCertificate, ref(2), s.Certificates},
		{ServerToClient, TypeServerKeyExchange, ref(2), nil},
		{ServerToClient, TypeServerHelloDone, ref(2), nil},
		{ClientToServer, TypeClientKeyExchange, ref(3), nil},
		{ClientToServer, TypeClientHello, ref(4), nil},
		{ServerToClient, TypeServerHello, ref(5), nil},
	}
	if len(msgs) != len(wants) {
		t.Fatalf("%d messages logged, want %d: %v", len(msgs), len(wants), msgs)
	}
	for i, w := range wants {
		m := msgs[i]
		if m.From != w.from || m.Type != w.typ || m.At != w.at {
			t.Errorf("message %d: %v %s at %v, want %v %s at %v", i, m.From, HandshakeTypeName(m.Type), m.At, w.from, HandshakeTypeName(w.typ), w.at)
		}
		if w.value != nil && m.Value != w.value {
			t.Errorf("message %d: value %p is not the session's view %p", i, m.Value, w.value)
		}
	}
	if ske, ok := msgs[3].Value.(*ServerKeyExchange); !ok || ske.Group != 29 || msgs[3].Err != nil {
		t.Errorf("ServerKeyExchange %+v (%v)", msgs[3].Value, msgs[3].Err)
	}
	if ch, ok := msgs[6].Value.(*ClientHello); !ok || ch == s.ClientHello || ch.ServerName != s.ClientHello.ServerName {
		t.Errorf("repeated ClientHello %+v", msgs[6].Value)
	}
	if msgs[7].Err == nil || !errors.Is(msgs[7].Err, ErrTruncated) || msgs[7].Value == nil || msgs[7].Value == any(s.ServerHello) {
		t.Errorf("damaged ServerHello %+v (%v)", msgs[7].Value, msgs[7].Err)
	}
	if errs := s.MessageErrors(); len(errs) != 1 || errs[0] != "#5 server: "+msgs[7].Err.Error() {
		t.Errorf("message errors %q", errs)
	}
	if m := s.Message(ClientToServer, TypeClientHello); m == nil || m.Value != any(s.ClientHello) || m.At != ref(1) {
		t.Errorf("first ClientHello %+v", m)
	}
	if s.Message(ServerToClient, TypeFinished) != nil {
		t.Error("a message never sent was found")
	}
}

// TestHelloOnlyLogIsTheViews checks a TLS 1.3 session decoded without
// keys, whose log is its two hellos: the Session keeps no log of its own,
// and gives back the same messages, with their packets, as while it was
// decoding.
func TestHelloOnlyLogIsTheViews(t *testing.T) {
	p := getPKI(t)
	rec, ce, se := handshake(t, goClientConfig(p), serverConfig(p), 100)
	if ce != nil || se != nil {
		t.Fatalf("handshake: %v / %v", ce, se)
	}
	c := NewConn(ConnOptions{Intern: NewInterner(8)})
	feedChunks(c, rec, []int{7, 300})
	s := c.Session()
	before := s.Messages()
	c.Finish()
	if !s.helloLog || s.log != nil {
		t.Fatalf("log kept: %d entries (hellos only: %v)", len(s.log), s.helloLog)
	}
	after := s.Messages()
	if len(after) != 2 || !reflect.DeepEqual(before, after) {
		t.Fatalf("messages before Finish %+v, after %+v", before, after)
	}
	if after[0].Value != any(s.ClientHello) || after[0].At != s.ClientHelloAt || after[1].Value != any(s.ServerHello) || after[1].At != s.ServerHelloAt {
		t.Errorf("hellos %+v", after)
	}
	if m := s.Message(ServerToClient, TypeServerHello); m == nil || m.Length != s.ServerHello.Length {
		t.Errorf("ServerHello %+v", m)
	}
}

// TestLogEntryKeepsEveryFieldInItsByte checks that the sender, the
// protected flag, the view and the place of the value, which a log entry
// packs into one byte, read back as they were set, with every other field.
func TestLogEntryKeepsEveryFieldInItsByte(t *testing.T) {
	at := wire.NewRef(3, 1234, time.Unix(1700000000, 42))
	for _, from := range []Dir{ClientToServer, ServerToClient} {
		for _, prot := range []bool{false, true} {
			for view := viewNone; view <= viewEncryptedExtensions; view++ {
				for val := valNone; val <= valSide; val++ {
					e := newLogEntry(at, 1<<24-1, from, TypeCertificate, prot, view)
					e.setVal(val, 0xfffe)
					if e.from() != from || e.prot() != prot || e.view() != view || e.val() != val ||
						e.at != at || e.length != 1<<24-1 || e.typ != TypeCertificate || e.aux != 0xfffe {
						t.Errorf("entry %+v reads from %v prot %v view %d val %d, want %v %v %d %d", e, e.from(), e.prot(), e.view(), e.val(), from, prot, view, val)
					}
				}
			}
		}
	}
}
