package discover

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"net/netip"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
)

func testChain(t *testing.T) (leaf, ca *x509.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "mx.example.test"}, DNSNames: []string{"mx.example.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ = x509.ParseCertificate(leafDER)
	return leaf, ca
}

func TestMatchTLSA(t *testing.T) {
	leaf, ca := testChain(t)
	chain := [][]byte{leaf.Raw, ca.Raw}
	spki := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	full512 := sha512.Sum512(leaf.Raw)
	caSPKI := sha256.Sum256(ca.RawSubjectPublicKeyInfo)
	other := sha256.Sum256([]byte("other"))
	cases := []struct {
		name string
		recs []model.TLSARecord
		want bool
	}{
		{"DANE-EE SPKI SHA-256", []model.TLSARecord{{Usage: 3, Selector: 1, MatchingType: 1, Data: hex.EncodeToString(spki[:])}}, true},
		{"DANE-EE cert SHA-512", []model.TLSARecord{{Usage: 3, Selector: 0, MatchingType: 2, Data: hex.EncodeToString(full512[:])}}, true},
		{"DANE-EE full cert", []model.TLSARecord{{Usage: 3, Selector: 0, MatchingType: 0, Data: hex.EncodeToString(leaf.Raw)}}, true},
		{"DANE-TA CA SPKI", []model.TLSARecord{{Usage: 2, Selector: 1, MatchingType: 1, Data: hex.EncodeToString(caSPKI[:])}}, true},
		{"DANE-TA does not match the leaf", []model.TLSARecord{{Usage: 2, Selector: 1, MatchingType: 1, Data: hex.EncodeToString(spki[:])}}, false},
		{"stale key", []model.TLSARecord{{Usage: 3, Selector: 1, MatchingType: 1, Data: hex.EncodeToString(other[:])}}, false},
		{"one of two matches", []model.TLSARecord{{Usage: 3, Selector: 1, MatchingType: 1, Data: hex.EncodeToString(other[:])}, {Usage: 3, Selector: 1, MatchingType: 1, Data: hex.EncodeToString(spki[:])}}, true},
		{"not hex", []model.TLSARecord{{Usage: 3, Selector: 1, MatchingType: 1, Data: "zz"}}, false},
		{"unknown usage", []model.TLSARecord{{Usage: 9, Selector: 1, MatchingType: 1, Data: hex.EncodeToString(spki[:])}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := MatchTLSA(c.recs, chain)
			if m.Matched != c.want {
				t.Errorf("matched %v, want %v (%+v)", m.Matched, c.want, m)
			}
			if !m.Matched && m.Detail == "" {
				t.Error("a miss without detail")
			}
		})
	}
	if m := MatchTLSA(cases[0].recs, nil); m.Matched {
		t.Error("matched an empty chain")
	}

	obs := &model.DomainObservation{TLSA: []model.TLSAFacts{
		{Owner: "_25._tcp.mx.example.test", Host: "mx.example.test", Port: 25, Records: cases[5].recs},
		{Owner: "_5222._tcp.xmpp.example.test", Host: "xmpp.example.test", Port: 5222, Records: cases[0].recs},
	}}
	AttachTLSAMatches(obs, model.Endpoint{Name: "mx.example.test", Addr: netip.MustParseAddrPort("192.0.2.1:25"), Service: "smtp"}, chain)
	AttachTLSAMatches(obs, model.Endpoint{Name: "example.test", Addr: netip.MustParseAddrPort("192.0.2.2:5222"), Service: "xmpp-client", Tags: []string{"srv", "dns-host=xmpp.example.test"}}, chain)
	AttachTLSAMatches(obs, model.Endpoint{Name: "other.example.test", Addr: netip.MustParseAddrPort("192.0.2.3:25"), Service: "smtp"}, chain)
	if ms := obs.TLSA[0].Matches; len(ms) != 1 || ms[0].Matched || ms[0].Endpoint != "smtp://mx.example.test@192.0.2.1:25" {
		t.Errorf("smtp matches %+v", ms)
	}
	if ms := obs.TLSA[1].Matches; len(ms) != 1 || !ms[0].Matched {
		t.Errorf("xmpp matches %+v", ms)
	}
}

func TestMXCovered(t *testing.T) {
	for _, c := range []struct {
		host string
		pats []string
		want bool
	}{
		{"mx1.example.org", []string{"mx1.example.org"}, true},
		{"MX1.example.org.", []string{"mx1.example.org"}, true},
		{"mx1.example.org", []string{"*.example.org"}, true},
		{"a.mx1.example.org", []string{"*.example.org"}, false},
		{"example.org", []string{"*.example.org"}, false},
		{"mx1.example.net", []string{"*.example.org", "mx1.example.org"}, false},
	} {
		if got := mxCovered(c.host, c.pats); got != c.want {
			t.Errorf("mxCovered(%q, %q) = %v", c.host, c.pats, got)
		}
	}
}
