package hello

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"golang.org/x/crypto/cryptobyte"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/rampart-scan/rampart/scanner/netx"
)

// DialFunc opens a connection that is ready for a ClientHello: for STARTTLS services the
// caller has already run the plaintext dialogue on it.
type DialFunc func(ctx context.Context) (net.Conn, error)

// probeResult is what one connection showed.
type probeResult struct {
	sh      *ServerHello
	certs   [][]byte // the Certificate message's chain, when it was read (TLS ≤ 1.2)
	kx      *KeyExchange
	kxErr   error // reading the ServerKeyExchange failed (the hello itself is good)
	refused error // the server declined: an alert, or a close/reset before any byte
	err     error // the server misbehaved or the network failed
}

// alert returns the alert the server refused with, or nil.
func (r *probeResult) alert() *AlertError {
	var a *AlertError
	if errors.As(r.refused, &a) {
		return a
	}
	return nil
}

// exchange opens one connection, sends msg, and hands the connection to read. It applies
// the per-connection deadline and counts the connection.
func (e *engine) exchange(ctx context.Context, msg []byte, read func(net.Conn) probeResult) probeResult {
	if err := ctx.Err(); err != nil {
		return probeResult{err: err}
	}
	e.conns.Add(1)
	c, err := e.dial(ctx)
	if err != nil {
		return probeResult{err: fmt.Errorf("dial: %w", err)}
	}
	defer c.Close()
	// The exchange ends within Timeout even when the connection's own Read resets its
	// deadline at every call (as netx's does) and the server trickles bytes.
	pctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	stop := context.AfterFunc(pctx, func() { _ = c.Close() })
	defer stop()
	if err := c.SetDeadline(time.Now().Add(e.opts.Timeout)); err != nil {
		return probeResult{err: fmt.Errorf("set deadline: %w", err)}
	}
	if _, err := c.Write(msg); err != nil {
		if isReset(err) {
			return probeResult{refused: fmt.Errorf("write hello: %w", err)}
		}
		return probeResult{err: fmt.Errorf("write hello: %w", err)}
	}
	r := read(c)
	switch {
	case ctx.Err() != nil && (r.err != nil || r.refused != nil):
		r.err, r.refused = ctx.Err(), nil
	case pctx.Err() != nil && (r.err != nil || r.refused != nil):
		r.err, r.refused = fmt.Errorf("no complete answer within %v: %w", e.opts.Timeout, os.ErrDeadlineExceeded), nil
	}
	return r
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

// probeTLS sends ch and reads the answer up to the ServerHello; with wantKX it goes on to
// the ServerKeyExchange of a TLS ≤ 1.2 (EC)DHE suite.
func (e *engine) probeTLS(ctx context.Context, ch *ClientHello, wantKX bool) probeResult {
	msg, err := ch.Marshal()
	if err != nil {
		return probeResult{err: err}
	}
	recVer := VersionTLS10
	if ch.Version == VersionSSL30 {
		recVer = VersionSSL30
	}
	return e.exchange(ctx, Record(recVer, msg), func(c net.Conn) probeResult {
		return readServerFlight(c, e.opts.ReadLimit, e.opts.FlightLimit, wantKX)
	})
}

// readServerFlight reads a server's answer to a ClientHello from r.
func readServerFlight(r io.Reader, helloLimit, flightLimit int, wantKX bool) probeResult {
	hr := newHandshakeReader(r, helloLimit)
	typ, body, err := hr.Next()
	if err != nil {
		var a *AlertError
		if errors.As(err, &a) || errors.Is(err, ErrClosed) || (!hr.any && isReset(err)) {
			return probeResult{refused: err}
		}
		return probeResult{err: fmt.Errorf("read server hello: %w", err)}
	}
	if typ != typeServerHello {
		return probeResult{err: fmt.Errorf("%w: handshake type %d instead of server hello", ErrUnexpected, typ)}
	}
	sh, err := ParseServerHello(body)
	if err != nil {
		return probeResult{err: err}
	}
	res := probeResult{sh: sh}
	v := sh.Version()
	if !wantKX || v > VersionTLS12 || sh.HelloRetryRequest {
		return res
	}
	s, ok := LookupSuite(sh.Suite)
	if !ok || (s.Kx != "DHE" && s.Kx != "ECDHE") {
		return res
	}
	hr.limit = flightLimit
	for {
		typ, body, err := hr.Next()
		if err != nil {
			res.kxErr = fmt.Errorf("read server key exchange: %w", err)
			return res
		}
		switch typ {
		case typeServerKeyExchange:
			res.kx, res.kxErr = ParseServerKeyExchange(body, s.Kx == "ECDHE", v == VersionTLS12)
			return res
		case typeServerHelloDone:
			res.kxErr = errors.New("server hello done without a server key exchange")
			return res
		case typeCertificate:
			res.certs = parseCertificateList(body)
		case typeCertificateStatus, typeCertificateReq:
		default:
			res.kxErr = fmt.Errorf("%w: handshake type %d in the server flight", ErrUnexpected, typ)
			return res
		}
	}
}

// probeSSLv2 sends an SSL 2.0 CLIENT-HELLO offering every cipher kind.
func (e *engine) probeSSLv2(ctx context.Context) (*SSLv2ServerHello, probeResult) {
	kinds := make([]uint32, 0, len(sslv2Suites))
	for _, s := range sslv2Suites {
		kinds = append(kinds, s.ID)
	}
	var challenge [16]byte
	_, _ = rand.Read(challenge[:])
	msg, err := SSLv2ClientHello(kinds, challenge)
	if err != nil {
		return nil, probeResult{err: err}
	}
	var sh *SSLv2ServerHello
	r := e.exchange(ctx, msg, func(c net.Conn) probeResult {
		var hdr [2]byte
		if n, err := io.ReadFull(c, hdr[:]); err != nil {
			if n == 0 && (errors.Is(err, io.EOF) || isReset(err)) {
				return probeResult{refused: ErrClosed}
			}
			return probeResult{err: fmt.Errorf("read SSLv2 reply: %w", err)}
		}
		if hdr[0]&0x80 == 0 {
			// A TLS record (alert or handshake) or anything else: not an SSLv2 server hello.
			return probeResult{refused: fmt.Errorf("reply is not SSLv2 (first bytes % x)", hdr)}
		}
		n := int(hdr[0]&0x7f)<<8 | int(hdr[1])
		if n > e.opts.ReadLimit {
			return probeResult{err: fmt.Errorf("%w: SSLv2 record of %d bytes", ErrTooLarge, n)}
		}
		rec := make([]byte, 2+n)
		copy(rec, hdr[:])
		if _, err := io.ReadFull(c, rec[2:]); err != nil {
			return probeResult{err: fmt.Errorf("read SSLv2 server hello: %w", ErrTruncated)}
		}
		if n > 0 && rec[2] == 0 { // MSG-ERROR, e.g. NO-CIPHER-ERROR
			return probeResult{refused: errors.New("SSLv2 error message")}
		}
		m, err := ParseSSLv2ServerHello(rec)
		if err != nil {
			return probeResult{err: err}
		}
		sh = m
		return probeResult{}
	})
	return sh, r
}

// DialAddr returns a DialFunc that opens TCP connections to addr through d, so every probe
// obeys the scan's rate limit, per-address cap and timeouts.
func DialAddr(d *netx.Dialer, addr netip.AddrPort) DialFunc {
	return func(ctx context.Context) (net.Conn, error) { return d.Dial(ctx, addr) }
}

// parseCertificateList reads a TLS ≤ 1.2 Certificate message body (RFC 5246, section 7.4.2):
// the DER certificates, leaf first, at most maxChainCerts; nil when it is malformed.
func parseCertificateList(body []byte) [][]byte {
	s := cryptobyte.String(body)
	var list cryptobyte.String
	if !s.ReadUint24LengthPrefixed(&list) || !s.Empty() {
		return nil
	}
	var out [][]byte
	for !list.Empty() && len(out) < maxChainCerts {
		var der cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&der) || len(der) == 0 {
			return nil
		}
		out = append(out, append([]byte(nil), der...))
	}
	return out
}

// Bounds on the chains the engine keeps: certificates per chain and distinct chains.
const (
	maxChainCerts = 10
	maxChains     = 8
)
