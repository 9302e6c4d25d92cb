package scanner

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/demo"
	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/netx"
	"github.com/rampart-scan/rampart/services"
)

func startLab(t *testing.T, net string) *demo.Lab {
	t.Helper()
	lab, err := demo.Start(demo.Options{Net: netip.MustParsePrefix(net)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.Close() })
	return lab
}

func labEndpoint(t *testing.T, lab *demo.Lab, service string) model.Endpoint {
	t.Helper()
	for _, e := range lab.Endpoints {
		if e.Service == service {
			return model.Endpoint{Name: e.Name, Addr: netip.MustParseAddrPort(e.Addr), Service: e.Service}
		}
	}
	t.Fatalf("lab has no %s endpoint", service)
	return model.Endpoint{}
}

func TestAuditProbeAgainstLab(t *testing.T) {
	lab := startLab(t, "127.78.1.0/24")
	p := &AuditProbe{
		Dialer:   netx.New(netx.Options{Timeout: 2 * time.Second, ConnectTo: lab.ConnectTo}),
		Services: services.Default(),
		Roots:    lab.Roots,
	}
	ctx := context.Background()

	t.Run("good TLS 1.3", func(t *testing.T) {
		obs := p.Probe(ctx, labEndpoint(t, lab, "xmpps-client"))
		if obs.Status != model.StatusOK || obs.TLS == nil || obs.TLS.Handshake == nil {
			t.Fatalf("obs = %+v", obs)
		}
		h := obs.TLS.Handshake
		if h.VersionID != tls.VersionTLS13 || h.ALPN != "xmpp-client" || h.ServerName != "xmpp."+demo.Domain {
			t.Errorf("handshake = %+v", h)
		}
		c := obs.Certificates
		if !c.Trusted || !c.NameMatches || len(c.Chain) != 2 || c.Chain[0].SelfSigned || len(c.VerifiedChain) != 2 {
			t.Errorf("certificates = %+v", c)
		}
		if !obs.Connect.Reachable || obs.Connect.Latency <= 0 || h.Latency <= 0 || obs.Duration < h.Latency {
			t.Errorf("latencies not recorded: %+v %+v", obs.Connect, h)
		}
	})
	t.Run("TLS 1.0 only", func(t *testing.T) {
		obs := p.Probe(ctx, labEndpoint(t, lab, "submissions"))
		if obs.TLS.Handshake == nil || obs.TLS.Handshake.VersionID != tls.VersionTLS10 {
			t.Fatalf("tls = %+v", obs.TLS)
		}
	})
	t.Run("expired but trusted", func(t *testing.T) {
		obs := p.Probe(ctx, labEndpoint(t, lab, "imaps"))
		c := obs.Certificates
		if !c.Trusted || !c.NameMatches {
			t.Fatalf("an expired certificate from the lab CA must still be trusted: %+v", c)
		}
		if !c.Chain[0].NotAfter.Before(time.Now()) {
			t.Fatalf("NotAfter %s not in the past", c.Chain[0].NotAfter)
		}
	})
	t.Run("self-signed", func(t *testing.T) {
		obs := p.Probe(ctx, labEndpoint(t, lab, "matrix"))
		c := obs.Certificates
		if c.Trusted || !c.Chain[0].SelfSigned || c.TrustError == "" {
			t.Fatalf("certificates = %+v", c)
		}
	})
	t.Run("name mismatch", func(t *testing.T) {
		obs := p.Probe(ctx, labEndpoint(t, lab, "mqtts"))
		c := obs.Certificates
		if !c.Trusted || c.NameMatches || c.NameChecked != "mqtt."+demo.Domain || !strings.Contains(c.NameError, "broker.example.net") {
			t.Fatalf("certificates = %+v", c)
		}
	})
	t.Run("plaintext port", func(t *testing.T) {
		ep := model.Endpoint{Name: "cache." + demo.Domain, Addr: netip.MustParseAddrPort("127.78.1.30:6379")}
		obs := p.Probe(ctx, ep)
		if obs.TLS == nil || obs.TLS.Speaks || obs.TLS.HandshakeError == "" {
			t.Fatalf("tls = %+v", obs.TLS)
		}
	})
	t.Run("refused", func(t *testing.T) {
		obs := p.Probe(ctx, model.Endpoint{Addr: netip.MustParseAddrPort("127.78.1.99:9")})
		if obs.Status != model.StatusUnreachable || obs.Connect.Reachable {
			t.Fatalf("obs = %+v", obs)
		}
	})
}

