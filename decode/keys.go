package decode

import (
	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// KeySources looks a session's secrets up in several sources in turn (the
// --keylog files, then the input's own Decryption Secrets Blocks): the
// first that holds the client random wins.
type KeySources []tlswire.KeySource

// Lookup implements tlswire.KeySource.
func (k KeySources) Lookup(clientRandom [32]byte) (capture.TLSSecrets, bool) {
	for _, src := range k {
		if src == nil {
			continue
		}
		if s, ok := src.Lookup(clientRandom); ok {
			return s, true
		}
	}
	return capture.TLSSecrets{}, false
}

// Len returns the number of sessions the sources hold secrets for (a
// source that cannot say counts as one), so that an empty set of sources
// is taken as no keys at all.
func (k KeySources) Len() int {
	n := 0
	for _, src := range k {
		switch s := src.(type) {
		case nil:
		case interface{ Len() int }:
			n += s.Len()
		default:
			n++
		}
	}
	return n
}

// ClientRandoms returns the ClientHello randoms of the TLS sessions in ev
// (first and second ClientHello), in order, without repeats: the keys a
// key log needs for these sessions.
func ClientRandoms(ev *Events) [][32]byte {
	var out [][32]byte
	seen := make(map[[32]byte]bool)
	for _, s := range ev.TLS {
		for _, ch := range []*tlswire.ClientHello{s.ClientHello, s.SecondClientHello()} {
			if ch != nil && !seen[ch.Random] {
				seen[ch.Random] = true
				out = append(out, ch.Random)
			}
		}
	}
	return out
}
