// Package demo is Rampart's built-in lab: a small messaging estate with known faults, served
// in-process on loopback addresses only, so `rampart demo` shows the whole product with no
// network and end-to-end tests have a fixture that needs nothing installed.
package demo

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// Domain is the lab's DNS zone.
const Domain = "demo.rampart.test"

// Options configure a lab.
type Options struct {
	// Net is the /24 the lab binds to (default 127.77.0.0/24). Tests that run labs in
	// parallel give each its own.
	Net netip.Prefix
	// Now is the lab's clock for certificate validity (default time.Now).
	Now func() time.Time
}

// Endpoint describes one lab service and the fault it carries.
type Endpoint struct {
	Name    string // DNS name
	Addr    string // address:port it is reached at (as DNS says)
	Listen  string // address:port it really listens on
	Service string
	Fault   string // "" for a well-configured service
}

// Lab is a running demo estate.
type Lab struct {
	// DNS is the address of the lab's authoritative DNS server ("127.77.0.53:10053").
	DNS string
	// CAPEM is the lab CA; scans trust it like a --ca-file.
	CAPEM []byte
	// Roots is a pool holding the lab CA (and nothing else).
	Roots *x509.CertPool
	// ConnectTo maps well-known ports the lab cannot bind unprivileged to where it listens.
	ConnectTo map[string]string
	// Targets is what `rampart demo` scans.
	Targets []string
	// Ports is the exposure scan's port list for the lab's addresses.
	Ports     string
	Endpoints []Endpoint

	closers []func() error
}

