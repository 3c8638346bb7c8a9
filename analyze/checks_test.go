package analyze

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net/netip"
	"strings"
	"testing"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// want is an expected finding: its host and severity, and a phrase its
// observed text or summary must contain ("" for none).
type want struct {
	host, severity, phrase string
}

// expectFindings compares findings with the expected ones, in order.
func expectFindings(t *testing.T, got []Finding, wants ...want) {
	t.Helper()
	if len(got) != len(wants) {
		var s []string
		for _, f := range got {
			s = append(s, f.Host+" "+f.Severity.String()+": "+f.Summary)
		}
		t.Fatalf("got %d findings, want %d:\n%s", len(got), len(wants), strings.Join(s, "\n"))
	}
	for i, w := range wants {
		f := got[i]
		if f.Host != w.host || f.Severity.String() != w.severity {
			t.Errorf("finding %d: host %q severity %s, want %q %s (%s)", i, f.Host, f.Severity, w.host, w.severity, f.Summary)
		}
		if w.phrase != "" && !strings.Contains(f.Summary+" "+f.Observed, w.phrase) {
			t.Errorf("finding %d lacks %q: %s / %s", i, w.phrase, f.Summary, f.Observed)
		}
		if len(f.Evidence) == 0 || f.WiresharkFilter == "" || f.Hint == "" || f.Expected == "" || f.Observed == "" {
			t.Errorf("finding %d is incomplete: %+v", i, f)
		}
	}
}

const (
	client  = "10.0.0.2:41000"
	stub    = "127.0.0.53:53"
	router  = "192.168.1.1:53"
	modHost = "proxy.golang.org"
)

