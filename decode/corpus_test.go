package decode_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/capture/capturetest"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/pipeline"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// corpusFacts is the part of a .facts.json (made by tshark; see the corpus
// README) the agreement test compares.
type corpusFacts struct {
	DNS struct {
		Queries   []dnsFact `json:"queries"`
		Responses []dnsFact `json:"responses"`
	} `json:"dns"`
	TLS tlsFacts `json:"tls"`
	// TLSWithKeyLog is what tshark saw with the capture's .keylog (absent
	// without one).
	TLSWithKeyLog *tlsFacts `json:"tls_with_keylog"`
}

type dnsFact struct {
	Frame     int    `json:"frame"`
	Transport string `json:"transport"`
	Src, Dst  string
	ID        string `json:"id"`
	Questions []struct {
		Name, Type string
	} `json:"questions"`
	RCode   string `json:"rcode"`
	Answers []struct {
		Name, Type, Value string
	} `json:"answers"`
}

type tlsFacts struct {
	ClientHellos []struct {
		Frame             int      `json:"frame"`
		Transport         string   `json:"transport"`
		SNI               string   `json:"sni"`
		ALPN              []string `json:"alpn"`
		SupportedVersions []string `json:"supported_versions"`
		LegacyVersion     string   `json:"legacy_version"`
	} `json:"client_hellos"`
	ServerHellos []struct {
		Frame           int     `json:"frame"`
		Transport       string  `json:"transport"`
		SelectedVersion string  `json:"selected_version"`
		CipherSuite     string  `json:"cipher_suite"`
		ALPN            *string `json:"alpn"`
		HRR             bool    `json:"hello_retry_request"`
	} `json:"server_hellos"`
	Certificates []struct {
		Frame int `json:"frame"`
		Chain []struct {
			Subject, Issuer string
		} `json:"chain"`
	} `json:"certificates"`
	EncryptedExtensions []struct {
		Frame     int     `json:"frame"`
		Transport string  `json:"transport"`
		Src       string  `json:"src"`
		ALPN      *string `json:"alpn"`
	} `json:"encrypted_extensions"`
	Alerts []struct {
		Frame       int     `json:"frame"`
		Transport   string  `json:"transport"`
		Src         string  `json:"src"`
		Level       *string `json:"level"`       // "Fatal (2)"; null when tshark could not decrypt it
		Description *string `json:"description"` // "Handshake Failure (40)"
	} `json:"alerts"`
}

// knownDisagreements lists facts modsniff does not reproduce, each with the
// reason. Keys are "capture: kind frame".
var knownDisagreements = map[string]string{
	// QUIC ClientHellos are in QUIC Initial packets; modsniff follows TCP
	// only (the go command never uses QUIC).
	"quic": "QUIC is not decoded: the go command does not use it",
}

// rcodeWords maps tshark's rcode words to RFC mnemonics.
var rcodeWords = map[string]string{
	"No error": "NOERROR", "No such name": "NXDOMAIN", "Server failure": "SERVFAIL",
	"Format error": "FORMERR", "Refused": "REFUSED", "Not implemented": "NOTIMP",
}

// decodeFile decodes one capture with the real reader and decoder. Like
// tshark, it applies the capture's own Decryption Secrets Blocks; keylog,
// when not "", names a key log file to use as well.
func decodeFile(t *testing.T, path string, keylog ...string) *decode.Events {
	t.Helper()
	keys := capture.NewKeyLog()
	for _, k := range keylog {
		if bad, err := keys.ReadFile(k); err != nil || len(bad) != 0 {
			t.Fatalf("key log %s: %v %v", k, err, bad)
		}
	}
	in, err := pipeline.Open(0, path, nil, decode.Options{Keys: keys})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	for _, n := range in.Info.Notes {
		if strings.HasPrefix(n, "TLS key log:") {
			t.Errorf("decryption secrets block: %s", n)
		}
	}
	return in.Events
}

// tally counts agreements per kind of fact.
type tally struct{ agree, total int }

