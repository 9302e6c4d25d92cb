package checks

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
)

// Exposure rules judge model.ServiceFacts (what answers on an open port, from the exposure
// scan); availability rules judge model.AvailabilityFacts.

var (
	refCWE668 = model.Reference{Title: "CWE-668: Exposure of Resource to Wrong Sphere", URL: "https://cwe.mitre.org/data/definitions/668.html"}
	refCWE306 = model.Reference{Title: "CWE-306: Missing Authentication for Critical Function", URL: "https://cwe.mitre.org/data/definitions/306.html"}
	refCWE319 = model.Reference{Title: "CWE-319: Cleartext Transmission of Sensitive Information", URL: "https://cwe.mitre.org/data/definitions/319.html"}
	refFW     = model.Reference{Title: "NIST SP 800-41 Rev. 1, Guidelines on Firewalls and Firewall Policy", URL: "https://csrc.nist.gov/pubs/sp/800/41/r1/final"}

	ruleDatabasePort = model.Rule{
		ID:    "exposure/database-port",
		Title: "Database port reachable",
		Why: "A database server (MySQL/MariaDB, PostgreSQL, MongoDB, Elasticsearch) answers from where the scan ran. " +
			"Databases are built to sit behind the application: reachable, they face password guessing, pre-authentication " +
			"vulnerabilities and, when misconfigured, reads and writes of the data itself. Mass scans find such ports within hours.",
		Fix: "Bind the database to loopback or a private interface, and allow its port only from the application hosts " +
			"(host firewall or security group). Reach it for administration over SSH or a VPN.",
		Snippets: []model.Snippet{
			{Software: "PostgreSQL", Config: "# postgresql.conf\nlisten_addresses = 'localhost'"},
			{Software: "MySQL/MariaDB", Config: "# my.cnf\n[mysqld]\nbind-address = 127.0.0.1"},
			{Software: "MongoDB", Config: "# mongod.conf\nnet:\n  bindIp: 127.0.0.1\nsecurity:\n  authorization: enabled"},
			{Software: "Elasticsearch", Config: "# elasticsearch.yml\nnetwork.host: 127.0.0.1\nxpack.security.enabled: true"},
			{Software: "nftables", Config: "tcp dport { 3306, 5432, 9200, 27017 } ip saddr != 10.0.0.0/8 drop"},
		},
		References:      []model.Reference{refCWE668, refFW, {Title: "MongoDB Security Checklist", URL: "https://www.mongodb.com/docs/manual/administration/security-checklist/"}},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"exposure", "database", "CWE-668"},
	}
	ruleCachePort = model.Rule{
		ID:    "exposure/cache-port",
		Title: "Cache port reachable",
		Why: "A Redis or Memcached server answers from where the scan ran. Caches hold sessions and tokens and are meant for " +
			"the application's network only; Redis's own documentation says it should not be exposed to untrusted clients.",
		Fix: "Bind the cache to loopback or a private interface, firewall the port, and require authentication.",
		Snippets: []model.Snippet{
			{Software: "Redis", Config: "# redis.conf\nbind 127.0.0.1 -::1\nprotected-mode yes\nrequirepass <long random secret>   # or ACL users"},
			{Software: "Memcached", Config: "# /etc/memcached.conf\n-l 127.0.0.1\n-U 0"},
		},
		References:      []model.Reference{refCWE668, {Title: "Redis security", URL: "https://redis.io/docs/latest/operate/oss_and_stack/management/security/"}},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"exposure", "cache", "CWE-668"},
	}
	ruleCacheNoAuth = model.Rule{
		ID:    "exposure/cache-port-unauthenticated",
		Title: "Cache reachable without authentication",
		Why: "A Redis or Memcached server answered a command without any credentials. Anyone who can reach it reads and " +
			"rewrites every cached session and token; an open Redis is routinely turned into code execution on the host " +
			"(CONFIG SET dir/dbfilename, MODULE LOAD, replication to a rogue master).",
		Fix: "Make the port unreachable from untrusted networks first, then require authentication (Redis ACLs or " +
			"requirepass; Memcached SASL) and rename or disable dangerous Redis commands.",
		Snippets: []model.Snippet{
			{Software: "Redis", Config: "# redis.conf\nbind 127.0.0.1 -::1\nprotected-mode yes\nuser default off\nuser app on >long-random-secret ~* +@read +@write -@dangerous"},
			{Software: "Memcached", Config: "# /etc/memcached.conf\n-l 127.0.0.1\n-S   # SASL authentication (binary protocol)"},
		},
		References:      []model.Reference{refCWE306, refCWE668, {Title: "Redis security", URL: "https://redis.io/docs/latest/operate/oss_and_stack/management/security/"}},
		DefaultSeverity: model.SeverityCritical,
		Tags:            []string{"exposure", "cache", "CWE-306"},
	}
	ruleAdminPort = model.Rule{
		ID:    "exposure/admin-port",
		Title: "Administration interface reachable",
		Why: "An administration service answers from where the scan ran: the Docker API, etcd or the Kubernetes API (each " +
			"controls whole hosts or clusters), RDP or VNC (remote desktops), Telnet or FTP (which also send passwords in " +
			"the clear). These are the first targets of credential stuffing and pre-authentication exploits.",
		Fix: "Reach administration interfaces only through a VPN or bastion: bind them to a management network and firewall " +
			"the port. Replace Telnet with SSH and FTP with SFTP.",
		Snippets: []model.Snippet{
			{Software: "Docker", Config: "# /etc/docker/daemon.json: no tcp:// listener; use the local socket or SSH\n{ \"hosts\": [\"unix:///var/run/docker.sock\"] }"},
			{Software: "etcd", Config: "--listen-client-urls=https://10.0.0.5:2379 --client-cert-auth=true --trusted-ca-file=/etc/etcd/ca.pem"},
			{Software: "nftables", Config: "tcp dport { 21, 23, 2375, 2376, 2379, 3389, 5900, 6443 } ip saddr != 10.20.0.0/24 drop"},
		},
		References: []model.Reference{refCWE668, refFW,
			{Title: "Docker: Protect the Docker daemon socket", URL: "https://docs.docker.com/engine/security/protect-access/"},
			{Title: "etcd security model", URL: "https://etcd.io/docs/v3.5/op-guide/security/"}},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"exposure", "admin", "CWE-668"},
	}
	ruleAdminNoAuth = model.Rule{
		ID:    "exposure/admin-port-unauthenticated",
		Title: "Administration interface reachable without authentication",
		Why: "An administration interface served a request without credentials: a Docker API that answers /version over " +
			"plain TCP accepts every other call too (starting a privileged container is root on the host), and a VNC server " +
			"offering security type None hands out the desktop.",
		Fix: "Take the listener off the network now. Use the Docker API only over its local socket or SSH (or TLS with " +
			"client certificates); require VNC authentication and tunnel it over SSH.",
		References: []model.Reference{refCWE306,
			{Title: "Docker: Protect the Docker daemon socket", URL: "https://docs.docker.com/engine/security/protect-access/"},
			{Title: "RFC 6143 (The Remote Framebuffer Protocol) §7.2", URL: "https://www.rfc-editor.org/rfc/rfc6143#section-7.2"}},
		DefaultSeverity: model.SeverityCritical,
		Tags:            []string{"exposure", "admin", "CWE-306"},
	}
	// SSH is how most Unix hosts are administered, encrypted and strongly authenticated: a
	// reachable sshd is not a flaw by itself. It is still pre-authentication attack surface
	// (CVE-2024-6387) and draws constant password guessing, so it is recorded at low
	// severity: visible in the inventory and in drift, without drowning real findings.
	// Policies raise it, or waive it for bastions.
	ruleSSHPort = model.Rule{
		ID:    "exposure/ssh-port",
		Title: "SSH reachable",
		Why: "SSH answers from where the scan ran. SSH is encrypted and strongly authenticated, and exposing it is normal " +
			"for many hosts, but every reachable sshd receives password-guessing traffic and is pre-authentication attack " +
			"surface (e.g. CVE-2024-6387). Restricting it to a bastion or VPN removes that surface.",
		Fix: "Allow SSH only from management networks or a bastion, disable password logins, and keep OpenSSH current.",
		Snippets: []model.Snippet{
			{Software: "OpenSSH", Config: "# /etc/ssh/sshd_config\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin no"},
		},
		References:      []model.Reference{refCWE668, {Title: "CVE-2024-6387 (regreSSHion)", URL: "https://nvd.nist.gov/vuln/detail/CVE-2024-6387"}},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"exposure", "admin", "ssh", "CWE-668"},
	}
	rulePlaintextMessaging = model.Rule{
		ID:    "exposure/plaintext-messaging",
		Title: "Messaging or mail port without any TLS",
		Why: "A messaging or mail service (SMTP, IMAP, POP3, ManageSieve, XMPP, MQTT, IRC, SIP, NNTP) answers in plaintext here and offers no way " +
			"to upgrade to TLS (no STARTTLS, or a protocol without one). Messages, and often passwords, cross the network " +
			"readable and modifiable by anyone on the path.",
		Fix: "Offer STARTTLS on the plaintext port (SMTP, IMAP, POP3, ManageSieve, XMPP, NNTP) or move clients to the " +
			"implicit-TLS port (465, 993, 995, 5223, 8883, 6697, 5061 for SIP, 563 for NNTP) and close the plaintext one.",
		Snippets: []model.Snippet{
			{Software: "Postfix", Config: "smtpd_tls_cert_file = /etc/ssl/mail.pem\nsmtpd_tls_key_file = /etc/ssl/mail.key\nsmtpd_tls_security_level = may"},
			{Software: "Dovecot", Config: "ssl = required\nssl_cert = </etc/ssl/mail.pem\nssl_key = </etc/ssl/mail.key"},
			{Software: "Prosody", Config: "c2s_require_encryption = true\ns2s_require_encryption = true"},
			{Software: "Mosquitto", Config: "listener 8883\ncertfile /etc/mosquitto/cert.pem\nkeyfile /etc/mosquitto/key.pem"},
		},
		References: []model.Reference{refCWE319,
			{Title: "RFC 8314 (Cleartext Considered Obsolete)", URL: "https://www.rfc-editor.org/rfc/rfc8314"},
			{Title: "RFC 3207 (SMTP STARTTLS)", URL: "https://www.rfc-editor.org/rfc/rfc3207"},
			{Title: "RFC 7590 (TLS in XMPP)", URL: "https://www.rfc-editor.org/rfc/rfc7590"}},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"exposure", "messaging", "mail", "CWE-319"},
	}
	rulePortNotAllowed = model.Rule{
		ID:    "exposure/port-not-allowed",
		Title: "Port open that the policy does not allow",
		Why: "The policy's exposure section (deny_roles, deny_services, deny_ports, with allow_services and allow_ports as " +
			"exceptions, scoped to hosts by overrides) says this service or port must not be reachable here, yet it answers. " +
			"Unplanned open ports are forgotten services, debug listeners or firewall drift.",
		Fix: "Close the port or firewall it; if it is meant to be open, allow the service or port for these hosts in the " +
			"policy (thresholds.exposure.allow_services / allow_ports in an override selecting them).",
		References:      []model.Reference{refCWE668, refFW},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"exposure", "policy", "CWE-668"},
	}
)

