// Package certtest makes certificate chains for tests: a CA, intermediates and leaves with RSA,
// ECDSA or Ed25519 keys, SANs (including XMPP otherNames), must-staple and chosen EKUs.
package certtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Key kinds.
const (
	RSA2048 = "rsa2048"
	RSA1024 = "rsa1024"
	P256    = "p256"
	P384    = "p384"
	Ed25519 = "ed25519"
)

var (
	keyMu    sync.Mutex
	keyCache = map[string]crypto.Signer{}
)

// Key returns the n-th key of kind, generated once per process and reused to keep tests fast.
func Key(kind string, n int) crypto.Signer {
	keyMu.Lock()
	defer keyMu.Unlock()
	k := fmt.Sprintf("%s/%d", kind, n)
	if s, ok := keyCache[k]; ok {
		return s
	}
	var s crypto.Signer
	var err error
	switch kind {
	case RSA2048:
		s, err = rsa.GenerateKey(rand.Reader, 2048)
	case RSA1024:
		s, err = rsa.GenerateKey(rand.Reader, 1024)
	case P256:
		s, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case P384:
		s, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case Ed25519:
		_, s, err = ed25519.GenerateKey(rand.Reader)
	default:
		panic("certtest: unknown key kind " + kind)
	}
	if err != nil {
		panic(err)
	}
	keyCache[k] = s
	return s
}

// Spec describes one certificate.
type Spec struct {
	CN         string
	DNS        []string
	IPs        []net.IP
	SRVNames   []string // RFC 4985 SRVName otherNames, e.g. "_xmpp-client.example.org"
	XmppAddrs  []string // RFC 6120 XmppAddr otherNames
	IsCA       bool
	Key        crypto.Signer // nil: a P-256 key
	NotBefore  time.Time     // zero: an hour ago
	NotAfter   time.Time     // zero: 90 days on
	EKU        []x509.ExtKeyUsage
	NoEKU      bool // omit the EKU extension
	MustStaple bool
	SigAlg     x509.SignatureAlgorithm
	// SCTs is the number of (fake, unverifiable) embedded SCTs to add.
	SCTs int
}

// Cert is an issued certificate with its key.
type Cert struct {
	DER  []byte
	Cert *x509.Certificate
	Key  crypto.Signer
}

var serial int64 = 1000

// Issue makes a certificate from spec, signed by parent (nil: self-signed).
func Issue(spec Spec, parent *Cert) *Cert {
	key := spec.Key
	if key == nil {
		key = Key(P256, 0)
	}
	keyMu.Lock()
	serial++
	sn := serial
	keyMu.Unlock()
	nb, na := spec.NotBefore, spec.NotAfter
	if nb.IsZero() {
		nb = time.Now().Add(-time.Hour)
	}
	if na.IsZero() {
		na = time.Now().Add(90 * 24 * time.Hour)
	}
	t := &x509.Certificate{
		SerialNumber:          big.NewInt(sn),
		Subject:               pkix.Name{CommonName: spec.CN, Organization: []string{"Rampart Test"}},
		NotBefore:             nb,
		NotAfter:              na,
		BasicConstraintsValid: true,
		IsCA:                  spec.IsCA,
		SignatureAlgorithm:    spec.SigAlg,
	}
	if spec.IsCA {
		t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	} else {
		t.KeyUsage = x509.KeyUsageDigitalSignature
		if _, ok := key.(*rsa.PrivateKey); ok {
			t.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
		if !spec.NoEKU {
			t.ExtKeyUsage = spec.EKU
			if t.ExtKeyUsage == nil {
				t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
			}
		}
	}
	if len(spec.SRVNames)+len(spec.XmppAddrs) > 0 {
		t.ExtraExtensions = append(t.ExtraExtensions, sanExtension(spec))
	} else {
		t.DNSNames, t.IPAddresses = spec.DNS, spec.IPs
	}
	if spec.MustStaple {
		v, _ := asn1.Marshal([]int{5})
		t.ExtraExtensions = append(t.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 24}, Value: v})
	}
	if spec.SCTs > 0 {
		t.ExtraExtensions = append(t.ExtraExtensions, sctExtension(spec.SCTs))
	}
	parentCert, parentKey := t, key
	if parent != nil {
		parentCert, parentKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, t, parentCert, key.Public(), parentKey)
	if err != nil {
		panic(fmt.Sprintf("certtest: create %s: %v", spec.CN, err))
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return &Cert{DER: der, Cert: c, Key: key}
}

