package tlswire

import (
	"encoding/binary"
	"unsafe"
)

// Interner makes the parsed hellos of many connections share their lists:
// the clients of one capture send the same cipher suites, extensions,
// groups, signature algorithms and ALPN names thousands of times, and a
// session keeps its hello until the analysis ends. The shared slices are
// read-only. An Interner holds at most a bounded number of distinct values,
// after which new ones are kept as parsed; it is not safe for concurrent
// use (each decoder has its own).
type Interner struct {
	lists    map[string][]uint16
	strs     map[string]string
	shares   map[string][]KeyShare
	names    map[string][]string
	profiles map[string]*HelloProfile
	servers  map[string]*ServerHello
	key      []byte
	scratch  helloScratch
	sh       ServerHello // the ServerHello being parsed
	shExts   []uint16    // the array of its extension types
	maxKeys  int
}

// NewInterner returns an Interner that holds at most max distinct values
// of each kind.
func NewInterner(max int) *Interner {
	return &Interner{lists: make(map[string][]uint16), strs: make(map[string]string),
		shares: make(map[string][]KeyShare), names: make(map[string][]string),
		profiles: make(map[string]*HelloProfile), servers: make(map[string]*ServerHello), maxKeys: max}
}

// list returns the shared copy of l.
func (in *Interner) list(l []uint16) []uint16 {
	if len(l) == 0 {
		return l
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&l[0])), 2*len(l))
	if v, ok := in.lists[string(b)]; ok {
		return v
	}
	if len(in.lists) < in.maxKeys {
		in.lists[string(b)] = l
	}
	return l
}

// str returns the shared copy of s.
func (in *Interner) str(s string) string {
	if v, ok := in.strs[s]; ok {
		return v
	}
	if len(in.strs) < in.maxKeys {
		in.strs[s] = s
	}
	return s
}

// keyShares returns the shared copy of l.
func (in *Interner) keyShares(l []KeyShare) []KeyShare {
	if len(l) == 0 || len(l) > 16 {
		return l
	}
	var k [16 * 4]byte
	n := 0
	for _, s := range l {
		k[n], k[n+1], k[n+2], k[n+3] = byte(s.Group>>8), byte(s.Group), byte(s.Length>>8), byte(s.Length)
		if s.Length > 0xffff {
			return l
		}
		n += 4
	}
	if v, ok := in.shares[string(k[:n])]; ok {
		return v
	}
	if len(in.shares) < in.maxKeys {
		in.shares[string(k[:n])] = l
	}
	return l
}

// nameList returns the shared copy of the list of names l.
func (in *Interner) nameList(l []string) []string {
	if len(l) == 0 {
		return l
	}
	var k []byte
	for _, s := range l {
		k = append(k, s...)
		k = append(k, 0)
	}
	if v, ok := in.names[string(k)]; ok {
		return v
	}
	for i, s := range l {
		l[i] = in.str(s)
	}
	if len(in.names) < in.maxKeys {
		in.names[string(k)] = l
	}
	return l
}

// nullCompression is the compression_methods vector of every hello since
// TLS 1.2: one null method.
var nullCompression = []uint8{0}

// maxProfileKey bounds the encoded profile an Interner keeps as a key: a
// real client's is a few hundred bytes, a hostile hello's up to 64 KiB.
const maxProfileKey = 1 << 10