// exposure categories of identified services.
var (
	databaseServices = []string{model.SvcMySQL, model.SvcPostgres, model.SvcMongoDB, model.SvcElasticsearch}
	cacheServices    = []string{model.SvcRedis, model.SvcMemcached}
	adminServices    = []string{model.SvcDocker, model.SvcEtcd, model.SvcKubernetes, model.SvcRDP, model.SvcVNC, model.SvcTelnet, model.SvcFTP}
	messagingPlain   = []string{model.SvcSMTP, model.SvcIMAP, model.SvcPOP3, model.SvcXMPP, model.SvcMQTT, model.SvcIRC,
		model.SvcSIP, model.SvcNNTP, model.SvcSieve}
)

// exposureCheck judges what answers on an open port (Observation.Service).
func exposureCheck() Check {
	return Check{
		Name: "exposure",
		Rules: []model.Rule{ruleDatabasePort, ruleCachePort, ruleCacheNoAuth, ruleAdminPort, ruleAdminNoAuth,
			ruleSSHPort, rulePlaintextMessaging, rulePortNotAllowed},
		Run: func(in *Input, r *Reporter) {
			f := in.Obs.Service
			if f == nil || f.State != model.PortOpen {
				return
			}
			port := f.Port
			if port == 0 {
				port = in.Obs.Endpoint.Addr.Port()
			}
			detail := strconv.Itoa(int(port))
			ev := serviceEvidence(f, port)
			allowed, reason := in.Thresholds.Exposure.Allowed(f.Service, port)
			if reason != "" {
				ev["policy"] = reason
			}
			// A service, port or role the policy explicitly allows is not reported as exposed.
			explicitlyAllowed := allowed && (reason != "" ||
				slices.Contains(in.Thresholds.Exposure.AllowRoles, policies.ServiceRole(f.Service)))
			if allowed && reason == "" && explicitlyAllowed {
				ev["policy"] = "role " + policies.ServiceRole(f.Service) + " is allowed"
			}
			what := describe(f)
			raised := false
			raise := func(id, msg string) {
				if explicitlyAllowed {
					return
				}
				r.Raise(id, detail, msg, ev)
				raised = true
			}
			noAuth := f.AuthRequired != nil && !*f.AuthRequired
			switch s := f.Service; {
			case isIn(s, databaseServices):
				msg := fmt.Sprintf("%s answers on port %d", what, port)
				if noAuth {
					msg += " and served a request without credentials"
				}
				raise(ruleDatabasePort.ID, msg)
			case isIn(s, cacheServices) && noAuth:
				raise(ruleCacheNoAuth.ID, fmt.Sprintf("%s answers on port %d without authentication", what, port))
			case isIn(s, cacheServices):
				raise(ruleCachePort.ID, fmt.Sprintf("%s answers on port %d", what, port))
			case (s == model.SvcDocker || s == model.SvcVNC) && noAuth:
				raise(ruleAdminNoAuth.ID, fmt.Sprintf("%s answers on port %d without authentication", what, port))
			case isIn(s, adminServices):
				raise(ruleAdminPort.ID, fmt.Sprintf("%s answers on port %d", what, port))
			case s == model.SvcSSH && allowed:
				// A policy that denies SSH here gets port-not-allowed (medium) instead.
				raise(ruleSSHPort.ID, fmt.Sprintf("%s answers on port %d", what, port))
			}
			if isIn(f.Service, messagingPlain) && !f.TLS && f.StartTLS != nil && !*f.StartTLS && in.Obs.StartTLS == nil {
				r.Raise(rulePlaintextMessaging.ID, detail, fmt.Sprintf("%s answers in plaintext on port %d and offers no TLS upgrade", what, port), ev)
			}
			if !allowed && !raised {
				r.Raise(rulePortNotAllowed.ID, detail, fmt.Sprintf("port %d is open (%s) but the policy does not allow it: %s", port, what, reason), ev)
			}
		},
	}
}

