// Package httpsec probes the HTTP layer of an HTTPS endpoint: one or two GET requests over
// TLS (the first one, when the caller passes its own established connection, over that
// connection in HTTP/1.1 or HTTP/2, whichever it negotiated), recording the Strict-Transport-Security header, the browser security headers, the
// Server header, redirects (not followed) and whether responses are HTTP-compressed (BREACH).
// It records facts only; checks decide what they mean.
package httpsec

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// DialFunc opens a new TCP connection to the endpoint (through the scan's netx.Dialer), ready
// for a ClientHello.
type DialFunc func(ctx context.Context) (net.Conn, error)

// Options configures a probe.
type Options struct {
	// ServerName is the SNI and Host header; empty means the connection's address.
	ServerName string
	// Path is the request target; "" means "/". It must start with "/" and hold no
	// whitespace or control characters.
	Path string
	// Timeout bounds each request: handshake, writing and reading the response head.
	// 0 means 10 seconds.
	Timeout time.Duration
	// Conn, when set, is an established TLS connection to the endpoint (the audit's own
	// modern handshake) that carries the first request instead of a new connection. It is
	// spoken to in HTTP/2 if it negotiated "h2", in HTTP/1.1 if it negotiated "http/1.1" or no
	// protocol; another protocol, or a failure on it that is not a timeout, sends the request
	// on a new connection as without Conn. Probe closes it.
	Conn *tls.Conn
}

// Limits on what a server may send.
const (
	// MaxHeaderBytes bounds the status line and header block of a response.
	MaxHeaderBytes = 32 << 10
	maxValue       = 512
	maxHSTS        = 8
)

// AcceptEncoding is what the first request offers, as browsers do.
const AcceptEncoding = "gzip, deflate, br"

// SecurityHeaders are the response headers recorded in HTTPSecurityFacts.Headers.
var SecurityHeaders = []string{
	"Content-Security-Policy",
	"X-Content-Type-Options",
	"X-Frame-Options",
	"Referrer-Policy",
	"Permissions-Policy",
	"Cross-Origin-Opener-Policy",
}

// userAgent names the scanner honestly.
const userAgent = "rampart (TLS and HTTP security audit)"

// errTooLarge marks a response head over MaxHeaderBytes.
var errTooLarge = errors.New("response head larger than the limit")

// accept is the Accept header of every request.
const accept = "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8"

// response is the part of one exchange the probe keeps.
type response struct {
	status int
	header http.Header
}

// Probe sends a GET offering compression and, when the response came back compressed, a
// second GET asking for no compression, and records what the server answered. It returns
// facts even on failure (Error says why); it never follows redirects.
func Probe(ctx context.Context, dial DialFunc, opts Options) *model.HTTPSecurityFacts {
	if opts.Path == "" {
		opts.Path = "/"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	f := &model.HTTPSecurityFacts{Path: sanitize(opts.Path, maxValue)}
	if !validPath(opts.Path) {
		f.Error = "invalid request path"
		return f
	}
	first, host, proto, err := firstGet(ctx, dial, opts, f)
	f.Host, f.Protocol = sanitize(host, maxValue), proto
	if err != nil {
		f.Error = sanitize(err.Error(), 300)
		return f
	}
	h := first.header
	f.Status = first.status
	f.Server = sanitize(h.Get("Server"), maxValue)
	f.ContentType = sanitize(h.Get("Content-Type"), maxValue)
	if first.status >= 300 && first.status < 400 {
		f.Location = sanitize(h.Get("Location"), maxValue)
	}
	f.HSTS = hstsFacts(h.Values("Strict-Transport-Security"))
	for _, name := range SecurityHeaders {
		vs := h.Values(name)
		if len(vs) == 0 {
			continue
		}
		if f.Headers == nil {
			f.Headers = map[string]string{}
		}
		f.Headers[name] = sanitize(vs[0], maxValue)
		if len(vs) > 1 {
			f.HeadersRepeated = append(f.HeadersRepeated, name)
		}
	}
	c := &model.HTTPCompressionFacts{Offered: AcceptEncoding, Encoding: contentEncoding(h)}
	f.Compression = c
	if c.Encoding == "" {
		return f
	}
	second, _, _, err := get(ctx, dial, opts, "identity", &f.Connections)
	if err != nil {
		c.Error = sanitize(err.Error(), 300)
		return f
	}
	c.Compared = true
	c.WithoutOffer = contentEncoding(second.header)
	return f
}

// contentEncoding is the response's Content-Encoding, "" for none or identity.
func contentEncoding(h http.Header) string {
	var codings []string
	for _, v := range h.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			if c != "" && c != "identity" {
				codings = append(codings, c)
			}
		}
	}
	return sanitize(strings.Join(codings, ", "), 100)
}