// TestCorpusAgreesWithTshark decodes every capture of the shared corpus and
// compares DNS questions and answers, SNI, offered and chosen ALPN and
// versions, cipher suites and certificate subjects and issuers with the
// facts tshark extracted. Disagreements are failures unless listed in
// knownDisagreements with a reason.
func TestCorpusAgreesWithTshark(t *testing.T) {
	paths := capturetest.Captures(t)
	dir, _ := capturetest.FindCorpus()
	totals := map[string]*tally{}
	count := func(kind string, ok bool) {
		if totals[kind] == nil {
			totals[kind] = &tally{}
		}
		totals[kind].total++
		if ok {
			totals[kind].agree++
		}
	}
	for _, path := range paths {
		rel, _ := filepath.Rel(dir, path)
		t.Run(rel, func(t *testing.T) {
			f := capturetest.ReadFacts(t, path)
			var facts corpusFacts
			if err := json.Unmarshal(f.Raw, &facts); err != nil {
				t.Fatal(err)
			}
			ev := decodeFile(t, path)
			disagree := func(kind string, frame int, format string, args ...any) {
				if reason, ok := knownDisagreements[rel+": "+kind]; ok {
					t.Logf("known disagreement (%s): %s frame %d: %s", reason, kind, frame, fmt.Sprintf(format, args...))
					return
				}
				t.Errorf("%s frame %d: %s", kind, frame, fmt.Sprintf(format, args...))
			}
			compareDNS(ev, facts, count, disagree)
			compareTLS(ev, facts.TLS, count, disagree)
			if facts.TLSWithKeyLog != nil {
				// The same capture decrypted with its key log, against what
				// tshark decrypted with it.
				keyed := decodeFile(t, path, path+".keylog")
				countKeyed := func(kind string, ok bool) { count("keylog-"+kind, ok) }
				compareTLS(keyed, *facts.TLSWithKeyLog, countKeyed, func(kind string, frame int, format string, args ...any) {
					disagree("keylog-"+kind, frame, format, args...)
				})
				// snet's own test says how many records its decryptor opens.
				if want, ok := snetDecryptedRecords(path); ok {
					got := 0
					for _, s := range keyed.TLS {
						got += int(s.DecryptedRecords(0) + s.DecryptedRecords(1))
					}
					count("keylog-decrypted-records (snet)", got == want)
					if got != want {
						disagree("keylog-decrypted-records", 0, "snet decrypts %d records, modsniff %d", want, got)
					}
				}
			}
		})
	}
	var kinds []string
	agree, total := 0, 0
	for k, v := range totals {
		kinds = append(kinds, fmt.Sprintf("%s %d/%d", k, v.agree, v.total))
		agree += v.agree
		total += v.total
	}
	slices.Sort(kinds)
	if total > 0 {
		t.Logf("corpus agreement with tshark: %d/%d facts (%.1f%%): %s", agree, total, 100*float64(agree)/float64(total), strings.Join(kinds, ", "))
	}
}

func compareDNS(ev *decode.Events, facts corpusFacts, count func(string, bool), disagree func(string, int, string, ...any)) {
	byQuery := map[int]*decode.DNSExchange{}
	byResponse := map[int]*decode.DNSResponse{}
	respEx := map[int]*decode.DNSExchange{}
	for _, x := range ev.DNS {
		if !x.Query.IsZero() {
			byQuery[int(x.Query.Packet)] = x
		}
		for _, r := range x.Retries() {
			byQuery[int(r.Packet)] = x
		}
		for _, r := range x.Responses {
			byResponse[int(r.At.Packet)] = r
			respEx[int(r.At.Packet)] = x
		}
	}
	for _, q := range facts.DNS.Queries {
		if q.Transport == "icmp" || len(q.Questions) == 0 {
			continue
		}
		x := byQuery[q.Frame]
		wantType := q.Questions[0].Type
		if wantType == "*" { // tshark's name for ANY (RFC 1035 §3.2.3 writes "*")
			wantType = "ANY"
		}
		ok := x != nil && strings.EqualFold(x.Name, strings.TrimSuffix(q.Questions[0].Name, ".")) && x.QuestionType() == wantType &&
			fmt.Sprintf("0x%04x", x.ID) == q.ID
		count("dns-question", ok)
		if !ok {
			got := "nothing"
			if x != nil {
				got = fmt.Sprintf("%s %s id 0x%04x", x.QuestionType(), x.Name, x.ID)
			}
			disagree("dns-question", q.Frame, "tshark: %s %s id %s; modsniff: %s", q.Questions[0].Type, q.Questions[0].Name, q.ID, got)
		}
	}
	for _, rf := range facts.DNS.Responses {
		r := byResponse[rf.Frame]
		if r == nil {
			count("dns-response", false)
			disagree("dns-response", rf.Frame, "tshark: %s with %d answers; modsniff: nothing", rf.RCode, len(rf.Answers))
			continue
		}
		rcode := decode.RcodeName(r.RCode)
		want := rcodeWords[rf.RCode]
		if rf.RCode == "Unknown" && strings.HasPrefix(rcode, "RCODE") {
			want = rcode // tshark has no name for unassigned codes; modsniff writes RCODEn
		}
		count("dns-rcode", rcode == want)
		if rcode != want {
			disagree("dns-rcode", rf.Frame, "tshark %s, modsniff %s", want, rcode)
		}
		var wantAns, gotAns []string
		for _, a := range rf.Answers {
			if a.Type == "A" || a.Type == "AAAA" || a.Type == "CNAME" {
				wantAns = append(wantAns, strings.ToLower(a.Type+" "+strings.TrimSuffix(a.Name, ".")+" "+strings.TrimSuffix(a.Value, ".")))
			}
		}
		for _, a := range r.Answers {
			if a.Type == dns.TypeA || a.Type == dns.TypeAAAA || a.Type == dns.TypeCNAME {
				gotAns = append(gotAns, strings.ToLower(decode.TypeName(a.Type)+" "+a.Name+" "+a.Data()))
			}
		}
		slices.Sort(wantAns)
		slices.Sort(gotAns)
		ok := slices.Equal(wantAns, gotAns)
		count("dns-answers", ok)
		if !ok {
			disagree("dns-answers", rf.Frame, "tshark %v, modsniff %v", wantAns, gotAns)
		}
	}
}