func isIn(s string, list []string) bool { return s != "" && slices.Contains(list, s) }

// describe names what answers, e.g. "Redis 7.0.15 (redis)" or "an unidentified service".
func describe(f *model.ServiceFacts) string {
	if f.Service == "" {
		if f.TLS {
			return "an unidentified TLS service"
		}
		return "an unidentified service"
	}
	parts := []string{}
	if f.Product != "" {
		parts = append(parts, f.Product)
		if f.Version != "" {
			parts = append(parts, f.Version)
		}
	}
	name := f.Service
	if f.TLS {
		name += " over TLS"
	}
	if len(parts) == 0 {
		return name
	}
	return strings.Join(parts, " ") + " (" + name + ")"
}

func serviceEvidence(f *model.ServiceFacts, port uint16) map[string]string {
	ev := map[string]string{
		"port":    strconv.Itoa(int(port)),
		"service": f.Service,
		"tls":     strconv.FormatBool(f.TLS),
	}
	if f.Product != "" {
		ev["product"] = f.Product
	}
	if f.Version != "" {
		ev["version"] = f.Version
	}
	if f.AuthRequired != nil {
		ev["auth_required"] = strconv.FormatBool(*f.AuthRequired)
	}
	if f.StartTLS != nil {
		ev["starttls"] = strconv.FormatBool(*f.StartTLS)
	}
	if f.Banner != "" {
		b := f.Banner
		if len(b) > 120 {
			b = b[:120] + "…"
		}
		ev["banner"] = b
	}
	return ev
}

