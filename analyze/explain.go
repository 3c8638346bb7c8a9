package analyze

import (
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Explanation classifies one error message of the go command.
type Explanation struct {
	// Match is the part of the text that was recognised.
	Match string `json:"match"`
	// Layer is "dns", "tcp", "proxy", "tls", "http", "sumdb" or "vcs".
	Layer string `json:"layer"`
	// Meaning says in one sentence what the message means.
	Meaning string `json:"meaning"`
	// Causes lists the usual causes, most likely first.
	Causes []string `json:"causes"`
	// Checks are the modsniff check IDs that would show it in a capture:
	// those whose GoErrors this family recognises.
	Checks []string `json:"checks"`
	// Next says what to capture or run next.
	Next string `json:"next"`
	// Host is the host named in the message, when there is one.
	Host string `json:"host,omitempty"`
}

// errorPattern recognises one family of go command errors. Patterns are
// tried in order; the first match of each family is reported.
type errorPattern struct {
	re     *regexp.Regexp
	host   int // submatch index of the host, 0 for none
	layer  string
	mean   string
	causes []string
	next   string
}

const captureNext = "Record the failing command with modsniff: `sudo modsniff capture -- go mod download` (or run it with " +
	"`tcpdump -i any -w fail.pcapng` and `modsniff analyze fail.pcapng`)."

// errorPatterns are the messages net, crypto/tls, net/http and cmd/go
// print, with what they mean for a module download.
var errorPatterns = sync.OnceValue(func() []errorPattern {
	return []errorPattern{
		{re: regexp.MustCompile(`lookup (\S+?)(?: on (\S+))?: read (?:udp|tcp) \S+->\S+: (?:read: )?connection refused`), host: 1, layer: "dns",
			mean: "the resolver in /etc/resolv.conf refused the query at the transport level: nothing listens on its port 53",
			causes: []string{"the local stub resolver is not running (127.0.0.53: systemd-resolved; 127.0.0.1: dnsmasq, unbound, a VPN or proxy client such as Clash)",
				"a container copied /etc/resolv.conf from a host that runs systemd-resolved", "a firewall rejects DNS"},
			next: "Check `cat /etc/resolv.conf` and `resolvectl status`; `dig @<nameserver> proxy.golang.org` reproduces it. " + captureNext},
		{re: regexp.MustCompile(`lookup (\S+?)(?: on (\S+))?: [^\n]*`), host: 1, layer: "dns"},
		{re: regexp.MustCompile(`proxyconnect tcp: [^\n]*`), layer: "proxy",
			mean:   "the go command could not talk to the proxy in HTTPS_PROXY/HTTP_PROXY",
			causes: []string{"the proxy is not running or the address is wrong", "HTTPS_PROXY uses https:// for a proxy that speaks plain HTTP (or the reverse)", "the proxy needs credentials"},
			next:   "Check `go env` and `env | grep -i proxy`; " + captureNext},
		{re: regexp.MustCompile(`dial tcp (?:\S+): (?:connect: )?(?:i/o timeout|connection timed out)`), layer: "tcp",
			mean: "the TCP connection to the module proxy (or proxy server) was never answered",
			causes: []string{"a firewall drops the traffic", "the address comes from a wrong DNS answer (bogon, fake-IP, forged)",
				"broken IPv6 while IPv4 would work", "a proxy is required to reach the internet (HTTPS_PROXY unset)"},
			next: captureNext},
		{re: regexp.MustCompile(`dial tcp (?:\S+): (?:connect: )?connection refused`), layer: "tcp",
			mean:   "the server actively refused the TCP connection",
			causes: []string{"a local proxy or mirror named in GOPROXY/HTTPS_PROXY is not running", "the DNS answer points at this machine (127.0.0.1/0.0.0.0 from a blocker)", "a firewall rejects it"},
			next:   captureNext},
		{re: regexp.MustCompile(`(?i)Proxy Authentication Required|\b407\b`), layer: "proxy",
			mean:   "the proxy wants credentials (HTTP 407)",
			causes: []string{"HTTPS_PROXY has no user:password, or wrong ones (special characters must be percent-encoded)", "the proxy wants NTLM/Kerberos, which the go command cannot do (use cntlm or px locally)"},
			next:   captureNext},
		{re: regexp.MustCompile(`x509: negative serial number`), layer: "tls",
			mean:   "the server's certificate has a negative serial number, which Go 1.23 and later refuse to parse (RFC 5280 §4.1.2.2 requires a positive one)",
			causes: []string{"an old or home-made CA (appliances, some internal PKIs and interceptors) issued it"},
			next: "Reissue the certificate with a positive serial. Stop-gap only: `GODEBUG=x509negativeserial=1 go mod download`. " +
				"`modsniff certs CAPTURE` shows the certificate."},
		{re: regexp.MustCompile(`(?:x509: cannot verify signature: )?insecure algorithm ([A-Z0-9]+-[A-Z0-9]+)`), layer: "tls",
			mean:   "a certificate in the chain is signed with SHA-1 or MD5, which crypto/x509 no longer accepts (SHA-1 since Go 1.18; no switch remains)",
			causes: []string{"an old internal CA or appliance certificate", "an interceptor that re-signs with SHA-1"},
			next:   "Reissue the certificate (and its intermediate) with SHA-256. " + captureNext},
		{re: regexp.MustCompile(`x509: certificate relies on legacy Common Name field, use SANs instead`), layer: "tls",
			mean:   "the server's certificate names the host only in its Common Name; Go (since 1.17) requires a subjectAltName",
			causes: []string{"an old self-made or internal certificate (openssl req without -addext subjectAltName)", "an appliance's default certificate"},
			next:   "Reissue the certificate with `subjectAltName = DNS:<host>`; no GODEBUG switch re-enables Common Name matching."},
		{re: regexp.MustCompile(`x509: certificate signed by unknown authority(?: \(possibly because of "[^"]*" while trying to verify candidate authority certificate "([^"]*)"\))?`), layer: "tls",
			mean: "the server's certificate chain does not lead to a CA the go command trusts",
			causes: []string{"TLS interception: a corporate gateway (Zscaler, FortiGate, Netskope …), a debugging proxy (mitmproxy, Charles, Fiddler, Burp) or antivirus re-signs the connection",
				"an internal GOPROXY with a private CA that is not in the system store (install it, or point SSL_CERT_FILE at it)", "an outdated ca-certificates package"},
			next: "TLS 1.3 hides the certificate: run `modsniff probe` to see who issued it, or `openssl s_client -connect proxy.golang.org:443 -servername proxy.golang.org -showcerts`."},
		{re: regexp.MustCompile(`x509: certificate is valid for ([^\n]*?), not (\S+)`), host: 2, layer: "tls",
			mean:   "the certificate presented does not cover the host name the go command asked for",
			causes: []string{"a wrong DNS answer or /etc/hosts entry sent the connection to another server", "a captive portal or proxy answered", "GOPROXY names a host the server's certificate does not cover"},
			next:   captureNext},
		{re: regexp.MustCompile(`x509: certificate has expired or is not yet valid(?:: current time (\S+) is (?:after|before) (\S+))?`), layer: "tls",
			mean:   "a certificate in the chain is outside its validity",
			causes: []string{"the client's clock is wrong (check `timedatectl`)", "the server, or an interceptor, serves an expired certificate"},
			next:   "Compare `date -u` with the current time; " + captureNext},
		{re: regexp.MustCompile(`tls: server selected unsupported protocol version ([0-9a-fx]+)`), layer: "tls",
			mean:   "the server chose TLS 1.0 or 1.1, which Go clients no longer offer (Go 1.18+ require TLS 1.2)",
			causes: []string{"an old server, load balancer or appliance limited to TLS 1.0/1.1", "an interceptor with an old TLS stack"},
			next:   "Enable TLS 1.2 or 1.3 on the server. Stop-gap only: `GODEBUG=tls10server=1 go mod download`. " + captureNext},
		{re: regexp.MustCompile(`remote error: tls: handshake failure`), layer: "tls",
			mean: "the server found nothing it accepts in the go command's ClientHello",
			causes: []string{"a server restricted to RSA key exchange (TLS_RSA_WITH_…), dropped from Go 1.22's defaults (stop-gap GODEBUG=tlsrsakex=1)",
				"a server restricted to 3DES (stop-gap GODEBUG=tls3des=1)", "an interceptor or old server with an incompatible TLS stack"},
			next: "See which suites the server takes: `openssl s_client -connect HOST:443 -cipher AES128-GCM-SHA256 -tls1_2`. " +
				captureNext},
		{re: regexp.MustCompile(`remote error: tls: ([a-z ]+)`), layer: "tls",
			mean:   "the server (or something in front of it) sent a fatal TLS alert",
			causes: []string{"bad certificate / unknown certificate authority: the server rejected a client certificate or the go command's handshake", "handshake failure / protocol version: an interceptor or old server with an incompatible TLS stack"},
			next:   captureNext},
		{re: regexp.MustCompile(`tls: first record does not look like a TLS handshake`), layer: "proxy",
			mean:   "the peer answered TLS with something else, usually plain HTTP",
			causes: []string{"HTTPS_PROXY=https://… points at a proxy that speaks plain HTTP (use http://)", "a captive portal or transparent proxy answered port 443 with HTTP"},
			next:   captureNext},
		{re: regexp.MustCompile(`net/http: TLS handshake timeout`), layer: "tcp",
			mean:   "the TCP connection opened but the TLS handshake never completed",
			causes: []string{"a middlebox drops the ~1.5 KB post-quantum ClientHello (try GODEBUG=tlsmlkem=0)", "a path-MTU black hole: full-size packets (the server's certificates) never arrive (VPN, Docker over VPN)", "an overloaded proxy", "SNI filtering that silently drops"},
			next:   "Retry with `GODEBUG=tlsmlkem=0 go mod download`; " + captureNext},
		{re: regexp.MustCompile(`(?:read: )?connection reset by peer|wsarecv: An existing connection was forcibly closed`), layer: "tcp",
			mean:   "the connection was reset",
			causes: []string{"SNI-based filtering injects a reset right after the ClientHello", "a middlebox resets the download half-way (injected, or a size limit)", "a proxy, NAT or firewall idle timeout"},
			next:   captureNext},
		{re: regexp.MustCompile(`http2: (?:server sent GOAWAY and closed the connection; LastStreamID=\d+, ErrCode=|Transport received GOAWAY from server ErrCode:)([A-Z_]+)`), layer: "http",
			mean: "the HTTP/2 server ended the connection with an error code",
			causes: []string{"INADEQUATE_SECURITY: the TLS session was negotiated with a cipher or version HTTP/2 forbids — an interceptor between the go command and the server chose it",
				"PROTOCOL_ERROR: a proxy that mangles HTTP/2"},
			next: "Run `modsniff probe` (it keeps TLS keys, so HTTP/2 frames become readable)."},
		{re: regexp.MustCompile(`stream error: stream ID (\d+); ([A-Z_]+)`), layer: "http",
			mean: "the HTTP/2 server (or a CDN or proxy in front of it) reset the request's stream with an error code",
			causes: []string{"INTERNAL_ERROR: the server or its CDN failed mid-response", "REFUSED_STREAM: the server did not process the request (overload); safe to retry",
				"a TLS-inspecting proxy whose HTTP/2 is broken"},
			next: "Retry; run `modsniff probe` (TLS keys make the HTTP/2 frames readable). Stop-gap: `GODEBUG=http2client=0` uses HTTP/1.1."},
		{re: regexp.MustCompile(`unexpected EOF`), layer: "http",
			mean: "the connection ended in the middle of a response",
			causes: []string{"a proxy, antivirus or gateway cut the download short (size or time limit, inspection failure)",
				"an HTTP/2 stream ended by the connection closing without END_STREAM", "a proxy closed a CONNECT request without answering (Go 1.26)",
				"an idle timeout or reset on the path", "a response shorter than its Content-Length"},
			next: "Retry once; if it recurs at the same point, " + captureNext},
		{re: regexp.MustCompile(`zip: not a valid zip file`), layer: "http",
			mean:   "the downloaded .zip is not a zip: an HTML page, a block page, or a cut-short download was saved instead",
			causes: []string{"a web filter, captive portal or login page answered the module request", "the connection closed mid-download", "GOPROXY names a web UI instead of the repository's API"},
			next:   "`go clean -modcache` removes the bad file; " + captureNext},
		{re: regexp.MustCompile(`invalid character '<' looking for beginning of value`), layer: "http",
			mean:   "a JSON answer (.info, @latest) was HTML instead",
			causes: []string{"a block page, captive portal or SSO login answered", "GOPROXY names a web UI (Artifactory, Nexus) instead of its Go API path"},
			next:   "`curl -si $(go env GOPROXY | cut -d, -f1)/rsc.io/quote/@v/list` shows what answers; " + captureNext},
		{re: regexp.MustCompile(`malformed HTTP response "([^"]{0,64})`), layer: "http",
			mean: "an HTTP/1.1 request was answered with something that is not HTTP/1.1; a response starting `\x00\x00` is HTTP/2 frames",
			causes: []string{"a server or proxy that speaks only HTTP/2 (or h2c) without ALPN, answering an HTTP/1.1 client (GODEBUG=http2client=0, or an http:// GOPROXY)",
				"a transparent proxy or portal answering with another protocol"},
			next: captureNext},
		{re: regexp.MustCompile(`(https?://(\S+?)/lookup/\S+): (404 Not Found|410 Gone)`), host: 2, layer: "sumdb",
			mean: "the checksum database does not know this module version: it could not fetch it, as for every private module",
			causes: []string{"a private module checked against sum.golang.org: list it in GOPRIVATE (implies GONOSUMDB) — `go env -w GOPRIVATE=host/*`",
				"a version that was never published, or a typo"},
			next: "Check `go env GOPRIVATE GONOSUMDB GOSUMDB`."},
		{re: regexp.MustCompile(`(?:reading |fetching )?(https?://\S+): (404 Not Found|410 Gone)`), layer: "http",
			mean: "the module proxy does not have this module or version",
			causes: []string{"a private module sent to a public proxy: set GOPRIVATE (or GONOPROXY) so it is fetched directly",
				"GOPROXY entries joined with `|` or ending without `,direct`: the go command falls through to the next entry only after `,` on 404/410 (after `|` on any error)",
				"a typo in the module path or version"},
			next: "Check `go env GOPROXY GOPRIVATE GONOPROXY`."},
		{re: regexp.MustCompile(`(?:reading |fetching )?(https?://\S+): (\d{3} [^\n]*)`), layer: "http",
			mean:   "the module proxy answered with an HTTP error",
			causes: []string{"401/403: credentials missing (~/.netrc or GOAUTH) or a policy block", "5xx: the proxy or an interceptor failed"},
			next:   captureNext},
		{re: regexp.MustCompile(`terminal prompts disabled`), layer: "vcs",
			mean: "git needed credentials for a repository (a private one, or a path that does not exist) and the go command forbids prompting",
			causes: []string{"a private module fetched through the public proxy or without credentials: set GOPRIVATE, and give git credentials (~/.netrc, a credential helper)",
				"`git config --global url.\"git@github.com:\".insteadOf \"https://github.com/\"` to use SSH keys instead", "a typo in the module path"},
			next: "Run `GIT_TERMINAL_PROMPT=1 go mod download -x` to see the git command; check `go env GOPRIVATE`."},
		{re: regexp.MustCompile(`ssh: connect to host (\S+) port 22: ([^\n]*)`), host: 1, layer: "vcs",
			mean:   "git over SSH could not reach the version-control host's port 22",
			causes: []string{"a firewall blocks outgoing SSH (common in offices and CI)", "a wrong host in a `url.insteadOf` rule"},
			next: "Use HTTPS instead (`git config --global --unset url.git@github.com:.insteadOf`, a ~/.netrc token), or SSH over 443 " +
				"(`GIT_SSH_COMMAND='ssh -p 443'` with ssh.github.com). " + captureNext},
		{re: regexp.MustCompile(`verifying (?:module: )?\S+: checksum mismatch|SECURITY ERROR`), layer: "sumdb",
			mean: "the downloaded module's hash differs from the checksum database (or go.sum)",
			causes: []string{"a proxy or cache in the path serves altered content", "a private module is being checked against sum.golang.org (set GONOSUMDB/GOPRIVATE)",
				"a corrupted module cache (`go clean -modcache`)"},
			next: "Do not bypass it blindly: find out who served the module. " + captureNext},
		{re: regexp.MustCompile(`server gave HTTP response to HTTPS client`), layer: "proxy",
			mean:   "an HTTPS connection was answered with plain HTTP",
			causes: []string{"GOPROXY uses https:// for a server that only speaks http (or GOINSECURE is needed)", "HTTPS_PROXY=https:// for an http proxy"},
			next:   "Check the scheme in GOPROXY and HTTPS_PROXY."},
		{re: regexp.MustCompile(`socks connect tcp \S+: EOF`), layer: "proxy",
			mean:   "the SOCKS5 proxy closed the connection during the negotiation, without a reply",
			causes: []string{"ALL_PROXY/HTTPS_PROXY says socks5:// for a port that is not a SOCKS5 server", "the proxy rejects this client (source address, authentication) without saying so"},
			next:   "Check the scheme and port of the proxy URL; " + captureNext},
		{re: regexp.MustCompile(`dial tcp (?:\S+): (?:connect: )?(cannot assign requested address|network is unreachable)`), layer: "tcp",
			mean: "the machine could not even send the SYN: it has no usable source address or route for that address family",
			causes: []string{"an IPv6 address was resolved (AAAA answered) but this machine has no IPv6 route or only a link-local address (containers, VPNs)",
				"a NAT64/DNS64 network without the NAT64, or a disconnected VPN route"},
			next: "Check `ip -6 route` and `ip -6 addr`; an IPv4-only test (`curl -4`) tells the families apart. " + captureNext},
	}
})

// dnsKind names the ending of a generic lookup error: "timeout",
// "misbehaving", "nxdomain" or "" for any other.
func dnsKind(text string) string {
	switch {
	case strings.Contains(text, "i/o timeout"):
		return "timeout"
	case strings.Contains(text, "cannot unmarshal DNS message"):
		return "unparseable"
	case strings.Contains(text, "server misbehaving"):
		return "misbehaving"
	case strings.Contains(text, "no such host"):
		return "nxdomain"
	}
	return ""
}

// dnsDetail refines the generic lookup pattern by its ending.
func dnsDetail(text string) (mean string, causes []string, next string) {
	switch dnsKind(text) {
	case "timeout":
		return "the resolver did not answer in time",
			[]string{"the resolver is down or unreachable (firewall dropping UDP 53, VPN)", "it drops AAAA queries, so every lookup waits for the timeout", "forged answers confuse it"},
			captureNext
	case "unparseable":
		return "the resolver's response could not be parsed by the go resolver",
			[]string{"a broken resolver or middlebox mangles the answer section", "a truncated or oversized response (EDNS buffer size problems)"},
			"Try `dig proxy.golang.org` and compare; " + captureNext
	case "misbehaving":
		return "the resolver answered SERVFAIL (or another error) instead of addresses",
			[]string{"its upstream is unreachable", "DNSSEC validation failed (a wrong clock breaks it too)", "it refuses this client (REFUSED)"},
			"Try `dig proxy.golang.org` and `dig +cd proxy.golang.org`; " + captureNext
	case "nxdomain":
		return "the resolver said the name does not exist (NXDOMAIN), or no address came back",
			[]string{"DNS filtering blocks the module proxy", "a search domain (`search` + `ndots`) turned it into another name", "a typo in GOPROXY", "/etc/hosts or nsswitch configuration"},
			"Check `getent hosts proxy.golang.org` and `dig proxy.golang.org`; " + captureNext
	}
	return "the host name could not be resolved",
		[]string{"the resolver is missing, slow or filtered"}, captureNext
}

// errorFamily identifies a family of go errors: a pattern's index and, for
// the generic lookup pattern, the ending (dnsKind).
type errorFamily struct {
	pattern int
	dns     string
}

// familyOf returns the family that recognises text first, as Explain
// would classify it on its own.
func familyOf(text string) (errorFamily, bool) {
	for i, p := range errorPatterns() {
		if m := p.re.FindString(text); m != "" {
			f := errorFamily{pattern: i}
			if p.layer == "dns" && p.mean == "" {
				f.dns = dnsKind(m)
			}
			return f, true
		}
	}
	return errorFamily{}, false
}

// familyChecks maps each family to the checks whose GoErrors it
// recognises, in cause order (the Suite's): what to look for first.
var familyChecks = sync.OnceValue(func() map[errorFamily][]string {
	out := make(map[errorFamily][]string)
	for _, c := range suite() {
		for _, text := range c.GoErrors {
			if f, ok := familyOf(text); ok && !slices.Contains(out[f], c.ID) {
				out[f] = append(out[f], c.ID)
			}
		}
	}
	return out
})

// Explain classifies every recognised go command error in text, in the
// order the families are listed (most specific first), at most one per
// family.
func Explain(text string) []Explanation {
	var out []Explanation
	covered := make([][2]int, 0)
	overlaps := func(loc []int) bool {
		for _, c := range covered {
			if loc[0] < c[1] && c[0] < loc[1] {
				return true
			}
		}
		return false
	}
	for i, p := range errorPatterns() {
		loc := p.re.FindStringSubmatchIndex(text)
		if loc == nil || overlaps(loc[:2]) {
			continue
		}
		covered = append(covered, [2]int{loc[0], loc[1]})
		e := Explanation{Match: text[loc[0]:loc[1]], Layer: p.layer, Meaning: p.mean, Causes: p.causes, Next: p.next}
		fam := errorFamily{pattern: i}
		if p.host > 0 && 2*p.host+1 < len(loc) && loc[2*p.host] >= 0 {
			e.Host = text[loc[2*p.host]:loc[2*p.host+1]]
		}
		if p.layer == "dns" && p.mean == "" {
			e.Meaning, e.Causes, e.Next = dnsDetail(e.Match)
			fam.dns = dnsKind(e.Match)
		}
		e.Checks = familyChecks()[fam]
		if e.Host == "" {
			e.Host = urlHostBefore(text, loc[1])
		}
		out = append(out, e)
	}
	return out
}

// urlHostBefore finds the host of the last URL before position end (the
// match's end, so a URL inside the match counts): the go command prints
// `Get "https://proxy.golang.org/…": <error>`.
var urlHost = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`https?://([A-Za-z0-9.-]+)`) })

func urlHostBefore(text string, end int) string {
	m := urlHost().FindAllStringSubmatch(text[:end], -1)
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1][1]
}
