package probe

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestProxiesFollowTheGoCommandsGrammar(t *testing.T) {
	tests := []struct {
		goproxy string
		want    string
	}{
		{"https://proxy.golang.org,direct", "https://proxy.golang.org, direct"},
		{"goproxy.cn|https://goproxy.io,direct", "https://goproxy.cn|, https://goproxy.io, direct"},
		{"off", "off"},
		{"direct,https://never.example", "direct"},
		{" , https://a.example ,", "https://a.example"},
	}
	for _, tt := range tests {
		list, err := Env{GOPROXY: tt.goproxy}.Proxies()
		if err != nil {
			t.Fatalf("%q: %v", tt.goproxy, err)
		}
		var parts []string
		for _, p := range list {
			s := p.URL
			if p.FallBackOnError {
				s += "|"
			}
			parts = append(parts, s)
		}
		if got := strings.Join(parts, ", "); got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.goproxy, got, tt.want)
		}
	}
	if _, err := (Env{GOPROXY: ", ,"}).Proxies(); err == nil {
		t.Error("an empty list must be an error")
	}
}

func TestMatchPrefixPatterns(t *testing.T) {
	tests := []struct {
		globs, target string
		want          bool
	}{
		{"*.corp.example.com", "git.corp.example.com/team/repo", true},
		{"github.com/myorg", "github.com/myorg/repo/v2", true},
		{"github.com/myorg", "github.com/myorgx/repo", false},
		{"github.com/myorg/repo/extra", "github.com/myorg/repo", false},
		{"rsc.io/private,*.corp", "rsc.io/private/x", true},
		{"", "anything", false},
	}
	for _, tt := range tests {
		if got := MatchPrefixPatterns(tt.globs, tt.target); got != tt.want {
			t.Errorf("MatchPrefixPatterns(%q, %q) = %v", tt.globs, tt.target, got)
		}
	}
}

func TestEscapePathAndLatest(t *testing.T) {
	if got, _ := EscapePath("github.com/Azure/SDK"); got != "github.com/!azure/!s!d!k" {
		t.Errorf("EscapePath = %q", got)
	}
	if _, err := EscapePath("../x"); err == nil {
		t.Error("a path with .. must be rejected")
	}
	if got := latestVersion([]string{"v0.9.0", "v1.10.0", "v1.9.9", "v2.0.0-rc.1", "junk"}); got != "v1.10.0" {
		t.Errorf("latest = %q", got)
	}
	if got := latestVersion([]string{"v0.1.0-pre"}); got != "v0.1.0-pre" {
		t.Errorf("latest of pre-releases = %q", got)
	}
}

// proxyServer serves the GOPROXY protocol for one module, or fails with
// status for every request.
func proxyServer(t *testing.T, status int, hits *[]string) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*hits = append(*hits, r.Host+r.URL.Path)
		if status != 200 {
			http.Error(w, "nope", status)
			return
		}
		switch {
		case strings.HasSuffix(r.URL.Path, "/@v/list"):
			fmt.Fprint(w, "v1.0.0\nv1.1.0\n")
		case strings.HasSuffix(r.URL.Path, ".info"):
			fmt.Fprint(w, `{"Version":"v1.1.0","Time":"2026-01-01T00:00:00Z"}`)
		case strings.HasPrefix(r.URL.Path, "/lookup/"):
			fmt.Fprint(w, "1\nexample.com/m v1.1.0 h1:x=\n")
		default:
			http.NotFound(w, r)
		}
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func roots(srvs ...*httptest.Server) *x509.CertPool {
	p := x509.NewCertPool()
	for _, s := range srvs {
		p.AddCert(s.Certificate())
	}
	return p
}

func noProxy(*http.Request) (*url.URL, error) { return nil, nil }

