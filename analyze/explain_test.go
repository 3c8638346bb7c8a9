package analyze

import (
	"slices"
	"strings"
	"testing"
)

func TestExplainClassifiesGoErrors(t *testing.T) {
	tests := []struct {
		name, text, layer, host, check string
	}{
		{"stub resolver not running",
			`go: example.com/m@v1.0.0: Get "https://proxy.golang.org/example.com/m/@v/v1.0.0.info": dial tcp: lookup proxy.golang.org on 127.0.0.53:53: read udp 127.0.0.1:45231->127.0.0.53:53: read: connection refused`,
			"dns", "proxy.golang.org", "dns-unreachable"},
		{"resolver timeout", `dial tcp: lookup proxy.golang.org on 10.0.0.1:53: read udp 10.0.0.2:4444->10.0.0.1:53: i/o timeout`, "dns", "proxy.golang.org", "dns-timeout"},
		{"no such host", `dial tcp: lookup proxy.golang.org: no such host`, "dns", "proxy.golang.org", "dns-error-rcode"},
		{"server misbehaving", `dial tcp: lookup sum.golang.org on 127.0.0.53:53: server misbehaving`, "dns", "sum.golang.org", "dns-error-rcode"},
		{"connect timeout", `Get "https://proxy.golang.org/x/@v/list": dial tcp 142.250.74.113:443: i/o timeout`, "tcp", "proxy.golang.org", "tcp-connect-timeout"},
		{"connect refused", `Get "https://proxy.golang.org/x/@v/list": dial tcp 127.0.0.1:443: connect: connection refused`, "tcp", "proxy.golang.org", "tcp-connect-refused"},
		{"unknown authority", `Get "https://proxy.golang.org/x/@v/list": tls: failed to verify certificate: x509: certificate signed by unknown authority`, "tls", "proxy.golang.org", "tls-foreign-issuer"},
		{"name mismatch", `x509: certificate is valid for *.example.net, example.net, not proxy.golang.org`, "tls", "proxy.golang.org", "tls-hostname-mismatch"},
		{"expired", `x509: certificate has expired or is not yet valid: current time 2026-11-26T10:00:00Z is after 2026-01-01T00:00:00Z`, "tls", "", "tls-expired"},
		{"remote alert", `Get "https://sum.golang.org/lookup/x@v1": remote error: tls: bad certificate`, "tls", "sum.golang.org", "tls-alert"},
		{"proxyconnect", `Get "https://proxy.golang.org/x/@v/list": proxyconnect tcp: dial tcp 127.0.0.1:7890: connect: connection refused`, "proxy", "proxy.golang.org", "proxy-connect-failed"},
		{"proxy auth", `Get "https://proxy.golang.org/x/@v/list": Proxy Authentication Required`, "proxy", "proxy.golang.org", "proxy-connect-failed"},
		{"goaway", `http2: server sent GOAWAY and closed the connection; LastStreamID=1, ErrCode=INADEQUATE_SECURITY, debug=""`, "http", "", "h2-goaway"},
		{"goaway in flight", `Get "https://proxy.golang.org/rsc.io/quote/@v/list": http2: Transport received GOAWAY from server ErrCode:INADEQUATE_SECURITY`, "http", "proxy.golang.org", "h2-goaway"},
		{"404 from the proxy", `go: example.com/private@v1.0.0: reading https://proxy.golang.org/example.com/private/@v/v1.0.0.info: 404 Not Found`, "http", "proxy.golang.org", "http-error-status"},
		{"checksum mismatch", "verifying example.com/m@v1.0.0: checksum mismatch\n\tdownloaded: h1:abc\n\tsum.golang.org: h1:def\n\nSECURITY ERROR", "sumdb", "", "tls-foreign-issuer"},
		{"TLS handshake timeout", `Get "https://proxy.golang.org/x/@v/list": net/http: TLS handshake timeout`, "tcp", "proxy.golang.org", "tls-large-hello-dropped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := Explain(tt.text)
			if len(ex) == 0 {
				t.Fatalf("not recognised: %s", tt.text)
			}
			e := ex[0]
			if e.Layer != tt.layer || e.Host != tt.host || !slices.Contains(e.Checks, tt.check) || e.Meaning == "" || len(e.Causes) == 0 || e.Next == "" {
				t.Errorf("got %+v", e)
			}
		})
	}
	if ex := Explain("hello world"); len(ex) != 0 {
		t.Errorf("unrelated text explained as %+v", ex)
	}
}

