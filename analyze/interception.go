package analyze

import (
	"regexp"
	"strings"
	"sync"

	"github.com/modsniff/modsniff/decode/tlswire"
)

// interceptor is one TLS interception product, recognised by the names its
// CA gives itself. Pattern is matched, case-insensitively, against the
// issuer and subject of every certificate in the chain, each written as
// "CN=… O=… OU=…".
type interceptor struct {
	Product string
	Kind    string // "debugging proxy", "corporate gateway", "antivirus", "proxy client"
	Pattern *regexp.Regexp
	// Source says where the CA name comes from.
	Source string
	// Fix says how to stop it breaking the go command.
	Fix string
	// SHA256, when not zero, is the fingerprint of the product's CA: a
	// chain holding it is the product's (user entries only).
	SHA256 [32]byte
	// lit answers Pattern on ASCII names by substring search; nil when
	// the pattern is not made of literals.
	lit *litMatcher
}

func ic(product, kind, pattern, source, fix string) interceptor {
	re := regexp.MustCompile(`(?i)` + pattern)
	return interceptor{Product: product, Kind: kind, Pattern: re, Source: source, Fix: fix, lit: compileLit(re)}
}

// certName is a name of certNames, with its lower-case form when it is
// ASCII (then literal patterns answer without the regexp engine).
type certName struct {
	text  string
	lower string
	ascii bool
}

func newCertName(s string) certName {
	n := certName{text: s, ascii: isASCII(s)}
	if n.ascii {
		n.lower = strings.ToLower(s)
	}
	return n
}

// matches reports whether the product's pattern matches the name.
func (p *interceptor) matches(n *certName) bool {
	if p.lit != nil && n.ascii {
		return p.lit.matchLower(n.lower)
	}
	return p.Pattern.MatchString(n.text)
}

const (
	fixDebugProxy = "A debugging proxy is intercepting: unset HTTPS_PROXY/HTTP_PROXY (and the system proxy) for " +
		"the go command, or, if you mean to inspect its traffic, trust the proxy's CA only for that session: " +
		"SSL_CERT_FILE=/path/to/its-ca.pem go mod download."
	fixCorporate = "Your organisation inspects TLS. Either trust its CA for the go command — install it with " +
		"`sudo cp corp-ca.pem /usr/local/share/ca-certificates/corp-ca.crt && sudo update-ca-certificates`, or " +
		"point SSL_CERT_FILE at a bundle that contains it — or ask for proxy.golang.org, sum.golang.org and your " +
		"VCS hosts to be exempted from inspection. Pass the CA to modsniff with --trust to mark it accepted."
	fixAntivirus = "An antivirus or filtering product scans TLS on this machine: turn off its HTTPS/web scanning " +
		"for the go command (or exclude go.exe / the go binary), or trust its CA via SSL_CERT_FILE."
	fixProxyClient = "The proxy client's MITM feature re-signs this host: remove the host from its MITM host list " +
		"(or turn MITM off), or trust the client's CA via SSL_CERT_FILE."
)

