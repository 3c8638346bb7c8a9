package analyze

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/x509roots/fallback/bundle"

	"github.com/modsniff/modsniff/decode/tlswire"
)

// mozillaRoots is the embedded Mozilla (NSS) root set, parsed once, so that
// a verdict never depends on the analyst's machine.
var mozillaRoots = sync.OnceValue(func() *rootSet {
	rs := &rootSet{pool: x509.NewCertPool(), subjects: make(map[string]bool)}
	for r := range bundle.Roots() {
		c, err := x509.ParseCertificate(r.Certificate)
		if err != nil {
			continue
		}
		if r.Constraint != nil {
			rs.pool.AddCertWithConstraint(c, r.Constraint)
		} else {
			rs.pool.AddCert(c)
		}
		rs.certs = append(rs.certs, c)
		rs.subjects[string(c.RawSubject)] = true
	}
	return rs
})

// rootSet is a pool and the certificates in it (a CertPool does not list
// them), used to recognise chains that name a public CA.
type rootSet struct {
	pool  *x509.CertPool
	certs []*x509.Certificate
	// subjects holds the raw subjects of certs when they are exactly the
	// pool's certificates (the embedded bundle), nil otherwise.
	subjects map[string]bool

	bySubjectOnce sync.Once
	bySubjectMap  map[string][]*x509.Certificate
}

// unreachable reports whether no certificate of chain is, or names as its
// issuer, a root of the set: then no path can end at a root, because
// crypto/x509 looks parents up by the raw issuer name (RFC 5280 §6.1), and
// verification fails without checking a signature. Only answered for a
// set that knows its subjects.
func (rs *rootSet) unreachable(chain []*tlswire.CertData) bool {
	if rs.subjects == nil {
		return false
	}
	for _, c := range chain {
		issuer, subject := c.RawNames()
		if rs.subjects[string(issuer)] || rs.subjects[string(subject)] {
			return false
		}
	}
	return true
}

// chainVerdict is the judgement on one certificate chain.
type chainVerdict struct {
	// Trusted: the chain leads to a root of the trust store.
	Trusted bool
	// TrustedByUser: the chain leads to a CA given with --trust.
	TrustedByUser bool
	// Unsupported is set when crypto/x509 refused the chain for a
	// signature algorithm it does not support (ErrUnsupportedAlgorithm);
	// its other reasons are not kept (a dense capture has thousands of
	// distinct foreign chains).
	Unsupported bool
	// Class is "interception", "impersonation", "self-signed",
	// "incomplete" or "private" for an untrusted chain.
	Class   string
	Product *interceptor
	// Claimed is the public CA an impersonating chain names.
	Claimed string
	// TopIssuer names the issuer at the top of the chain as sent.
	TopIssuer string
}

// trustStore verifies chains against the embedded Mozilla roots (or the
// system store with --system-roots) and the user's --trust CAs, once per
// distinct chain.
type trustStore struct {
	// mu guards cache, not the judging: verify takes it to look up and
	// to store a verdict.
	mu    sync.Mutex
	roots *rootSet
	user  *x509.CertPool
	err   error
	// cache holds the verdicts by the hash of the chain's fingerprints.
	cache map[[32]byte]*chainVerdict

	// products is the user's interceptor table, tried before the
	// built-in one.
	products []interceptor
	// builtin caches the built-in table's answer per certificate (an
	// intermediate is shared by many distinct chains): the index in
	// interceptors, -1 for none. builtinMu guards it.
	builtinMu sync.Mutex
	builtin   map[*tlswire.CertData]int

	// parsed keeps the certificates parsed for verification (see
	// x509Of), guarded by parsedMu: validAt runs outside mu.
	parsedMu sync.Mutex
	parsed   map[*tlswire.CertData]*x509.Certificate
}

// maxParsed bounds trustStore.parsed. A chain's intermediates and the
// chains verified again at each session's time are found there; when it
// is full it starts again, so that the parsed certificates a capture with
// thousands of distinct leaves verifies do not stay for the analysis.
const maxParsed = 256

// x509Of returns c parsed by crypto/x509 (c.Info is set: it parsed once
// already), nil in the impossible case that it does not parse again.
func (ts *trustStore) x509Of(c *tlswire.CertData) *x509.Certificate {
	ts.parsedMu.Lock()
	x, ok := ts.parsed[c]
	ts.parsedMu.Unlock()
	if ok {
		return x
	}
	x, err := c.X509() // outside the lock: chains are judged on every core
	if err != nil {
		return nil
	}
	ts.parsedMu.Lock()
	defer ts.parsedMu.Unlock()
	if ts.parsed == nil || len(ts.parsed) >= maxParsed {
		ts.parsed = make(map[*tlswire.CertData]*x509.Certificate)
	}
	ts.parsed[c] = x
	return x
}

