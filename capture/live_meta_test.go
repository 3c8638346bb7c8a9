//go:build unix

package capture

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRedactText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`Get "https://alice:s3cret@goproxy.corp/m/@v/list": 401`, `Get "https://REDACTED@goproxy.corp/m/@v/list": 401`},
		{`proxyconnect tcp: dial http://bob:pw@10.0.0.8:3128`, `proxyconnect tcp: dial http://REDACTED@10.0.0.8:3128`},
		{`reading https://goproxy.corp/x?token=abc123&v=1: 403`, `reading https://goproxy.corp/x?token=REDACTED&v=1: 403`},
		{`GET https://h/p?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA/x&a=b`, `GET https://h/p?X-Amz-Signature=REDACTED&X-Amz-Credential=AKIA/x&a=b`},
		{`https://h/p?api_key=k&sig=s`, `https://h/p?api_key=REDACTED&sig=REDACTED`},
		{"> Proxy-Authorization: Basic dXNlcjpwYXNz\r\n> Host: x", "> Proxy-Authorization: Basic REDACTED\r\n> Host: x"},
		{"Authorization: Bearer eyJhbGciOi.x.y", "Authorization: Bearer REDACTED"},
		{"authorization: token123", "authorization: REDACTED"},
		{`Proxy-Authorization: Digest username="u", response="r"`, `Proxy-Authorization: Digest REDACTED`},
		{"go: downloading example.com/m v1.0.0", "go: downloading example.com/m v1.0.0"},
		{"see https://pkg.go.dev/x?tab=doc", "see https://pkg.go.dev/x?tab=doc"},
	} {
		if got := RedactText(tc.in); got != tc.want {
			t.Errorf("RedactText(%q)\n = %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactGoEnv(t *testing.T) {
	for _, tc := range []struct{ k, in, want string }{
		{"GOPROXY", "https://u:tok@art.corp/go|https://proxy.golang.org,direct", "https://u:REDACTED@art.corp/go|https://proxy.golang.org,direct"},
		{"GOPROXY", "off", "off"},
		{"GOSUMDB", "sum.corp+ab12 https://u:p@sum.corp", "sum.corp+ab12 https://u:REDACTED@sum.corp"},
		{"GOFLAGS", "-mod=mod", "-mod=mod"},
	} {
		if got := redactGoEnv(tc.k, tc.in); got != tc.want {
			t.Errorf("redactGoEnv(%s, %q) = %q, want %q", tc.k, tc.in, got, tc.want)
		}
	}
}

func TestSetStderrTail(t *testing.T) {
	var m Metadata
	long := strings.Repeat("go: downloading x\n", 1000) + "go: Get \"https://a:b@h/\": x509: certificate signed by unknown authority\n\xff"
	m.SetStderrTail([]byte(long))
	if len(m.StderrTail) > MaxStderrTail || !utf8.ValidString(m.StderrTail) {
		t.Errorf("tail of %d bytes, valid UTF-8 %v", len(m.StderrTail), utf8.ValidString(m.StderrTail))
	}
	if !strings.HasPrefix(m.StderrTail, "go: downloading") {
		t.Errorf("the tail does not start at a line: %q", m.StderrTail[:40])
	}
	if strings.Contains(m.StderrTail, "a:b@") || !strings.Contains(m.StderrTail, "unknown authority") {
		t.Errorf("tail end %q", m.StderrTail[len(m.StderrTail)-80:])
	}
}

// fakeGo writes a go command that answers version and env as a real one
// would, and records GOTOOLCHAIN as it saw it.
func fakeGo(t *testing.T, dir string) string {
	t.Helper()
	script := `#!/bin/sh
echo "$* GOTOOLCHAIN=${GOTOOLCHAIN-unset} pwd=$(pwd)" >> "` + dir + `/calls"
case "$1 $2" in
"version ") echo "go version go1.99.9 linux/amd64" ;;
"env -json") printf '{"GOPROXY":"https://alice:tok@goproxy.corp,direct","GOSUMDB":"off","GOFLAGS":"-mod=mod","GOPRIVATE":"","GONOPROXY":"","GONOSUMDB":"","GOINSECURE":"","GODEBUG":""}\n' ;;
"env GOTOOLCHAIN") echo "${GOTOOLCHAIN:-auto}" ;;
*) echo "unexpected $*" >&2; exit 2 ;;
esac
`
	p := filepath.Join(dir, "go")
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGatherMetadata(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(root, "etc", "resolv.conf"), []byte("# managed\nnameserver 127.0.0.53\noptions edns0 trust-ad timeout:2\nsearch corp.example\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "etc", "nsswitch.conf"), []byte("passwd: files\nhosts:          files mdns4_minimal [NOTFOUND=return] dns\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "etc", "hosts"), []byte("127.0.0.1 localhost\n10.9.9.9 goproxy.corp # pinned\n10.1.1.1 example.com www.example.com\n10.2.2.2 unrelated.example\n"), 0o644))
	goCmd := fakeGo(t, dir)
	env := []string{"PATH=/nonexistent", "HTTPS_PROXY=http://bob:pw@proxy.corp:3128", "no_proxy=.corp", "SSL_CERT_FILE=/etc/corp-ca.pem", "GOTOOLCHAIN=go1.99.9+auto"}
	m := GatherMetadata(context.Background(), GatherOptions{
		Version: "t", Command: []string{"go", "mod", "download", "example.com/hello@v1.1.0", "https://x:y@h/"},
		Env: env, Go: goCmd, Root: root,
	})
	if m.GoVersion != "go version go1.99.9 linux/amd64" {
		t.Errorf("GoVersion %q", m.GoVersion)
	}
	wantEnv := map[string]string{"GOPROXY": "https://alice:REDACTED@goproxy.corp,direct", "GOSUMDB": "off", "GOFLAGS": "-mod=mod",
		"GOPRIVATE": "", "GONOPROXY": "", "GONOSUMDB": "", "GOINSECURE": "", "GODEBUG": "", "GOTOOLCHAIN": "go1.99.9+auto"}
	if !reflect.DeepEqual(m.GoEnv, wantEnv) {
		t.Errorf("GoEnv %v\nwant   %v", m.GoEnv, wantEnv)
	}
	if want := map[string]string{"HTTPS_PROXY": "http://bob:REDACTED@proxy.corp:3128", "no_proxy": ".corp", "SSL_CERT_FILE": "/etc/corp-ca.pem"}; !reflect.DeepEqual(m.Env, want) {
		t.Errorf("Env %v", m.Env)
	}
	if !strings.Contains(m.ResolvConf, "timeout:2") || m.NSSwitchHosts != "hosts:          files mdns4_minimal [NOTFOUND=return] dns" {
		t.Errorf("resolv.conf %q, nsswitch %q", m.ResolvConf, m.NSSwitchHosts)
	}
	if want := []string{"10.9.9.9 goproxy.corp", "10.1.1.1 example.com www.example.com"}; !reflect.DeepEqual(m.Hosts, want) {
		t.Errorf("Hosts %q, want %q", m.Hosts, want)
	}
	if strings.Contains(strings.Join(m.Command, " "), "x:y") {
		t.Errorf("command not redacted: %q", m.Command)
	}
	if len(m.Notes) > 0 {
		t.Errorf("notes %q", m.Notes)
	}
	// version and env -json ran with GOTOOLCHAIN=local (no toolchain
	// download) from /; env GOTOOLCHAIN ran with the user's setting.
	calls, err := os.ReadFile(filepath.Join(dir, "calls"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"version GOTOOLCHAIN=local pwd=/", "env -json GOPROXY", "env GOTOOLCHAIN GOTOOLCHAIN=go1.99.9+auto"} {
		if !strings.Contains(string(calls), want) {
			t.Errorf("calls lack %q:\n%s", want, calls)
		}
	}
	if m.Summary() == "" || !strings.Contains(m.Summary(), "resolv.conf: nameserver 127.0.0.53; options edns0 trust-ad timeout:2; search corp.example") {
		t.Errorf("summary:\n%s", m.Summary())
	}
}

func TestGatherMetadataSaysWhatIsMissing(t *testing.T) {
	m := GatherMetadata(context.Background(), GatherOptions{Env: []string{"PATH=/nonexistent"}, Root: t.TempDir()})
	notes := strings.Join(m.Notes, "\n")
	if !strings.Contains(notes, "go command: not found") || !strings.Contains(notes, "resolv.conf") {
		t.Errorf("notes %q", m.Notes)
	}
	if m.Started.IsZero() {
		t.Error("no start time")
	}
}

func TestGatherMetadataAsAnotherUser(t *testing.T) {
	dir := t.TempDir()
	goCmd := fakeGo(t, dir)
	prepared := 0
	GatherMetadata(context.Background(), GatherOptions{Go: goCmd, Env: []string{}, Root: dir,
		Prepare: func(c *exec.Cmd) { prepared++ }})
	if prepared != 3 {
		t.Errorf("Prepare called %d times, want 3 (version, env -json, env GOTOOLCHAIN)", prepared)
	}
}

func TestInvolvedHosts(t *testing.T) {
	m := &Metadata{
		GoEnv: map[string]string{"GOPROXY": "https://Athens.corp:3000|off", "GOSUMDB": "sum.corp+key https://sumdb.corp"},
		Env:   map[string]string{"https_proxy": "proxy.corp:3128", "NO_PROXY": "no.corp"},
	}
	got := m.InvolvedHosts([]string{"go", "get", "-x", "golang.org/x/tools@latest", "./...", "main.go", "rsc.io/quote/v4"})
	want := []string{"athens.corp", "golang.org", "proxy.corp", "rsc.io", "sumdb.corp"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("InvolvedHosts = %v, want %v", got, want)
	}
	if got := (&Metadata{}).InvolvedHosts(nil); !reflect.DeepEqual(got, []string{"proxy.golang.org", "sum.golang.org"}) {
		t.Errorf("defaults: %v", got)
	}
}
