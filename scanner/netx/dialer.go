// Package netx is the one way Rampart opens connections. Every probe dials through a Dialer,
// so the global connection rate, the per-address concurrency cap, the dial/read timeouts and
// cancellation hold for every byte a scan sends, whatever the probe.
package netx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Options configure a Dialer.
type Options struct {
	// Timeout bounds each dial and each Read/Write on a returned connection. Zero: 5s.
	Timeout time.Duration
	// Rate is the global number of new connections per second; zero means unlimited.
	Rate float64
	// PerAddress caps concurrent open connections to one IP address; zero means 4.
	PerAddress int
	// ConnectTo maps a dialled "host:port" (as the endpoint names it) to the address actually
	// dialled, like curl's --connect-to. The demo lab uses it to serve well-known ports
	// (SMTP's 25) from unprivileged ones.
	ConnectTo map[string]string
}

// Dialer opens TCP connections under the scan's limits. It is safe for concurrent use.
type Dialer struct {
	opts    Options
	limiter *rate.Limiter

	mu   sync.Mutex
	sems map[netip.Addr]chan struct{}

	dials atomic.Int64
}

// New returns a Dialer with opts.
func New(opts Options) *Dialer {
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.PerAddress <= 0 {
		opts.PerAddress = 4
	}
	lim := rate.NewLimiter(rate.Inf, 0)
	if opts.Rate > 0 {
		burst := int(opts.Rate)
		if burst < 1 {
			burst = 1
		}
		lim = rate.NewLimiter(rate.Limit(opts.Rate), burst)
	}
	return &Dialer{opts: opts, limiter: lim, sems: map[netip.Addr]chan struct{}{}}
}

// Timeout is the per-operation timeout the dialer applies.
func (d *Dialer) Timeout() time.Duration { return d.opts.Timeout }

// Dials is the number of TCP connection attempts made so far.
func (d *Dialer) Dials() int64 { return d.dials.Load() }

func (d *Dialer) sem(a netip.Addr) chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.sems[a]
	if !ok {
		s = make(chan struct{}, d.opts.PerAddress)
		d.sems[a] = s
	}
	return s
}

// Dial connects to addr (an IP:port) over TCP. It waits for a per-address slot and for the
// global rate limiter, both abandoned when ctx ends. The returned connection applies the
// read/write timeout to every operation, is closed when ctx ends, and frees its slot on Close.
func (d *Dialer) Dial(ctx context.Context, addr netip.AddrPort) (net.Conn, error) {
	target := addr.String()
	if to, ok := d.opts.ConnectTo[target]; ok {
		target = to
	}
	ap, err := netip.ParseAddrPort(target)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", target, err)
	}
	sem := d.sem(ap.Addr().Unmap())
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release := func() { <-sem }
	if err := d.limiter.Wait(ctx); err != nil {
		release()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("rate limiter: %w", err)
	}
	d.dials.Add(1)
	dctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	var nd net.Dialer
	c, err := nd.DialContext(dctx, "tcp", ap.String())
	if err != nil {
		release()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	tc := &conn{Conn: c, timeout: d.opts.Timeout, release: release}
	tc.stop = context.AfterFunc(ctx, func() { _ = tc.Close() })
	return tc, nil
}

// conn applies the per-operation timeout and releases the per-address slot on Close.
type conn struct {
	net.Conn
	timeout time.Duration
	release func()
	stop    func() bool
	once    sync.Once
}

func (c *conn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *conn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// CloseWrite half-closes the connection (TCP FIN), so a server waiting for more data reads
// end-of-stream at once; probes use it to end an exchange without waiting out a timeout.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("netx: connection cannot half-close")
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.stop()
		c.release()
	})
	return err
}

// IsTimeout reports whether err is a timeout (dial, read or deadline).
func IsTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