func hstsFacts(values []string) *model.HSTSFacts {
	if len(values) == 0 {
		return nil
	}
	p := ParseHSTS(values[0])
	f := &model.HSTSFacts{Valid: p.Valid, MaxAge: p.MaxAge, IncludeSubDomains: p.IncludeSubDomains, Preload: p.Preload}
	for i, v := range values {
		if i == maxHSTS {
			break
		}
		f.Values = append(f.Values, sanitize(v, maxValue))
	}
	for _, pr := range p.Problems {
		f.Problems = append(f.Problems, sanitize(pr, 200))
	}
	if len(values) > 1 {
		note := fmt.Sprintf("%d Strict-Transport-Security header fields; browsers process only the first (RFC 6797 §8.1)", len(values))
		if !slices.Equal(values, slices.Repeat(values[:1], len(values))) {
			note += " and they differ"
		}
		f.Problems = append(f.Problems, note)
	}
	return f
}

// allSuites lists every TLS 1.0–1.2 suite crypto/tls implements.
var allSuites = func() []uint16 {
	var ids []uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		ids = append(ids, s.ID)
	}
	return ids
}()

// firstGet sends the first request: on opts.Conn when it can carry it, else (or when it
// failed for another reason than time) on a new connection. It returns the response, the
// Host sent and the HTTP version spoken.
func firstGet(ctx context.Context, dial DialFunc, opts Options, f *model.HTTPSecurityFacts) (*response, string, string, error) {
	if tc := opts.Conn; tc != nil {
		proto := tc.ConnectionState().NegotiatedProtocol
		if proto == "" || proto == "http/1.1" || proto == "h2" {
			resp, host, version, err := onConn(ctx, tc, opts, AcceptEncoding)
			if err == nil || ctx.Err() != nil || !retryable(err) {
				f.SharedConnection = true
				return resp, host, version, err
			}
		}
		_ = tc.Close()
	}
	return get(ctx, dial, opts, AcceptEncoding, &f.Connections)
}

// onConn makes one request on an established connection, in the protocol it negotiated, and
// closes it.
func onConn(ctx context.Context, tc *tls.Conn, opts Options, acceptEncoding string) (*response, string, string, error) {
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	defer tc.Close()
	stop := context.AfterFunc(ctx, func() { _ = tc.Close() })
	defer stop()
	host := hostHeader(opts.ServerName, tc.RemoteAddr())
	if tc.ConnectionState().NegotiatedProtocol == "h2" {
		resp, err := exchangeH2(ctx, tc, host, opts.Path, acceptEncoding)
		return resp, host, "HTTP/2", err
	}
	resp, err := exchangeH1(ctx, tc, host, opts.Path, acceptEncoding)
	return resp, host, "HTTP/1.1", err
}

// retryable reports whether a request that failed on the shared connection is worth sending
// on a new one: not when time ran out (it would only wait again) or the server did answer
// (with something that is not a usable response head).
func retryable(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return false
	case errors.Is(err, errHead), errors.Is(err, errTooLarge):
		return false
	}
	return true
}

// get makes one request on a new connection and reads the response head; it counts the
// connection in *conns once the dial succeeded.
func get(ctx context.Context, dial DialFunc, opts Options, acceptEncoding string, conns *int) (*response, string, string, error) {
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	raw, err := dial(ctx)
	if err != nil {
		return nil, opts.ServerName, "", fmt.Errorf("connect: %w", err)
	}
	defer raw.Close()
	*conns++
	host := hostHeader(opts.ServerName, raw.RemoteAddr())
	// The scan's connections reset their deadline on every read (a per-operation timeout), so
	// a server dripping bytes would never time out: closing the connection when the request's
	// time is up ends every pending and later read.
	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	defer stop()
	tc := tls.Client(raw, &tls.Config{
		ServerName:         opts.ServerName,
		InsecureSkipVerify: true, // the certificate is judged by the certificate analysis
		NextProtos:         []string{"http/1.1"},
		MinVersion:         tls.VersionTLS10,
		// Every suite crypto/tls implements, legacy ones included: this client only needs to
		// reach the HTTP layer, the suites are judged by the engine's enumeration.
		CipherSuites: allSuites,
	})
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, host, "", fmt.Errorf("TLS handshake: %w", ctxErr(ctx, err))
	}
	resp, err := exchangeH1(ctx, tc, host, opts.Path, acceptEncoding)
	return resp, host, "HTTP/1.1", err
}