// TestExplainTrustAndModuleProtocolErrors covers the go errors of trust
// policy, HTTP/2 streams, non-module content and private paths: each gets
// its layer and the checks that exist to show it.
func TestExplainTrustAndModuleProtocolErrors(t *testing.T) {
	tests := []struct {
		name, text, layer, host, check, next string
	}{
		{"negative serial", `Get "https://goproxy.corp.internal/x/@v/list": tls: failed to parse certificate from server: x509: negative serial number`,
			"tls", "goproxy.corp.internal", "tls-go-policy", "x509negativeserial=1"},
		{"SHA-1 wins over unknown authority", `tls: failed to verify certificate: x509: certificate signed by unknown authority (possibly because of "x509: cannot verify signature: insecure algorithm SHA1-RSA" while trying to verify candidate authority certificate "Legacy CA")`,
			"tls", "", "tls-go-policy", "SHA-256"},
		{"CN only", `tls: failed to verify certificate: x509: certificate relies on legacy Common Name field, use SANs instead`,
			"tls", "", "tls-go-policy", "subjectAltName"},
		{"TLS 1.0 server", `Get "https://old.corp.internal/x/@v/list": tls: server selected unsupported protocol version 301`,
			"tls", "old.corp.internal", "tls-go-policy", "tls10server=1"},
		{"RSA key exchange only", `Get "https://old.corp.internal/x/@v/list": remote error: tls: handshake failure`,
			"tls", "old.corp.internal", "tls-go-policy", "openssl s_client"},
		{"stream reset", `Get "https://proxy.golang.org/rsc.io/quote/@v/v1.5.2.zip": stream error: stream ID 7; INTERNAL_ERROR; received from peer`,
			"http", "proxy.golang.org", "h2-stream-reset", "http2client=0"},
		{"unexpected EOF", `go: rsc.io/quote@v1.5.2: Get "https://proxy.golang.org/rsc.io/quote/@v/v1.5.2.zip": unexpected EOF`,
			"http", "proxy.golang.org", "http-body-truncated", ""},
		{"not a zip", `go: rsc.io/quote@v1.5.2: zip: not a valid zip file`, "http", "", "http-not-module-content", "go clean -modcache"},
		{"HTML instead of JSON", `go: example.com/m@v1.0.0: invalid character '<' looking for beginning of value`, "http", "", "http-not-module-content", "curl"},
		{"HTTP/2 frames on HTTP/1", `Get "http://goproxy.corp.internal/x/@v/list": net/http: HTTP/1.x transport connection broken: malformed HTTP response "\x00\x00\x12\x04\x00\x00\x00\x00\x00"`,
			"http", "goproxy.corp.internal", "http-not-module-content", ""},
		{"410 from the checksum database", `verifying module: example.com/private@v1.0.0: reading https://sum.golang.org/lookup/example.com/private@v1.0.0: 410 Gone`,
			"sumdb", "sum.golang.org", "http-error-status", "GOPRIVATE"},
		{"terminal prompts disabled", "fatal: could not read Username for 'https://github.com': terminal prompts disabled", "vcs", "github.com", "http-error-status", "GIT_TERMINAL_PROMPT"},
		{"ssh port 22", `ssh: connect to host github.com port 22: Connection timed out`, "vcs", "github.com", "tcp-connect-timeout", "GIT_SSH_COMMAND"},
	}
	ids := map[string]bool{}
	for _, c := range Checks() {
		ids[c.ID] = true
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := Explain(tt.text)
			if len(ex) == 0 {
				t.Fatalf("not recognised: %s", tt.text)
			}
			e := ex[0]
			if e.Layer != tt.layer || e.Host != tt.host || !slices.Contains(e.Checks, tt.check) || e.Meaning == "" || len(e.Causes) == 0 {
				t.Errorf("got %+v", e)
			}
			if !strings.Contains(e.Next+strings.Join(e.Causes, " "), tt.next) {
				t.Errorf("next step lacks %q: %s", tt.next, e.Next)
			}
			for _, c := range e.Checks {
				if !ids[c] {
					t.Errorf("names check %s, which does not exist", c)
				}
			}
		})
	}
}

