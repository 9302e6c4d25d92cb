package testenv

import (
	"encoding/xml"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SSLScan is what Debian's sslscan reported for one endpoint, keyed like Rampart's engine
// facts ("TLS 1.2", "SSLv3").
type SSLScan struct {
	Protocols map[string]bool     // version → enabled
	Suites    map[string][]uint16 // version → suite IDs in sslscan's order
	Groups    map[string][]uint16 // version → group IDs
}

// RunSSLScan runs `sslscan --no-colour --xml=- [extra...] addr` (extra e.g. --starttls-smtp)
// and parses its report. An ID it cannot parse or a report without protocols fails the
// test: a comparison against a half-read report would prove nothing.
func RunSSLScan(t testing.TB, bin, addr string, extra ...string) (SSLScan, time.Duration) {
	t.Helper()
	args := append(append([]string{"--no-colour", "--xml=-"}, extra...), addr)
	start := time.Now()
	out, err := exec.Command(bin, args...).Output()
	el := time.Since(start)
	if err != nil {
		t.Fatalf("sslscan %v: %v", extra, err)
	}
	var doc struct {
		Test struct {
			Protocols []struct {
				Type    string `xml:"type,attr"`
				Version string `xml:"version,attr"`
				Enabled string `xml:"enabled,attr"`
			} `xml:"protocol"`
			Ciphers []struct {
				Version string `xml:"sslversion,attr"`
				ID      string `xml:"id,attr"`
			} `xml:"cipher"`
			Groups []struct {
				Version string `xml:"sslversion,attr"`
				ID      string `xml:"id,attr"`
			} `xml:"group"`
		} `xml:"ssltest"`
	}
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("sslscan XML: %v\n%s", err, out)
	}
	vname := func(s string) string { return strings.Replace(s, "TLSv", "TLS ", 1) }
	hex := func(s string) uint16 {
		v, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, 16)
		if err != nil {
			t.Fatalf("sslscan id %q: %v", s, err)
		}
		return uint16(v)
	}
	r := SSLScan{Protocols: map[string]bool{}, Suites: map[string][]uint16{}, Groups: map[string][]uint16{}}
	for _, p := range doc.Test.Protocols {
		name := "TLS " + p.Version
		if p.Type == "ssl" {
			name = "SSLv" + p.Version
		}
		r.Protocols[name] = p.Enabled == "1"
	}
	for _, c := range doc.Test.Ciphers {
		r.Suites[vname(c.Version)] = append(r.Suites[vname(c.Version)], hex(c.ID))
	}
	for _, g := range doc.Test.Groups {
		r.Groups[vname(g.Version)] = append(r.Groups[vname(g.Version)], hex(g.ID))
	}
	if len(r.Protocols) == 0 {
		t.Fatalf("sslscan %v reported no protocols:\n%s", extra, out)
	}
	return r, el
}
