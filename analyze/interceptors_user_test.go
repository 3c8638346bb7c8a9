package analyze

import (
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

func TestParseInterceptors(t *testing.T) {
	fp := strings.Repeat("ab", 32)
	tests := []struct {
		name, text string
		entries    int
		err        string // a phrase of the error, "" for none
	}{
		{"comments, blank lines and an entry with a fingerprint", "# mine\n\nAcme | corporate gateway | O=Acme Sec\r\nLab | debugging proxy | Lab CA | " + fp + "\n", 2, ""},
		{"a fingerprint with colons", "Lab | antivirus | Lab CA | " + strings.Repeat("AB:", 31) + "AB\n", 1, ""},
		{"an unknown kind names its line", "# x\nAcme | firewall | Acme\n", 0, "t.txt:2: kind \"firewall\""},
		{"too few fields", "Acme | antivirus\n", 0, "t.txt:1: want PRODUCT | KIND | PATTERN"},
		{"a pattern too short to mean anything", "Acme | antivirus | ab\n", 0, "shorter than 3"},
		{"a fingerprint that is not SHA-256", "Acme | antivirus | Acme CA | abcd\n", 0, "not a SHA-256"},
		{"a pattern in another encoding names its line", "#\nAcme | antivirus | Acme \xe9cole CA\n", 0, "t.txt:2: the product or pattern is not valid UTF-8"},
		{"a line too long", "Acme | antivirus | " + strings.Repeat("x", 2000) + "\n", 0, "longer than 1024"},
		{"too many products", strings.Repeat("Acme | antivirus | Acme CA\n", 257), 0, "t.txt:257: more than 256"},
		{"a file too large", strings.Repeat("#\n", 40<<10), 0, "larger than 64 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			us, err := ParseInterceptors("t.txt", []byte(tt.text))
			switch {
			case tt.err == "" && err != nil:
				t.Fatal(err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one with %q", err, tt.err)
			case len(us) != tt.entries:
				t.Fatalf("%d entries, want %d", len(us), tt.entries)
			}
		})
	}
}

// TestUserInterceptorsNameTheProduct: a chain from a private CA becomes
// the named product once the user's table lists it, by name or by
// fingerprint; the user's entries win over the built-in ones.
func TestUserInterceptorsNameTheProduct(t *testing.T) {
	acme := makeCA(t, pkix.Name{CommonName: "Acme Inspection Root", Organization: []string{"Acme Security"}})
	mitm := makeCA(t, pkix.Name{CommonName: "mitmproxy", Organization: []string{"mitmproxy"}})
	sum := sha256.Sum256(acme.cert.Raw)
	badCert := tlswire.Alert{From: tlswire.ClientToServer, Level: 2, Description: 42, At: at(8)}
	tests := []struct {
		name, table string
		ca          *testCA
		phrase      string
	}{
		{"without a table, a private CA", "", acme, "private or corporate CA"},
		{"by issuer pattern", "Acme Inspect | corporate gateway | o=acme security\n", acme, "the CA of Acme Inspect (corporate gateway)"},
		{"by fingerprint", "Acme Box | antivirus | Nothing Like It | " + hex.EncodeToString(sum[:]) + "\n", acme, "the CA of Acme Box (antivirus)"},
		{"the user's entry before the built-in one", "Team MITM | debugging proxy | mitmproxy\n", mitm, "the CA of Team MITM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			us, err := ParseInterceptors("t.txt", []byte(tt.table))
			if err != nil {
				t.Fatal(err)
			}
			leaf := tt.ca.leaf(t, modHost, []string{modHost}, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
			// The product's CA travels with the leaf, as interceptors send it.
			s := tlsSession(sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(leaf, tt.ca.cert), alerts: []tlswire.Alert{badCert}})
			got := runCheck(t, "tls-foreign-issuer", ctxFor(&decode.Events{TLS: []*decode.TLSSession{s}}, 100, Options{Interceptors: us}))
			expectFindings(t, got, want{modHost, "error", tt.phrase})
		})
	}
	rows := InterceptorTable([]UserInterceptor{{Product: "Acme", Kind: "antivirus", Pattern: "Acme CA", Source: "t.txt:1"}})
	if len(rows) != len(builtinInterceptors())+1 || rows[0].Product != "Acme" || rows[0].Source != "user table t.txt:1" {
		t.Errorf("the effective table should list the user's entry first: %+v", rows[0])
	}
}

// FuzzParseInterceptors: any file is parsed or refused with a line-numbered
// error, within the limits.
func FuzzParseInterceptors(f *testing.F) {
	f.Add([]byte("Acme | corporate gateway | O=Acme\n# c\n"))
	f.Add([]byte("x|antivirus|abc|" + strings.Repeat("0", 64)))
	f.Add([]byte("|||\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		us, err := ParseInterceptors("f", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f:") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		if len(us) > maxInterceptorEntries {
			t.Fatalf("%d entries", len(us))
		}
		for _, u := range us {
			if len(u.Pattern) < 3 || interceptorKinds[u.Kind] == "" {
				t.Fatalf("accepted %+v", u)
			}
			_ = fmt.Sprint(userTable([]UserInterceptor{u})[0].Pattern)
		}
	})
}