// x509Chain returns the chain parsed by crypto/x509, nil if a certificate
// does not parse.
func (ts *trustStore) x509Chain(chain []*tlswire.CertData) []*x509.Certificate {
	out := make([]*x509.Certificate, len(chain))
	for i, c := range chain {
		if out[i] = ts.x509Of(c); out[i] == nil {
			return nil
		}
	}
	return out
}

func newTrustStore(opt Options) *trustStore {
	ts := &trustStore{roots: mozillaRoots(), cache: make(map[[32]byte]*chainVerdict), products: userTable(opt.Interceptors)}
	if opt.SystemRoots {
		pool, err := x509.SystemCertPool()
		if err != nil {
			ts.err = fmt.Errorf("the system certificate store: %w", err)
		} else {
			ts.roots = &rootSet{pool: pool, certs: mozillaRoots().certs}
		}
	}
	if len(opt.Trust) > 0 {
		ts.user = x509.NewCertPool()
		for _, c := range opt.Trust {
			ts.user.AddCert(c)
		}
	}
	return ts
}

// trust returns the context's trust store, built on first use.
func (ctx *Context) trust() *trustStore {
	ctx.tsOnce.Do(func() { ctx.ts = newTrustStore(ctx.Opt) })
	return ctx.ts
}

// parsedChain returns the parsed certificates of a Certificate message,
// skipping those crypto/x509 rejected; nil when the leaf itself was
// rejected (tls-go-policy judges it), so that no check mistakes an
// intermediate for the leaf. Every certificate of the result has Info.
func parsedChain(m *tlswire.CertificateMsg) []*tlswire.CertData {
	return appendParsedChain(nil, m)
}

// appendParsedChain appends parsedChain(m) to dst, allocating at most
// once: every check lists the chain of every session.
func appendParsedChain(dst []*tlswire.CertData, m *tlswire.CertificateMsg) []*tlswire.CertData {
	if m == nil || len(m.Certificates) == 0 || m.Certificates[0].Info == nil {
		return dst
	}
	n := 0
	for i := range m.Certificates {
		if m.Certificates[i].Info != nil {
			n++
		}
	}
	dst = slices.Grow(dst, n)
	for i := range m.Certificates {
		if c := m.Certificates[i].CertData; c.Info != nil {
			dst = append(dst, c)
		}
	}
	return dst
}

// validityTime picks a moment at which every certificate of the chain is
// within its validity, so that trust is judged apart from expiry (which
// tls-expired judges at the packet's time).
func validityTime(chain []*tlswire.CertData) time.Time {
	var lo, hi time.Time
	for i, c := range chain {
		if i == 0 || c.Info.NotBefore.After(lo) {
			lo = c.Info.NotBefore
		}
		if i == 0 || c.Info.NotAfter.Before(hi) {
			hi = c.Info.NotAfter
		}
	}
	if lo.After(hi) {
		return chain[0].Info.NotBefore.Add(time.Second)
	}
	return lo.Add(time.Second)
}

// verify judges a chain (leaf first, as sent). The verdict does not depend
// on time (validityTime), so one judgement serves every chain of the same
// certificates, found by the hash of their fingerprints, which the decoder
// computed already.
func (ts *trustStore) verify(chain []*tlswire.CertData) *chainVerdict {
	if len(chain) == 0 {
		return nil
	}
	var buf [8 * sha256.Size]byte
	sums := buf[:0]
	for _, c := range chain {
		sum := c.Fingerprint()
		sums = append(sums, sum[:]...)
	}
	key := sha256.Sum256(sums)
	ts.mu.Lock()
	v, ok := ts.cache[key]
	ts.mu.Unlock()
	if ok {
		return v
	}
	// Judged outside the lock, so that chains are judged on every core
	// (buildChains); two goroutines judging the same certificates at once
	// reach the same verdict, and the first one stored is the one kept.
	v = ts.judge(chain)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if first, ok := ts.cache[key]; ok {
		return first
	}
	ts.cache[key] = v
	return v
}

