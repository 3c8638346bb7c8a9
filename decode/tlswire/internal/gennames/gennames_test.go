package gennames

import (
	"strings"
	"testing"
)

func TestParseReadsTheRegistryExportFormat(t *testing.T) {
	tests := []struct {
		name, csv string
		bits      int
		want      []Entry
		err       string
	}{
		{"cipher suite bytes, comments, ranges and reserved rows",
			"# note\nValue,Description,DTLS-OK,Recommended,Reference\n\"0x00,0x2F\",TLS_RSA_WITH_AES_128_CBC_SHA,Y,N,[RFC5246]\n\"0x00,0x1C-1D\",Reserved to avoid conflicts with SSLv3,,,\n\"0x00,0x01\",TLS_RSA_WITH_NULL_MD5,Y,N,[RFC5246]\n",
			16, []Entry{{0x0001, "TLS_RSA_WITH_NULL_MD5"}, {0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"}}, ""},
		{"extension names by decimal value, unassigned skipped",
			"Value,Extension Name,TLS 1.3,DTLS-Only,Recommended,Reference\n0,server_name,\"CH, EE\",N,Y,[RFC6066]\n62-2569,Unassigned,,,,\n65281,renegotiation_info,CH,N,Y,[RFC5746]\n",
			16, []Entry{{0, "server_name"}, {0xff01, "renegotiation_info"}}, ""},
		{"signature schemes in hex", "Value,Description,Recommended,Reference\n0x0804,rsa_pss_rsae_sha256,Y,[RFC8446]\n",
			16, []Entry{{0x0804, "rsa_pss_rsae_sha256"}}, ""},
		{"no value column", "Code,Description\n1,x\n", 8, nil, "no Value"},
		{"a value listed twice names its line", "Value,Description\n1,a\n1,b\n", 8, nil, "x:3: value \"1\" listed twice"},
		{"a value too wide for the table", "Value,Description\n256,a\n", 8, nil, "does not fit in 8 bits"},
		{"a value that is no number", "Value,Description\nzz,a\n", 8, nil, "x:2: value \"zz\""},
		{"a short row", "Value,Description,Reference\n1\n", 8, nil, "x:2: 1 columns"},
		{"an empty file", "", 8, nil, "x: header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.csv), "x", tt.bits)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("entry %d = %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("Value,Description\n\"0x00,0x2F\",TLS_RSA_WITH_AES_128_CBC_SHA\n1-5,Unassigned\n"), 16)
	f.Add([]byte("Value,Extension Name\n65281,renegotiation_info\n"), 8)
	f.Fuzz(func(t *testing.T, b []byte, bits int) {
		bits = 8 + 8*(bits&1)
		entries, err := Parse(strings.NewReader(string(b)), "fuzz", bits)
		if err != nil {
			return
		}
		for i, e := range entries {
			if e.Value >= 1<<bits || (i > 0 && entries[i-1].Value >= e.Value) {
				t.Fatalf("entry %d %v out of range or order", i, e)
			}
		}
	})
}
