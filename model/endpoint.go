package model

import (
	"net/netip"
	"strconv"
)

// Endpoint is one thing to audit: an address and port, reached under a name (used for SNI and
// hostname checks; empty when the user gave an IP), speaking a service.
type Endpoint struct {
	Name    string         `json:"name,omitempty"`
	Addr    netip.AddrPort `json:"addr"`
	Service string         `json:"service,omitempty"` // registry name, e.g. "https", "smtp", "xmpp-client"
	// Origin is how the endpoint was found: the chain of records or inputs, outermost first,
	// e.g. ["target example.org (targets.txt:3)", "SRV _xmpps-client._tcp.example.org → xmpp.example.org:5223", "A xmpp.example.org → 192.0.2.7"].
	Origin []string `json:"origin,omitempty"`
	// Source is the input line that brought the endpoint in ("targets.txt:3"); SARIF points there.
	Source string   `json:"source,omitempty"`
	Tags   []string `json:"tags,omitempty"`
}

// ID is the endpoint's stable identity: service, name and address. It is the key for drift,
// fingerprints and per-endpoint output.
func (e Endpoint) ID() string {
	s := e.Service
	if s == "" {
		s = "tcp"
	}
	host := e.Name
	if host == "" {
		host = e.Addr.Addr().String()
	}
	return s + "://" + host + "@" + e.Addr.String()
}

// HostPort is name:port when there is a name, else address:port.
func (e Endpoint) HostPort() string {
	if e.Name == "" {
		return e.Addr.String()
	}
	return e.Name + ":" + strconv.Itoa(int(e.Addr.Port()))
}
