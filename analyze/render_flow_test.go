package analyze

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509/pkix"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/decodetest"
	"github.com/modsniff/modsniff/decode/pipeline"
)

// renderSample analyzes a sample capture (with its key log when it has
// one) and renders its HTML report with the flow graph.
func renderSample(t testing.TB, name string) (string, *Report) {
	t.Helper()
	path := filepath.Join("..", "samples", name+".pcapng")
	opt := decode.Options{}
	if keys := strings.TrimSuffix(path, ".pcapng") + ".keys"; fileExists(keys) {
		kl := capture.NewKeyLog()
		if _, err := kl.ReadFile(keys); err != nil {
			t.Fatal(err)
		}
		opt.Keys = kl
	}
	in, err := pipeline.Open(0, path, nil, opt)
	if err != nil {
		t.Fatal(err)
	}
	rep := Build([]*Input{in}, Options{})
	var b bytes.Buffer
	if err := Render(&b, rep, "html", RenderOptions{Version: "test", Events: Merge([]*Input{in})}); err != nil {
		t.Fatal(err)
	}
	return b.String(), rep
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// hostileText is what an attacker who controls names and pages on the path
// would try: markup that runs script or loads from elsewhere.
const hostileText = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`

// hostilePage records a real TLS session whose SNI, certificate subject
// and issuer, HTTP request and page title are markup, and renders its HTML
// report.
func hostilePage(t *testing.T) string {
	t.Helper()
	pki, err := decodetest.NewPKI(pkix.Name{CommonName: "<script>root</script>", Organization: []string{hostileText}}, "x.example")
	if err != nil {
		t.Fatal(err)
	}
	rec := &decodetest.Recorder{}
	ccfg := rec.ClientConfig("<script>sni</script>.example", nil)
	ccfg.InsecureSkipVerify = true
	ccfg.NextProtos = []string{"http/1.1"}
	ccfg.MaxVersion = tls.VersionTLS12 // the certificate travels in clear
	scfg := pki.ServerConfig("http/1.1")
	ce, se := rec.TLS(ccfg, scfg, func(c *tls.Conn) error {
		if _, err := fmt.Fprintf(c, "GET /<script>path</script> HTTP/1.1\r\nHost: <script>host</script>\r\n\r\n"); err != nil {
			return err
		}
		_, err := bufio.NewReader(c).ReadString('>')
		return err
	}, func(c *tls.Conn) error {
		if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
			return err
		}
		body := "<html><title>" + hostileText + "</title></html>"
		_, err := fmt.Fprintf(c, "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		return err
	})
	if ce != nil || se != nil {
		t.Fatalf("recorded session failed: client %v, server %v", ce, se)
	}
	pkts, err := rec.Packets(decodetest.DefaultNetwork())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hostile.pcapng")
	var buf bytes.Buffer
	if err := decodetest.WritePcapng(&buf, pkts, rec.KeyLogBytes()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := pipeline.Open(0, path, nil, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep := Build([]*Input{in}, Options{})
	// A page title reaches the report through a finding's text (what a
	// check that reads HTML answers would quote).
	rep.Findings = append(rep.Findings, Finding{ID: "http-not-module-content", Severity: Error, Layer: "http",
		Host: "<script>sni</script>.example", Summary: "page titled " + hostileText, Observed: hostileText,
		Evidence: []Evidence{{At: capture.Ref{Packet: int32(rep.Events.TLS[0].Packet)}, Detail: "title " + hostileText}}})
	var out bytes.Buffer
	if err := Render(&out, rep, "html", RenderOptions{Events: Merge([]*Input{in})}); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestHTMLReportEscapesCaptureText checks that markup in the SNI, the
// certificate names, the HTTP request and a page title reaches the page
// as text only.
func TestHTMLReportEscapesCaptureText(t *testing.T) {
	page := hostilePage(t)
	for _, want := range []string{
		"ClientHello SNI &lt;script&gt;sni&lt;/script&gt;.example", // SNI in the flow graph
		"CN=&lt;script&gt;root&lt;/script&gt;",                     // issuer in the flow graph
		"GET /&lt;script&gt;path&lt;/script&gt;",                   // HTTP request in the flow graph
		"&lt;img src=x onerror=alert(2)&gt;",                       // page title via a finding
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks the escaped %q", want)
		}
	}
	if n := strings.Count(strings.ToLower(page), "<script"); n != 0 {
		t.Errorf("the page holds %d <script elements", n)
	}
	if regexp.MustCompile(`(?i)<img|<[^>]*\sonerror=`).MatchString(page) {
		t.Error("capture text became an element or an event handler")
	}
	checkSelfContained(t, page)
}

// checkSelfContained fails when a page would load anything from elsewhere.
func checkSelfContained(t *testing.T, page string) {
	t.Helper()
	if m := regexp.MustCompile(`(?i)<(script|link|iframe|object|embed)\b|@import|@font-face|url\(|<[^>]*\s(src|href)=`).FindString(page); m != "" {
		t.Errorf("the page is not self-contained: %q", m)
	}
}

// TestFlowGraphShowsSamples checks the diagrams of real samples: the
// parties, the arrows, the packets findings cite and the gaps.
func TestFlowGraphShowsSamples(t *testing.T) {
	cases := []struct {
		sample string
		want   []string
	}{
		{"dns-injected-race", []string{
			`<text class="fl-head" x="`, ">middlebox</text>",
			// The racing forged answer comes from the middlebox, the
			// real one from the resolver.
			"NOERROR A 157.240.11.35 · TTL 47", "NOERROR A 142.251.36.113 · TTL 115",
			"ICMP port-unreachable (socket already closed)",
			"1.0 s — no answer, then again", "8.0 s — no answer, then again",
			`class="fl-msg fl-tcp fl-hit fl-error"`,
		}},
		{"interception-mitmproxy-tls12", []string{
			">proxy</text>", "CONNECT proxy.golang.org:443", "HTTP/1.1 200 Connection established",
			"ClientHello SNI proxy.golang.org · ALPN h2,http/1.1", "ServerHello TLS 1.2",
			"Certificate CN=proxy.golang.org · issuer O=mitmproxy", "fatal alert bad_certificate from client",
			">FIN<",
		}},
		{"h2-goaway-inadequate-security", []string{
			"GOAWAY INADEQUATE_SECURITY [decrypted]", "GET /rsc.io/quote/@v/list (h2) [decrypted]", "RST · TTL 62",
		}},
		{"dns-timeout-no-answer", []string{"— no answer"}},
	}
	for _, c := range cases {
		t.Run(c.sample, func(t *testing.T) {
			page, rep := renderSample(t, c.sample)
			for _, w := range c.want {
				if !strings.Contains(page, w) {
					t.Errorf("flow graph lacks %q", w)
				}
			}
			// Every packet a finding cites that the graph draws is
			// highlighted.
			hits := regexp.MustCompile(`class="fl-msg [^"]*fl-hit[^"]*" data-packet="(\d+)"`).FindAllStringSubmatch(page, -1)
			if len(hits) == 0 {
				t.Fatal("no highlighted arrow")
			}
			cited := map[string]bool{}
			for _, f := range rep.Findings {
				for _, e := range f.Evidence {
					cited[fmt.Sprint(e.At.Packet)] = true
				}
			}
			for _, h := range hits {
				if !cited[h[1]] {
					t.Errorf("packet %s is highlighted but no finding cites it", h[1])
				}
			}
			checkSelfContained(t, page)
		})
	}
	t.Run("middlebox lane holds only the forged answer", func(t *testing.T) {
		page, _ := renderSample(t, "dns-injected-race")
		forged := regexp.MustCompile(`data-packet="3".*?</g>`).FindString(page)
		real := regexp.MustCompile(`data-packet="4".*?</g>`).FindString(page)
		x := regexp.MustCompile(`<line class="fl-arrow" x1="(\d+)"`)
		fx, rx := x.FindStringSubmatch(forged), x.FindStringSubmatch(real)
		if fx == nil || rx == nil || fx[1] == rx[1] {
			t.Fatalf("forged and real answers start from the same lane: %v %v", fx, rx)
		}
	})
}

