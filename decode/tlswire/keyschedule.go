package tlswire

import (
	"crypto"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"strings"
)

// hashFunc returns the constructor of a hash modsniff derives keys with.
func hashFunc(h crypto.Hash) func() hash.Hash {
	switch h {
	case crypto.MD5:
		return md5.New
	case crypto.SHA1:
		return sha1.New
	case crypto.SHA384:
		return sha512.New384
	}
	return sha256.New
}

// hkdfExpandLabel is HKDF-Expand-Label (RFC 8446 §7.1): HKDF-Expand(secret,
// HkdfLabel{length, "tls13 " + label, context}, length).
func hkdfExpandLabel(h crypto.Hash, secret []byte, label string, context []byte, length int) []byte {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full)+len(context))
	info = append(info, byte(length>>8), byte(length), byte(len(full)))
	info = append(info, full...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	out, err := hkdf.Expand(hashFunc(h), secret, string(info), length)
	if err != nil {
		// Only a length beyond 255 hash outputs fails; modsniff asks for
		// at most 48 bytes.
		panic("tlswire: HKDF-Expand-Label: " + err.Error())
	}
	return out
}

// pHash is P_hash of RFC 5246 §5: HMAC_hash(secret, A(i) + seed) for
// A(0) = seed, A(i) = HMAC_hash(secret, A(i-1)), until result is full.
func pHash(result, secret, seed []byte, h func() hash.Hash) {
	mac := hmac.New(h, secret)
	mac.Write(seed)
	a := mac.Sum(nil)
	for j := 0; j < len(result); {
		mac.Reset()
		mac.Write(a)
		mac.Write(seed)
		j += copy(result[j:], mac.Sum(nil))
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0])
	}
}

// prf computes the TLS PRF of the given version into a new slice of n
// bytes: for TLS 1.2 P_<hash> (RFC 5246 §5; SHA-256, or SHA-384 for the
// suites that say so), for TLS 1.0 and 1.1 the XOR of P_MD5 and P_SHA-1
// over the two halves of the secret (RFC 4346 §5).
func prf(version uint16, h crypto.Hash, secret []byte, label string, seed []byte, n int) []byte {
	ls := make([]byte, 0, len(label)+len(seed))
	ls = append(append(ls, label...), seed...)
	out := make([]byte, n)
	if version >= VersionTLS12 {
		pHash(out, secret, ls, hashFunc(h))
		return out
	}
	half := (len(secret) + 1) / 2
	pHash(out, secret[:half], ls, md5.New)
	tmp := make([]byte, n)
	pHash(tmp, secret[len(secret)-half:], ls, sha1.New)
	for i := range out {
		out[i] ^= tmp[i]
	}
	return out
}

// Kinds of record protection modsniff can remove.
const (
	protTLS13  uint8 = iota + 1 // TLS 1.3 AEAD (RFC 8446 §5.2)
	protGCM12                   // TLS 1.2 AES-GCM with an explicit nonce (RFC 5288)
	protChaCha                  // TLS 1.2 ChaCha20-Poly1305 with an XOR nonce (RFC 7905)
	protCBC                     // TLS 1.0–1.2 block cipher with HMAC (RFC 5246 §6.2.3.2)
)

// Bulk ciphers.
const (
	bulkAESGCM uint8 = iota + 1
	bulkChaCha
	bulkAESCBC
	bulk3DES
)

// suite is what record decryption needs to know of a cipher suite.
type suite struct {
	id     uint16
	prot   uint8
	bulk   uint8
	keyLen int
	// ivLen is the length of the IV taken from the key block (TLS 1.2:
	// the 4-byte GCM salt, the 12-byte ChaCha20 IV, the CBC block) or
	// derived (TLS 1.3: 12).
	ivLen int
	// hash is the TLS 1.3 hash or the TLS 1.2 PRF hash.
	hash crypto.Hash
	// mac and macLen are the HMAC of a CBC suite.
	mac    crypto.Hash
	macLen int
}