func (ts *trustStore) judge(chain []*tlswire.CertData) *chainVerdict {
	// The chain is parsed, and the intermediates' pool built, only for a
	// chain that gets to Verify: hashing every certificate into a pool
	// was most of the cost of judging a foreign chain.
	opts := x509.VerifyOptions{
		Roots:       ts.roots.pool,
		CurrentTime: validityTime(chain),
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	var parsed []*x509.Certificate
	verify := func() error {
		if parsed == nil {
			if parsed = ts.x509Chain(chain); parsed == nil {
				return errors.New("a certificate no longer parses")
			}
			opts.Intermediates = intermediates(parsed)
		}
		_, err := parsed[0].Verify(opts)
		return err
	}
	v := &chainVerdict{TopIssuer: displayName(&chain[len(chain)-1].Info.Issuer)}
	if !ts.roots.unreachable(chain) {
		// An unreachable chain is what Verify would refuse as
		// x509.UnknownAuthorityError, without its signature checks.
		err := verify()
		if err == nil {
			v.Trusted = true
			return v
		}
		v.Unsupported = errors.Is(err, x509.ErrUnsupportedAlgorithm)
	}
	if ts.user != nil {
		opts.Roots = ts.user
		if verify() == nil {
			v.TrustedByUser = true
		}
	}
	product := identifyIn(ts.products, chain)
	if product == nil {
		product = ts.interceptorOf(chain)
	}
	if product != nil {
		v.Class, v.Product = "interception", product
		return v
	}
	if claimed := ts.impersonated(chain); claimed != "" {
		v.Class, v.Claimed = "impersonation", claimed
		return v
	}
	switch {
	case len(chain) == 1 && chain[0].Info.SelfIssued:
		v.Class = "self-signed"
	case publicIssuerName(&chain[len(chain)-1].Info.Issuer) != "":
		v.Class, v.Claimed = "unknown-public", publicIssuerName(&chain[len(chain)-1].Info.Issuer)
	default:
		v.Class = "private"
	}
	return v
}

// interceptorOf is identifyInterceptor (the built-in table) with its answer
// for each certificate cached: the product with the lowest index that matches any
// certificate of the chain.
func (ts *trustStore) interceptorOf(chain []*tlswire.CertData) *interceptor {
	best := -1
	for _, c := range chain {
		ts.builtinMu.Lock()
		i, ok := ts.builtin[c]
		ts.builtinMu.Unlock()
		if !ok {
			i = interceptorIndex(c)
			ts.builtinMu.Lock()
			if ts.builtin == nil {
				ts.builtin = make(map[*tlswire.CertData]int)
			}
			ts.builtin[c] = i
			ts.builtinMu.Unlock()
		}
		if i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	return &builtinInterceptors()[best]
}

// anyInterceptor matches what at least one pattern of interceptors
// matches: one pass over a name instead of one per product, for the common
// case of a certificate no product made.
var anyInterceptor = sync.OnceValue(func() *regexp.Regexp {
	var alts []string
	table := builtinInterceptors()
	for i := range table {
		if table[i].Pattern != nil {
			alts = append(alts, "(?:"+table[i].Pattern.String()+")")
		}
	}
	return regexp.MustCompile(strings.Join(alts, "|"))
})

// interceptorIndex is the index of the first product of interceptors whose
// pattern matches the certificate's issuer or subject, -1 for none.
func interceptorIndex(c *tlswire.CertData) int {
	texts := certNames(c.Info)
	names := [2]certName{newCertName(texts[0]), newCertName(texts[1])}
	// Some pattern matches one of the names: ASCII names are answered
	// by substring search, others need the one-pass regexp first.
	named := true
	for i := range names {
		if !names[i].ascii {
			named = anyInterceptor().MatchString(texts[0]) || anyInterceptor().MatchString(texts[1])
			break
		}
	}
	var sum [32]byte
	summed := false
	table := builtinInterceptors()
	for i := range table {
		p := &table[i]
		if p.SHA256 != ([32]byte{}) {
			if !summed {
				sum, summed = c.Fingerprint(), true
			}
			if sum == p.SHA256 {
				return i
			}
		}
		if !named || p.Pattern == nil {
			continue
		}
		for j := range names {
			if p.matches(&names[j]) {
				return i
			}
		}
	}
	return -1
}

// impersonated returns the public CA a chain names but is not signed by: a
// certificate whose issuer is exactly the subject of a public root, yet
// whose signature that root's key does not verify.
func (ts *trustStore) impersonated(chain []*tlswire.CertData) string {
	bySubject := mozillaRoots().bySubject()
	forged := func(c *tlswire.CertData, r *x509.Certificate) bool {
		x := ts.x509Of(c)
		return x == nil || x.CheckSignatureFrom(r) != nil
	}
	for _, c := range chain {
		issuer, subject := c.RawNames()
		for _, r := range bySubject[string(issuer)] {
			if forged(c, r) {
				return pkixDisplayName(r.Subject)
			}
		}
		// A certificate that copies a public root's subject as its own.
		for _, r := range bySubject[string(subject)] {
			if !bytes.Equal(c.Raw, r.Raw) && forged(c, r) {
				return pkixDisplayName(r.Subject)
			}
		}
	}
	return ""
}

// bySubject returns the set's certificates by raw subject, each list in
// the set's order, built on first use.
func (rs *rootSet) bySubject() map[string][]*x509.Certificate {
	rs.bySubjectOnce.Do(func() {
		rs.bySubjectMap = make(map[string][]*x509.Certificate, len(rs.certs))
		for _, r := range rs.certs {
			rs.bySubjectMap[string(r.RawSubject)] = append(rs.bySubjectMap[string(r.RawSubject)], r)
		}
	})
	return rs.bySubjectMap
}

// publicCAOrgs are organisations that run, or ran, public web CAs: a chain
// that ends at one of their names without reaching a trusted root was cut
// short by the server (a missing intermediate) or ends at a root that has
// since left the root store — not at a private CA.
var publicCAOrgs = []string{
	"Let's Encrypt", "Google Trust Services", "DigiCert", "Sectigo", "GlobalSign", "Amazon",
	"Microsoft Corporation", "Entrust", "GoDaddy", "Go Daddy", "Starfield", "IdenTrust", "ISRG", "Cloudflare",
	"COMODO", "ZeroSSL", "Buypass", "Certum", "SSL.com", "Actalis", "HARICA", "QuoVadis", "GEANT",
	"Equifax", "GeoTrust", "VeriSign", "thawte", "AddTrust", "USERTRUST", "Baltimore", "Cybertrust",
	"Symantec", "RapidSSL", "Network Solutions", "VISA", "StartCom", "SwissSign", "Trustwave", "SecureTrust",
	"AffirmTrust", "Deutsche Telekom", "T-Systems", "Telia", "SECOM", "TWCA", "Chunghwa", "Izenpe",
	"Hongkong Post", "NetLock", "Microsec", "Camerfirma", "WoSign", "Certinomis", "TrustCor", "Apple",
}

// publicCAOrgsLower is publicCAOrgs lower-cased.
var publicCAOrgsLower = sync.OnceValue(func() []string {
	out := make([]string, len(publicCAOrgs))
	for i, p := range publicCAOrgs {
		out[i] = strings.ToLower(p)
	}
	return out
})

// publicIssuerName names an issuer when its organisation runs or ran a
// public CA.
func publicIssuerName(issuer *tlswire.Name) string {
	for _, o := range issuer.Organization {
		lo := strings.ToLower(o)
		for _, p := range publicCAOrgsLower() {
			if strings.Contains(lo, p) {
				return displayName(issuer)
			}
		}
	}
	return ""
}

// displayName shortens a distinguished name to "CN (O)" for sentences.
func displayName(n *tlswire.Name) string {
	name, org := displayParts(n)
	if org == "" {
		return name
	}
	return name + " (" + org + ")"
}

// appendDisplayName appends displayName(n) to b.
func appendDisplayName(b []byte, n *tlswire.Name) []byte {
	name, org := displayParts(n)
	b = append(b, name...)
	if org != "" {
		b = append(append(append(b, " ("...), org...), ')')
	}
	return b
}

// displayParts returns the name displayName words and, when it adds one in
// parentheses, the organization.
func displayParts(n *tlswire.Name) (name, org string) {
	var o string
	if len(n.Organization) > 0 {
		o = n.Organization[0]
	}
	switch {
	case n.CommonName != "" && o != "" && n.CommonName != o:
		return n.CommonName, o
	case n.CommonName != "":
		return n.CommonName, ""
	case o != "":
		return o, ""
	}
	return n.Full, ""
}

// pkixDisplayName is displayName for a name crypto/x509 parsed: a root's.
func pkixDisplayName(n pkix.Name) string {
	m := tlswire.NameOf(n)
	return displayName(&m)
}

// DescribeChain judges a chain (leaf first, each certificate parsed, as
// by tlswire.NewCertData) the way tls-foreign-issuer does, for reports on
// certificates outside a session's verdict: "trusted", or who issued it
// and what that means.
func DescribeChain(chain []*tlswire.CertData, opt Options) string {
	if len(chain) == 0 {
		return "no certificate"
	}
	if slices.ContainsFunc(chain, func(c *tlswire.CertData) bool { return c.Info == nil }) {
		return "not judged: crypto/x509 cannot parse a certificate of the chain"
	}
	v := newTrustStore(opt).verify(chain)
	switch {
	case v.Trusted:
		return "leads to a public root (Mozilla's root store)"
	case v.TrustedByUser:
		return "leads to a CA given with --trust"
	case v.Class == "interception":
		return fmt.Sprintf("issued by %s, the CA of %s (%s): TLS interception", v.TopIssuer, v.Product.Product, v.Product.Kind)
	case v.Class == "impersonation":
		return fmt.Sprintf("names %s but is not signed by it: forged to look public", v.Claimed)
	case v.Class == "self-signed":
		return "self-signed"
	case v.Class == "unknown-public":
		return fmt.Sprintf("ends at %s, which is not in Mozilla's root store", v.Claimed)
	}
	return fmt.Sprintf("issued by %s, a private or corporate CA", v.TopIssuer)
}