// TestFlowGraphScalesToManyConnections renders 10,000 connections, one
// of them cited by a finding: the page stays small, the cited connection is
// drawn and open, the others are folded and counted.
func TestFlowGraphScalesToManyConnections(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := &decode.Events{}
	pkt := 0
	ref := func() capture.Ref {
		pkt++
		return capture.NewRef(0, pkt, start.Add(time.Duration(pkt)*time.Millisecond))
	}
	client := netip.MustParseAddr("10.0.0.2")
	for i := range 10_000 {
		srv := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, byte(i / 250), byte(i%250 + 1)}), 443)
		if i%2 == 0 {
			srv = netip.MustParseAddrPort("142.250.74.113:443") // half to one host
		}
		c := &decode.TCPConn{Client: netip.AddrPortFrom(client, uint16(20000+i%40000)), Server: srv, App: decode.AppTLS}
		c.First = ref()
		c.AddSYN(c.First)
		c.SYNACK = ref()
		c.FIN = [2]capture.Ref{ref(), ref()}
		ev.TCP = append(ev.TCP, c)
	}
	bad := ev.TCP[4242].SYNACK
	rep := &Report{Schema: Schema, Inputs: []InputInfo{{Path: "many.pcapng", Packets: pkt, First: Timestamp(start), Last: Timestamp(start.Add(time.Duration(pkt) * time.Millisecond))}},
		Findings: []Finding{{ID: "tcp-connect-refused", Severity: Error, Layer: "tcp", Host: "142.250.74.113",
			Evidence: []Evidence{{At: bad}}}}}
	t0 := time.Now()
	var b bytes.Buffer
	if err := Render(&b, rep, "html", RenderOptions{Events: ev}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	t.Logf("10,000 connections: %d KB of HTML in %v", len(page)/1024, time.Since(t0).Round(time.Millisecond))
	if len(page) > 6<<20 {
		t.Errorf("page is %d bytes; want under 6 MB", len(page))
	}
	if !strings.Contains(page, fmt.Sprintf(`fl-hit fl-error fl-reply" data-packet="%d"`, bad.Packet)) {
		t.Error("the connection the finding cites is not drawn highlighted")
	}
	if !strings.Contains(page, `<details class="fl-host fl-error" open><summary><code>142.250.74.113</code> — 5,000 connections`) &&
		!strings.Contains(page, `<details class="fl-host fl-error" open><summary><code>142.250.74.113</code> — 5000 connections`) {
		t.Error("the host with the finding is not first and open")
	}
	for _, w := range []string{"more connections without findings, listed", "more hosts without findings not drawn"} {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	if n := strings.Count(page, "<svg"); n > flowMaxHostsDrawn+2*flowMaxConnDrawn+10 {
		t.Errorf("%d diagrams drawn; the folding budget is not applied", n)
	}
}
