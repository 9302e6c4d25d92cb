package discover

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/projectdiscovery/dnsx/libs/dnsx"
	"golang.org/x/time/rate"
)

// resolver sends every DNS packet of a discovery. A and AAAA go through the dnsx library
// (configured with MaxRetries 1, so an NXDOMAIN costs one packet, and retried here only on
// timeouts and SERVFAIL); every other type, and every query that needs the DO bit or one
// chosen server, is built with miekg/dns. Both paths wait on one packet-rate limiter.
type resolver struct {
	servers []server
	dx      map[uint16]*dnsx.DNSX // A and AAAA
	udp     *dns.Client
	tcp     *dns.Client
	lim     *rate.Limiter
	retries int
	timeout time.Duration
	next    atomic.Uint32
	packets atomic.Int64
}

// errServFail marks an answer a retry may fix.
var errServFail = errors.New("SERVFAIL")

func newResolver(servers []server, o *Options) (*resolver, error) {
	r := &resolver{
		servers: servers,
		dx:      map[uint16]*dnsx.DNSX{},
		udp:     &dns.Client{Net: "udp", Timeout: o.Timeout, UDPSize: 1232},
		tcp:     &dns.Client{Net: "tcp", Timeout: o.Timeout},
		lim:     rate.NewLimiter(rate.Inf, 0),
		retries: o.Retries,
		timeout: o.Timeout,
	}
	if o.QueryRate > 0 {
		burst := int(o.QueryRate / 10)
		if burst < 1 {
			burst = 1
		}
		r.lim = rate.NewLimiter(rate.Limit(o.QueryRate), burst)
	}
	base := make([]string, len(servers))
	for i, s := range servers {
		base[i] = s.String()
	}
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		d, err := dnsx.New(dnsx.Options{
			BaseResolvers: base,
			MaxRetries:    1,
			QuestionTypes: []uint16{qt},
			Hostsfile:     o.Hostsfile,
			Timeout:       o.Timeout,
		})
		if err != nil {
			return nil, fmt.Errorf("configuring dnsx: %w", err)
		}
		r.dx[qt] = d
	}
	return r, nil
}

// Packets is the number of DNS packets sent so far (queries, counting TCP fallbacks once).
func (r *resolver) Packets() int64 { return r.packets.Load() }

// lookupAddr asks for A or AAAA records of name through dnsx and returns the raw answer.
func (r *resolver) lookupAddr(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	d := r.dx[qtype]
	var lastErr error
	for attempt := 0; attempt <= r.retries; attempt++ {
		if err := r.lim.Wait(ctx); err != nil {
			return nil, err
		}
		r.packets.Add(1)
		type res struct {
			data *dns.Msg
			err  error
		}
		ch := make(chan res, 1)
		go func() {
			// dnsx takes no context; its Timeout bounds the call, and an abandoned call
			// ends on its own within that time.
			dd, err := d.QueryOne(name)
			var m *dns.Msg
			if dd != nil {
				m = dd.RawResp
			}
			ch <- res{m, err}
		}()
		var got res
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case got = <-ch:
		}
		switch {
		case got.data == nil && got.err == nil:
			lastErr = errors.New("no answer")
		case got.data == nil:
			lastErr = got.err
		case got.data.Rcode == dns.RcodeServerFailure:
			lastErr = errServFail
		case got.data.Truncated:
			lastErr = errors.New("answer truncated even over TCP")
		default:
			if err := checkAnswer(got.data, name, qtype); err != nil {
				return nil, err
			}
			return got.data, nil
		}
	}
	return nil, fmt.Errorf("%s %s: %w", dns.TypeToString[qtype], name, lastErr)
}

// query sends one question with miekg/dns to the next server (round robin), retrying on
// timeouts and SERVFAIL with the following servers.
func (r *resolver) query(ctx context.Context, name string, qtype uint16, dnssec bool) (*dns.Msg, error) {
	var lastErr error
	for attempt := 0; attempt <= r.retries; attempt++ {
		srv := r.servers[int(r.next.Add(1))%len(r.servers)]
		m, err := r.queryServer(ctx, srv, name, qtype, dnssec)
		if err == nil {
			return m, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var fe *formatError
		if errors.As(err, &fe) {
			return nil, err // a malformed answer is a fact about the server, not bad luck
		}
		lastErr = err
	}
	return nil, lastErr
}

// formatError is an answer that does not fit its question.
type formatError struct{ msg string }

func (e *formatError) Error() string { return e.msg }

// queryServer sends one question to one server; a truncated UDP answer is asked again over
// TCP. dnssec sets DO and AD, asking a validating resolver to validate.
func (r *resolver) queryServer(ctx context.Context, srv server, name string, qtype uint16, dnssec bool) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	m.SetEdns0(1232, dnssec)
	if dnssec {
		m.AuthenticatedData = true
	}
	c := r.udp
	if srv.Net == "tcp" {
		c = r.tcp
	}
	resp, err := r.exchange(ctx, c, m, srv.Addr)
	if err == nil && resp.Truncated && c == r.udp {
		resp, err = r.exchange(ctx, r.tcp, m, srv.Addr)
		if err == nil && resp.Truncated {
			err = fmt.Errorf("%s %s from %s: truncated even over TCP", dns.TypeToString[qtype], name, srv)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s from %s: %w", dns.TypeToString[qtype], name, srv, err)
	}
	if resp.Rcode == dns.RcodeServerFailure {
		return nil, fmt.Errorf("%s %s from %s: %w", dns.TypeToString[qtype], name, srv, errServFail)
	}
	if err := checkAnswer(resp, name, qtype); err != nil {
		return nil, fmt.Errorf("from %s: %w", srv, err)
	}
	return resp, nil
}

func (r *resolver) exchange(ctx context.Context, c *dns.Client, m *dns.Msg, addr string) (*dns.Msg, error) {
	if err := r.lim.Wait(ctx); err != nil {
		return nil, err
	}
	r.packets.Add(1)
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	resp, _, err := c.ExchangeContext(ctx, m, addr)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// checkAnswer rejects answers whose question does not echo ours.
func checkAnswer(m *dns.Msg, name string, qtype uint16) error {
	if len(m.Question) == 0 {
		return nil // some servers omit it on errors; the ID already matched
	}
	q := m.Question[0]
	if q.Qtype != qtype || !strings.EqualFold(q.Name, dns.Fqdn(name)) {
		return &formatError{fmt.Sprintf("answer to %s %s carries question %s %s", dns.TypeToString[qtype], name, dns.TypeToString[q.Qtype], q.Name)}
	}
	return nil
}
