// Package benchgen writes large, realistic, deterministic pcapng captures for
// measuring modsniff's speed and memory: mostly bulk TLS (long-lived
// connections carrying 16 KiB application_data records in full-size
// segments, acknowledged every second segment), interleaved with DNS over
// UDP (A and AAAA, CNAME chains), TLS 1.2 and 1.3 handshakes with real
// certificate chains (made with crypto/x509 and an in-memory crypto/tls
// handshake, then replayed on many connections), HTTP CONNECT tunnels,
// out-of-order and retransmitted segments, and noise (ARP, ICMP echo, NTP,
// SSDP, QUIC-like UDP).
//
// The number of connections does not grow with the size: a bigger capture
// has longer downloads, so that the memory of two sizes can be compared.
// Generation streams (constant memory) and is fast: packet headers are
// templates patched per segment, payloads are slices of precomputed
// records.
package benchgen

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"github.com/modsniff/modsniff/capture"
)

// Options configures Generate. Zero fields take their defaults.
type Options struct {
	// Size is the size of the capture in bytes; generation stops at the
	// first packet that reaches it. Required.
	Size int64
	// Conns is the number of TCP connections (default 3000). It does not
	// scale with Size.
	Conns int
	// Handshakes is the number of distinct TLS handshakes (default 240).
	Handshakes int
	// Seed selects the capture (default 1); the same options give the same
	// bytes.
	Seed uint64
	// Start is the time of the first packet (default 2025-06-02 09:00 UTC).
	Start time.Time
	// Mix is the kind of traffic (default MixDefault).
	Mix Mix
}

// Stats says what a generated capture holds.
type Stats struct {
	Bytes       int64 // size of the file
	Packets     int64
	Conns       int // TCP connections whose SYN was written
	TLS         int // of which sent a ClientHello
	Proxied     int // of which sent an HTTP CONNECT request
	Handshakes  int // distinct TLS handshakes
	DNSQueries  int
	OutOfOrder  int // segments sent ahead of their predecessor
	Retransmits int
	Noise       int   // packets of other protocols
	TLS12       int   // TLS connections whose client offered TLS 1.2 at most
	Sites       int   // distinct sites with a certificate chain in clear
	DNSTCP      int   // DNS queries over TCP
	NXDomain    int   // DNS queries answered NXDOMAIN
	Forged      int   // DNS responses forged ahead of the real one
	BulkBytes   int64 // TCP payload bytes of downloads
}

const (
	defaultConns      = 3000
	defaultHandshakes = 240
	livePool          = 48 // connections in progress at once
	maxFrame          = 1600
	// bulkShare is (a little less than) the part of the bytes of a download
	// that are TLS records (the rest: pcapng, Ethernet, IP and TCP headers,
	// ACKs, noise), and connOverhead the bytes a connection takes besides
	// its download (DNS, TCP handshake, TLS handshake, request, close).
	// They size the downloads so that every connection has started before
	// the file reaches its size; the last livePool connections download
	// until it does, so the count of connections is exactly Conns.
	bulkShare    = 0.86
	connOverhead = 8200
)

// material is what is made once per seed and replayed.
type material struct {
	hs     []*handshake
	dns    map[string]*dnsTemplates
	random []byte         // seeded bytes for payloads
	cyc    map[int][]byte // record streams by body length, see bulkSource
}

var (
	matMu    sync.Mutex
	matCache = map[[2]uint64]*material{}
)

// prepare returns the material of a seed, made once per process.
func prepare(seed uint64, handshakes int) (*material, error) {
	matMu.Lock()
	defer matMu.Unlock()
	k := [2]uint64{seed, uint64(handshakes)}
	if m := matCache[k]; m != nil {
		return m, nil
	}
	m, err := makeMaterial(seed, handshakes)
	if err != nil {
		return nil, err
	}
	matCache[k] = m
	return m, nil
}

func makeMaterial(seed uint64, handshakes int) (*material, error) {
	leaves, err := makeChains(seed)
	if err != nil {
		return nil, err
	}
	hs, err := makeHandshakes(seed, handshakes, leaves)
	if err != nil {
		return nil, err
	}
	d, err := makeDNS()
	if err != nil {
		return nil, err
	}
	m := &material{hs: hs, dns: d, cyc: map[int][]byte{}}
	m.random = make([]byte, 64<<10)
	rand.NewChaCha8(seedBytes(seed, "payload")).Read(m.random)
	for _, h := range hs {
		if m.cyc[h.recBody] == nil {
			m.cyc[h.recBody] = recordCycle(h.recBody, m.random)
		}
	}
	return m, nil
}