// Hello gives ch the profile an earlier hello that offered the same
// already has, or else replaces the profile's lists and names by shared
// copies and keeps it for the next hellos; nil in does nothing.
func (in *Interner) Hello(ch *ClientHello) {
	if in == nil || ch == nil || ch.HelloProfile == nil {
		return
	}
	ch.ServerName = in.str(ch.ServerName)
	k, keyed := in.profileKey(ch.HelloProfile)
	if keyed {
		if shared, ok := in.profiles[string(k)]; ok {
			ch.HelloProfile = shared
			return
		}
	}
	ch.CipherSuites = in.list(ch.CipherSuites)
	ch.Extensions = in.list(ch.Extensions)
	ch.SupportedVersions = in.list(ch.SupportedVersions)
	ch.SupportedGroups = in.list(ch.SupportedGroups)
	ch.KeyShareGroups = in.list(ch.KeyShareGroups)
	ch.SignatureAlgorithms = in.list(ch.SignatureAlgorithms)
	ch.SignatureAlgorithmsCert = in.list(ch.SignatureAlgorithmsCert)
	ch.CertCompression = in.list(ch.CertCompression)
	ch.KeyShares = in.keyShares(ch.KeyShares)
	ch.ALPN = in.nameList(ch.ALPN)
	if len(ch.CompressionMethods) == 1 && ch.CompressionMethods[0] == 0 {
		ch.CompressionMethods = nullCompression
	}
	if keyed && len(in.profiles) < in.maxKeys {
		in.profiles[string(k)] = ch.HelloProfile
	}
}

// ParseClientHello parses body like the package's ParseClientHello and
// gives the hello its shared profile like Hello; when an earlier hello
// offered the same, parsing allocates little more than the ClientHello
// itself. A nil in parses alone.
func (in *Interner) ParseClientHello(body []byte) (*ClientHello, error) {
	if in == nil {
		return ParseClientHello(body)
	}
	ch, err := parseClientHello(body, &in.scratch)
	if ch == nil {
		return nil, err
	}
	in.scratch.keep(ch.HelloProfile)
	if k, keyed := in.profileKey(ch.HelloProfile); keyed {
		if shared, ok := in.profiles[string(k)]; ok {
			ch.HelloProfile = shared
			ch.ServerName = in.str(ch.ServerName)
			return ch, err
		}
	}
	ch.HelloProfile = ch.HelloProfile.clone() // nothing may keep the scratch's arrays
	in.Hello(ch)
	return ch, err
}

// profileKey encodes p as a key of Interner.profiles, in a buffer reused
// by the next call; keyed is false when it is longer than maxProfileKey.
func (in *Interner) profileKey(p *HelloProfile) (key []byte, keyed bool) {
	k := in.key[:0]
	u16 := func(l []uint16) {
		k = binary.BigEndian.AppendUint32(k, uint32(len(l)))
		for _, v := range l {
			k = binary.BigEndian.AppendUint16(k, v)
		}
	}
	bytes := func(l []uint8) {
		k = binary.BigEndian.AppendUint32(k, uint32(len(l)))
		k = append(k, l...)
	}
	flag := func(b bool) {
		if b {
			k = append(k, 1)
		} else {
			k = append(k, 0)
		}
	}
	u16(p.CipherSuites)
	bytes(p.CompressionMethods)
	u16(p.Extensions)
	k = binary.BigEndian.AppendUint32(k, uint32(len(p.ALPN)))
	for _, a := range p.ALPN {
		k = binary.BigEndian.AppendUint32(k, uint32(len(a)))
		k = append(k, a...)
	}
	k = binary.BigEndian.AppendUint64(k, uint64(p.ALPNOmitted))
	u16(p.SupportedVersions)
	u16(p.SupportedGroups)
	k = binary.BigEndian.AppendUint32(k, uint32(len(p.KeyShares)))
	for _, s := range p.KeyShares {
		k = binary.BigEndian.AppendUint16(k, s.Group)
		k = binary.BigEndian.AppendUint64(k, uint64(s.Length))
	}
	u16(p.KeyShareGroups)
	u16(p.SignatureAlgorithms)
	u16(p.SignatureAlgorithmsCert)
	bytes(p.ECPointFormats)
	bytes(p.PSKModes)
	flag(p.EarlyData)
	flag(p.PreSharedKey)
	u16(p.CertCompression)
	flag(p.HasECH)
	flag(p.SSLv2)
	k = binary.BigEndian.AppendUint32(k, uint32(len(p.SSLv2CipherSpecs)))
	for _, v := range p.SSLv2CipherSpecs {
		k = binary.BigEndian.AppendUint32(k, v)
	}
	in.key = k[:0]
	return k, len(k) <= maxProfileKey
}

