// Package tlswire decodes the unencrypted part of TLS connections as seen on
// the wire: the record layer (RFC 8446 §5, RFC 5246 §6.2), the handshake
// messages that travel in clear (ClientHello, ServerHello, and in TLS 1.2 and
// earlier the server's Certificate flight), alerts, and the shape of what
// follows once a direction is encrypted. It also computes the JA4 client
// fingerprint (FoxIO, BSD-3-Clause).
//
// Everything here reads untrusted bytes. Parsers never panic, never size an
// allocation from a length read off the wire, and name the field that was
// wrong in their errors (see [ParseError]). Marks that are legal enough to
// parse but unusual — a duplicated extension, bytes after the last field, an
// SNI list with several names — are kept as notes: they are the kind of
// evidence a middlebox that rewrote a hello leaves behind.
//
// The decoder hands each TCP direction's in-order bytes to a [Conn], which
// reassembles records and handshake messages and fills a [Session]. Records
// after the encryption boundary are skipped by counting their length, without
// copying; only their outer type, length and packet are kept for the first
// few, which is what the analysis needs to tell a client that rejected a TLS
// 1.3 certificate from one that carried on.
//
// With keys (ConnOptions.Keys: NSS key log secrets matched by ClientHello
// random), protected records are decrypted too: TLS 1.3 (RFC 8446 §7: the
// handshake traffic secrets, then the application traffic secrets after
// each side's Finished, KeyUpdate) with AES-128-GCM, AES-256-GCM and
// ChaCha20-Poly1305, and TLS 1.0–1.2 from the master secret (RFC 5246 §6.3)
// with AES-GCM, ChaCha20-Poly1305 and AES/3DES-CBC with HMAC. What they hold
// fills the same Session fields as plaintext would — the TLS 1.3
// EncryptedExtensions and Certificate, alerts with their real level and
// description — and the first application data is handed on for HTTP. One
// record per direction is buffered for it; wrong or missing keys are noted
// and decoding goes on as without them.
package tlswire
