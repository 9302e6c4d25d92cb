package discover

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// labTLS makes a CA and a server certificate for names.
func labTLS(t *testing.T, names ...string) (*x509.CertPool, tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Lab CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestBuiltHTTPClient runs the client discovery builds from Options.Dial: names resolve
// through the test zone, connections go through Dial, TLS verifies against the lab CA, and a
// redirected MTA-STS policy is not followed.
func TestBuiltHTTPClient(t *testing.T) {
	z := newZoneServer(t, "127.0.0.66", `
web.test. 300 IN SOA ns.web.test. h.web.test. 1 3600 600 86400 300
web.test. 300 IN A 127.0.0.67
web.test. 300 IN MX 10 mx.web.test.
mx.web.test. 300 IN A 127.0.0.68
mta-sts.web.test. 300 IN A 127.0.0.67
_mta-sts.web.test. 300 IN TXT "v=STSv1; id=7"
matrix.web.test. 300 IN A 127.0.0.69
`)
	pool, cert := labTLS(t, "web.test", "mta-sts.web.test")
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/matrix/server", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"m.server":"matrix.web.test:8443"}`))
	})
	mux.HandleFunc("/.well-known/mta-sts.txt", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example/policy", http.StatusMovedPermanently)
	})
	srv := httptest.NewUnstartedServer(mux)
	ln, err := net.Listen("tcp", "127.0.0.67:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()
	serverAddr := netip.MustParseAddrPort(ln.Addr().String())

	var dials atomic.Int64
	dial := func(ctx context.Context, ap netip.AddrPort) (net.Conn, error) {
		dials.Add(1)
		if ap != netip.MustParseAddrPort("127.0.0.67:443") {
			t.Errorf("dialled %s", ap)
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", serverAddr.String())
	}
	d := newTest(t, Options{Resolvers: []string{z.Resolver()}, Dial: dial, TLSConfig: &tls.Config{RootCAs: pool}, NoFallback: true})
	res, err := d.Discover(context.Background(), []model.Target{target("web.test")})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range res.Endpoints {
		if e.ID() == "matrix://matrix.web.test@127.0.0.69:8443" {
			found = true
		}
	}
	if !found {
		t.Errorf("Matrix delegation not followed: %v %+v", ids(res.Endpoints), res.Notes)
	}
	m := res.Domains[0].MTASTS
	if m == nil || m.Fetched || !strings.Contains(m.FetchError, "HTTP 301") {
		t.Errorf("redirected policy: %+v", m)
	}
	if dials.Load() < 2 {
		t.Errorf("%d dials through Options.Dial", dials.Load())
	}
}