// ServerHello returns the ServerHello an earlier server answered with the
// same content, or else sh, kept for the next ones; nil in returns sh. A
// server answers every client of one configuration alike apart from its
// Random and the echoed session ID: these are dropped (zero and nil) from
// the value returned, since nothing reads them once the keys are derived
// (see Conn), and so sessions share one ServerHello. Hellos with notes are
// kept as parsed, with their lists and names shared.
func (in *Interner) ServerHello(sh *ServerHello) *ServerHello {
	if in == nil || sh == nil {
		return sh
	}
	sh.ALPN = in.str(sh.ALPN)
	sh.Extensions = in.list(sh.Extensions)
	if len(sh.Notes) > 0 || len(sh.Extensions) > maxProfileKey/2 {
		return sh
	}
	k := in.serverKey(sh)
	if shared, ok := in.servers[string(k)]; ok {
		return shared
	}
	sh.Random, sh.SessionID = [32]byte{}, nil
	if len(in.servers) < in.maxKeys {
		in.servers[string(k)] = sh
	}
	return sh
}

// ParseServerHello parses body like the package's ParseServerHello and
// returns the shared ServerHello of the same content, without Random and
// SessionID, like ServerHello: when an earlier server answered alike,
// parsing allocates nothing. A ServerHello with notes or a parse error is
// the caller's own, as ParseServerHello returns it. A nil in parses alone.
func (in *Interner) ParseServerHello(body []byte) (*ServerHello, error) {
	if in == nil {
		return ParseServerHello(body)
	}
	if in.shExts == nil {
		in.shExts = make([]uint16, 0, 16)
	}
	sh := &in.sh
	err := parseServerHello(body, sh, in.shExts[:0])
	if cap(sh.Extensions) > cap(in.shExts) {
		in.shExts = sh.Extensions[:0]
	}
	if sh.Length < 0 {
		return nil, err
	}
	shareable := err == nil && len(sh.Notes) == 0 && len(sh.Extensions) <= maxProfileKey/2
	if shareable {
		if shared, ok := in.servers[string(in.serverKey(sh))]; ok {
			return shared, nil
		}
	}
	own := *sh // nothing may keep the scratch's array, nor body
	own.Extensions = cloneList(sh.Extensions)
	own.SessionID = cloneList(sh.SessionID)
	if !shareable {
		own.ALPN = in.str(own.ALPN)
		own.Extensions = in.list(own.Extensions)
		return &own, err
	}
	return in.ServerHello(&own), nil
}

// serverKey encodes what a shared ServerHello holds, in a buffer reused by
// the next call.
func (in *Interner) serverKey(sh *ServerHello) []byte {
	k := in.key[:0]
	k = binary.BigEndian.AppendUint16(k, sh.LegacyVersion)
	k = binary.BigEndian.AppendUint16(k, sh.CipherSuite)
	k = append(k, sh.CompressionMethod)
	k = binary.BigEndian.AppendUint16(k, sh.SupportedVersion)
	k = binary.BigEndian.AppendUint16(k, sh.KeyShareGroup)
	k = binary.BigEndian.AppendUint16(k, sh.DowngradeSentinel)
	if sh.IsHelloRetryRequest {
		k = append(k, 1)
	} else {
		k = append(k, 0)
	}
	k = binary.BigEndian.AppendUint32(k, uint32(sh.KeyShareLength))
	k = binary.BigEndian.AppendUint32(k, uint32(sh.Length))
	k = binary.BigEndian.AppendUint32(k, uint32(len(sh.Extensions)))
	for _, e := range sh.Extensions {
		k = binary.BigEndian.AppendUint16(k, e)
	}
	k = append(k, sh.ALPN...)
	in.key = k[:0]
	return k
}