// builtinInterceptors is the table of known interception products. Names
// are the ones the products write into the CAs they generate, as documented
// by the vendors and seen in the wild; each entry's Source says which. It
// is built on first use: compiling its patterns was most of the start-up
// time of a command that never judges a chain.
var builtinInterceptors = sync.OnceValue(func() []interceptor {
	return []interceptor{
		ic("mitmproxy", "debugging proxy", `\bO=mitmproxy\b|\bCN=mitmproxy\b`,
			"mitmproxy generates its CA as CN=mitmproxy, O=mitmproxy (mitmproxy docs, Certificates; seen with mitmdump 8.1 from Debian)", fixDebugProxy),
		ic("Charles Proxy", "debugging proxy", `Charles Proxy|XK72`,
			"Charles generates \"Charles Proxy CA (date, host)\", O=XK72 Ltd (charlesproxy.com, SSL Proxying)", fixDebugProxy),
		ic("Fiddler", "debugging proxy", `DO_NOT_TRUST_Fiddler|fiddler2\.com|Fiddler Root`,
			"Fiddler's root is CN=DO_NOT_TRUST_FiddlerRoot, O=DO_NOT_TRUST, OU=Created by http://www.fiddler2.com (Telerik docs)", fixDebugProxy),
		ic("Burp Suite", "debugging proxy", `PortSwigger`,
			"Burp's CA is CN=PortSwigger CA, O=PortSwigger (PortSwigger docs, Installing Burp's CA certificate)", fixDebugProxy),
		ic("Proxyman", "debugging proxy", `Proxyman`, "Proxyman's CA is named \"Proxyman CA (…)\" (proxyman.io docs)", fixDebugProxy),
		ic("HTTP Toolkit", "debugging proxy", `HTTP Toolkit`, "HTTP Toolkit's CA is CN=HTTP Toolkit CA (httptoolkit.com docs)", fixDebugProxy),
		ic("Zscaler", "corporate gateway", `Zscaler`,
			"Zscaler's chain is issued by \"Zscaler Root CA\" / \"Zscaler Intermediate Root CA\", O=Zscaler Inc. (Zscaler help, SSL inspection)", fixCorporate),
		ic("Fortinet FortiGate", "corporate gateway", `Forti(Gate|net)|Fortinet_CA`,
			"FortiGate deep inspection uses CN=FortiGate CA / Fortinet_CA_SSL, O=Fortinet (Fortinet docs, SSL/SSH inspection)", fixCorporate),
		ic("Netskope", "corporate gateway", `Netskope|goskope\.com`,
			"Netskope's CA is O=Netskope Inc., CN=ca.<tenant>.goskope.com (Netskope docs)", fixCorporate),
		ic("Cisco Umbrella", "corporate gateway", `Cisco Umbrella|OpenDNS`,
			"Umbrella's intelligent proxy uses \"Cisco Umbrella Root CA\" (Cisco Umbrella docs)", fixCorporate),
		ic("Palo Alto Networks", "corporate gateway", `Palo Alto Networks|PAN-OS`,
			"PAN-OS forward proxy decryption CAs carry O=Palo Alto Networks by default (PAN-OS docs)", fixCorporate),
		ic("Sophos", "corporate gateway", `Sophos`,
			"Sophos UTM/XG/Firewall and Sophos endpoint CAs carry Sophos in their names (Sophos docs)", fixCorporate),
		ic("Check Point", "corporate gateway", `Check ?Point`, "Check Point HTTPS Inspection CAs carry O=Check Point (Check Point docs)", fixCorporate),
		ic("Forcepoint", "corporate gateway", `Forcepoint|Websense`, "Forcepoint (formerly Websense) SSL inspection CAs (Forcepoint docs)", fixCorporate),
		ic("Cloudflare Gateway", "corporate gateway", `Cloudflare for Teams|Gateway CA - Cloudflare|Cloudflare Managed`,
			"Cloudflare Zero Trust's Gateway CA (\"Cloudflare for Teams ECC Certificate Authority\", \"Gateway CA - Cloudflare Managed\")", fixCorporate),
		ic("Blue Coat / Symantec ProxySG", "corporate gateway", `Blue ?Coat|ProxySG`, "ProxySG SSL interception CAs (Broadcom docs)", fixCorporate),
		ic("Barracuda", "corporate gateway", `Barracuda`, "Barracuda Web Security Gateway / CloudGen Firewall CAs", fixCorporate),
		ic("Kaspersky", "antivirus", `Kaspersky`,
			"\"Kaspersky Anti-Virus Personal Root Certificate\", O=AO Kaspersky Lab (Kaspersky support, encrypted connections scan)", fixAntivirus),
		ic("Avast / AVG", "antivirus", `Avast|\bAVG\b`,
			"\"Avast Web/Mail Shield Root\" / \"AVG Web/Mail Shield Root\" (Avast support, HTTPS scanning)", fixAntivirus),
		ic("ESET", "antivirus", `ESET`, "\"ESET SSL Filter CA\", O=ESET, spol. s r. o. (ESET knowledge base, SSL/TLS protocol filtering)", fixAntivirus),
		ic("Bitdefender", "antivirus", `Bitdefender`, "\"Bitdefender Personal CA.Net-Defender\", O=Bitdefender (Bitdefender support, encrypted web scan)", fixAntivirus),
		ic("Norton", "antivirus", `Norton|NortonLifeLock`, "\"Norton Web/Mail Shield Root\" (Norton support)", fixAntivirus),
		ic("AdGuard", "antivirus", `AdGuard`, "\"AdGuard Personal CA\" / \"AdGuard Personal Intermediate\" (AdGuard knowledge base, HTTPS filtering)", fixAntivirus),
		ic("Surge", "proxy client", `Surge Generated CA`, "Surge's MITM CA is \"Surge Generated CA <hex>\" (Surge manual, MITM)", fixProxyClient),
		ic("Stash", "proxy client", `Stash Generated CA|\bStash\b`, "Stash's MITM CA is \"Stash Generated CA …\" (Stash docs)", fixProxyClient),
		ic("Loon", "proxy client", `\bLoon\b`, "Loon's MITM CA carries Loon in its name (Loon manual)", fixProxyClient),
		ic("Quantumult X", "proxy client", `Quantumult`, "Quantumult X's MITM CA (\"QuantumultX CA …\")", fixProxyClient),
		ic("Shadowrocket", "proxy client", `Shadowrocket`, "Shadowrocket's MITM CA", fixProxyClient),
	}
})

// certNames writes a certificate's issuer and subject as "CN=… O=… OU=…"
// strings for matching.
func certNames(c *tlswire.CertInfo) [2]string {
	// Both are cut from one buffer: every certificate of every distinct
	// chain is named, and the parts and joins of each name were six
	// allocations.
	var buf [256]byte
	b := appendCertName(buf[:0], &c.Issuer)
	n := len(b)
	b = appendCertName(b, &c.Subject)
	all := string(b)
	return [2]string{all[:n], all[n:]}
}

// appendCertName appends a name as "CN=… O=… OU=…".
func appendCertName(b []byte, n *tlswire.Name) []byte {
	b = append(append(b, "CN="...), n.CommonName...)
	for _, v := range n.Organization {
		b = append(append(b, " O="...), v...)
	}
	for _, v := range n.OrganizationalUnit {
		b = append(append(b, " OU="...), v...)
	}
	return b
}

// identifyInterceptor returns the interception product whose CA issued or
// appears in the chain, or nil.
func identifyInterceptor(chain []*tlswire.CertData) *interceptor {
	return identifyIn(builtinInterceptors(), chain)
}

// identifyIn returns the product of table whose CA issued or appears in
// the chain, or nil.
func identifyIn(table []interceptor, chain []*tlswire.CertData) *interceptor {
	for i := range table {
		p := &table[i]
		for _, c := range chain {
			if p.SHA256 != ([32]byte{}) && c.Fingerprint() == p.SHA256 {
				return p
			}
			for _, n := range certNames(c.Info) {
				if cn := newCertName(n); p.matches(&cn) {
					return p
				}
			}
		}
	}
	return nil
}
