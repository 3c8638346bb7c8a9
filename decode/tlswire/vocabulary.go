package tlswire

import "github.com/modsniff/modsniff/decode/wire"

// Dir is the direction of a byte stream within a connection. It is an alias
// of [wire.Dir], kept for callers that name it here.
type Dir = wire.Dir

// The two directions; the client is the side that opened the connection.
const (
	ClientToServer = wire.ClientToServer
	ServerToClient = wire.ServerToClient
)

// KeySource finds the secrets of a TLS session by the random of its
// ClientHello; *capture.KeyLog is one. It is an alias of [wire.KeySource],
// kept for callers that name it here.
type KeySource = wire.KeySource
