package tlswire

import (
	"bytes"
	"os"
	"testing"

	"github.com/modsniff/modsniff/decode/tlswire/internal/gennames"
)

// TestNameTablesAreGenerated checks that names_table.go is what go generate
// makes of testdata/iana: an edit to either alone fails here.
func TestNameTablesAreGenerated(t *testing.T) {
	want, err := gennames.Generate("testdata/iana")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("names_table.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("names_table.go is out of date with testdata/iana: run go generate ./decode/tlswire")
	}
}

func TestNamesComeFromTheRegistryTables(t *testing.T) {
	tests := []struct{ got, want string }{
		{CipherSuiteName(0x1301), "TLS_AES_128_GCM_SHA256"},
		{CipherSuiteName(0x0060), "TLS_RSA_EXPORT1024_WITH_RC4_56_MD5"},
		{CipherSuiteName(0xcc13), "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
		{CipherSuiteName(0x0a0a), "GREASE"},
		{AlertName(48), "unknown_ca"},
		{AlertName(121), "ech_required"},
		{HandshakeTypeName(25), "compressed_certificate"},
		{GroupName(0x11ec), "X25519MLKEM768"},
		{GroupName(0xfe30), "X25519Kyber512Draft00"},
		{ExtensionName(0xff01), "renegotiation_info"},
		{ExtensionName(0x3374), "next_protocol_negotiation"},
		{SignatureSchemeName(0x0804), "rsa_pss_rsae_sha256"},
		{SignatureSchemeName(0x0202), "dsa_sha1"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