func TestExplainClassifiesPathErrors(t *testing.T) {
	tests := []struct {
		name, text, layer, host, check string
	}{
		{"an https:// proxy URL for a plain proxy", `Get "https://proxy.golang.org/x/@v/list": proxyconnect tcp: tls: first record does not look like a TLS handshake`, "proxy", "proxy.golang.org", "tls-not-tls"},
		{"a portal answering 443 with HTTP", `Get "https://proxy.golang.org/x/@v/list": http: server gave HTTP response to HTTPS client`, "proxy", "proxy.golang.org", "tls-not-tls"},
		{"a non-TLS answer without a proxy", `tls: first record does not look like a TLS handshake`, "proxy", "", "tls-not-tls"},
		{"a reset in the middle of a download", `Get "https://proxy.golang.org/x/@v/v1.0.0.zip": read tcp 10.0.0.2:41234->142.250.1.1:443: read: connection reset by peer`, "tcp", "proxy.golang.org", "tcp-reset-mid-transfer"},
		{"a download cut short", `Get "https://proxy.golang.org/x/@v/v1.0.0.zip": unexpected EOF`, "http", "proxy.golang.org", "tcp-reset-mid-transfer"},
		{"a proxy that closes without answering, Go 1.26", `Get "https://proxy.golang.org/x/@v/list": unexpected EOF`, "http", "proxy.golang.org", "proxy-connect-failed"},
		{"a proxy that closes without answering, older Go", `Get "https://proxy.golang.org/x/@v/list": proxyconnect tcp: EOF`, "proxy", "proxy.golang.org", "proxy-connect-failed"},
		{"a SOCKS5 proxy that closes during the negotiation", `Get "https://proxy.golang.org/x/@v/list": socks connect tcp 127.0.0.1:39395->proxy.golang.org:443: EOF`, "proxy", "proxy.golang.org", "proxy-connect-failed"},
		{"no IPv6 source address", `dial tcp [2a00:1450:4001:813::2011]:443: connect: cannot assign requested address`, "tcp", "", "tcp-ipv6-broken"},
		{"no IPv6 route", `Get "https://proxy.golang.org/x/@v/list": dial tcp [2607:f8b0:4004:c07::8d]:443: connect: network is unreachable`, "tcp", "proxy.golang.org", "tcp-ipv6-broken"},
		{"a DNS response go cannot parse", `dial tcp: lookup proxy.golang.org on 10.0.0.1:53: cannot unmarshal DNS message`, "dns", "proxy.golang.org", "dns-answer-mismatch"},
		{"a resolver whose answers go ignores", `dial tcp: lookup proxy.golang.org on 10.0.0.1:53: read udp 10.0.0.2:4444->10.0.0.1:53: i/o timeout`, "dns", "proxy.golang.org", "dns-answer-mismatch"},
		{"a black hole during the handshake", `Get "https://proxy.golang.org/x/@v/list": net/http: TLS handshake timeout`, "tcp", "proxy.golang.org", "tcp-pmtu-blackhole"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := Explain(tt.text)
			if len(ex) == 0 {
				t.Fatalf("not recognised: %s", tt.text)
			}
			e := ex[0]
			if e.Layer != tt.layer || e.Host != tt.host || !slices.Contains(e.Checks, tt.check) || e.Meaning == "" || len(e.Causes) == 0 || e.Next == "" {
				t.Errorf("got %+v", e)
			}
		})
	}
}
