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
package tlswire
