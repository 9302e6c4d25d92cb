package discover

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
)

// newHTTPClient builds the client for .well-known and MTA-STS documents: names resolve
// through the discovery resolvers, every connection goes through Options.Dial, and redirects
// are never followed. Discovery only fetches from a target domain or its mta-sts. child, so
// the client never leaves the scope.
func (d *Discoverer) newHTTPClient() *http.Client {
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.dialName,
		TLSClientConfig:        d.tlsConfig(),
		ForceAttemptHTTP2:      false,
		MaxResponseHeaderBytes: 16 << 10,
		TLSHandshakeTimeout:    d.opts.HTTPTimeout,
		ResponseHeaderTimeout:  d.opts.HTTPTimeout,
		DisableKeepAlives:      true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   d.opts.HTTPTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func (d *Discoverer) tlsConfig() *tls.Config {
	if d.opts.TLSConfig != nil {
		return d.opts.TLSConfig.Clone()
	}
	return &tls.Config{MinVersion: tls.VersionTLS12}
}

// dialName resolves host through the discovery resolvers and dials the first address that
// answers with Options.Dial.
func (d *Discoverer) dialName(ctx context.Context, _, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	p, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dialling %s: bad port: %w", addr, err)
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		nr := d.resolveName(ctx, host)
		if nr.Err != nil {
			return nil, nr.Err
		}
		addrs = nr.Addrs
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("dialling %s: no addresses", host)
	}
	var lastErr error
	for _, a := range addrs {
		c, err := d.opts.Dial(ctx, netip.AddrPortFrom(a, uint16(p)))
		if err == nil {
			return c, nil
		}
		lastErr = err
	}
	return nil, lastErr
}