func TestDNSChecks(t *testing.T) {
	icmpFor := func(x *decode.DNSExchange, n int, kind string, quotesResponse bool) *decode.ICMPError {
		e := &decode.ICMPError{At: at(n), Kind: kind, From: x.Server.Addr(), Proto: "udp", Src: x.Client, Dst: x.Server, HasDNS: true, DNSID: x.ID}
		if quotesResponse {
			e.From, e.Src, e.Dst = x.Client.Addr(), x.Server, x.Client
		}
		if x.Extra == nil {
			x.Extra = &decode.DNSExtra{}
		}
		x.Extra.ICMP = append(x.Extra.ICMP, e)
		return e
	}
	tests := []struct {
		name  string
		check string
		build func() *decode.Events
		end   int
		opt   Options
		want  []want
	}{
		{name: "ICMP port unreachable for queries to the stub", check: "dns-unreachable", end: 2000,
			build: func() *decode.Events {
				a := exchange(1, client, stub, modHost, "A")
				icmpFor(a, 2, "port-unreachable", false)
				aaaa := exchange(3, client, stub, modHost, "AAAA")
				icmpFor(aaaa, 4, "port-unreachable", false)
				return &decode.Events{DNS: []*decode.DNSExchange{a, aaaa}}
			},
			want: []want{{modHost, "error", "systemd-resolved"}}},
		{name: "an ICMP error quoting a response is not the resolver missing", check: "dns-unreachable", end: 2000,
			build: func() *decode.Events {
				a := exchange(1, client, router, modHost, "A", response(2, "NOERROR", 64, modHost, "A 142.250.1.1"))
				icmpFor(a, 4, "port-unreachable", true)
				return &decode.Events{DNS: []*decode.DNSExchange{a}}
			}},
		{name: "unanswered queries with retries time out", check: "dns-timeout", end: 12000,
			build: func() *decode.Events {
				a := exchange(1, client, router, modHost, "A")
				a.Extra = &decode.DNSExtra{Retries: []capture.Ref{at(5001)}}
				return &decode.Events{DNS: []*decode.DNSExchange{a}}
			},
			want: []want{{modHost, "error", "answered no query at all"}}},
		{name: "a resolver that drops only AAAA", check: "dns-timeout", end: 12000,
			build: func() *decode.Events {
				a := exchange(1, client, router, modHost, "A", response(2, "NOERROR", 64, modHost, "A 142.250.1.1"))
				aaaa := exchange(3, client, router, modHost, "AAAA")
				return &decode.Events{DNS: []*decode.DNSExchange{a, aaaa}}
			},
			want: []want{{modHost, "error", "did answer A"}}},
		{name: "a capture that ends right after the query judges nothing", check: "dns-timeout", end: 50,
			build: func() *decode.Events {
				return &decode.Events{DNS: []*decode.DNSExchange{exchange(1, client, router, modHost, "A")}}
			}},
		{name: "an answer after the client's timeout counts as a timeout", check: "dns-timeout", end: 9000,
			build: func() *decode.Events {
				return &decode.Events{DNS: []*decode.DNSExchange{exchange(1, client, router, modHost, "A", response(7000, "NOERROR", 64, modHost, "A 142.250.1.1"))}}
			},
			want: []want{{modHost, "error", "after the 5s resolver timeout"}}},
		{name: "SERVFAIL and REFUSED are errors", check: "dns-error-rcode", end: 100,
			build: func() *decode.Events {
				return &decode.Events{DNS: []*decode.DNSExchange{
					exchange(1, client, router, modHost, "A", response(2, "SERVFAIL", 64, modHost)),
					exchange(3, client, "10.9.9.9:53", "sum.golang.org", "A", response(4, "REFUSED", 64, "sum.golang.org")),
				}}
			},
			want: []want{{modHost, "error", "SERVFAIL"}, {"sum.golang.org", "error", "REFUSED"}}},
		{name: "NXDOMAIN for a module host, not for an unknown name, and never AAAA NODATA", check: "dns-error-rcode", end: 100,
			build: func() *decode.Events {
				return &decode.Events{DNS: []*decode.DNSExchange{
					exchange(1, client, router, modHost, "A", response(2, "NXDOMAIN", 64, modHost)),
					exchange(3, client, router, "nonexistent.example.org", "A", response(4, "NXDOMAIN", 64, "x")),
					exchange(5, client, router, "sum.golang.org", "AAAA", response(6, "NOERROR", 64, "sum.golang.org")),
					exchange(7, client, router, "proxy.golang.org.corp.example", "A", response(8, "NXDOMAIN", 64, "x")),
				}}
			},
			want: []want{{modHost, "error", "NXDOMAIN"}}},
		{name: "loopback and private answers for a public name", check: "dns-bogon-answer", end: 100,
			build: func() *decode.Events {
				return &decode.Events{DNS: []*decode.DNSExchange{
					exchange(1, client, router, modHost, "A", response(2, "NOERROR", 64, modHost, "A 0.0.0.0")),
					exchange(3, client, router, "sum.golang.org", "A", response(4, "NOERROR", 64, "sum.golang.org", "A 10.20.30.40")),
					exchange(5, client, router, "goproxy.corp.internal", "A", response(6, "NOERROR", 64, "goproxy.corp.internal", "A 10.1.1.1")),
					exchange(7, client, router, "artifactory", "A", response(8, "NOERROR", 64, "artifactory", "A 10.1.1.2")),
				}}
			},
			want: []want{{modHost, "error", "unspecified"}, {"sum.golang.org", "error", "private"}}},
		{name: "an allowed range is not a bogon", check: "dns-bogon-answer", end: 100,
			opt: Options{AllowAddrs: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}},
			build: func() *decode.Events {
				return &decode.Events{DNS: []*decode.DNSExchange{
					exchange(3, client, router, "sum.golang.org", "A", response(4, "NOERROR", 64, "sum.golang.org", "A 10.20.30.40")),
				}}
			}},
		{name: "fake-IP answers", check: "dns-fake-ip", end: 100,
			build: func() *decode.Events {
				return &decode.Events{DNS: []*decode.DNSExchange{
					exchange(1, client, "127.0.0.1:53", modHost, "A", response(2, "NOERROR", 64, modHost, "A 198.18.0.23")),
				}}
			},
			want: []want{{modHost, "warning", "198.18.0.23"}}},
		{name: "differing responses to one query are an injection", check: "dns-injected-answer", end: 100,
			build: func() *decode.Events {
				x := exchange(1, client, "8.8.8.8:53", modHost, "A",
					response(2, "NOERROR", 91, modHost, "A 31.13.94.37"),
					response(40, "NOERROR", 117, modHost, "CNAME proxy.l.google.com", "A 142.250.1.1"))
				icmpFor(x, 41, "port-unreachable", true)
				return &decode.Events{DNS: []*decode.DNSExchange{x}}
			},
			want: []want{{modHost, "error", "already accepted the first"}}},
		{name: "identical repeated responses are retransmissions", check: "dns-injected-answer", end: 100,
			build: func() *decode.Events {
				return &decode.Events{DNS: []*decode.DNSExchange{exchange(1, client, router, modHost, "A",
					response(2, "NOERROR", 64, modHost, "A 142.250.1.1"), response(3, "NOERROR", 64, modHost, "A 142.250.1.1"))}}
			}},
		{name: "forged-pool and Teredo answers", check: "dns-forged-ip", end: 100,
			build: func() *decode.Events {
				return &decode.Events{DNS: []*decode.DNSExchange{
					exchange(1, client, router, modHost, "A", response(2, "NOERROR", 64, modHost, "A 31.13.94.37")),
					exchange(3, client, router, modHost, "AAAA", response(4, "NOERROR", 64, modHost, "AAAA 2001::1234")),
					exchange(5, client, router, "www.facebook.com", "A", response(6, "NOERROR", 64, "www.facebook.com", "A 31.13.94.37")),
				}}
			},
			want: []want{{modHost, "error", "31.13.94.37"}, {modHost, "error", "Teredo"}}},
		{name: "a search domain appended to a module host", check: "dns-search-suffix", end: 100,
			build: func() *decode.Events {
				return &decode.Events{DNS: []*decode.DNSExchange{
					exchange(1, client, router, "proxy.golang.org.corp.example", "A", response(2, "NXDOMAIN", 64, "x")),
				}}
			},
			want: []want{{modHost, "info", "corp.example"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxFor(tt.build(), tt.end, tt.opt)
			expectFindings(t, runCheck(t, tt.check, ctx), tt.want...)
		})
	}
}

