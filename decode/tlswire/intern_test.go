package tlswire

import (
	"reflect"
	"slices"
	"testing"
)

func TestInternerSharesTheListsOfIdenticalHellos(t *testing.T) {
	p := getPKI(t)
	in := NewInterner(64)
	var hellos, plain []*ClientHello
	var servers, plainServers []*ServerHello
	var sessions, plainSessions []*Session
	for range 2 {
		rec, ce, se := handshake(t, goClientConfig(p), serverConfig(p), 100)
		if ce != nil || se != nil {
			t.Fatalf("handshake: %v / %v", ce, se)
		}
		c := NewConn(ConnOptions{Intern: in})
		feedChunks(c, rec, nil)
		hellos = append(hellos, c.Session().ClientHello)
		servers = append(servers, c.Session().ServerHello)
		sessions = append(sessions, c.Session())
		ps := feedPattern(rec, nil, nil).Session()
		plain, plainServers, plainSessions = append(plain, ps.ClientHello), append(plainServers, ps.ServerHello), append(plainSessions, ps)
	}
	a, b := hellos[0], hellos[1]
	if a == nil || b == nil || servers[0] == nil || servers[1] == nil {
		t.Fatal("hellos not parsed")
	}
	shared := map[string][2]any{
		"cipher_suites":        {a.CipherSuites, b.CipherSuites},
		"extensions":           {a.Extensions, b.Extensions},
		"supported_groups":     {a.SupportedGroups, b.SupportedGroups},
		"signature_algorithms": {a.SignatureAlgorithms, b.SignatureAlgorithms},
		"supported_versions":   {a.SupportedVersions, b.SupportedVersions},
		"key_shares":           {a.KeyShares, b.KeyShares},
		"alpn":                 {a.ALPN, b.ALPN},
		"server_hello ext":     {servers[0].Extensions, servers[1].Extensions},
	}
	for name, v := range shared {
		if reflect.ValueOf(v[0]).Len() == 0 {
			t.Errorf("%s: empty in a Go client's hello", name)
			continue
		}
		if reflect.ValueOf(v[0]).Pointer() != reflect.ValueOf(v[1]).Pointer() {
			t.Errorf("%s: not shared between identical hellos", name)
		}
	}
	if a.HelloProfile != b.HelloProfile {
		t.Error("identical hellos do not share their profile")
	}
	if a.Random == b.Random {
		t.Error("the hellos share their random: the per-connection fields must stay apart")
	}
	if servers[0] != servers[1] {
		t.Error("identical ServerHellos are not shared")
	}
	if plainServers[0].Random == plainServers[1].Random {
		t.Fatal("the handshakes' server randoms are equal")
	}
	for i := range hellos {
		want := *plain[i]
		if !reflect.DeepEqual(*hellos[i], want) {
			t.Errorf("hello %d interned differs from the one parsed alone:\n%+v\n%+v", i, hellos[i], plain[i])
		}
		wantSH := *plainServers[i]
		wantSH.Random, wantSH.SessionID = [32]byte{}, nil // per connection: dropped
		if !reflect.DeepEqual(*servers[i], wantSH) {
			t.Errorf("ServerHello %d interned differs from the one parsed alone:\n%+v\n%+v", i, servers[i], plainServers[i])
		}
		// What stays per session is the session's own.
		if got, want := summary(sessions[i]), summary(plainSessions[i]); got != want {
			t.Errorf("session %d with shared hellos:\n%s\nalone:\n%s", i, got, want)
		}
	}
}

func TestInternerKeepsDifferentProfilesApart(t *testing.T) {
	p := getPKI(t)
	in := NewInterner(64)
	var got []*ClientHello
	for _, protos := range [][]string{{"h2", "http/1.1"}, {"http/1.1"}} {
		cfg := goClientConfig(p)
		cfg.NextProtos = protos
		rec, ce, se := handshake(t, cfg, serverConfig(p), 100)
		if ce != nil || se != nil {
			t.Fatalf("handshake: %v / %v", ce, se)
		}
		c := NewConn(ConnOptions{Intern: in})
		feedChunks(c, rec, nil)
		got = append(got, c.Session().ClientHello)
	}
	if got[0].HelloProfile == got[1].HelloProfile {
		t.Fatal("hellos offering different ALPN share a profile")
	}
	if len(got[0].ALPN) != 2 || len(got[1].ALPN) != 1 {
		t.Errorf("ALPN %q / %q", got[0].ALPN, got[1].ALPN)
	}
	if &got[0].CipherSuites[0] != &got[1].CipherSuites[0] {
		t.Error("the cipher suites both offer are not shared")
	}
}

func TestInternerStopsGrowingAtItsBound(t *testing.T) {
	in := NewInterner(2)
	for i := range 10 {
		l := []uint16{uint16(i), 1}
		if got := in.list(l); &got[0] != &l[0] {
			t.Fatalf("list %d: a distinct list came back shared", i)
		}
	}
	if len(in.lists) != 2 {
		t.Errorf("%d lists held, want the bound 2", len(in.lists))
	}
	var nilIn *Interner
	nilIn.Hello(&ClientHello{}) // a nil Interner does nothing
	nilIn.ServerHello(&ServerHello{})
}

// TestSharedServerHelloKeepsEachSessionsPacket runs two sessions through
// one Interner, the second repeating its ServerHello in a later packet:
// both share one ServerHello, each keeps the packet of its own, and the
// repeated one, logged, does not move the view.
func TestSharedServerHelloKeepsEachSessionsPacket(t *testing.T) {
	in := NewInterner(64)
	sh := record(ContentHandshake, msg(TypeServerHello, serverHello12))
	first := NewConn(ConnOptions{Intern: in})
	feedPackets(first, []packet{
		{ClientToServer, record(ContentHandshake, msg(TypeClientHello, browserHello))},
		{ServerToClient, sh},
	}, 1)
	first.Finish()
	second := NewConn(ConnOptions{Intern: in})
	feedPackets(second, []packet{
		{ClientToServer, record(ContentHandshake, msg(TypeClientHello, browserHello))},
		{ClientToServer, record(ContentHandshake, msg(TypeClientKeyExchange, vec8(make([]byte, 32))))},
		{ServerToClient, sh},
		{ServerToClient, sh},
	}, 10)
	second.Finish()
	a, b := first.Session(), second.Session()
	if a.ServerHello == nil || a.ServerHello != b.ServerHello {
		t.Fatalf("ServerHellos %p / %p: not shared", a.ServerHello, b.ServerHello)
	}
	if a.ServerHelloAt != ref(2) || b.ServerHelloAt != ref(12) {
		t.Errorf("ServerHello packets %v / %v, want #2 / #12", a.ServerHelloAt, b.ServerHelloAt)
	}
	var logged []*Message
	msgs := b.Messages()
	for i := range msgs {
		if m := &msgs[i]; m.Type == TypeServerHello {
			logged = append(logged, m)
		}
	}
	if len(logged) != 2 || logged[0].At != ref(12) || logged[1].At != ref(13) || logged[1].Value == any(b.ServerHello) {
		t.Errorf("logged ServerHellos %+v", logged)
	}
	if !slices.Contains(b.Notes(), "#13 server: another ServerHello") {
		t.Errorf("notes %q", b.Notes())
	}
	if a.ServerHello.Random != ([32]byte{}) || first.serverRandom == ([32]byte{}) || second.serverRandom == ([32]byte{}) {
		t.Errorf("the shared ServerHello keeps a Random, or the Conns lost theirs")
	}
}