// Start brings the lab up; Close takes it down. If an address is taken (another lab running),
// Start fails with an error that says so.
func Start(opts Options) (lab *Lab, err error) {
	if !opts.Net.IsValid() {
		opts.Net = netip.MustParsePrefix("127.77.0.0/24")
	}
	if !opts.Net.Addr().IsLoopback() || opts.Net.Bits() > 24 {
		return nil, fmt.Errorf("demo lab network %s must be a loopback /24 or larger", opts.Net)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	// Validity dates are rounded to the day so the lab's certificates stay identical across runs.
	t := now().UTC().Truncate(24 * time.Hour)
	base := opts.Net.Masked().Addr().As4()
	ip := func(last byte) string { return netip.AddrFrom4([4]byte{base[0], base[1], base[2], last}).String() }

	lab = &Lab{ConnectTo: map[string]string{}}
	defer func() {
		if err != nil {
			lab.Close()
			lab = nil
		}
	}()
	authority, err := newCA(t)
	if err != nil {
		return nil, err
	}
	lab.CAPEM = authority.PEM()
	lab.Roots = x509.NewCertPool()
	lab.Roots.AddCert(authority.cert)

	year := 365 * 24 * time.Hour
	name := func(h string) string { return h + "." + Domain }
	serial := int64(100)
	issue := func(s leafSpec) (*tls.Config, error) {
		serial++
		s.serial = serial
		if s.notBefore.IsZero() {
			s.notBefore, s.notAfter = t.Add(-30*24*time.Hour), t.Add(year/2)
		}
		cert, err := authority.issue(s)
		if err != nil {
			return nil, err
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}}, nil
	}

	good, err := issue(leafSpec{names: []string{Domain, name("xmpp")}})
	if err != nil {
		return nil, err
	}
	good.MinVersion = tls.VersionTLS13
	good.NextProtos = []string{"xmpp-client", "h2", "http/1.1"}

	legacy, err := issue(leafSpec{names: []string{name("mail")}})
	if err != nil {
		return nil, err
	}
	legacy.MinVersion, legacy.MaxVersion = tls.VersionTLS10, tls.VersionTLS10

	expired, err := issue(leafSpec{names: []string{name("imap")}, notBefore: t.Add(-2 * year), notAfter: t.Add(-40 * 24 * time.Hour)})
	if err != nil {
		return nil, err
	}
	// Matrix checks the certificate against the server name (the domain), not the SRV target.
	selfSigned, err := issue(leafSpec{names: []string{Domain, name("matrix")}, selfSigned: true})
	if err != nil {
		return nil, err
	}
	mismatch, err := issue(leafSpec{names: []string{"broker.example.net"}})
	if err != nil {
		return nil, err
	}
	// The second MQTT node (another "data centre") serves the right certificate: the two
	// addresses of mqtt.demo.rampart.test disagree.
	mqttGood, err := issue(leafSpec{names: []string{name("mqtt")}})
	if err != nil {
		return nil, err
	}
	mx, err := issue(leafSpec{names: []string{name("mx")}})
	if err != nil {
		return nil, err
	}
	// DANE-EE SPKI SHA-256 (3 1 1) for the MX: matches what the MX serves.
	mxLeaf, err := x509.ParseCertificate(mx.Certificates[0].Certificate[0])
	if err != nil {
		return nil, err
	}
	spki := sha256.Sum256(mxLeaf.RawSubjectPublicKeyInfo)

	type svc struct {
		host, addr, listen, service, fault string
		handle                             func(net.Conn)
	}
	svcs := []svc{
		{"", ip(10) + ":443", ip(10) + ":10443", "https", "", httpsHandler(good, goodWebHeaders)},
		{"xmpp", ip(10) + ":5223", ip(10) + ":5223", "xmpps-client", "", tlsHandler(good)},
		{"xmpp", ip(10) + ":5222", ip(10) + ":5222", "xmpp-client", "STARTTLS offered but not required", xmppHandler(Domain, good)},
		{"mail", ip(11) + ":10465", ip(11) + ":10465", "submissions", "TLS 1.0 only", tlsHandler(legacy)},
		{"imap", ip(12) + ":10993", ip(12) + ":10993", "imaps", "expired certificate", tlsHandler(expired)},
		{"matrix", ip(13) + ":8448", ip(13) + ":8448", "matrix", "self-signed certificate, no HSTS or security headers", httpsHandler(selfSigned, map[string]string{"Server": "synapse-demo"})},
		{"mqtt", ip(14) + ":8883", ip(14) + ":8883", "mqtts", "certificate for another name", tlsHandler(mismatch)},
		{"mqtt", ip(15) + ":8883", ip(15) + ":8883", "mqtts", "second node, other certificate than the first", tlsHandler(mqttGood)},
		{"mx", ip(25) + ":25", ip(25) + ":10025", "smtp", "plaintext AUTH before STARTTLS", smtpHandler(name("mx"), mx)},
		{"cache", ip(30) + ":6379", ip(30) + ":6379", "", "plaintext, unauthenticated Redis", redisHandler},
		{"cache", ip(30) + ":22", ip(30) + ":10022", "", "SSH open to the scan (found by the exposure scan)", sshHandler},
	}
	for _, s := range svcs {
		srv, err := listen(s.listen, s.handle)
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				return nil, fmt.Errorf("%w (is another demo lab running? use a different network)", err)
			}
			return nil, err
		}
		lab.closers = append(lab.closers, srv.Close)
		if s.addr != s.listen {
			lab.ConnectTo[s.addr] = s.listen
		}
		n := Domain
		if s.host != "" {
			n = name(s.host)
		}
		lab.Endpoints = append(lab.Endpoints, Endpoint{Name: n, Addr: s.addr, Listen: s.listen, Service: s.service, Fault: s.fault})
	}

	z := newZone(Domain)
	if err := z.add(
		"@ A "+ip(10),
		"@ MX 10 mx",
		"@ CAA 0 issue \"letsencrypt.org\"",
		"xmpp A "+ip(10),
		"chat CNAME xmpp",
		"mail A "+ip(11),
		"imap A "+ip(12),
		"matrix A "+ip(13),
		"mqtt A "+ip(14),
		"mqtt A "+ip(15),
		"mx A "+ip(25),
		"_25._tcp.mx TLSA 3 1 1 "+hex.EncodeToString(spki[:]),
		// A wildcard under a sub-zone: brute force (--wordlist) must tell its synthesised
		// answers from real names.
		"*.users A "+ip(10),
		"alice.users A "+ip(16),
		"cache A "+ip(30),
		"_xmpp-client._tcp SRV 0 5 5222 xmpp",
		"_xmpps-client._tcp SRV 0 5 5223 xmpp",
		"_xmpp-server._tcp SRV 0 0 0 .",
		"_submissions._tcp SRV 0 1 10465 mail",
		"_imaps._tcp SRV 0 1 10993 imap",
		"_imap._tcp SRV 0 0 0 .",
		"_matrix-fed._tcp SRV 10 5 8448 matrix",
		"_secure-mqtt._tcp SRV 0 0 8883 mqtt",
	); err != nil {
		return nil, err
	}
	lab.DNS = ip(53) + ":10053"
	stop, err := serveDNS(lab.DNS, z)
	if err != nil {
		return nil, err
	}
	lab.closers = append(lab.closers, func() error { stop(); return nil })
	lab.Targets = []string{Domain, "cache." + Domain + ":6379"}
	lab.Ports = "22,6379,5432,3306,11211,2375,2379,6443"
	return lab, nil
}

// Close stops every lab server.
func (l *Lab) Close() error {
	var errs []error
	for i := len(l.closers) - 1; i >= 0; i-- {
		errs = append(errs, l.closers[i]())
	}
	l.closers = nil
	return errors.Join(errs...)
}

// Describe writes the lab's layout for people.
func (l *Lab) Describe(w io.Writer) {
	fmt.Fprintf(w, "Demo lab %s: DNS at %s, %d services on loopback\n", Domain, l.DNS, len(l.Endpoints))
	for _, e := range l.Endpoints {
		fault := e.Fault
		if fault == "" {
			fault = "well configured"
		}
		svc := e.Service
		if svc == "" {
			svc = "tcp"
		}
		fmt.Fprintf(w, "  %-26s %-20s %-13s %s\n", e.Name, e.Addr, svc, fault)
	}
}