func hex4(v uint16) string { return fmt.Sprintf("0x%04x", v) }

func compareTLS(ev *decode.Events, facts tlsFacts, count func(string, bool), disagree func(string, int, string, ...any)) {
	hellos := map[int]*tlswire.ClientHello{}
	servers := map[int]*tlswire.ServerHello{}
	certs := map[int]*tlswire.CertificateMsg{}
	for _, s := range ev.TLS {
		if s.ClientHello != nil {
			hellos[int(s.ClientHelloAt.Packet)] = s.ClientHello
		}
		if s.SecondClientHello() != nil {
			hellos[int(s.SecondClientHelloAt().Packet)] = s.SecondClientHello()
		}
		if s.ServerHello != nil {
			servers[int(s.ServerHelloAt.Packet)] = s.ServerHello
		}
		if s.HelloRetry() != nil {
			servers[int(s.HelloRetryAt().Packet)] = s.HelloRetry()
		}
		if s.Certificates != nil {
			certs[int(s.CertificatesAt.Packet)] = s.Certificates
		}
		if s.ClientCertificates() != nil { // tshark lists client certificates too
			certs[int(s.ClientCertificatesAt().Packet)] = s.ClientCertificates()
		}
	}
	for _, h := range facts.ClientHellos {
		if h.Transport == "quic" {
			continue
		}
		ch := hellos[h.Frame]
		if ch == nil {
			count("tls-client-hello", false)
			disagree("client-hello", h.Frame, "tshark saw a ClientHello for %q, modsniff none", h.SNI)
			continue
		}
		count("tls-sni", ch.ServerName == h.SNI)
		if ch.ServerName != h.SNI {
			disagree("sni", h.Frame, "tshark %q, modsniff %q", h.SNI, ch.ServerName)
		}
		alpn := ch.ALPN
		if alpn == nil {
			alpn = []string{}
		}
		want := h.ALPN
		if want == nil {
			want = []string{}
		}
		count("tls-client-alpn", slices.Equal(alpn, want))
		if !slices.Equal(alpn, want) {
			disagree("client-alpn", h.Frame, "tshark %v, modsniff %v", want, alpn)
		}
		var versions []string
		for _, v := range ch.SupportedVersions {
			versions = append(versions, hex4(v))
		}
		wantV := h.SupportedVersions
		ok := slices.Equal(versions, wantV) && hex4(ch.LegacyVersion) == h.LegacyVersion
		count("tls-client-versions", ok)
		if !ok {
			disagree("client-versions", h.Frame, "tshark %s %v, modsniff %s %v", h.LegacyVersion, wantV, hex4(ch.LegacyVersion), versions)
		}
	}
	for _, h := range facts.ServerHellos {
		if h.Transport == "quic" {
			continue
		}
		sh := servers[h.Frame]
		if sh == nil {
			count("tls-server-hello", false)
			disagree("server-hello", h.Frame, "tshark saw a ServerHello, modsniff none")
			continue
		}
		ok := hex4(sh.Version()) == h.SelectedVersion && hex4(sh.CipherSuite) == h.CipherSuite && sh.IsHelloRetryRequest == h.HRR
		count("tls-server-version-cipher", ok)
		if !ok {
			disagree("server-hello", h.Frame, "tshark %s %s hrr=%v, modsniff %s %s hrr=%v", h.SelectedVersion, h.CipherSuite, h.HRR,
				hex4(sh.Version()), hex4(sh.CipherSuite), sh.IsHelloRetryRequest)
		}
		if h.ALPN != nil {
			count("tls-server-alpn", sh.ALPN == *h.ALPN)
			if sh.ALPN != *h.ALPN {
				disagree("server-alpn", h.Frame, "tshark %q, modsniff %q", *h.ALPN, sh.ALPN)
			}
		}
	}
	for _, c := range facts.Certificates {
		m := certs[c.Frame]
		if m == nil {
			count("tls-certificates", false)
			disagree("certificate", c.Frame, "tshark saw a chain of %d, modsniff none", len(c.Chain))
			continue
		}
		ok := len(m.Certificates) == len(c.Chain)
		for i := range c.Chain {
			if !ok {
				break
			}
			ok = m.Certificates[i].Subject == c.Chain[i].Subject && m.Certificates[i].Issuer == c.Chain[i].Issuer
		}
		count("tls-certificates", ok)
		if !ok {
			var got []string
			for _, x := range m.Certificates {
				got = append(got, x.Subject+" / "+x.Issuer)
			}
			disagree("certificate", c.Frame, "tshark %v, modsniff %v", c.Chain, got)
		}
	}
	compareDecrypted(ev, facts, count, disagree)
}

