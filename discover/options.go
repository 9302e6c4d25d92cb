package discover

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rampart-scan/rampart/services"
)

// Options configure a Discoverer. The zero value asks the system's resolvers with defaults.
type Options struct {
	// Resolvers are the DNS servers to ask, each "udp:host:port", "tcp:host:port", "host:port"
	// or "host" (UDP, port 53). Empty: the nameservers of ResolvConf.
	Resolvers []string
	// ResolvConf is the file read for default resolvers; empty means /etc/resolv.conf.
	ResolvConf string
	// Scope lists the domains and CIDRs records may lead to. The targets themselves are always
	// in scope; with an empty Scope only they are.
	Scope []string
	// Wordlist enables brute force of subdomains of every domain target: nil means no brute
	// force, DefaultWordlist() the embedded list. See ReadWordlist.
	Wordlist []string
	// Retries is how many times a query that timed out or got SERVFAIL is sent again. NXDOMAIN
	// is an answer and is never retried. Negative: 0; zero: 2.
	Retries int
	// QueryRate bounds DNS packets per second over all resolvers (0: unlimited).
	QueryRate float64
	// Timeout bounds one DNS exchange (default 2s) and one HTTPS fetch (default 10s via
	// HTTPTimeout).
	Timeout     time.Duration
	HTTPTimeout time.Duration
	// Concurrency is the number of names resolved at once while brute forcing (default 64).
	Concurrency int
	// Hostsfile merges /etc/hosts into A/AAAA answers (off unless asked).
	Hostsfile bool
	// Services is the registry endpoints are named from (default services.Default()).
	Services *services.Registry
	// HTTP fetches Matrix .well-known and MTA-STS policies. When nil and Dial is set, a client
	// is built that resolves through these resolvers, stays in scope and dials with Dial.
	// When both are nil those documents are not fetched (a note says so).
	HTTP HTTPDoer
	// Dial opens a TCP connection (netx.Dialer.Dial). Used only to build the HTTP client.
	Dial func(ctx context.Context, addr netip.AddrPort) (net.Conn, error)
	// TLSConfig is the base TLS configuration of the built HTTP client (e.g. RootCAs of a lab).
	TLSConfig *tls.Config
	// NoFallback suppresses the A/AAAA fallbacks of XMPP, Matrix and SMTP when no SRV/MX
	// record exists (the protocols prescribe them; every fallback endpoint is tagged).
	NoFallback bool
	// NoHygiene skips the DNS hygiene facts (DNSSEC, CAA, MTA-STS, TLS-RPT, TLSA, disagreement).
	NoHygiene bool
	// MaxAddrsPerName caps the endpoints one name may yield (default 32).
	MaxAddrsPerName int
	// MaxCNAMEDepth caps CNAME chains (default 8).
	MaxCNAMEDepth int
}

// HTTPDoer is the part of *http.Client discovery uses.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

func (o *Options) withDefaults() {
	if o.Retries == 0 {
		o.Retries = 2
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.HTTPTimeout <= 0 {
		o.HTTPTimeout = 10 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.Services == nil {
		o.Services = services.Default()
	}
	if o.MaxAddrsPerName <= 0 {
		o.MaxAddrsPerName = 32
	}
	if o.MaxCNAMEDepth <= 0 {
		o.MaxCNAMEDepth = 8
	}
}

// server is one resolver.
type server struct {
	Net  string // "udp" or "tcp"
	Addr string // host:port
}

func (s server) String() string { return s.Net + ":" + s.Addr }

// ParseResolver reads one --resolver value: "udp:127.0.0.1:5353", "tcp:[::1]:53",
// "192.0.2.1:53" or "192.0.2.1". The host must be an IP address (a resolver named by a name
// would need a resolver first).
func ParseResolver(s string) (string, error) {
	srv, err := parseResolver(s)
	if err != nil {
		return "", err
	}
	return srv.String(), nil
}

func parseResolver(s string) (server, error) {
	in := strings.TrimSpace(s)
	netw := "udp"
	for _, p := range []string{"udp:", "tcp:"} {
		if strings.HasPrefix(strings.ToLower(in), p) {
			netw = p[:3]
			in = in[len(p):]
			break
		}
	}
	if in == "" {
		return server{}, fmt.Errorf("resolver %q: missing address", s)
	}
	host, port := in, "53"
	if a, err := netip.ParseAddr(strings.Trim(in, "[]")); err == nil {
		host = a.String()
	} else {
		h, p, err := net.SplitHostPort(in)
		if err != nil {
			return server{}, fmt.Errorf("resolver %q: want [udp:|tcp:]IP[:port]: %w", s, err)
		}
		host, port = h, p
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return server{}, fmt.Errorf("resolver %q: %q is not an IP address", s, host)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return server{}, fmt.Errorf("resolver %q: port %q out of range", s, port)
	}
	return server{Net: netw, Addr: netip.AddrPortFrom(a.Unmap(), uint16(n)).String()}, nil
}

// systemResolvers reads nameservers from a resolv.conf file. It never falls back to public
// resolvers: an unreadable or empty file is an error that tells the user to pass --resolver.
func systemResolvers(path string) ([]server, error) {
	if path == "" {
		path = "/etc/resolv.conf"
	}
	cc, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading system resolvers from %s (pass --resolver): %w", path, err)
	}
	var out []server
	for _, ns := range cc.Servers {
		srv, err := parseResolver(net.JoinHostPort(ns, cc.Port))
		if err != nil {
			continue // a scoped IPv6 link-local nameserver and the like
		}
		out = append(out, srv)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no usable nameserver in %s (pass --resolver)", path)
	}
	return out, nil
}
