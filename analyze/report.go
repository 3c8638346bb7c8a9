package analyze

import (
	"net/netip"
	"time"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// Schema is the version of the JSON report; it changes only when a field
// changes meaning (fields are only ever added).
const Schema = 1

// Report is the JSON report of DESIGN §3. Field names and meanings are a
// contract: extend, never rename.
type Report struct {
	Schema   int         `json:"schema"`
	Inputs   []InputInfo `json:"inputs"`
	Findings []Finding   `json:"findings"`
	Hosts    []Host      `json:"hosts"`
	Events   EventsJSON  `json:"events"`
	// Context is what modsniff capture or probe recorded with the capture:
	// the command, how it ended and what it said.
	Context *CaptureContext `json:"context,omitempty"`

	// lazy holds the decoded events while Events is left empty
	// (Options.StreamEvents): the JSON renderer converts them one by one,
	// the other formats convert them all first.
	lazy *decode.Events
}

// CaptureContext is the recorded context of a capture made by modsniff.
type CaptureContext struct {
	Command    []string          `json:"command,omitempty"`
	ExitStatus *int              `json:"exit_status,omitempty"`
	GoVersion  string            `json:"go_version,omitempty"`
	GoEnv      map[string]string `json:"go_env,omitempty"`
	Probe      bool              `json:"probe,omitempty"`
	// GoSaid joins the command's error to the wire evidence: "go said: …;
	// the capture shows: …".
	GoSaid string `json:"go_said,omitempty"`
	// Keys says where the capture's TLS keys came from, or why it has
	// none; KeysNotCovered names the programs run whose keys were not read.
	Keys           string   `json:"keys,omitempty"`
	KeysNotCovered []string `json:"keys_not_covered,omitempty"`
}

// InputInfo describes one input capture.
type InputInfo struct {
	Path      string       `json:"path"`
	Format    string       `json:"format,omitempty"`
	Packets   int          `json:"packets"`
	LinkTypes []string     `json:"link_types"`
	Errors    []InputError `json:"errors"`
	// Notes are remarks on decoding that are not damage: packets cut by
	// the snap length, a link type that is not decoded, a limit reached.
	Notes []string `json:"notes,omitempty"`
	// First and Last are the times of the first and last packet.
	First string `json:"first,omitempty"`
	Last  string `json:"last,omitempty"`
	// Dropped is the number of packets the capturing kernel dropped, from
	// pcapng interface statistics.
	Dropped uint64 `json:"dropped,omitempty"`
	// Stopped is set when reading stopped early at the --timeout or
	// --max-memory limit; Notes says where. The report covers the packets
	// before it.
	Stopped bool `json:"stopped,omitempty"`
}

// InputError locates damage in an input.
type InputError struct {
	Offset  int64  `json:"offset"`
	Packet  int    `json:"packet"`
	Message string `json:"message"`
}

// EventsJSON holds the decoded events.
type EventsJSON struct {
	DNS   []DNSJSON    `json:"dns"`
	TLS   []TLSJSON    `json:"tls"`
	TCP   []TCPJSON    `json:"tcp,omitempty"`
	Proxy []TunnelJSON `json:"proxy,omitempty"`
	HTTP  []HTTPJSON   `json:"http,omitempty"`
}

// DNSJSON is one DNS transaction.
type DNSJSON struct {
	Input     int           `json:"input"`
	Packet    int           `json:"packet"`
	Time      string        `json:"time"`
	Client    string        `json:"client"`
	Server    string        `json:"server"`
	Transport string        `json:"transport"`
	ID        uint16        `json:"id"`
	Name      string        `json:"name"`
	Type      string        `json:"type"`
	Retries   []int         `json:"retries,omitempty"`
	Responses []DNSRespJSON `json:"responses"`
	ICMP      string        `json:"icmp,omitempty"`
	ICMPs     []ICMPJSON    `json:"icmp_errors,omitempty"`
	Malformed string        `json:"malformed,omitempty"`
}

// DNSRespJSON is one response to a DNS query.
type DNSRespJSON struct {
	Packet    int          `json:"packet"`
	Time      string       `json:"time"`
	RCode     string       `json:"rcode"`
	Truncated bool         `json:"truncated,omitempty"`
	Answers   []RecordJSON `json:"answers"`
	// AnswersOmitted counts the answers beyond the first 32, not kept.
	AnswersOmitted int    `json:"answers_omitted,omitempty"`
	IPTTL          uint8  `json:"ip_ttl"`
	IPID           uint16 `json:"ip_id,omitempty"`
	Malformed      string `json:"malformed,omitempty"`
}

// RecordJSON is one resource record.
type RecordJSON struct {
	Name string `json:"name"`
	Type string `json:"type"`
	TTL  uint32 `json:"ttl"`
	Data string `json:"data"`
}

// ICMPJSON is an ICMP error attached to a transaction or connection.
type ICMPJSON struct {
	Packet int    `json:"packet"`
	Kind   string `json:"kind"`
	From   string `json:"from"`
	Quotes string `json:"quotes"`
}

// TLSJSON is one TLS session.
type TLSJSON struct {
	Input          int         `json:"input"`
	Packet         int         `json:"packet"`
	Time           string      `json:"time"`
	Client         string      `json:"client"`
	Server         string      `json:"server"`
	Tunnel         string      `json:"tunnel,omitempty"`
	SNI            string      `json:"sni"`
	ClientVersions []string    `json:"client_versions"`
	ClientALPN     []string    `json:"client_alpn"`
	ClientGroups   []string    `json:"client_key_shares,omitempty"`
	JA4            string      `json:"ja4"`
	Version        string      `json:"version"`
	Cipher         string      `json:"cipher"`
	KeyShare       string      `json:"key_share,omitempty"`
	HelloRetry     bool        `json:"hello_retry_request,omitempty"`
	ServerALPN     string      `json:"server_alpn"`
	Decrypted      bool        `json:"decrypted"`
	Certificates   []CertJSON  `json:"certificates"`
	Alerts         []AlertJSON `json:"alerts"`
	Notes          []string    `json:"notes,omitempty"`
	// ClientCertCompression lists the algorithms of the ClientHello's
	// compress_certificate (RFC 8879); CertCompression names the one the
	// server's certificate came compressed with.
	ClientCertCompression []string `json:"client_cert_compression,omitempty"`
	CertCompression       string   `json:"cert_compression,omitempty"`
	// HelloNotes are the marks on the hellos and the certificate message
	// (duplicate extensions, trailing bytes …); Errors the messages that
	// could not be decoded and the protocol errors of the session.
	HelloNotes []string `json:"hello_notes,omitempty"`
	Errors     []string `json:"errors,omitempty"`
}

// CertJSON is one certificate of a chain, in the order sent.
type CertJSON struct {
	Subject   string   `json:"subject"`
	Issuer    string   `json:"issuer"`
	DNSNames  []string `json:"dns_names"`
	NotBefore string   `json:"not_before"`
	NotAfter  string   `json:"not_after"`
	SHA256    string   `json:"sha256"`
	Error     string   `json:"error,omitempty"`
}

// AlertJSON is one TLS alert.
type AlertJSON struct {
	Packet      int    `json:"packet"`
	From        string `json:"from"`
	Level       string `json:"level"`
	Description string `json:"description"`
	Encrypted   bool   `json:"encrypted"`
}

// TCPJSON is one TCP connection.
type TCPJSON struct {
	Input       int      `json:"input"`
	Packet      int      `json:"packet"`
	Time        string   `json:"time"`
	Client      string   `json:"client"`
	Server      string   `json:"server"`
	App         string   `json:"app,omitempty"`
	SYNs        int      `json:"syns"`
	SYNACK      int      `json:"synack,omitempty"`
	Resets      []string `json:"resets,omitempty"`
	ClientBytes int64    `json:"client_bytes"`
	ServerBytes int64    `json:"server_bytes"`
}

// TunnelJSON is one proxy tunnel.
type TunnelJSON struct {
	Input       int    `json:"input"`
	Packet      int    `json:"packet"`
	Kind        string `json:"kind"`
	Client      string `json:"client"`
	Proxy       string `json:"proxy"`
	Target      string `json:"target"`
	Status      int    `json:"status"`
	StatusLine  string `json:"status_line,omitempty"`
	AuthRealm   string `json:"auth_realm,omitempty"`
	Established bool   `json:"established"`
}

// HTTPJSON is one HTTP request and response.
type HTTPJSON struct {
	Input  int    `json:"input"`
	Packet int    `json:"packet"`
	Time   string `json:"time"`
	// ResponsePacket is the packet of the response (or of the GOAWAY that
	// left the request unanswered); 0 when none was seen.
	ResponsePacket int    `json:"response_packet,omitempty"`
	ResponseTime   string `json:"response_time,omitempty"`
	Host           string `json:"host"`
	Method         string `json:"method"`
	Path           string `json:"path"`
	Proto          string `json:"proto"`
	Status         int    `json:"status"`
	GoAway         string `json:"goaway,omitempty"`
	// StreamID is the HTTP/2 stream; Reset the error code of an
	// RST_STREAM that ended it, sent by the client when ResetFromClient,
	// at ResetPacket.
	StreamID        uint32 `json:"stream_id,omitempty"`
	Reset           string `json:"reset,omitempty"`
	ResetFromClient bool   `json:"reset_from_client,omitempty"`
	ResetPacket     int    `json:"reset_packet,omitempty"`
	// ContentType, ContentLength (absent when the response had none),
	// the body bytes seen, whether the body completed, and how it was cut
	// short; Title / FirstLine of a block or error page, RetryAfter, and
	// the host a redirect's Location names.
	ContentType   string `json:"content_type,omitempty"`
	ContentLength *int64 `json:"content_length,omitempty"`
	BodyBytes     int64  `json:"body_bytes,omitempty"`
	BodyComplete  bool   `json:"body_complete,omitempty"`
	Truncated     string `json:"truncated,omitempty"`
	Title         string `json:"title,omitempty"`
	FirstLine     string `json:"first_line,omitempty"`
	RetryAfter    string `json:"retry_after,omitempty"`
	Location      string `json:"location,omitempty"`
	// Date is the response's Date header: the server's clock.
	Date string `json:"date,omitempty"`
	// Malformed says what came instead of an HTTP/1.x response.
	Malformed string `json:"malformed,omitempty"`
}

// Timestamp formats a packet time for reports: RFC 3339 with nanoseconds,
// in UTC so that reports do not depend on the analyst's time zone.
func Timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func addrPort(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// eventsJSON converts decoded events to their JSON form.
func eventsJSON(ev *decode.Events) EventsJSON {
	// Sized once: appending tens of thousands of large structs would copy
	// them again at every growth.
	out := EventsJSON{DNS: make([]DNSJSON, 0, len(ev.DNS)), TLS: make([]TLSJSON, 0, len(ev.TLS))}
	if len(ev.TCP) > 0 {
		out.TCP = make([]TCPJSON, 0, len(ev.TCP))
	}
	if len(ev.Proxy) > 0 {
		out.Proxy = make([]TunnelJSON, 0, len(ev.Proxy))
	}
	if len(ev.HTTP) > 0 {
		out.HTTP = make([]HTTPJSON, 0, len(ev.HTTP))
	}
	for _, x := range ev.DNS {
		out.DNS = append(out.DNS, dnsJSON(x))
	}
	for _, s := range ev.TLS {
		out.TLS = append(out.TLS, tlsJSON(s))
	}
	for _, c := range ev.TCP {
		out.TCP = append(out.TCP, tcpJSON(c))
	}
	for _, t := range ev.Proxy {
		out.Proxy = append(out.Proxy, tunnelJSON(t))
	}
	for _, h := range ev.HTTP {
		out.HTTP = append(out.HTTP, httpJSON(h))
	}
	return out
}

func tunnelJSON(t *decode.Tunnel) TunnelJSON {
	return TunnelJSON{
		Input: int(t.Request.Input), Packet: int(t.Request.Packet), Kind: t.Kind,
		Client: addrPort(t.Client), Proxy: addrPort(t.Proxy), Target: t.Target,
		Status: t.Status, StatusLine: t.StatusLine, AuthRealm: t.AuthRealm, Established: t.Established,
	}
}

func httpJSON(h *decode.HTTPExchange) HTTPJSON {
	j := HTTPJSON{
		Input: int(h.Request.Input), Packet: int(h.Request.Packet), Time: Timestamp(h.Request.Time()),
		ResponsePacket: int(h.Response.Packet), ResponseTime: Timestamp(h.Response.Time()), Host: h.Host, Method: h.Method,
		Path: h.Path, Proto: h.Proto, Status: h.Status, GoAway: h.GoAway,
		StreamID: h.StreamID, Reset: h.Reset, ResetFromClient: h.ResetFromClient, ResetPacket: int(h.ResetAt.Packet),
		ContentType: h.ContentType, BodyBytes: h.BodyBytes, BodyComplete: h.BodyDone, Truncated: h.Truncated,
		Title: h.Title, FirstLine: h.FirstLine, RetryAfter: h.RetryAfter, Location: h.Location,
		Date: Timestamp(h.Date), Malformed: h.Malformed,
	}
	if h.ContentLength >= 0 && h.Status != 0 {
		j.ContentLength = &h.ContentLength
	}
	return j
}

// scratchElem returns the arrayElem of element i converted by conv: into
// the writing goroutine's scratch and written at once by app when fast,
// else allocated and written by encoding/json.
func scratchElem[T any](fast bool, app func([]byte, *T, int) []byte, conv func(i int, sc *jsonScratch) T) arrayElem {
	if !fast {
		return appendedElem(false, app, func(i int) T { return conv(i, nil) })
	}
	return func(e *elemEncoder, b []byte, i int, in string) ([]byte, error) {
		e.scratch.begin()
		j := conv(i, &e.scratch)
		return app(b, &j, len(in)), nil
	}
}

// eventStreams says, for each field of EventsJSON, how many elements ev
// has and how to convert and write the i-th: what renderJSON writes one by
// one when the report's events were left to it (Options.StreamEvents).
func eventStreams(ev *decode.Events) map[string]func() (int, arrayElem) {
	return map[string]func() (int, arrayElem){
		"DNS": func() (int, arrayElem) {
			return len(ev.DNS), scratchElem(jsonFast.dns, appendDNSJSON,
				func(i int, sc *jsonScratch) DNSJSON { return dnsJSONIn(ev.DNS[i], sc) })
		},
		"TLS": func() (int, arrayElem) {
			return len(ev.TLS), scratchElem(jsonFast.tls, appendTLSJSON,
				func(i int, sc *jsonScratch) TLSJSON { return tlsJSONIn(ev.TLS[i], sc) })
		},
		"TCP": func() (int, arrayElem) {
			return len(ev.TCP), scratchElem(jsonFast.tcp, appendTCPJSON,
				func(i int, sc *jsonScratch) TCPJSON { return tcpJSONIn(ev.TCP[i], sc) })
		},
		"Proxy": func() (int, arrayElem) {
			return len(ev.Proxy), appendedElem(jsonFast.tunnel, appendTunnelJSON, func(i int) TunnelJSON { return tunnelJSON(ev.Proxy[i]) })
		},
		"HTTP": func() (int, arrayElem) {
			return len(ev.HTTP), appendedElem(jsonFast.http, appendHTTPJSON, func(i int) HTTPJSON { return httpJSON(ev.HTTP[i]) })
		},
	}
}

func firstRef(x *decode.DNSExchange) capture.Ref {
	if !x.Query.IsZero() || len(x.Responses) == 0 {
		return x.Query
	}
	return x.Responses[0].At
}

func dnsJSON(x *decode.DNSExchange) DNSJSON { return dnsJSONIn(x, nil) }

// dnsJSONIn is dnsJSON with its strings and lists from sc, valid until
// sc's next begin; sc nil allocates them.
func dnsJSONIn(x *decode.DNSExchange, sc *jsonScratch) DNSJSON {
	at := firstRef(x)
	j := DNSJSON{
		Input: int(at.Input), Packet: int(at.Packet), Time: sc.timestamp(at.Time()),
		Client: sc.addrPort(x.Client), Server: sc.addrPort(x.Server), Transport: x.Transport.String(),
		ID: x.ID, Name: x.Name, Type: x.QuestionType(), Responses: sc.responses(len(x.Responses)), Malformed: x.Malformed(),
	}
	for _, r := range x.Retries() {
		j.Retries = append(j.Retries, int(r.Packet))
	}
	for _, r := range x.Responses {
		rj := DNSRespJSON{Packet: int(r.At.Packet), Time: sc.timestamp(r.At.Time()), RCode: decode.RcodeName(r.RCode),
			Truncated: r.Truncated, Answers: sc.records(len(r.Answers)), AnswersOmitted: r.AnswersOmitted(), IPTTL: r.IP.TTL, IPID: r.IP.ID, Malformed: r.Malformed()}
		for _, a := range r.Answers {
			data := a.Target
			if a.Addr.IsValid() {
				data = sc.format(a.AppendData)
			}
			rj.Answers = append(rj.Answers, RecordJSON{Name: a.Name, Type: decode.TypeName(a.Type), TTL: a.TTL, Data: data})
		}
		j.Responses = append(j.Responses, rj)
	}
	for _, e := range x.ICMP() {
		if j.ICMP == "" {
			j.ICMP = e.Kind
		}
		j.ICMPs = append(j.ICMPs, icmpJSON(e))
	}
	return j
}

func icmpJSON(e *decode.ICMPError) ICMPJSON {
	return ICMPJSON{Packet: int(e.At.Packet), Kind: e.Kind, From: e.From.String(),
		Quotes: e.Proto + " " + addrPort(e.Src) + " > " + addrPort(e.Dst)}
}

// helloRef is where a session is reported: its ClientHello, else its
// ServerHello, else its first alert.
func helloRef(s *decode.TLSSession) capture.Ref {
	switch {
	case s.ClientHello != nil:
		return s.ClientHelloAt
	case s.ServerHello != nil:
		return s.ServerHelloAt
	case len(s.Alerts) > 0:
		return s.Alerts[0].At
	}
	return capture.Ref{}
}

func tlsJSON(s *decode.TLSSession) TLSJSON { return tlsJSONIn(s, nil) }

// tlsJSONIn is tlsJSON with its strings and lists from sc, valid until
// sc's next begin; sc nil allocates them.
func tlsJSONIn(s *decode.TLSSession, sc *jsonScratch) TLSJSON {
	at := helloRef(s)
	j := TLSJSON{
		Input: int(at.Input), Packet: int(at.Packet), Time: sc.timestamp(at.Time()),
		Client: sc.addrPort(s.Client()), Server: sc.addrPort(s.Server()),
		ClientVersions: []string{}, ClientALPN: []string{},
		Certificates: []CertJSON{}, Alerts: sc.alertList(len(s.Alerts)),
		Notes: s.Notes(),
	}
	if s.Tunnel != nil {
		j.Tunnel = sc.cat(s.Tunnel.Kind, " ", s.Tunnel.Target)
	}
	if ch := s.ClientHello; ch != nil {
		j.SNI = ch.ServerName
		j.ClientVersions = sc.stringList(max(len(ch.SupportedVersions), 1))
		for _, v := range ch.SupportedVersions {
			if !tlswire.IsGREASE(v) {
				j.ClientVersions = append(j.ClientVersions, tlswire.VersionName(v))
			}
		}
		if len(ch.SupportedVersions) == 0 {
			j.ClientVersions = append(j.ClientVersions, tlswire.VersionName(ch.LegacyVersion))
		}
		j.ClientALPN = append(sc.stringList(len(ch.ALPN)), ch.ALPN...)
		for _, g := range ch.KeyShareGroups {
			if !tlswire.IsGREASE(g) {
				if j.ClientGroups == nil {
					j.ClientGroups = sc.stringList(len(ch.KeyShareGroups))
				}
				j.ClientGroups = append(j.ClientGroups, tlswire.GroupName(g))
			}
		}
		j.JA4 = sc.ja4(ch, 't')
		if len(ch.CertCompression) > 0 {
			j.ClientCertCompression = sc.stringList(len(ch.CertCompression))
			for _, a := range ch.CertCompression {
				j.ClientCertCompression = append(j.ClientCertCompression, tlswire.CertCompressionName(a))
			}
		}
	}
	if cc := s.CertCompression(); cc != nil {
		j.CertCompression = tlswire.CertCompressionName(cc.Algorithm)
	}
	j.HelloNotes, j.Errors = s.HelloNotes(), s.Errors()
	if sh := s.ServerHello; sh != nil {
		j.Version = tlswire.VersionName(sh.Version())
		j.Cipher = tlswire.CipherSuiteName(sh.CipherSuite)
		if sh.KeyShareGroup != 0 {
			j.KeyShare = tlswire.GroupName(sh.KeyShareGroup)
		}
	}
	j.ServerALPN = s.ServerALPN()
	j.Decrypted = s.Decrypted
	j.HelloRetry = s.HelloRetry() != nil
	if s.Certificates != nil {
		j.Certificates = sc.certificates(len(s.Certificates.Certificates))
		for i := range s.Certificates.Certificates {
			j.Certificates = append(j.Certificates, certJSONIn(&s.Certificates.Certificates[i], sc))
		}
	}
	for _, a := range s.Alerts {
		j.Alerts = append(j.Alerts, alertJSON(a))
	}
	return j
}

// certJSONIn is a certificate's JSON form, its strings and lists from sc.
func certJSONIn(c *tlswire.Certificate, sc *jsonScratch) CertJSON {
	sum := c.Fingerprint()
	j := CertJSON{SHA256: sc.hex(sum[:]), DNSNames: []string{}}
	if c.Err != nil {
		j.Error = c.Err.Error()
	}
	j.Subject, j.Issuer = c.Subject, c.Issuer
	if x := c.Info; x != nil {
		j.DNSNames = append(sc.stringList(len(x.DNSNames)), x.DNSNames...)
		j.NotBefore = sc.timestamp(x.NotBefore)
		j.NotAfter = sc.timestamp(x.NotAfter)
	}
	return j
}

func alertJSON(a tlswire.Alert) AlertJSON {
	from := "client"
	if a.From == tlswire.ServerToClient {
		from = "server"
	}
	level := "unknown"
	switch {
	case a.Fatal():
		level = "fatal"
	case a.Known():
		level = "warning"
	}
	return AlertJSON{Packet: int(a.At.Packet), From: from, Level: level, Description: a.Name(), Encrypted: a.Encrypted}
}

func tcpJSON(c *decode.TCPConn) TCPJSON { return tcpJSONIn(c, nil) }

// tcpJSONIn is tcpJSON with its strings from sc.
func tcpJSONIn(c *decode.TCPConn, sc *jsonScratch) TCPJSON {
	j := TCPJSON{
		Input: int(c.First.Input), Packet: int(c.First.Packet), Time: sc.timestamp(c.First.Time()),
		Client: sc.addrPort(c.Client), Server: sc.addrPort(c.Server), App: c.App.String(),
		SYNs: len(c.SYN()), SYNACK: int(c.SYNACK.Packet), ClientBytes: c.Payload[0], ServerBytes: c.Payload[1],
	}
	for _, r := range c.Resets() {
		who := "server"
		if r.FromClient {
			who = "client"
		}
		j.Resets = append(j.Resets, who+" "+r.At.String())
	}
	return j
}