// silentServer accepts and never speaks.
func silentServer(t *testing.T, addr string) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for _, c := range conns {
			c.Close()
		}
	})
	return netip.MustParseAddrPort(ln.Addr().String())
}

func TestAuditProbeSilentServerTimesOut(t *testing.T) {
	ap := silentServer(t, "127.78.2.1:0")
	p := &AuditProbe{Dialer: netx.New(netx.Options{Timeout: 300 * time.Millisecond}), Services: services.Default()}
	start := time.Now()
	obs := p.Probe(context.Background(), model.Endpoint{Addr: ap, Service: "https"})
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("probe of a silent server took %s with a 300ms timeout", el)
	}
	if obs.Status != model.StatusTimeout || !obs.Connect.Reachable {
		t.Fatalf("obs = %+v", obs)
	}
}

func TestAuditProbeCancelEndsPromptly(t *testing.T) {
	ap := silentServer(t, "127.78.2.2:0")
	p := &AuditProbe{Dialer: netx.New(netx.Options{Timeout: time.Minute}), Services: services.Default()}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	obs := p.Probe(ctx, model.Endpoint{Addr: ap, Service: "https"})
	if el := time.Since(start); el > time.Second {
		t.Fatalf("cancelled probe took %s", el)
	}
	if obs.Status != model.StatusInterrupted {
		t.Fatalf("status = %s, want interrupted", obs.Status)
	}
}

func TestSanitize(t *testing.T) {
	got := sanitize("CN=evil\x1b[31m\nx", 100)
	if strings.ContainsAny(got, "\x1b\n") {
		t.Fatalf("control characters survived: %q", got)
	}
	if got := sanitize(strings.Repeat("a", 1000), 10); len(got) > 14 {
		t.Fatalf("not bounded: %q", got)
	}
}

// TestAuditExhaustive checks that AuditProbe.Exhaustive reaches both the engine and the
// inspection: what a full audit settles (SSL 2.0 on a TLS 1.3 server, the fallback probe
// with nothing to fall back to, session IDs on a ticket-issuing server) is then asked.
func TestAuditExhaustive(t *testing.T) {
	lab := startLab(t, "127.78.2.0/24")
	ep := labEndpoint(t, lab, "imaps") // Go defaults: TLS 1.2 and 1.3, TLS 1.2 tickets
	var conns [2]int
	for i, exhaustive := range []bool{false, true} {
		p := &AuditProbe{Dialer: netx.New(netx.Options{Timeout: 2 * time.Second, ConnectTo: lab.ConnectTo}),
			Services: services.Default(), Roots: lab.Roots, Depth: DepthFull, NoVulns: true, Exhaustive: exhaustive}
		obs := p.Probe(context.Background(), ep)
		if obs.TLS == nil || obs.TLS.Engine == nil || obs.TLS.Features == nil {
			t.Fatalf("exhaustive=%v: no full audit: %+v", exhaustive, obs.TLS)
		}
		var ssl2 model.EngineVersion
		for _, v := range obs.TLS.Engine.Versions {
			if v.VersionID == 0x0002 {
				ssl2 = v
			}
		}
		f := obs.TLS.Features
		want := map[bool][3]string{false: {"inferred", "not-needed", "skipped"}, true: {"probed", "rejected", "no-session-id"}}[exhaustive]
		got := [3]string{map[bool]string{true: "inferred", false: "probed"}[ssl2.Inferred], f.Fallback, f.SessionIDResumption}
		if got != want || ssl2.Supported {
			t.Errorf("exhaustive=%v: SSL 2.0 %s (supported %v), fallback %q, session IDs %q; want %v", exhaustive, got[0], ssl2.Supported, got[1], got[2], want)
		}
		conns[i] = obs.TLS.Engine.Connections + f.Connections
	}
	if conns[1] <= conns[0] {
		t.Errorf("exhaustive audit made %d connections, the default %d", conns[1], conns[0])
	}
}
