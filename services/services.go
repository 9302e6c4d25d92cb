// Package services is the registry of the protocols Rampart knows: default port, how TLS is
// reached there (implicit, STARTTLS or none) and the ALPN a client offers. Target parsing,
// discovery, probes and checks all read it; adding a protocol is one entry here.
package services

import "strings"

// TLSMode is how a client reaches TLS on a service.
type TLSMode string

// TLS modes.
const (
	Implicit TLSMode = "implicit" // TLS from the first byte
	StartTLS TLSMode = "starttls" // plaintext dialogue, then upgrade
	None     TLSMode = "none"     // plaintext protocol without TLS
)

// Service describes one protocol on one conventional port.
type Service struct {
	Name     string   // registry key, also the URL scheme of a target hint
	Port     uint16   // default port
	Mode     TLSMode  // how TLS is reached
	StartTLS string   // dialogue name for Mode == StartTLS: smtp, imap, pop3, xmpp-client, …
	ALPN     []string // protocols to offer
	Role     string   // messaging, mail, web, database, cache, admin, directory, …
	Aliases  []string // other scheme names accepted as hints
}

// Registry is the set of known services. Use Default for the built-in one.
type Registry struct {
	byName map[string]Service
	byPort map[uint16]Service
	list   []Service
}

// Default returns the built-in registry.
func Default() *Registry {
	r := &Registry{byName: map[string]Service{}, byPort: map[uint16]Service{}}
	for _, s := range builtin {
		r.list = append(r.list, s)
		r.byName[s.Name] = s
		for _, a := range s.Aliases {
			r.byName[a] = s
		}
		if _, ok := r.byPort[s.Port]; !ok {
			r.byPort[s.Port] = s
		}
	}
	return r
}

// ByName finds a service by name or alias (case-insensitive).
func (r *Registry) ByName(name string) (Service, bool) {
	s, ok := r.byName[strings.ToLower(name)]
	return s, ok
}

// ByPort finds the conventional service of a port.
func (r *Registry) ByPort(port uint16) (Service, bool) {
	s, ok := r.byPort[port]
	return s, ok
}

// All lists the registry in its built-in order.
func (r *Registry) All() []Service { return append([]Service(nil), r.list...) }

// builtin: the first entry for a port is that port's conventional service.
var builtin = []Service{
	{Name: "https", Port: 443, Mode: Implicit, ALPN: []string{"h2", "http/1.1"}, Role: "web", Aliases: []string{"wss"}},
	{Name: "http", Port: 80, Mode: None, Role: "web", Aliases: []string{"ws"}},
	{Name: "smtp", Port: 25, Mode: StartTLS, StartTLS: "smtp", Role: "mail"},
	{Name: "submission", Port: 587, Mode: StartTLS, StartTLS: "smtp", Role: "mail"},
	{Name: "submissions", Port: 465, Mode: Implicit, Role: "mail", Aliases: []string{"smtps"}},
	{Name: "lmtp", Port: 24, Mode: StartTLS, StartTLS: "lmtp", Role: "mail"},
	{Name: "imap", Port: 143, Mode: StartTLS, StartTLS: "imap", Role: "mail"},
	{Name: "imaps", Port: 993, Mode: Implicit, ALPN: []string{"imap"}, Role: "mail"},
	{Name: "pop3", Port: 110, Mode: StartTLS, StartTLS: "pop3", Role: "mail"},
	{Name: "pop3s", Port: 995, Mode: Implicit, ALPN: []string{"pop3"}, Role: "mail"},
	{Name: "sieve", Port: 4190, Mode: StartTLS, StartTLS: "sieve", Role: "mail", Aliases: []string{"managesieve"}},
	{Name: "xmpp-client", Port: 5222, Mode: StartTLS, StartTLS: "xmpp-client", Role: "messaging", Aliases: []string{"xmpp"}},
	{Name: "xmpp-server", Port: 5269, Mode: StartTLS, StartTLS: "xmpp-server", Role: "messaging"},
	{Name: "xmpps-client", Port: 5223, Mode: Implicit, ALPN: []string{"xmpp-client"}, Role: "messaging", Aliases: []string{"xmpps"}},
	{Name: "xmpps-server", Port: 5270, Mode: Implicit, ALPN: []string{"xmpp-server"}, Role: "messaging"},
	{Name: "matrix", Port: 8448, Mode: Implicit, ALPN: []string{"h2", "http/1.1"}, Role: "messaging", Aliases: []string{"matrix-fed"}},
	{Name: "sips", Port: 5061, Mode: Implicit, Role: "messaging"},
	{Name: "sip", Port: 5060, Mode: None, Role: "messaging"},
	{Name: "mqtts", Port: 8883, Mode: Implicit, ALPN: []string{"mqtt"}, Role: "messaging", Aliases: []string{"secure-mqtt"}},
	{Name: "mqtt", Port: 1883, Mode: None, Role: "messaging"},
	{Name: "ircs", Port: 6697, Mode: Implicit, Role: "messaging"},
	{Name: "irc", Port: 6667, Mode: StartTLS, StartTLS: "irc", Role: "messaging"},
	{Name: "ldap", Port: 389, Mode: StartTLS, StartTLS: "ldap", Role: "directory"},
	{Name: "ldaps", Port: 636, Mode: Implicit, Role: "directory"},
	{Name: "ftp", Port: 21, Mode: StartTLS, StartTLS: "ftp", Role: "admin"},
	{Name: "ftps", Port: 990, Mode: Implicit, Role: "admin"},
	{Name: "nntp", Port: 119, Mode: StartTLS, StartTLS: "nntp", Role: "messaging"},
	{Name: "nntps", Port: 563, Mode: Implicit, Role: "messaging"},
	{Name: "postgres", Port: 5432, Mode: StartTLS, StartTLS: "postgres", Role: "database", Aliases: []string{"postgresql"}},
	{Name: "mysql", Port: 3306, Mode: StartTLS, StartTLS: "mysql", Role: "database"},
	{Name: "turns", Port: 5349, Mode: Implicit, Role: "messaging"},
}