func TestTCPChecks(t *testing.T) {
	server := addrPortOf("142.250.1.1:443")
	dns := exchange(1, client, router, modHost, "A", response(2, "NOERROR", 64, modHost, "A 142.250.1.1", "A 142.250.1.2"))
	conn := func(server netip.AddrPort, syns []int, synack int, resets ...decode.TCPReset) *decode.TCPConn {
		c := &decode.TCPConn{Client: addrPortOf("10.0.0.2:50000"), Server: server, First: at(syns[0]), Extra: &decode.TCPExtra{Resets: resets}}
		for _, s := range syns {
			c.AddSYN(at(s))
		}
		if synack > 0 {
			c.SYNACK = at(synack)
		}
		return c
	}
	tests := []struct {
		name  string
		check string
		ev    *decode.Events
		want  []want
	}{
		{name: "SYN retransmissions without answer", check: "tcp-connect-timeout",
			ev:   &decode.Events{DNS: []*decode.DNSExchange{dns}, TCP: []*decode.TCPConn{conn(server, []int{10, 1010, 3010}, 0)}},
			want: []want{{modHost, "error", "3 SYNs"}}},
		{name: "a dead address beside a working one is a warning", check: "tcp-connect-timeout",
			ev: &decode.Events{DNS: []*decode.DNSExchange{dns}, TCP: []*decode.TCPConn{
				conn(server, []int{10, 1010}, 0), conn(addrPortOf("142.250.1.2:443"), []int{20}, 21)}},
			want: []want{{modHost, "warning", "another address"}}},
		{name: "SYN answered by RST", check: "tcp-connect-refused",
			ev: &decode.Events{DNS: []*decode.DNSExchange{dns}, TCP: []*decode.TCPConn{
				conn(server, []int{10}, 0, decode.TCPReset{At: at(11)})}},
			want: []want{{modHost, "error", "reset"}}},
		{name: "client resets after a successful exchange are not findings", check: "tcp-connect-refused",
			ev: &decode.Events{DNS: []*decode.DNSExchange{dns}, TCP: []*decode.TCPConn{
				conn(server, []int{10}, 11, decode.TCPReset{At: at(500), FromClient: true})}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectFindings(t, runCheck(t, tt.check, ctxFor(tt.ev, 6000, Options{})), tt.want...)
		})
	}
}