// compareDecrypted compares what only decryption shows in TLS 1.3 and
// what it completes in TLS 1.2: EncryptedExtensions (the server's ALPN;
// a client's, with Chrome's ALPS) and alerts (level and description, or
// only that there was one when it stayed encrypted).
func compareDecrypted(ev *decode.Events, facts tlsFacts, count func(string, bool), disagree func(string, int, string, ...any)) {
	type alertKey struct {
		frame int
		from  string
	}
	alerts := map[alertKey][]tlswire.Alert{}
	var extra []string
	ee := map[int]*decode.TLSSession{}
	clientEE := map[int]bool{}
	for _, s := range ev.TLS {
		for _, a := range s.Alerts {
			from := s.Client().String()
			if a.From == tlswire.ServerToClient {
				from = s.Server().String()
			}
			k := alertKey{int(a.At.Packet), from}
			alerts[k] = append(alerts[k], a)
		}
		if s.EncryptedExtensions() != nil {
			ee[int(s.EncryptedExtensionsAt().Packet)] = s
		}
		for _, h := range s.Messages() {
			if h.Type == tlswire.TypeEncryptedExtensions && h.From == tlswire.ClientToServer {
				clientEE[int(h.At.Packet)] = true
			}
		}
	}
	for _, e := range facts.EncryptedExtensions {
		if e.Transport == "quic" {
			continue
		}
		want := ""
		if e.ALPN != nil {
			want = *e.ALPN
		}
		s := ee[e.Frame]
		switch {
		case s != nil && s.Server().String() == e.Src:
			count("tls-encrypted-extensions", s.EncryptedExtensions().ALPN == want)
			if s.EncryptedExtensions().ALPN != want {
				disagree("encrypted-extensions", e.Frame, "tshark ALPN %q, modsniff %q", want, s.EncryptedExtensions().ALPN)
			}
		case clientEE[e.Frame] && want == "":
			count("tls-encrypted-extensions", true) // the client's (ALPS), which carries no ALPN
		default:
			count("tls-encrypted-extensions", false)
			disagree("encrypted-extensions", e.Frame, "tshark saw EncryptedExtensions from %s (ALPN %q), modsniff none", e.Src, want)
		}
	}
	for _, a := range facts.Alerts {
		if a.Transport == "quic" {
			continue
		}
		k := alertKey{a.Frame, a.Src}
		got := alerts[k]
		want := "encrypted"
		if a.Level != nil && a.Description != nil {
			want = alertFactName(*a.Level) + " " + alertFactName(*a.Description)
		}
		found := -1
		for i, x := range got {
			name := "encrypted"
			if x.Known() {
				name = fmt.Sprint(x.Level) + " " + fmt.Sprint(x.Description)
			}
			if name == want {
				found = i
				break
			}
		}
		count("tls-alerts", found >= 0)
		if found < 0 {
			disagree("alert", a.Frame, "tshark %s from %s, modsniff %v", want, a.Src, got)
			continue
		}
		alerts[k] = append(got[:found], got[found+1:]...)
	}
	for k, rest := range alerts {
		for _, a := range rest {
			// Only decrypted alerts: tshark stops at damage modsniff reads past.
			if a.Known() && a.Encrypted {
				extra = append(extra, fmt.Sprintf("frame %d from %s: %s", k.frame, k.from, a.Name()))
			}
		}
	}
	slices.Sort(extra)
	for _, x := range extra {
		count("tls-alerts", false)
		disagree("alert", 0, "modsniff decrypted an alert tshark did not list: %s", x)
	}
}

// alertFactName returns the number in a tshark value such as "Fatal (2)".
func alertFactName(v string) string {
	if i := strings.LastIndexByte(v, '('); i >= 0 {
		return strings.TrimSuffix(v[i+1:], ")")
	}
	return v
}

// snetDecryptedRecords reads decrypted_records_count from the snet test
// configuration beside a capture.
func snetDecryptedRecords(path string) (int, bool) {
	b, err := os.ReadFile(path + ".expected-snet.txt")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "decrypted_records_count" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			return n, err == nil
		}
	}
	return 0, false
}
