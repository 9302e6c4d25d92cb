// Package avail measures an endpoint's availability: it connects (and optionally shakes
// hands) a number of times through the scan's dialer and records latency and the error rate
// as facts (model.AvailabilityFacts), so history can show trends.
package avail

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// Dialer opens TCP connections; *netx.Dialer is the implementation scans pass.
type Dialer interface {
	Dial(ctx context.Context, addr netip.AddrPort) (net.Conn, error)
}

// Handshake runs a protocol handshake on a fresh connection (e.g. a TLS handshake). It must
// honour ctx and return when done; the connection is closed by Measure.
type Handshake func(ctx context.Context, c net.Conn) error

// Options configure a measurement.
type Options struct {
	// Attempts is how many connections to make. Zero: 5.
	Attempts int
	// Interval is the pause between attempts (spreads them so one blip does not fail them
	// all). Zero: no pause.
	Interval time.Duration
	// Handshake, when set, runs after each successful connect and is timed separately.
	Handshake Handshake
}

// maxErrorKinds bounds how many distinct errors are recorded.
const maxErrorKinds = 8

// Measure is MeasureWith with only Attempts and Handshake set.
func Measure(ctx context.Context, d Dialer, addr netip.AddrPort, attempts int, handshake Handshake) model.AvailabilityFacts {
	return MeasureWith(ctx, d, addr, Options{Attempts: attempts, Handshake: handshake})
}

// MeasureWith connects to addr opts.Attempts times, one after another, through d. An attempt
// succeeds when its connect (and handshake, if any) succeeds. When ctx ends the facts cover
// the attempts made and Interrupted is set.
func MeasureWith(ctx context.Context, d Dialer, addr netip.AddrPort, opts Options) model.AvailabilityFacts {
	if opts.Attempts <= 0 {
		opts.Attempts = 5
	}
	facts := model.AvailabilityFacts{Handshake: opts.Handshake != nil}
	var connects, handshakes []time.Duration
	fail := func(stage string, err error) {
		msg := err.Error()
		for i := range facts.Errors {
			if facts.Errors[i].Stage == stage && facts.Errors[i].Error == msg {
				facts.Errors[i].Count++
				return
			}
		}
		if len(facts.Errors) < maxErrorKinds {
			facts.Errors = append(facts.Errors, model.AttemptError{Stage: stage, Error: msg, Count: 1})
		}
	}
	for i := range opts.Attempts {
		if i > 0 && opts.Interval > 0 {
			select {
			case <-time.After(opts.Interval):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			facts.Interrupted = true
			break
		}
		start := time.Now()
		c, err := d.Dial(ctx, addr)
		if err != nil {
			if ended(ctx) {
				facts.Interrupted = true
				break
			}
			facts.Attempts++
			fail("connect", err)
			continue
		}
		facts.Attempts++
		connects = append(connects, time.Since(start))
		if opts.Handshake != nil {
			hs := time.Now()
			err := opts.Handshake(ctx, c)
			if err != nil {
				_ = c.Close()
				if ended(ctx) {
					facts.Attempts--
					facts.Interrupted = true
					break
				}
				fail("handshake", err)
				continue
			}
			handshakes = append(handshakes, time.Since(hs))
		}
		_ = c.Close()
		facts.Successes++
	}
	if facts.Attempts > 0 {
		facts.ErrorRate = float64(facts.Attempts-facts.Successes) / float64(facts.Attempts)
	}
	facts.ConnectMin, facts.ConnectMedian, facts.ConnectMax = stats(connects)
	facts.HandshakeMin, facts.HandshakeMedian, facts.HandshakeMax = stats(handshakes)
	return facts
}

// ended reports whether ctx is done or its deadline has passed (a dial can fail on the
// deadline a moment before ctx reports it).
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// stats returns min, median and max (the median of an even count is the mean of the middle
// two).
func stats(ds []time.Duration) (lo, med, hi time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	med = s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return s[0], med, s[n-1]
}

// TLSHandshake returns a Handshake that completes a TLS handshake (any certificate: this
// measures availability, the TLS prober judges the chain), offering serverName as SNI when
// it is not empty.
func TLSHandshake(serverName string) Handshake {
	return func(ctx context.Context, c net.Conn) error {
		cfg := &tls.Config{
			InsecureSkipVerify: true, //nolint:gosec // timing only; see above
			ServerName:         serverName,
			MinVersion:         tls.VersionTLS10,
		}
		if err := tls.Client(c, cfg).HandshakeContext(ctx); err != nil {
			return fmt.Errorf("tls handshake: %w", err)
		}
		return nil
	}
}
