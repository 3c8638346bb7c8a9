package decode

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
)

// damagedHello is a ClientHello (RFC 8446 §4.1.2) whose server_name is
// intact but whose compress_certificate extension (RFC 8879 §3:
// algorithms<2..2^8-2>) holds an empty list; with lie, the extension block
// also claims 40 bytes more than the message holds. Both are damage a
// middlebox rewriting hellos leaves.
func damagedHello(lie int) []byte {
	sni := []byte("proxy.golang.org")
	ext := func(typ uint16, data []byte) []byte {
		return append([]byte{byte(typ >> 8), byte(typ), byte(len(data) >> 8), byte(len(data))}, data...)
	}
	sniExt := ext(0, append([]byte{0, byte(len(sni) + 3), 0, 0, byte(len(sni))}, sni...))
	exts := append(sniExt, ext(0x001b, []byte{0})...) // compress_certificate, list of 0 bytes
	body := []byte{3, 3}
	body = append(body, bytes.Repeat([]byte{0x42}, 32)...) // random
	body = append(body, 0, 0, 2, 0x13, 0x01, 1, 0)         // no session ID; one suite; null compression
	body = append(body, byte((len(exts)+lie)>>8), byte(len(exts)+lie))
	body = append(body, exts...)
	hs := append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{22, 3, 1, byte(len(hs) >> 8), byte(len(hs))}, hs...)
}

// A hello with a malformed extension is kept with what was read before
// the damage (its SNI) and its parse error; GTP-U datagrams are counted
// in a note. tshark, when installed, shows the same hellos in the same
// frames, and the SNI where it reads one.
func TestDamagedHelloIsKept(t *testing.T) {
	w := newWire(t)
	var file bytes.Buffer
	pw, err := capture.NewWriter(&file, capture.Section{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pw.AddInterface(capture.Interface{LinkType: layers.LinkTypeEthernet}); err != nil {
		t.Fatal(err)
	}
	w.dump = pw
	wantErr := []string{
		"tls: client hello: extension 0x001b (compress_certificate): malformed: algorithm list of 0 bytes",
		"tls: client hello: extensions: truncated",
	}
	var hellos []int
	for i, lie := range []int{0, 40} {
		c := w.connect(ap("10.0.0.2:"+itoaDec(50000+i)), ap("142.250.1.1:443"))
		hellos = append(hellos, c.send(0, damagedHello(lie), 1460))
	}
	gtp := w.udp(ap("10.1.0.1:2152"), ap("10.1.0.2:2152"), []byte{0x30, 0xff, 0, 4, 0, 0, 0, 1, 0x45, 0, 0, 0})
	w.udp(ap("10.1.0.2:2152"), ap("10.1.0.1:2152"), []byte{0x30, 0xff, 0, 4, 0, 0, 0, 2, 0x45, 0, 0, 0})
	ev := w.d.Finish()
	if err := pw.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(ev.TLS) != 2 {
		t.Fatalf("%d TLS sessions, notes %v", len(ev.TLS), ev.Notes)
	}
	for i, s := range ev.TLS {
		if s.ClientHello == nil || s.ClientHello.ServerName != "proxy.golang.org" || int(s.ClientHelloAt.Packet) != hellos[i] {
			t.Fatalf("hello %d: %+v at %v", i, s.ClientHello, s.ClientHelloAt)
		}
		m := s.Message(0, 1)
		if m == nil || m.Err == nil || m.Err.Error() != wantErr[i] || len(s.Errors()) != 1 || !strings.HasSuffix(s.Errors()[0], wantErr[i]) {
			t.Errorf("hello %d: message %+v, errors %q", i, m, s.Errors())
		}
	}
	var gtpNote string
	for _, n := range ev.Notes {
		if strings.Contains(n.Msg, "GTP-U") {
			gtpNote = n.Msg
			if int(n.At.Packet) != gtp {
				t.Errorf("GTP-U note at packet %d, want %d", n.At.Packet, gtp)
			}
		}
	}
	if !strings.HasPrefix(gtpNote, "2 GTP-U datagrams") {
		t.Errorf("GTP-U note %q in %v", gtpNote, ev.Notes)
	}

	tshark, err := exec.LookPath("tshark")
	if err != nil || testing.Short() {
		t.Skip("tshark not installed (or -short): the comparison with Wireshark is skipped")
	}
	path := filepath.Join(t.TempDir(), "damaged.pcapng")
	if err := os.WriteFile(path, file.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tshark, "-r", path, "-Y", "tls.handshake.type == 1", "-T", "fields",
		"-e", "frame.number", "-e", "tls.handshake.extensions_server_name", "-e", "_ws.expert.message")
	cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		t.Fatalf("tshark shows %d hellos: %q", len(lines), out)
	}
	for i, l := range lines {
		f := strings.Split(l, "\t")
		if f[0] != itoaDec(hellos[i]) || len(f) < 3 || f[2] == "" {
			t.Errorf("tshark hello %d: %q, modsniff at frame %d", i, l, hellos[i])
		}
		// tshark reads the SNI of the hello whose block length is intact;
		// for the other it gives up on the extensions, where modsniff
		// still reads the ones present.
		if i == 0 && f[1] != "proxy.golang.org" {
			t.Errorf("tshark SNI %q, modsniff proxy.golang.org", f[1])
		}
		t.Logf("tshark frame %s: sni %q, expert %q", f[0], f[1], f[2:])
	}
}

func itoaDec(n int) string {
	var b []byte
	for n > 0 || len(b) == 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
