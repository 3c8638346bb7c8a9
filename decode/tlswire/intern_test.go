package tlswire

import (
	"reflect"
	"testing"
)

func TestInternerSharesTheListsOfIdenticalHellos(t *testing.T) {
	p := getPKI(t)
	in := NewInterner(64)
	var hellos, plain []*ClientHello
	var servers []*ServerHello
	for range 2 {
		rec, ce, se := handshake(t, goClientConfig(p), serverConfig(p), 100)
		if ce != nil || se != nil {
			t.Fatalf("handshake: %v / %v", ce, se)
		}
		c := NewConn(ConnOptions{Intern: in})
		feedChunks(c, rec, nil)
		hellos = append(hellos, c.Session().ClientHello)
		servers = append(servers, c.Session().ServerHello)
		plain = append(plain, feedPattern(rec, nil, nil).Session().ClientHello)
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
	for i := range hellos {
		if !reflect.DeepEqual(hellos[i], plain[i]) {
			t.Errorf("hello %d interned differs from the one parsed alone:\n%+v\n%+v", i, hellos[i], plain[i])
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