// Availability thresholds. The policy language has no availability section yet; these are
// the defaults, justified below.
const (
	// availMaxErrorRate: on a healthy service and path, connects essentially never fail; a
	// fifth of attempts failing means overload, a flapping node or a lossy path. Two failures
	// at least are needed, so one lost SYN among a handful of attempts does not fire.
	availMaxErrorRate = 0.2
	availMinFailures  = 2
	// availSlowConnect: a TCP connect costs one round trip; even intercontinental paths stay
	// well under 500 ms. A median above 1 s is the 1 s initial SYN retransmission timeout
	// (RFC 6298) showing: dropped SYNs or a full accept backlog.
	availSlowConnect = time.Second
	// availSlowHandshake: a TLS handshake costs one or two round trips plus milliseconds of
	// server crypto. A median above 2 s means an overloaded server or one blocking on
	// something slow (reverse DNS, an OCSP fetch) before answering.
	availSlowHandshake = 2 * time.Second
)

var (
	ruleErrorRate = model.Rule{
		ID:    "avail/error-rate",
		Title: "Connection attempts fail",
		Why: "Of repeated connection attempts to this endpoint, a significant share failed (refused, reset or timed out, or " +
			"the handshake failed). Clients and peer servers see the same: retries, delayed mail, dropped messaging sessions.",
		Fix: "Check the service's logs and connection limits (worker/backlog/max-clients), the load balancer's health " +
			"checks and whether one node behind the name is down.",
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"availability"},
	}
	ruleSlowConnect = model.Rule{
		ID:    "avail/slow-connect",
		Title: "TCP connect is slow",
		Why: "The median TCP connect time is above 1 second. A connect costs one network round trip; a median this high " +
			"means SYNs are dropped and retransmitted (an overloaded host, a full accept backlog, or rate limiting).",
		Fix: "Check the host's load and listen backlog (net.core.somaxconn, the service's backlog setting), SYN-flood " +
			"protection and firewall rate limits.",
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"availability", "performance"},
	}
	ruleSlowHandshake = model.Rule{
		ID:    "avail/slow-handshake",
		Title: "Handshake is slow",
		Why: "The median handshake time after connecting is above 2 seconds. A TLS handshake needs one or two round trips " +
			"and milliseconds of computation; more means an overloaded server or one that blocks on slow lookups before " +
			"answering. Clients with short timeouts fail.",
		Fix: "Check server load, session resumption, OCSP stapling (fetched ahead, not during the handshake) and reverse " +
			"DNS lookups made before the greeting.",
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"availability", "performance"},
	}
)