// sctExtension builds an RFC 6962 SignedCertificateTimestampList of n well-formed v1 SCTs
// with dummy log IDs and signatures.
func sctExtension(n int) pkix.Extension {
	var list []byte
	for i := 0; i < n; i++ {
		sct := []byte{0}                             // v1
		sct = append(sct, make([]byte, 32)...)       // log ID
		sct[1] = byte(i + 1)                         // distinct logs
		sct = append(sct, 0, 0, 1, 0x8c, 0, 0, 0, 0) // timestamp
		sct = append(sct, 0, 0)                      // no extensions
		sct = append(sct, 4, 3, 0, 4, 1, 2, 3, 4)    // SHA-256/ECDSA, 4-byte signature
		list = append(list, byte(len(sct)>>8), byte(len(sct)))
		list = append(list, sct...)
	}
	v, _ := asn1.Marshal(append([]byte{byte(len(list) >> 8), byte(len(list))}, list...))
	return pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}, Value: v}
}

// sanExtension builds a subjectAltName with DNS names, IPs and XMPP otherNames.
func sanExtension(spec Spec) pkix.Extension {
	var names []asn1.RawValue
	other := func(oid asn1.ObjectIdentifier, tag int, s string) {
		inner, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: tag, Bytes: []byte(s)})
		explicit, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner})
		oidDER, _ := asn1.Marshal(oid)
		names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(oidDER, explicit...)})
	}
	for _, s := range spec.SRVNames {
		other(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 8, 7}, asn1.TagIA5String, s)
	}
	for _, s := range spec.XmppAddrs {
		other(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 8, 5}, asn1.TagUTF8String, s)
	}
	for _, d := range spec.DNS {
		names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, Bytes: []byte(d)})
	}
	for _, ip := range spec.IPs {
		b := ip.To4()
		if b == nil {
			b = ip
		}
		names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 7, Bytes: b})
	}
	v, err := asn1.Marshal(names)
	if err != nil {
		panic(err)
	}
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 17}, Value: v}
}

// Chain is a test PKI: a root, an intermediate and leaves under it.
type Chain struct {
	Root, Inter *Cert
}

// NewChain makes a root CA and an intermediate.
func NewChain(name string) *Chain {
	root := Issue(Spec{CN: name + " Root", IsCA: true, Key: Key(P256, 1), NotAfter: time.Now().Add(3650 * 24 * time.Hour)}, nil)
	inter := Issue(Spec{CN: name + " Intermediate", IsCA: true, Key: Key(P256, 2), NotAfter: time.Now().Add(3650 * 24 * time.Hour)}, root)
	return &Chain{Root: root, Inter: inter}
}

// Leaf issues a leaf under the intermediate.
func (c *Chain) Leaf(spec Spec) *Cert { return Issue(spec, c.Inter) }

// Pool is a pool holding only the root.
func (c *Chain) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Root.Cert)
	return p
}

// TLS builds a tls.Certificate of leaf followed by the given certificates.
func TLS(leaf *Cert, rest ...*Cert) tls.Certificate {
	tc := tls.Certificate{Certificate: [][]byte{leaf.DER}, PrivateKey: leaf.Key, Leaf: leaf.Cert}
	for _, r := range rest {
		tc.Certificate = append(tc.Certificate, r.DER)
	}
	return tc
}

// WritePEM writes the certificates (cert file) and leaf key (key file) into dir and returns
// their paths, for real servers such as openssl s_server.
func WritePEM(dir, name string, leaf *Cert, rest ...*Cert) (certFile, keyFile string, err error) {
	certFile = filepath.Join(dir, name+".crt")
	keyFile = filepath.Join(dir, name+".key")
	var out []byte
	for _, c := range append([]*Cert{leaf}, rest...) {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.DER})...)
	}
	if err = os.WriteFile(certFile, out, 0o600); err != nil {
		return "", "", fmt.Errorf("write cert: %w", err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(leaf.Key)
	if err != nil {
		return "", "", fmt.Errorf("marshal key: %w", err)
	}
	if err = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return "", "", fmt.Errorf("write key: %w", err)
	}
	return certFile, keyFile, nil
}
