package demo

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

//go:embed keys/ca.pem
var caKeyPEM []byte

//go:embed keys/leaf.pem
var leafKeyPEM []byte

// parseKey reads one of the lab's fixed RSA keys.
func parseKey(p []byte) (*rsa.PrivateKey, error) {
	b, _ := pem.Decode(p)
	if b == nil {
		return nil, fmt.Errorf("demo key: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("demo key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("demo key: %T is not RSA", k)
	}
	return rk, nil
}

// ca is the lab's private certificate authority.
type ca struct {
	cert    *x509.Certificate
	key     *rsa.PrivateKey
	leafKey *rsa.PrivateKey
}

// newCA creates the lab CA. Keys are fixed and RSA PKCS#1 v1.5 signatures deterministic, and
// now is rounded to the day, so the lab's certificates are the same on every run of a day.
func newCA(now time.Time) (*ca, error) {
	key, err := parseKey(caKeyPEM)
	if err != nil {
		return nil, err
	}
	leafKey, err := parseKey(leafKeyPEM)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Rampart Demo Lab CA", Organization: []string{"Rampart demo"}},
		NotBefore:             now.Add(-3 * 365 * 24 * time.Hour),
		NotAfter:              now.Add(5 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &ca{cert: c, key: key, leafKey: leafKey}, nil
}

// PEM returns the CA certificate in PEM.
func (c *ca) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw})
}

// leafSpec describes one server certificate of the lab.
type leafSpec struct {
	names      []string
	ips        []net.IP
	notBefore  time.Time
	notAfter   time.Time
	selfSigned bool
	serial     int64
}

func (c *ca) issue(s leafSpec) (tls.Certificate, error) {
	key := c.leafKey
	cn := "demo"
	if len(s.names) > 0 {
		cn = s.names[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(s.serial),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Rampart demo"}},
		DNSNames:     s.names,
		IPAddresses:  s.ips,
		NotBefore:    s.notBefore,
		NotAfter:     s.notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	parent, signer := c.cert, any(c.key)
	if s.selfSigned {
		tmpl.BasicConstraintsValid = true
		parent, signer = tmpl, any(key)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("certificate for %s: %w", cn, err)
	}
	chain := [][]byte{der}
	if !s.selfSigned {
		chain = append(chain, c.cert.Raw)
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key}, nil
}