// exchangeH1 sends one HTTP/1.1 GET on c and reads the response head (never the body).
func exchangeH1(ctx context.Context, c net.Conn, host, path, acceptEncoding string) (*response, error) {
	req := "GET " + path + " HTTP/1.1\r\n" +
		"Host: " + host + "\r\n" +
		"User-Agent: " + userAgent + "\r\n" +
		"Accept: " + accept + "\r\n" +
		"Accept-Encoding: " + acceptEncoding + "\r\n" +
		"Connection: close\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		return nil, fmt.Errorf("sending the request: %w", ctxErr(ctx, err))
	}
	lr := &limitReader{r: c, n: MaxHeaderBytes}
	br := bufio.NewReaderSize(lr, 4096)
	for interim := 0; ; interim++ {
		status, header, err := readHead(br)
		if err != nil {
			if lr.n <= 0 {
				return nil, fmt.Errorf("%w (%d bytes)", errTooLarge, MaxHeaderBytes)
			}
			if errors.Is(err, errHead) {
				return nil, fmt.Errorf("reading the response: %w", err)
			}
			return nil, fmt.Errorf("reading the response: %w", ctxErr(ctx, err))
		}
		// Interim responses (103 Early Hints …) precede the final one; the byte limit
		// covers them all. The body is never read: the connection is closed.
		if status >= 200 || status == http.StatusSwitchingProtocols || interim == 4 {
			return &response{status: status, header: header}, nil
		}
	}
}

// exchangeH2 sends one HTTP/2 GET on tc, which negotiated "h2", and reads the response head;
// the stream is reset instead of reading the body. net/http's HTTP/2 client bounds the
// header block at MaxHeaderBytes.
func exchangeH2(ctx context.Context, tc *tls.Conn, host, path, acceptEncoding string) (*response, error) {
	var used atomic.Bool
	tr := &http.Transport{
		DialTLSContext: func(context.Context, string, string) (net.Conn, error) {
			if used.Swap(true) {
				return nil, errors.New("the shared connection is gone")
			}
			return tc, nil
		},
		ForceAttemptHTTP2:      true,
		DisableCompression:     true, // Accept-Encoding is ours, and the body is never read
		MaxResponseHeaderBytes: MaxHeaderBytes,
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+host+path, nil)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", accept)
	req.Header.Set("Accept-Encoding", acceptEncoding)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return nil, fmt.Errorf("HTTP/2 request: %w", ctxErr(ctx, err))
	}
	_ = resp.Body.Close()
	h := http.Header{}
	fields := 0
fill:
	for name, vs := range resp.Header {
		for _, v := range vs {
			if fields++; fields > maxFields {
				break fill
			}
			h[name] = append(h[name], v)
		}
	}
	return &response{status: resp.StatusCode, header: h}, nil
}

// ctxErr prefers the context's reason (timeout, cancellation) over a deadline-induced I/O error.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("timed out: %w", err)
		}
		return ctx.Err()
	}
	return err
}

// hostHeader is the name (or address) and, unless it is 443, the port.
func hostHeader(name string, addr net.Addr) string {
	host, port := name, ""
	if ta, ok := addr.(*net.TCPAddr); ok {
		if host == "" {
			host = ta.IP.String()
			if ta.IP.To4() == nil {
				host = "[" + host + "]"
			}
		}
		if ta.Port != 443 {
			port = fmt.Sprint(ta.Port)
		}
	}
	if port != "" {
		return host + ":" + port
	}
	return host
}

func validPath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] <= ' ' || p[i] == 0x7f {
			return false
		}
	}
	return true
}

// limitReader returns EOF after n bytes.
type limitReader struct {
	r io.Reader
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// sanitize bounds s to n bytes and escapes control and non-printable bytes as \xNN.
func sanitize(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if b.Len() >= n {
			b.WriteString("…")
			break
		}
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			fmt.Fprintf(&b, "\\x%02x", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