func TestSessionChecks(t *testing.T) {
	mitm := makeCA(t, pkix.Name{CommonName: "mitmproxy", Organization: []string{"mitmproxy"}})
	corp := makeCA(t, pkix.Name{CommonName: "Corp Root CA", Organization: []string{"Example Corp"}})
	mitmLeaf := mitm.leaf(t, modHost, []string{modHost}, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	corpLeaf := corp.leaf(t, "goproxy.corp.internal", []string{"goproxy.corp.internal"}, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	wrongLeaf := corp.leaf(t, "portal.example.net", []string{"portal.example.net"}, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	oldLeaf := corp.leaf(t, "goproxy.corp.internal", []string{"goproxy.corp.internal"}, t0.AddDate(-2, 0, 0), t0.AddDate(0, -1, 0))
	badCert := tlswire.Alert{From: tlswire.ClientToServer, Level: 2, Description: 42, At: at(8)}
	tests := []struct {
		name  string
		check string
		spec  sessionSpec
		opt   Options
		want  []want
	}{
		{name: "interception CA with the client aborting", check: "tls-foreign-issuer",
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(mitmLeaf), alerts: []tlswire.Alert{badCert}},
			want: []want{{modHost, "error", "mitmproxy"}}},
		{name: "interception CA the client trusts", check: "tls-foreign-issuer",
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(mitmLeaf), clientRecs: appData(2, 200)},
			want: []want{{modHost, "warning", "accepted it"}}},
		{name: "private CA for an internal name", check: "tls-foreign-issuer",
			spec: sessionSpec{sni: "goproxy.corp.internal", version: tlswire.VersionTLS12, certs: chainMsg(corpLeaf), clientRecs: appData(2, 200)},
			want: []want{{"goproxy.corp.internal", "info", "private CA"}}},
		{name: "a CA given with --trust is accepted", check: "tls-foreign-issuer",
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(mitmLeaf)},
			opt:  Options{Trust: []*x509.Certificate{mitm.cert}}},
		{name: "hostname mismatch", check: "tls-hostname-mismatch",
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(wrongLeaf)},
			want: []want{{modHost, "error", "portal.example.net"}}},
		{name: "expired at the packet's time", check: "tls-expired",
			spec: sessionSpec{sni: "goproxy.corp.internal", version: tlswire.VersionTLS12, certs: chainMsg(oldLeaf)},
			want: []want{{"goproxy.corp.internal", "error", "expired"}}},
		{name: "valid at the packet's time is never expired, whatever today is", check: "tls-expired",
			spec: sessionSpec{sni: "goproxy.corp.internal", version: tlswire.VersionTLS12, certs: chainMsg(corpLeaf)}},
		{name: "h2 offered, http/1.1 chosen by the module proxy", check: "tls-alpn-downgrade",
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, serverALPN: "http/1.1"},
			want: []want{{modHost, "warning", "normally speaks h2"}}},
		{name: "h2 offered, http/1.1 chosen by an internal server is benign", check: "tls-alpn-downgrade",
			spec: sessionSpec{sni: "athens.corp.internal", version: tlswire.VersionTLS12, serverALPN: "http/1.1"},
			want: []want{{"athens.corp.internal", "info", "benign"}}},
		{name: "TLS 1.3 offered, 1.2 chosen by the module proxy", check: "tls-version-downgrade",
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12},
			want: []want{{modHost, "warning", "TLS 1.2"}}},
		{name: "a fatal alert is named with its sender", check: "tls-alert",
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, alerts: []tlswire.Alert{badCert}},
			want: []want{{modHost, "error", "bad_certificate"}}},
		{name: "TLS 1.3 client rejecting the server's flight", check: "tls-client-rejected",
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS13, keyShare: 0x11ec, serverRecs: 4, clientRecs: appData(1, 19), clientFIN: true},
			want: []want{{modHost, "error", "19-byte"}}},
		{name: "a TLS 1.3 client that goes on is not rejecting", check: "tls-client-rejected",
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS13, keyShare: 0x11ec, serverRecs: 4, clientRecs: appData(3, 53), clientFIN: true}},
		{name: "classical group chosen by a Google front end", check: "tls-classical-key-share",
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS13, keyShare: 0x001d},
			want: []want{{modHost, "warning", "x25519"}}},
		{name: "post-quantum group chosen: fine", check: "tls-classical-key-share",
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS13, keyShare: 0x11ec}},
		{name: "TLS 1.3 without keys hides the certificate", check: "tls-cert-hidden",
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS13, keyShare: 0x11ec},
			want: []want{{modHost, "info", "encrypted"}}},
		{name: "a multi-segment hello met by silence", check: "tls-large-hello-dropped",
			spec: sessionSpec{sni: modHost, helloPkts: 2, retransmits: 3},
			want: []want{{modHost, "error", "retransmitted 3 times"}}},
		{name: "a reset from the server side right after the hello", check: "tcp-reset-after-hello",
			spec: sessionSpec{sni: modHost, synackTTL: 118, resets: []decode.TCPReset{{At: at(5), IP: decode.IPInfo{TTL: 60}}}},
			want: []want{{modHost, "error", "injected"}}},
		{name: "a reset answering the client's own close after a handshake timeout is not filtering", check: "tcp-reset-after-hello",
			spec: sessionSpec{sni: modHost, synackTTL: 60, clientFIN: true, resets: []decode.TCPReset{{At: at(31), IP: decode.IPInfo{TTL: 60}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tlsSession(tt.spec)
			ev := &decode.Events{TLS: []*decode.TLSSession{s}, TCP: []*decode.TCPConn{s.Conn}}
			expectFindings(t, runCheck(t, tt.check, ctxFor(ev, 10000, tt.opt)), tt.want...)
		})
	}
}