// availabilityCheck judges repeated connection attempts (Observation.Availability).
func availabilityCheck() Check {
	return Check{
		Name:  "availability",
		Rules: []model.Rule{ruleErrorRate, ruleSlowConnect, ruleSlowHandshake},
		Run: func(in *Input, r *Reporter) {
			a := in.Obs.Availability
			if a == nil || a.Attempts == 0 {
				return
			}
			ev := map[string]string{
				"attempts":   strconv.Itoa(a.Attempts),
				"successes":  strconv.Itoa(a.Successes),
				"error_rate": strconv.FormatFloat(a.ErrorRate, 'f', 2, 64),
			}
			failures := a.Attempts - a.Successes
			if failures >= availMinFailures && a.ErrorRate >= availMaxErrorRate {
				e := copyEv(ev)
				for i, x := range a.Errors {
					if i == 3 {
						break
					}
					e["error_"+strconv.Itoa(i+1)] = fmt.Sprintf("%s: %s (×%d)", x.Stage, x.Error, x.Count)
				}
				r.Raise(ruleErrorRate.ID, "", fmt.Sprintf("%d of %d connection attempts failed (%.0f%%)", failures, a.Attempts, 100*a.ErrorRate), e)
			}
			if a.ConnectMedian > availSlowConnect {
				e := copyEv(ev)
				e["connect_median"], e["connect_max"] = a.ConnectMedian.String(), a.ConnectMax.String()
				r.Raise(ruleSlowConnect.ID, "", fmt.Sprintf("median TCP connect time %v (threshold %v)", a.ConnectMedian.Round(time.Millisecond), availSlowConnect), e)
			}
			if a.Handshake && a.HandshakeMedian > availSlowHandshake {
				e := copyEv(ev)
				e["handshake_median"], e["handshake_max"] = a.HandshakeMedian.String(), a.HandshakeMax.String()
				r.Raise(ruleSlowHandshake.ID, "", fmt.Sprintf("median handshake time %v (threshold %v)", a.HandshakeMedian.Round(time.Millisecond), availSlowHandshake), e)
			}
		},
	}
}

func copyEv(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+4)
	for k, v := range m {
		out[k] = v
	}
	return out
}