// recordCycle returns the byte stream of back-to-back application_data
// records of body length n, one period (5+n bytes) plus maxFrame more, so
// that any segment of the stream is one slice of it.
func recordCycle(n int, random []byte) []byte {
	period := 5 + n
	b := make([]byte, period+maxFrame)
	for i := 0; i < len(b); i += period {
		rec := b[i:min(i+period, len(b))]
		hdr := [5]byte{23, 3, 3, byte(n >> 8), byte(n)}
		c := copy(rec, hdr[:])
		copy(rec[c:], random[:n])
	}
	return b
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Generate writes a capture of opt.Size bytes to w and says what it holds.
func Generate(w io.Writer, opt Options) (Stats, error) {
	if opt.Size <= 0 {
		return Stats{}, errors.New("benchgen: size must be positive")
	}
	p, err := paramsFor(opt.Mix)
	if err != nil {
		return Stats{}, fmt.Errorf("benchgen: %w", err)
	}
	if opt.Conns <= 0 {
		opt.Conns = defaultConns
		if p.connsPerGiB > 0 {
			opt.Conns = max(int(opt.Size*int64(p.connsPerGiB)>>30), 2*livePool)
		}
	}
	if opt.Handshakes <= 0 {
		opt.Handshakes = defaultHandshakes
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	if opt.Start.IsZero() {
		opt.Start = certTime.Add(36 * time.Hour)
	}
	m, err := prepare(opt.Seed, opt.Handshakes)
	if err != nil {
		return Stats{}, fmt.Errorf("benchgen: %w", err)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := &countingWriter{w: bw}
	pw, err := capture.NewWriter(cw, capture.Section{
		UserAppl: "modsniff benchgen",
		Comments: []string{fmt.Sprintf("benchgen seed %d, mix %s, %d connections, %d distinct TLS handshakes", opt.Seed, mixName(opt.Mix), opt.Conns, opt.Handshakes)},
	})
	if err != nil {
		return Stats{}, err
	}
	if _, err := pw.AddInterface(capture.Interface{LinkType: layers.LinkTypeEthernet, SnapLen: 262144, Name: "eth0"}); err != nil {
		return Stats{}, err
	}
	g := newGen(opt, m, pw, cw)
	g.p = p
	if p.connsPerGiB > 0 {
		g.setupSites()
		if g.err != nil {
			return Stats{}, fmt.Errorf("benchgen: %w", g.err)
		}
	}
	g.sizeBulk()
	g.run()
	if g.err == nil {
		g.err = bw.Flush()
	}
	g.stats.Bytes = cw.n
	g.stats.Handshakes = len(m.hs)
	return g.stats, g.err
}

// gen is the state of one generation.
type gen struct {
	opt   Options
	p     mixParams
	m     *material
	sites []site
	hs12  []*handshake // TLS 1.2 handshakes (the sites' chains are spliced in)
	hs13  []*handshake
	site  int // next site of a TLS 1.2 connection
	r     *rand.Rand
	w     *capture.Writer
	cw    *countingWriter
	err   error
	stats Stats

	now     int64 // capture time, ns since the epoch
	buf     [2][maxFrame]byte
	noiseIn int // packets until the next noise

	router, proxy host
	clients       []*clientHost
	live          []*conn
	next          int     // connections started
	meanBulk      float64 // bytes of records per download, on average
}

// clientHost is a build machine on the captured LAN.
type clientHost struct {
	host
	port uint16 // next ephemeral port
}

func newGen(opt Options, m *material, w *capture.Writer, cw *countingWriter) *gen {
	g := &gen{
		opt:    opt,
		m:      m,
		r:      rand.New(rand.NewPCG(opt.Seed, 0x62656e6368)),
		w:      w,
		cw:     cw,
		now:    opt.Start.UnixNano(),
		router: host{mac: mac{0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x01}, v4: netip.MustParseAddr("10.0.0.1")},
		proxy:  host{mac: mac{0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0xfe}, v4: netip.MustParseAddr("10.0.0.254")},
	}
	for i := range 24 {
		c := &clientHost{host: host{
			mac: mac{0x02, 0x42, 0x0a, 0x00, 0x01, byte(10 + i)},
			v4:  netip.AddrFrom4([4]byte{10, 0, 1, byte(10 + i)}),
		}}
		if i%4 == 0 { // a quarter of the machines are dual-stack
			c.v6 = netip.AddrFrom16([16]byte{0x2a, 0x01, 0x04, 0xf8, 0x0c, 0x17, 0x1a, 0x2b, 15: byte(10 + i)})
		}
		c.port = uint16(32768 + g.r.IntN(20000))
		g.clients = append(g.clients, c)
	}
	g.noiseIn = 50
	return g
}

// sizeBulk sizes the downloads so that every connection starts before the
// file reaches its size.
func (g *gen) sizeBulk() {
	floor := float64(g.opt.Size) / 5
	if g.p.connsPerGiB > 0 {
		floor = float64(g.opt.Size) / 10
	}
	bulk := max(float64(g.opt.Size)-float64(g.opt.Conns)*g.p.overhead, floor)
	g.meanBulk = bulk * bulkShare / float64(g.opt.Conns)
}

// setupSites makes the sites of a dense mix: one per TLS 1.2 connection.
func (g *gen) setupSites() {
	for _, h := range g.m.hs {
		if h.version == 0x0303 {
			g.hs12 = append(g.hs12, h)
		} else {
			g.hs13 = append(g.hs13, h)
		}
	}
	if len(g.hs12) == 0 || len(g.hs13) == 0 {
		g.err = errors.New("the handshakes need both TLS 1.2 and TLS 1.3")
		return
	}
	n := max(g.opt.Conns*g.p.tls12Share/100, 1)
	g.sites, g.err = makeSites(g.opt.Seed, n)
	g.stats.Sites = n
}

func mixName(m Mix) Mix {
	if m == "" {
		return MixDefault
	}
	return m
}

// run writes packets until the file reaches its size.
func (g *gen) run() {
	for g.cw.n < g.opt.Size && g.err == nil {
		for len(g.live) < livePool && g.next < g.opt.Conns {
			g.live = append(g.live, g.newConn())
		}
		if len(g.live) == 0 { // every connection ended early: start more
			g.live = append(g.live, g.newConn())
		}
		if g.noiseIn <= 0 {
			g.noise()
			g.noiseIn = 40 + g.r.IntN(120)
		}
		i := g.r.IntN(len(g.live))
		if g.live[i].step(g) {
			g.live[i] = g.live[len(g.live)-1]
			g.live = g.live[:len(g.live)-1]
		}
	}
}

// emit writes one frame and advances the clock by its time on a 1 Gbit/s
// link plus a little jitter. Once the file has its size, frames are
// dropped: the capture ends in the middle of whatever was going on.
func (g *gen) emit(frame []byte) {
	if g.err != nil || g.cw.n >= g.opt.Size {
		return
	}
	g.err = g.w.WritePacket(0, time.Unix(0, g.now), frame, len(frame))
	g.stats.Packets++
	g.noiseIn--
	g.now += int64(len(frame)+24)*8 + int64(g.r.IntN(400))
}

// pause advances the clock by d plus up to as much again (a round trip,
// a server's think time).
func (g *gen) pause(d time.Duration) {
	g.now += int64(d) + g.r.Int64N(int64(d)+1)
}

// tsNow is the millisecond clock of TCP timestamps.
func (g *gen) tsNow() uint32 { return uint32(g.now / 1e6) }

// Connection phases.
const (
	phDNSQuery = iota
	phDNSResponse
	phSYN
	phSYNACK
	phData
	phClose
)

// conn is one TCP connection in progress.
type conn struct {
	client   *clientHost
	server   host // beyond the router, or the proxy
	cAddr    netip.AddrPort
	sAddr    netip.AddrPort
	half     [2]tcpHalf
	isn      [2]uint32
	nxt      [2]uint32 // next sequence number of each direction
	lastTS   [2]uint32 // last timestamp each side sent (the other echoes it)
	mss      int       // payload bytes of a full segment
	synMSS   int
	ts       bool
	phase    int
	dnsAAAA  bool
	dnsID    [2]uint16
	dnsPort  [2]uint16
	resolver host
	name     string
	flights  []cflight
	fi       int   // current flight
	foff     int64 // bytes of it sent
	unacked  int   // full segments not acknowledged yet
	rst      bool  // ends with a RST from the client
	proxied  bool  // the first flight is a CONNECT request
	hello    int   // index of the ClientHello's flight; -1 for none
	dns      [2]dnsPair
	dnsOnly  bool // a lookup and nothing else
	nx       bool // the lookup gets NXDOMAIN
	dnsTCP   bool // a DNS exchange over TCP
}

// cflight is one flight of a connection: fixed bytes, or a bulk transfer.
type cflight struct {
	dir  int
	data []byte
	bulk *bulkSource
}

func (f *cflight) size() int64 {
	if f.bulk != nil {
		return f.bulk.total
	}
	return int64(len(f.data))
}

func (f *cflight) fill(dst []byte, off int64) {
	if f.bulk != nil {
		f.bulk.fill(dst, off)
		return
	}
	copy(dst, f.data[off:])
}

// bulkSource is a download: full application_data records back to back,
// then a shorter last record. Its bytes are slices of a shared record
// cycle; nothing is copied per connection.
type bulkSource struct {
	cyc    []byte
	period int64
	full   int64 // bytes of the full records
	tail   []byte
	total  int64
}

func (b *bulkSource) fill(dst []byte, off int64) {
	for len(dst) > 0 {
		if off < b.full {
			o := off % b.period
			n := copy(dst[:min(int64(len(dst)), b.full-off)], b.cyc[o:])
			dst = dst[n:]
			off += int64(n)
			continue
		}
		n := copy(dst, b.tail[off-b.full:])
		dst = dst[n:]
		off += int64(n)
	}
}

// record returns one record of content type typ whose body is n seeded
// bytes.
func (g *gen) record(typ uint8, n int) []byte {
	b := make([]byte, 5+n)
	b[0], b[1], b[2] = typ, 3, 3
	binary.BigEndian.PutUint16(b[3:], uint16(n))
	o := g.r.IntN(len(g.m.random) - n)
	copy(b[5:], g.m.random[o:o+n])
	return b
}

// newConn plans the next connection (and, in the dense mixes, the DNS
// lookups that come with it, which join the live pool on their own).
func (g *gen) newConn() *conn {
	g.next++
	r := g.r
	c := &conn{client: g.clients[r.IntN(len(g.clients))], hello: -1}
	var hs *handshake
	var st *site // a site of the dense mixes, nil for a Go host
	var dh *dnsHost
	tls12 := false
	if g.p.connsPerGiB == 0 {
		hs = g.m.hs[r.IntN(len(g.m.hs))]
	} else {
		tls12 = r.IntN(100) < g.p.tls12Share
		switch {
		case tls12:
			hs = g.hs12[r.IntN(len(g.hs12))]
			st = &g.sites[g.site%len(g.sites)]
			g.site++
			g.stats.TLS12++
		case r.IntN(100) < g.p.sitesShare:
			hs = g.hs13[r.IntN(len(g.hs13))]
			st = &g.sites[r.IntN(len(g.sites))]
		default:
			hs = g.hs13[r.IntN(len(g.hs13))]
		}
		g.extraLookups()
	}
	c.name = hs.host
	if st != nil {
		c.name = st.name
		dh = &dnsHost{name: st.name, v4: []netip.Addr{st.v4}}
	} else {
		dh = findDNSHost(hs.host)
	}
	proxied := r.IntN(1000) < g.p.proxyPerMil
	useV6 := !proxied && c.client.v6.IsValid() && len(dh.v6) > 0 && r.IntN(100) < 40
	var src, dst netip.Addr
	switch {
	case proxied:
		c.server = g.proxy
		src, dst = c.client.v4, g.proxy.v4
	case useV6:
		c.server = host{mac: g.router.mac, v6: dh.v6[r.IntN(len(dh.v6))]}
		src, dst = c.client.v6, c.server.v6
	default:
		c.server = host{mac: g.router.mac, v4: dh.v4[r.IntN(len(dh.v4))]}
		src, dst = c.client.v4, c.server.v4
	}
	dport := uint16(443)
	if proxied {
		dport = 3128
	}
	g.setupTCP(c, src, dst, dport, proxied, useV6)

	if !proxied && r.IntN(100) < 75 {
		c.phase = phDNSQuery
		c.dnsAAAA = c.client.v6.IsValid() || r.IntN(2) == 0
		c.resolver = g.router
		if r.IntN(10) == 0 {
			c.resolver = host{mac: g.router.mac, v4: netip.MustParseAddr("8.8.8.8")}
		}
		if st != nil {
			c.dns[0], g.err = sitePair(st.name, dns.TypeA, st.v4, false)
			if g.err == nil {
				c.dns[1], g.err = sitePair(st.name, dns.TypeAAAA, netip.Addr{}, false)
			}
		} else {
			t := g.m.dns[hs.host]
			c.dns = [2]dnsPair{t.a, t.aaaa}
		}
	}

	// The flights: the proxy's CONNECT exchange, the handshake, the
	// request, the download, the client's close_notify.
	if proxied {
		c.proxied = true
		req := fmt.Sprintf("CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\nUser-Agent: Go-http-client/1.1\r\n\r\n", c.name, c.name)
		c.flights = append(c.flights, cflight{dir: 0, data: []byte(req)})
		if r.IntN(100) < 3 {
			body := "<html><body><h1>407 Proxy Authentication Required</h1></body></html>\n"
			resp := fmt.Sprintf("HTTP/1.1 407 Proxy Authentication Required\r\nServer: squid/5.7\r\nProxy-Authenticate: Basic realm=\"corp proxy\"\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
			c.flights = append(c.flights, cflight{dir: 1, data: []byte(resp)})
			return c
		}
		c.flights = append(c.flights, cflight{dir: 1, data: []byte("HTTP/1.1 200 Connection established\r\n\r\n")})
	}
	c.hello = len(c.flights)
	for i, f := range hs.flights {
		data := f.data
		switch {
		case st != nil && i == 0:
			data, g.err = withSNI(data, st.name)
		case tls12 && i == 1:
			data, g.err = withChain(data, st.chain)
		}
		if g.err != nil {
			g.err = fmt.Errorf("connection to %s: %w", c.name, g.err)
			return c
		}
		c.flights = append(c.flights, cflight{dir: f.dir, data: data})
	}
	req := 90 + r.IntN(300)
	if hs.alpn == "h2" {
		req += 60
	}
	c.flights = append(c.flights, cflight{dir: 0, data: g.record(23, req)})
	if hs.alpn == "h2" {
		c.flights = append(c.flights, cflight{dir: 1, data: g.record(23, 40+r.IntN(60))})
	}
	// Interactive exchanges: small requests and responses.
	if g.p.exchanges > 0 {
		for range r.IntN(2*g.p.exchanges + 1) {
			c.flights = append(c.flights, cflight{dir: 0, data: g.record(23, 60+r.IntN(300))})
			c.flights = append(c.flights, cflight{dir: 1, data: g.record(23, 200+r.IntN(1200))})
		}
	}
	bulk := int64(g.meanBulk * min(r.ExpFloat64(), 6))
	if g.next > g.opt.Conns-livePool {
		bulk = 1 << 50 // still downloading when the capture ends
	}
	c.flights = append(c.flights, cflight{dir: 1, bulk: g.bulk(hs.recBody, bulk)})
	c.flights = append(c.flights, cflight{dir: 0, data: g.record(hs.alertType, hs.alertBody)})
	c.rst = r.IntN(100) < 5
	return c
}

// setupTCP sets the addresses and the TCP parameters of a connection.
func (g *gen) setupTCP(c *conn, src, dst netip.Addr, dport uint16, proxied, useV6 bool) {
	r := g.r
	sport := c.client.port
	c.client.port += uint16(1 + r.IntN(3))
	if c.client.port > 60999 || c.client.port < 32768 {
		c.client.port = 32768 + uint16(r.IntN(64))
	}
	c.cAddr = netip.AddrPortFrom(src, sport)
	c.sAddr = netip.AddrPortFrom(dst, dport)

	// Linux clients: MSS 1460 (1440 over IPv6) with timestamps, 1448 bytes
	// of payload; a fifth of the machines send no timestamps (1460).
	c.ts = c.client.v4.As4()[3]%5 != 0
	c.synMSS = 1460
	if useV6 {
		c.synMSS = 1440
	}
	c.mss = c.synMSS
	if c.ts {
		c.mss -= 12
	}
	c.isn = [2]uint32{r.Uint32(), r.Uint32()}
	if r.IntN(50) == 0 { // some streams wrap their sequence space
		c.isn[1] = 0xffffffff - uint32(r.IntN(200000))
	}
	c.nxt = c.isn
	serverTTL := uint8(57)
	if proxied || dport == 53 {
		serverTTL = 64
	}
	flow := r.Uint32() & 0xfffff
	c.half[0] = newTCPHalf(&c.client.host, &c.server, c.cAddr, c.sAddr, 64, uint16(r.Uint32()), flow, c.ts, r.Uint32(), 502)
	c.half[1] = newTCPHalf(&c.server, &c.client.host, c.sAddr, c.cAddr, serverTTL, uint16(r.Uint32()), flow^0x5a5a5, c.ts, r.Uint32(), 1050)
	c.phase = phSYN
}

// extraLookups adds the DNS traffic of the dense mixes that leads to no
// TLS connection: lookups of other names (some NXDOMAIN) over UDP, and
// lookups over TCP (RFC 7766).
func (g *gen) extraLookups() {
	r := g.r
	if r.IntN(100) < g.p.lookups {
		c := &conn{client: g.clients[r.IntN(len(g.clients))], hello: -1, dnsOnly: true, phase: phDNSQuery}
		c.resolver = g.router
		c.dnsAAAA = r.IntN(2) == 0
		i := r.IntN(1 << 20)
		nx := r.IntN(100) < g.p.nxPerCent
		c.name = siteName(i)
		v4 := netip.AddrFrom4([4]byte{151, byte(101 + i>>16), byte(i >> 8), byte(i)})
		if nx {
			c.name = fmt.Sprintf("wpad%05d.corp.benchsite.com", r.IntN(100000))
			v4 = netip.Addr{}
			c.nx = true
		}
		c.dns[0], g.err = sitePair(c.name, dns.TypeA, v4, nx)
		if g.err == nil {
			c.dns[1], g.err = sitePair(c.name, dns.TypeAAAA, netip.Addr{}, nx)
		}
		g.live = append(g.live, c)
	}
	if r.IntN(1000) < g.p.dnsTCPPerMil {
		c := &conn{client: g.clients[r.IntN(len(g.clients))], hello: -1, dnsTCP: true}
		c.server = g.router
		i := r.IntN(len(g.sites))
		c.name = g.sites[i].name
		var p dnsPair
		p, g.err = sitePair(c.name, dns.TypeA, g.sites[i].v4, false)
		if g.err != nil {
			return
		}
		binary.BigEndian.PutUint16(p.query, uint16(r.Uint32()))
		copy(p.response, p.query[:2])
		lp := func(b []byte) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...) }
		g.setupTCP(c, c.client.v4, g.router.v4, 53, false, false)
		c.flights = []cflight{{dir: 0, data: lp(p.query)}, {dir: 1, data: lp(p.response)}}
		g.live = append(g.live, c)
	}
}

// bulk returns a download of about n bytes of records of body length body.
func (g *gen) bulk(body int, n int64) *bulkSource {
	period := int64(5 + body)
	b := &bulkSource{cyc: g.m.cyc[body], period: period}
	b.full = n / period * period
	last := int(n%period) - 5
	last = max(last, 40)
	b.tail = g.record(23, min(last, body))
	b.total = b.full + int64(len(b.tail))
	return b
}

// step sends the connection's next few packets and reports whether it is
// finished.
func (c *conn) step(g *gen) bool {
	switch c.phase {
	case phDNSQuery:
		c.dnsQueries(g)
		c.phase = phDNSResponse
	case phDNSResponse:
		c.dnsResponses(g)
		if c.dnsOnly {
			return true
		}
		c.phase = phSYN
	case phSYN:
		c.syn(g)
		c.phase = phSYNACK
	case phSYNACK:
		c.synack(g)
		c.phase = phData
	case phData:
		if c.data(g) {
			c.phase = phClose
		}
	case phClose:
		c.close(g)
		return true
	}
	return false
}

func (c *conn) dnsQueries(g *gen) {
	pairs := []*dnsPair{&c.dns[0], &c.dns[1]}
	for i := range 1 + boolInt(c.dnsAAAA) {
		c.dnsID[i] = uint16(g.r.Uint32())
		c.dnsPort[i] = uint16(32768 + g.r.IntN(28000))
		q := g.buf[1][:len(pairs[i].query)]
		copy(q, pairs[i].query)
		binary.BigEndian.PutUint16(q, c.dnsID[i])
		f := udpFrame(g.buf[0][:], &c.client.host, &c.resolver, c.client.v4, c.resolver.v4, c.dnsPort[i], 53, 64, uint16(g.r.Uint32()), q)
		g.emit(f)
		g.stats.DNSQueries++
		if c.nx {
			g.stats.NXDomain++
		}
	}
	g.pause(2 * time.Millisecond)
}

func (c *conn) dnsResponses(g *gen) {
	pairs := []*dnsPair{&c.dns[0], &c.dns[1]}
	ttl := uint8(64)
	if c.resolver.v4 != g.router.v4 {
		ttl = 117
	}
	n := 1 + boolInt(c.dnsAAAA)
	first := g.r.IntN(n) // the answers come in either order
	for k := range n {
		i := (first + k) % n
		if i == 0 && !c.nx && g.r.IntN(1000) < g.p.forgedPerMil {
			// An on-path injector answers first (the real answer follows).
			if forged, err := forgedResponse(pairs[0].response); err == nil {
				binary.BigEndian.PutUint16(forged, c.dnsID[0])
				f := udpFrame(g.buf[0][:], &c.resolver, &c.client.host, c.resolver.v4, c.client.v4, 53, c.dnsPort[0], 52, 0x1234, forged)
				g.emit(f)
				g.stats.Forged++
				g.pause(300 * time.Microsecond)
			}
		}
		p := g.buf[1][:len(pairs[i].response)]
		copy(p, pairs[i].response)
		binary.BigEndian.PutUint16(p, c.dnsID[i])
		f := udpFrame(g.buf[0][:], &c.resolver, &c.client.host, c.resolver.v4, c.client.v4, 53, c.dnsPort[i], ttl, uint16(g.r.Uint32()), p)
		g.emit(f)
	}
	g.pause(200 * time.Microsecond)
}

// send writes one segment from dir carrying n bytes of the current flight
// at offset off (n may be 0).
func (c *conn) send(g *gen, b []byte, dir int, flags uint8, seq uint32, f *cflight, off int64, n int) []byte {
	ts := g.tsNow() + c.half[dir].tsBase
	frame, payload := c.half[dir].segment(b, flags, seq, c.nxt[1-dir], ts, c.lastTS[1-dir], nil, n)
	if n > 0 {
		f.fill(payload, off)
		if f.bulk != nil && g.cw.n < g.opt.Size {
			g.stats.BulkBytes += int64(n)
		}
	}
	c.lastTS[dir] = ts
	return frame
}

func (c *conn) syn(g *gen) {
	ts := g.tsNow() + c.half[0].tsBase
	opts := synOptions(c.synMSS, c.ts, ts, 0, 7)
	frame, _ := c.half[0].segment(g.buf[0][:], flagSYN, c.isn[0], 0, 0, 0, opts, 0)
	c.lastTS[0] = ts
	g.emit(frame)
	g.stats.Conns++
	c.nxt[0] = c.isn[0] + 1
	g.pause(3 * time.Millisecond)
}

func (c *conn) synack(g *gen) {
	ts := g.tsNow() + c.half[1].tsBase
	opts := synOptions(c.synMSS, c.ts, ts, c.lastTS[0], 9)
	frame, _ := c.half[1].segment(g.buf[0][:], flagSYN|flagACK, c.isn[1], c.nxt[0], 0, 0, opts, 0)
	c.lastTS[1] = ts
	g.emit(frame)
	c.nxt[1] = c.isn[1] + 1
	g.emit(c.send(g, g.buf[0][:], 0, flagACK, c.nxt[0], nil, 0, 0))
}

// ack sends a pure ACK from dir.
func (c *conn) ack(g *gen, dir int) {
	g.emit(c.send(g, g.buf[0][:], dir, flagACK, c.nxt[dir], nil, 0, 0))
}

// data sends the current flight (a handshake flight whole, a download a
// burst at a time) and reports whether every flight has been sent.
func (c *conn) data(g *gen) bool {
	f := &c.flights[c.fi]
	dir := f.dir
	size := f.size()
	if c.foff == 0 {
		switch {
		case c.fi == 0 && c.proxied:
			g.stats.Proxied++
		case c.fi == c.hello:
			g.stats.TLS++
		case c.fi == 0 && c.dnsTCP:
			g.stats.DNSQueries++
			g.stats.DNSTCP++
		}
	}
	burst := int(size) // a handshake flight goes in one step
	if f.bulk != nil {
		burst = (4 + g.r.IntN(28)) * c.mss
	}
	for sent := 0; sent < burst && c.foff < size; {
		n := int(min(int64(c.mss), size-c.foff))
		flags := uint8(flagACK)
		if c.foff+int64(n) == size || f.bulk == nil && n < c.mss {
			flags |= flagPSH
		}
		seq := c.nxt[dir]
		nextN := int(min(int64(c.mss), size-c.foff-int64(n)))
		switch x := g.r.IntN(1000); {
		case f.bulk != nil && x == 0 && nextN > 0:
			// Out of order: the next segment overtakes this one, the
			// receiver sends a duplicate ACK, then this one arrives.
			nflags := uint8(flagACK)
			if c.foff+int64(n+nextN) == size {
				nflags |= flagPSH
			}
			g.emit(c.send(g, g.buf[0][:], dir, nflags, seq+uint32(n), f, c.foff+int64(n), nextN))
			c.ack(g, 1-dir)
			g.emit(c.send(g, g.buf[0][:], dir, flags&^flagPSH, seq, f, c.foff, n))
			g.stats.OutOfOrder++
			n += nextN
		case f.bulk != nil && x == 1:
			// A retransmission of a segment that arrived after all.
			frame := c.send(g, g.buf[0][:], dir, flags, seq, f, c.foff, n)
			g.emit(frame)
			g.pause(200 * time.Microsecond)
			g.emit(c.send(g, g.buf[0][:], dir, flags, seq, f, c.foff, n))
			g.stats.Retransmits++
		default:
			g.emit(c.send(g, g.buf[0][:], dir, flags, seq, f, c.foff, n))
		}
		c.foff += int64(n)
		c.nxt[dir] = seq + uint32(n)
		sent += n
		c.unacked++
		if c.unacked >= 2 && f.bulk != nil {
			c.ack(g, 1-dir)
			c.unacked = 0
		}
	}
	if c.foff < size {
		return false
	}
	c.fi++
	c.foff = 0
	c.unacked = 0
	if c.fi == len(c.flights) || c.flights[c.fi].dir == dir {
		c.ack(g, 1-dir)
	}
	g.pause(100 * time.Microsecond)
	return c.fi == len(c.flights)
}

// close ends the connection: FIN, FIN, ACK (or the client's RST).
func (c *conn) close(g *gen) {
	if c.rst {
		g.emit(c.send(g, g.buf[0][:], 0, flagRST|flagACK, c.nxt[0], nil, 0, 0))
		return
	}
	g.emit(c.send(g, g.buf[0][:], 0, flagFIN|flagACK, c.nxt[0], nil, 0, 0))
	c.nxt[0]++
	g.emit(c.send(g, g.buf[0][:], 1, flagFIN|flagACK, c.nxt[1], nil, 0, 0))
	c.nxt[1]++
	c.ack(g, 0)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Noise peers.
var (
	ntpServer  = netip.MustParseAddr("162.159.200.123")
	pingTarget = netip.MustParseAddr("8.8.8.8")
	ssdpGroup  = netip.MustParseAddr("239.255.255.250")
	quicServer = netip.MustParseAddr("142.250.191.78")
	ssdpMAC    = mac{0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa}
)

// noise sends one exchange of another protocol.
func (g *gen) noise() {
	r := g.r
	c := g.clients[r.IntN(len(g.clients))]
	far := host{mac: g.router.mac}
	before := g.stats.Packets
	switch x := r.IntN(100); {
	case x < 25: // ARP for the router or a neighbour, and its reply
		target := &g.router
		if r.IntN(2) == 0 {
			target = &g.clients[r.IntN(len(g.clients))].host
		}
		if target.v4 != c.v4 {
			g.emit(arpFrame(g.buf[0][:], &c.host, target, false))
			g.emit(arpFrame(g.buf[0][:], &c.host, target, true))
		}
	case x < 45: // ping
		id, seq := uint16(r.Uint32()), uint16(r.IntN(100))
		body := g.m.random[:56]
		g.emit(icmpEchoFrame(g.buf[0][:], &c.host, &far, c.v4, pingTarget, 64, uint16(r.Uint32()), id, seq, false, body))
		g.pause(5 * time.Millisecond)
		g.emit(icmpEchoFrame(g.buf[0][:], &far, &c.host, pingTarget, c.v4, 117, 0, id, seq, true, body))
	case x < 65: // NTP (RFC 5905): a client request and the server's answer
		p := g.buf[1][:48]
		copy(p, g.m.random[100:148])
		p[0] = 0x23 // LI 0, version 4, mode 3
		g.emit(udpFrame(g.buf[0][:], &c.host, &far, c.v4, ntpServer, 123, 123, 64, uint16(r.Uint32()), p))
		p[0] = 0x24 // mode 4
		g.emit(udpFrame(g.buf[0][:], &far, &c.host, ntpServer, c.v4, 123, 123, 55, uint16(r.Uint32()), p))
	case x < 80: // SSDP discovery
		msg := "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: urn:dial-multiscreen-org:service:dial:1\r\n\r\n"
		p := g.buf[1][:len(msg)]
		copy(p, msg)
		mc := host{mac: ssdpMAC}
		g.emit(udpFrame(g.buf[0][:], &c.host, &mc, c.v4, ssdpGroup, uint16(50000+r.IntN(10000)), 1900, 4, uint16(r.Uint32()), p))
	default: // QUIC-like datagrams to a web server (a browser on the machine)
		sport := uint16(40000 + r.IntN(20000))
		n := 1200 + r.IntN(52)
		p := g.buf[1][:n]
		o := r.IntN(len(g.m.random) - n)
		copy(p, g.m.random[o:o+n])
		p[0] = 0x40 | p[0]&0x3f // a short-header packet
		g.emit(udpFrame(g.buf[0][:], &c.host, &far, c.v4, quicServer, sport, 443, 64, uint16(r.Uint32()), p))
		g.emit(udpFrame(g.buf[0][:], &far, &c.host, quicServer, c.v4, 443, sport, 57, uint16(r.Uint32()), p[:n-100]))
	}
	g.stats.Noise += int(g.stats.Packets - before)
}