// suiteFor returns the decryption parameters of cipher suite id negotiated
// at version, or an error naming what is not supported. TLS 1.2 and
// earlier suites are read from their IANA names (TLS_<kx>_WITH_<cipher>_<mac>).
func suiteFor(id, version uint16) (suite, error) {
	s := suite{id: id, hash: crypto.SHA256}
	if isTLS13(version) {
		s.prot, s.ivLen = protTLS13, 12
		switch id {
		case 0x1301:
			s.bulk, s.keyLen = bulkAESGCM, 16
		case 0x1302:
			s.bulk, s.keyLen, s.hash = bulkAESGCM, 32, crypto.SHA384
		case 0x1303:
			s.bulk, s.keyLen = bulkChaCha, 32
		default:
			return s, fmt.Errorf("cipher suite %s is not supported for decryption", CipherSuiteName(id))
		}
		return s, nil
	}
	if version < VersionTLS10 || version > VersionTLS12 {
		return s, fmt.Errorf("%s records are not decrypted", VersionName(version))
	}
	name := ianaCipherSuites[id]
	_, spec, ok := strings.Cut(name, "_WITH_")
	if !ok || id >= 0xcc13 && id <= 0xcc15 { // the pre-standard ChaCha20 code points use another nonce
		return s, fmt.Errorf("cipher suite %s is not supported for decryption", CipherSuiteName(id))
	}
	if strings.HasSuffix(spec, "_SHA384") {
		s.hash = crypto.SHA384
	}
	switch {
	case strings.HasPrefix(spec, "AES_128_GCM_") || strings.HasPrefix(spec, "AES_256_GCM_"):
		s.prot, s.bulk, s.ivLen = protGCM12, bulkAESGCM, 4
		s.keyLen = 16
		if strings.HasPrefix(spec, "AES_256") {
			s.keyLen = 32
		}
	case spec == "CHACHA20_POLY1305_SHA256":
		s.prot, s.bulk, s.keyLen, s.ivLen = protChaCha, bulkChaCha, 32, 12
	case strings.HasPrefix(spec, "AES_128_CBC_") || strings.HasPrefix(spec, "AES_256_CBC_") || strings.HasPrefix(spec, "3DES_EDE_CBC_"):
		s.prot, s.bulk, s.keyLen, s.ivLen = protCBC, bulkAESCBC, 16, 16
		switch {
		case strings.HasPrefix(spec, "AES_256"):
			s.keyLen = 32
		case strings.HasPrefix(spec, "3DES"):
			s.bulk, s.keyLen, s.ivLen = bulk3DES, 24, 8
		}
		switch spec[strings.LastIndexByte(spec, '_')+1:] {
		case "SHA":
			s.mac, s.macLen = crypto.SHA1, 20
		case "SHA256":
			s.mac, s.macLen = crypto.SHA256, 32
		case "SHA384":
			s.mac, s.macLen = crypto.SHA384, 48
		default:
			return s, fmt.Errorf("cipher suite %s is not supported for decryption", name)
		}
	default:
		return s, fmt.Errorf("cipher suite %s is not supported for decryption", CipherSuiteName(id))
	}
	if version < VersionTLS12 && s.prot != protCBC {
		return s, fmt.Errorf("cipher suite %s in %s", name, VersionName(version))
	}
	return s, nil
}

// tls13Keys derives the write key and IV of a TLS 1.3 traffic secret
// (RFC 8446 §7.3).
func tls13Keys(s suite, secret []byte) (key, iv []byte) {
	return hkdfExpandLabel(s.hash, secret, "key", nil, s.keyLen),
		hkdfExpandLabel(s.hash, secret, "iv", nil, s.ivLen)
}

// nextTrafficSecret is application_traffic_secret_N+1 (RFC 8446 §7.2).
func nextTrafficSecret(s suite, secret []byte) []byte {
	return hkdfExpandLabel(s.hash, secret, "traffic upd", nil, s.hash.Size())
}

// keyBlock12 is the TLS 1.0–1.2 key block (RFC 5246 §6.3): PRF(master,
// "key expansion", server_random + client_random), split into the MAC keys,
// write keys and IVs of client and server.
type keyBlock12 struct {
	macKey, key, iv [2][]byte // indexed by Dir
}

func deriveKeyBlock(s suite, version uint16, master []byte, clientRandom, serverRandom [32]byte) keyBlock12 {
	n := 2 * (s.macLen + s.keyLen + s.ivLen)
	seed := append(serverRandom[:], clientRandom[:]...)
	b := prf(version, s.hash, master, "key expansion", seed, n)
	var kb keyBlock12
	take := func(k int) []byte { v := b[:k:k]; b = b[k:]; return v }
	kb.macKey[ClientToServer], kb.macKey[ServerToClient] = take(s.macLen), take(s.macLen)
	kb.key[ClientToServer], kb.key[ServerToClient] = take(s.keyLen), take(s.keyLen)
	kb.iv[ClientToServer], kb.iv[ServerToClient] = take(s.ivLen), take(s.ivLen)
	return kb
}
