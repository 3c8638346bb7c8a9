package pipeline

import (
	"bytes"
	"crypto/x509/pkix"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/decodetest"
)

// TestShardedDecodingAppliesSecretsFromWhereTheyAre records real HTTPS
// sessions (crypto/tls, net/http) and writes their key log as a
// Decryption Secrets Block after the first session's packets: the first
// session is not decrypted (its keys came too late), the second is, as on
// one goroutine, although the shards decode the first session's packets
// after the reader has read the block.
func TestShardedDecodingAppliesSecretsFromWhereTheyAre(t *testing.T) {
	p, err := decodetest.NewPKI(pkix.Name{CommonName: "Test Root"}, "proxy.golang.org")
	if err != nil {
		t.Fatal(err)
	}
	rec := &decodetest.Recorder{}
	client, stop := rec.HTTP(p.ServerConfig("http/1.1"), rec.ClientConfig("proxy.golang.org", p.Roots), false,
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "v0.1.0\n") }))
	client.Transport.(*http.Transport).DisableKeepAlives = true
	for range 2 {
		resp, err := client.Get("https://proxy.golang.org/golang.org/x/net/@v/list")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	stop()
	pkts, err := rec.Packets(decodetest.DefaultNetwork())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w, err := capture.NewWriter(&b, capture.Section{})
	if err != nil {
		t.Fatal(err)
	}
	ifc, err := w.AddInterface(capture.Interface{LinkType: layers.LinkTypeEthernet, Name: "eth0"})
	if err != nil {
		t.Fatal(err)
	}
	// The block goes after the first connection's last packet, before the
	// second's SYN.
	second := -1
	for i := 1; i < len(pkts) && second < 0; i++ {
		if d := pkts[i].Data; len(d) > 47 && d[47] == 0x02 { // a SYN (Ethernet, IPv4, TCP flags)
			second = i
		}
	}
	if second < 0 {
		t.Fatal("one connection recorded")
	}
	for i, pk := range pkts {
		if i == second {
			if err := w.WriteSecrets(capture.SecretsTLSKeyLog, rec.KeyLogBytes()); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.WritePacket(ifc, pk.Time, pk.Data, len(pk.Data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "late-keys.pcapng")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	seq, _ := openWith(t, path, decode.Sequential)
	if tls := seq.Events.TLS; len(tls) != 2 || tls[0].Decrypted || !tls[1].Decrypted {
		t.Fatalf("sequential: want the second of two sessions decrypted, got %d sessions", len(tls))
	}
	for _, n := range []int{1, 2, 3} {
		got, _ := openWith(t, path, n)
		if d := firstDifference(seq, got); d != "" {
			t.Errorf("%d shards: %s differs from the sequential decoder", n, d)
		}
	}
}
