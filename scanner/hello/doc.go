// Package hello is Rampart's raw TLS handshake engine: it builds ClientHellos byte by byte
// (SSL 2.0 through TLS 1.3), parses what a server answers up to the ServerHello (and the
// ServerKeyExchange of ephemeral suites) with strict bounds, and enumerates per endpoint the
// protocol versions, cipher suites in server order, key exchange groups and Diffie-Hellman
// parameters with as few connections as the protocol allows. It is independent of Go's TLS
// stack, so it sees what crypto/tls cannot speak.
package hello