func TestProxyAndHTTPChecks(t *testing.T) {
	proxy := addrPortOf("10.0.0.1:3128")
	tu := &decode.Tunnel{Kind: "http-connect", Client: addrPortOf(client), Proxy: proxy, Target: "proxy.golang.org:443",
		Request: at(4), Response: at(5), Status: 407, StatusLine: "HTTP/1.1 407 Proxy Authentication Required",
		AuthScheme: "Basic", AuthRealm: "corp"}
	ok := &decode.Tunnel{Kind: "http-connect", Client: addrPortOf(client), Proxy: proxy, Target: "sum.golang.org:443",
		Request: at(6), Response: at(7), Status: 200, StatusLine: "HTTP/1.1 200 Connection established", Established: true}
	ev := &decode.Events{Proxy: []*decode.Tunnel{tu, ok}}
	expectFindings(t, runCheck(t, "proxy-connect-failed", ctxFor(ev, 100, Options{})), want{modHost, "error", `realm "corp"`})

	h := &decode.HTTPExchange{Host: "goproxy.corp.internal", Method: "GET", Path: "/example.com/private/@v/list", Proto: "HTTP/1.1",
		Request: at(3), Status: 404, Response: at(4)}
	ev = &decode.Events{HTTP: []*decode.HTTPExchange{h}}
	got := runCheck(t, "http-error-status", ctxFor(ev, 100, Options{}))
	expectFindings(t, got, want{"goproxy.corp.internal", "error", "404"})
	if !strings.Contains(got[0].Hint, "`,`") {
		t.Errorf("the 404 hint should explain GOPROXY's comma: %s", got[0].Hint)
	}
}

func TestEveryCheckIsDocumented(t *testing.T) {
	ids := map[string]bool{}
	for _, c := range Checks() {
		if c.ID == "" || c.Title == "" || c.Doc == "" || c.Layer == "" || c.run == nil {
			t.Errorf("check %+v is incomplete", c)
		}
		if ids[c.ID] {
			t.Errorf("duplicate check %s", c.ID)
		}
		ids[c.ID] = true
	}
}

func TestRolesLearntFromGitsTransports(t *testing.T) {
	ssh := &decode.TCPConn{Client: addrPortOf("10.0.0.2:40000"), Server: addrPortOf("192.0.2.22:22"), Extra: &decode.TCPExtra{SYN: []capture.Ref{at(3)}}}
	dns := &decode.DNSExchange{Name: "git.corp.example", QType: 1, Query: at(1), Client: addrPortOf("10.0.0.2:5353"), Server: addrPortOf("10.0.0.53:53"),
		Responses: []*decode.DNSResponse{{At: at(2), Answers: []decode.DNSRecord{{Name: "git.corp.example", Type: 1, Addr: netip.MustParseAddr("192.0.2.22")}}}}}
	refs := &decode.HTTPExchange{Host: "code.corp.example", Method: "GET", Path: "/team/lib.git/info/refs", Request: at(5), Status: 401, Response: at(6)}
	ctx := ctxFor(&decode.Events{DNS: []*decode.DNSExchange{dns}, TCP: []*decode.TCPConn{ssh}, HTTP: []*decode.HTTPExchange{refs}}, 100, Options{})
	for host, want := range map[string]string{"git.corp.example": RoleVCS, "code.corp.example": RoleVCS, "other.example": RoleOther} {
		if got := ctx.roleOf(host); got != want {
			t.Errorf("role of %s = %q, want %q", host, got, want)
		}
	}
}