func TestRunWalksGOPROXYLikeTheGoCommand(t *testing.T) {
	var hits []string
	missing := proxyServer(t, 404, &hits)
	broken := proxyServer(t, 502, &hits)
	good := proxyServer(t, 200, &hits)
	tests := []struct {
		name    string
		goproxy string
		ok      bool
		steps   int
		last    string
	}{
		{"404 moves on after a comma", missing.URL + "," + good.URL, true, 3, ""},
		{"an error stops after a comma", broken.URL + "," + good.URL, false, 1, "stops here"},
		{"an error moves on after a pipe", broken.URL + "|" + good.URL, true, 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := Env{GOPROXY: tt.goproxy, GOSUMDB: "off"}
			var keys bytes.Buffer
			res := Run(context.Background(), Options{Modules: []string{"example.com/m"}, Env: &env, KeyLog: &keys,
				RootCAs: roots(missing, broken, good), Proxy: noProxy, Timeout: 5 * time.Second})
			m := res.Modules[0]
			if m.OK != tt.ok || len(m.Steps) != tt.steps {
				for _, s := range m.Steps {
					t.Logf("%s %d %s %s", s.URL, s.Status, s.Err, s.Decision)
				}
				t.Fatalf("ok=%v steps=%d, want ok=%v steps=%d", m.OK, len(m.Steps), tt.ok, tt.steps)
			}
			if tt.last != "" && !strings.Contains(m.Steps[len(m.Steps)-1].Decision, tt.last) {
				t.Errorf("decision %q", m.Steps[len(m.Steps)-1].Decision)
			}
			if tt.ok && m.Version != "v1.1.0" {
				t.Errorf("version %q", m.Version)
			}
			s := m.Steps[0]
			if s.TLS == nil || s.TLS.ALPN != "h2" || s.TLS.Version != 0x0304 || len(s.TLS.Chain) == 0 {
				t.Errorf("TLS = %+v", s.TLS)
			}
			if !strings.Contains(keys.String(), "CLIENT_HANDSHAKE_TRAFFIC_SECRET") {
				t.Error("no key log written")
			}
		})
	}
}

func TestRunRecordsAnUntrustedChainAndTheSumdbLookup(t *testing.T) {
	var hits []string
	good := proxyServer(t, 200, &hits)
	env := Env{GOPROXY: good.URL, GOSUMDB: "sum.example+key " + good.URL}
	res := Run(context.Background(), Options{Modules: []string{"example.com/m"}, Env: &env, RootCAs: x509.NewCertPool(),
		Proxy: noProxy, Timeout: 5 * time.Second})
	s := res.Modules[0].Steps[0]
	if s.TLS == nil || len(s.TLS.Chain) == 0 || !strings.Contains(s.TLS.VerifyErr, "x509:") || s.Err == "" {
		t.Fatalf("step = %+v, TLS = %+v", s, s.TLS)
	}
	// With the server trusted, the sumdb lookup follows.
	res = Run(context.Background(), Options{Modules: []string{"example.com/m"}, Env: &env, RootCAs: roots(good),
		Proxy: noProxy, Timeout: 5 * time.Second})
	m := res.Modules[0]
	last := m.Steps[len(m.Steps)-1]
	if !m.OK || last.Kind != "sumdb" || !strings.Contains(last.URL, "/lookup/example.com/m@v1.1.0") {
		t.Fatalf("module = %+v, last step %+v", m, last)
	}
}

func TestPrivateModulesGoDirect(t *testing.T) {
	var hits []string
	vcs := proxyServer(t, 200, &hits) // stands in for the VCS host, on loopback
	host := strings.TrimPrefix(vcs.URL, "https://")
	env := Env{GOPROXY: "https://proxy.invalid", GONOPROXY: host, GONOSUMDB: host, GOSUMDB: "sum.golang.org"}
	res := Run(context.Background(), Options{Modules: []string{host + "/private/m@v1.0.0"}, Env: &env, RootCAs: roots(vcs),
		Proxy: noProxy, Timeout: 5 * time.Second})
	s := res.Modules[0].Steps
	if len(s) != 1 || s[0].Kind != "direct" || !strings.Contains(s[0].Decision, "GONOPROXY") || len(hits) != 1 {
		t.Fatalf("steps = %+v, hits %v", s[0], hits)
	}
}
