package model

import "time"

// PortState is what a TCP connect to one port showed.
type PortState string

// Port states, as a TCP connect scan sees them.
const (
	PortOpen     PortState = "open"     // the handshake completed
	PortClosed   PortState = "closed"   // the host answered with a reset (connection refused)
	PortFiltered PortState = "filtered" // no answer within the timeout, or an ICMP unreachable
)

// Service names that exposure identification records in ServiceFacts.Service. They name the
// protocol spoken; whether it is wrapped in TLS is ServiceFacts.TLS (HTTPS is "http" with TLS).
const (
	SvcSSH           = "ssh"
	SvcSMTP          = "smtp"
	SvcXMPP          = "xmpp"
	SvcHTTP          = "http"
	SvcRedis         = "redis"
	SvcMemcached     = "memcached"
	SvcMySQL         = "mysql"
	SvcPostgres      = "postgres"
	SvcMongoDB       = "mongodb"
	SvcElasticsearch = "elasticsearch"
	SvcDocker        = "docker"
	SvcEtcd          = "etcd"
	SvcKubernetes    = "kubernetes"
	SvcLDAP          = "ldap"
	SvcRDP           = "rdp"
	SvcVNC           = "vnc"
	SvcTelnet        = "telnet"
	SvcFTP           = "ftp"
	SvcIMAP          = "imap"
	SvcPOP3          = "pop3"
	SvcMQTT          = "mqtt"
	SvcIRC           = "irc"
	SvcSIP           = "sip"
	SvcNNTP          = "nntp"
	SvcSieve         = "sieve"
)

// ServiceFacts is what answered on one TCP port: facts only. Every string in it came from the
// server (hostile input) and is bounded and escaped by the prober.
type ServiceFacts struct {
	Port  uint16    `json:"port"`
	State PortState `json:"state"`
	// TLS is true when a TLS server answered a ClientHello here (a completed handshake or a
	// TLS alert). Service then names what spoke inside TLS, when that was learnt.
	TLS bool `json:"tls"`
	// TLSVersion is the negotiated version ("TLS 1.3") when the handshake completed.
	TLSVersion string `json:"tls_version,omitempty"`
	// Service is the identified protocol (one of the Svc constants), "" when unidentified.
	Service string `json:"service,omitempty"`
	Product string `json:"product,omitempty"` // e.g. "OpenSSH", "nginx", "Redis"
	Version string `json:"version,omitempty"` // as the server announced it
	// Banner is the start of what the server sent first (or in reply to the identifying
	// probe): at most 512 bytes, control and non-ASCII bytes escaped as \xNN, \r, \n, \t.
	Banner string `json:"banner,omitempty"`
	// AuthRequired: true when the service refused an unauthenticated request, false when it
	// served one (Redis PING answered, Docker /version answered, VNC offers security type
	// None, MQTT CONNACK accepted…), nil when the probes could not tell.
	AuthRequired *bool `json:"auth_required,omitempty"`
	// StartTLS: true when the plaintext protocol offers an upgrade to TLS (SMTP/IMAP/POP3/XMPP/
	// FTP STARTTLS, PostgreSQL SSLRequest 'S', MySQL CLIENT_SSL), false when the service was
	// asked and offers none (or its protocol has none, such as MQTT and Telnet), nil when
	// unknown.
	StartTLS *bool `json:"starttls,omitempty"`
	// HTTP holds the HTTP response facts when an HTTP server answered.
	HTTP *HTTPFacts `json:"http,omitempty"`
	// Extra holds protocol-specific facts, bounded and escaped (e.g. "cluster_name",
	// "api_version", "security_types", "connack_code").
	Extra map[string]string `json:"extra,omitempty"`
	// Probes lists the probes sent, in order ("banner", "tls", "http", "redis", …).
	Probes []string `json:"probes,omitempty"`
	// Latency is the TCP connect time of the scan's connection.
	Latency time.Duration `json:"latency_ns,omitempty"`
	// Error is why identification stopped early ("" when it ran to the end).
	Error string `json:"error,omitempty"`
}

// HTTPFacts is one HTTP exchange made to identify a service.
type HTTPFacts struct {
	Method      string `json:"method"` // the request method sent
	Path        string `json:"path"`   // the request path sent
	Status      int    `json:"status"`
	Server      string `json:"server,omitempty"` // Server header, bounded and escaped
	ContentType string `json:"content_type,omitempty"`
}

// AvailabilityFacts is what repeated connection attempts to one endpoint showed.
type AvailabilityFacts struct {
	Attempts  int `json:"attempts"`
	Successes int `json:"successes"` // attempts whose connect (and handshake, if measured) succeeded
	// ErrorRate is the failed fraction of Attempts (0 when there were no attempts).
	ErrorRate float64 `json:"error_rate"`
	// Connect latency over the attempts whose TCP connect succeeded.
	ConnectMin    time.Duration `json:"connect_min_ns"`
	ConnectMedian time.Duration `json:"connect_median_ns"`
	ConnectMax    time.Duration `json:"connect_max_ns"`
	// Handshake is true when a handshake was measured after each connect; its latency is over
	// the attempts whose handshake succeeded.
	Handshake       bool          `json:"handshake"`
	HandshakeMin    time.Duration `json:"handshake_min_ns,omitempty"`
	HandshakeMedian time.Duration `json:"handshake_median_ns,omitempty"`
	HandshakeMax    time.Duration `json:"handshake_max_ns,omitempty"`
	// Errors lists each distinct error seen, with how many attempts ended in it.
	Errors []AttemptError `json:"errors,omitempty"`
	// Interrupted is set when the scan was cancelled before every attempt was made.
	Interrupted bool `json:"interrupted,omitempty"`
}

// AttemptError is one kind of failure and how often it happened.
type AttemptError struct {
	Stage string `json:"stage"` // "connect" or "handshake"
	Error string `json:"error"`
	Count int    `json:"count"`
}
