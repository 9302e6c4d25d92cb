package checks

import (
	"net/netip"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
)

func exposureCatalogue(t *testing.T) *Catalogue {
	t.Helper()
	c, err := NewCatalogue([]Check{exposureCheck(), availabilityCheck()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// openPort is the observation the exposure scan makes of one open port.
func openPort(host string, port uint16, f model.ServiceFacts) model.Observation {
	f.Port, f.State = port, model.PortOpen
	return model.Observation{
		Endpoint: model.Endpoint{Name: host, Addr: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.10"), port), Service: f.Service},
		Status:   model.StatusOK,
		Connect:  &model.ConnectFacts{Reachable: true},
		Service:  &f,
	}
}

func yes() *bool { v := true; return &v }
func no() *bool  { v := false; return &v }

// permissive allows everything (no exposure section), so the category rules are seen alone.
const permissive = `apiVersion: rampart.dev/v1
name: permissive
thresholds:
  tls:
    min_version: TLS1.2
`

// rolePolicy denies databases, caches and admin interfaces everywhere, allows PostgreSQL on
// db-*.example.org, denies port 8080 and lets mail hosts keep 2525 open.
const rolePolicy = `apiVersion: rampart.dev/v1
name: roles
thresholds:
  exposure:
    deny_roles: [database, cache, admin]
    deny_ports: [8080]
overrides:
  - selector:
      hosts: ["db-*.example.org"]
    thresholds:
      exposure:
        allow_services: [postgres]
  - selector:
      tags: ["role:mail"]
    thresholds:
      exposure:
        allow_ports: [6379]
`

func parsePolicy(t *testing.T, src string) *policies.Policy {
	t.Helper()
	p, err := policies.Parse("test.yaml", []byte(src), policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExposureRules(t *testing.T) {
	t.Parallel()
	perm := parsePolicy(t, permissive)
	roles := parsePolicy(t, rolePolicy)
	base := policies.Default()
	tagged := func(o model.Observation, tag string) model.Observation {
		o.Endpoint.Tags = []string{tag}
		return o
	}
	cases := []struct {
		name   string
		policy *policies.Policy
		obs    model.Observation
		want   []string
	}{
		{"https is not an exposure finding", perm, openPort("www.example.org", 443, model.ServiceFacts{Service: model.SvcHTTP, TLS: true}), nil},
		{"unidentified port, permissive policy", perm, openPort("h.example.org", 31337, model.ServiceFacts{}), nil},
		{"closed port judged by nothing", perm, func() model.Observation {
			o := openPort("h.example.org", 3306, model.ServiceFacts{Service: model.SvcMySQL})
			o.Service.State = model.PortClosed
			return o
		}(), nil},
		{"mysql reachable", perm, openPort("h.example.org", 3306, model.ServiceFacts{Service: model.SvcMySQL, Product: "MySQL", Version: "8.0.35"}), []string{"exposure/database-port"}},
		{"postgres reachable", perm, openPort("h.example.org", 5432, model.ServiceFacts{Service: model.SvcPostgres}), []string{"exposure/database-port"}},
		{"elasticsearch open", perm, openPort("h.example.org", 9200, model.ServiceFacts{Service: model.SvcElasticsearch, AuthRequired: no()}), []string{"exposure/database-port"}},
		{"redis with auth", perm, openPort("h.example.org", 6379, model.ServiceFacts{Service: model.SvcRedis, AuthRequired: yes()}), []string{"exposure/cache-port"}},
		{"redis auth unknown", perm, openPort("h.example.org", 6379, model.ServiceFacts{Service: model.SvcRedis}), []string{"exposure/cache-port"}},
		{"redis without auth", perm, openPort("h.example.org", 6379, model.ServiceFacts{Service: model.SvcRedis, AuthRequired: no()}), []string{"exposure/cache-port-unauthenticated"}},
		{"memcached", perm, openPort("h.example.org", 11211, model.ServiceFacts{Service: model.SvcMemcached, AuthRequired: no()}), []string{"exposure/cache-port-unauthenticated"}},
		{"docker api open", perm, openPort("h.example.org", 2375, model.ServiceFacts{Service: model.SvcDocker, AuthRequired: no()}), []string{"exposure/admin-port-unauthenticated"}},
		{"docker api behind TLS client auth", perm, openPort("h.example.org", 2376, model.ServiceFacts{Service: model.SvcDocker, TLS: true, AuthRequired: yes()}), []string{"exposure/admin-port"}},
		{"vnc none", perm, openPort("h.example.org", 5900, model.ServiceFacts{Service: model.SvcVNC, AuthRequired: no()}), []string{"exposure/admin-port-unauthenticated"}},
		{"vnc password", perm, openPort("h.example.org", 5900, model.ServiceFacts{Service: model.SvcVNC, AuthRequired: yes()}), []string{"exposure/admin-port"}},
		{"kubernetes api", perm, openPort("h.example.org", 6443, model.ServiceFacts{Service: model.SvcKubernetes, TLS: true}), []string{"exposure/admin-port"}},
		{"telnet", perm, openPort("h.example.org", 23, model.ServiceFacts{Service: model.SvcTelnet, StartTLS: no()}), []string{"exposure/admin-port"}},
		{"ftp", perm, openPort("h.example.org", 21, model.ServiceFacts{Service: model.SvcFTP, StartTLS: yes()}), []string{"exposure/admin-port"}},
		{"ssh", perm, openPort("h.example.org", 22, model.ServiceFacts{Service: model.SvcSSH, Product: "OpenSSH"}), []string{"exposure/ssh-port"}},
		{"smtp with starttls", perm, openPort("mx.example.org", 25, model.ServiceFacts{Service: model.SvcSMTP, StartTLS: yes()}), nil},
		{"smtp without starttls", perm, openPort("mx.example.org", 25, model.ServiceFacts{Service: model.SvcSMTP, StartTLS: no()}), []string{"exposure/plaintext-messaging"}},
		{"smtp, starttls unknown", perm, openPort("mx.example.org", 25, model.ServiceFacts{Service: model.SvcSMTP}), nil},
		{"smtp without starttls but the STARTTLS prober judged it", perm, func() model.Observation {
			o := openPort("mx.example.org", 25, model.ServiceFacts{Service: model.SvcSMTP, StartTLS: no()})
			o.StartTLS = &model.StartTLSFacts{}
			return o
		}(), nil},
		{"mqtt plaintext", perm, openPort("m.example.org", 1883, model.ServiceFacts{Service: model.SvcMQTT, StartTLS: no()}), []string{"exposure/plaintext-messaging"}},
		{"mqtt over tls", perm, openPort("m.example.org", 8883, model.ServiceFacts{Service: model.SvcMQTT, TLS: true}), nil},
		{"sip plaintext", perm, openPort("voip.example.org", 5060, model.ServiceFacts{Service: model.SvcSIP, StartTLS: no()}), []string{"exposure/plaintext-messaging"}},
		{"sieve with starttls", perm, openPort("mx.example.org", 4190, model.ServiceFacts{Service: model.SvcSieve, StartTLS: yes()}), nil},
		{"imap without starttls", perm, openPort("mx.example.org", 143, model.ServiceFacts{Service: model.SvcIMAP, StartTLS: no()}), []string{"exposure/plaintext-messaging"}},

		// Policy-driven.
		{"baseline: database denied, reported once by its category rule", base, openPort("h.example.org", 3306, model.ServiceFacts{Service: model.SvcMySQL}), []string{"exposure/database-port"}},
		{"baseline: rdp denied by service", base, openPort("h.example.org", 3389, model.ServiceFacts{Service: model.SvcRDP}), []string{"exposure/admin-port"}},
		{"roles: denied port with an unidentified service", roles, openPort("h.example.org", 8080, model.ServiceFacts{}), []string{"exposure/port-not-allowed"}},
		{"roles: denied port with a web server", roles, openPort("h.example.org", 8080, model.ServiceFacts{Service: model.SvcHTTP}), []string{"exposure/port-not-allowed"}},
		{"roles: postgres allowed on db hosts", roles, openPort("db-1.example.org", 5432, model.ServiceFacts{Service: model.SvcPostgres}), nil},
		{"roles: postgres still reported elsewhere", roles, openPort("web-1.example.org", 5432, model.ServiceFacts{Service: model.SvcPostgres}), []string{"exposure/database-port"}},
		{"roles: mysql on a db host is not allowed", roles, openPort("db-1.example.org", 3306, model.ServiceFacts{Service: model.SvcMySQL}), []string{"exposure/database-port"}},
		{"roles: mail hosts may keep 6379", roles, tagged(openPort("mx.example.org", 6379, model.ServiceFacts{Service: model.SvcRedis, AuthRequired: yes()}), "role:mail"), nil},
		{"roles: other hosts may not", roles, openPort("web.example.org", 6379, model.ServiceFacts{Service: model.SvcRedis, AuthRequired: yes()}), []string{"exposure/cache-port"}},
		{"roles: ssh is only low", roles, openPort("web.example.org", 22, model.ServiceFacts{Service: model.SvcSSH}), []string{"exposure/ssh-port"}},
		{"roles: ssh denied by port is a policy finding", parsePolicy(t, "apiVersion: rampart.dev/v1\nname: nossh\nthresholds:\n  exposure:\n    deny_ports: [22]\n"),
			openPort("web.example.org", 22, model.ServiceFacts{Service: model.SvcSSH}), []string{"exposure/port-not-allowed"}},
		{"allow_roles: databases allowed on db hosts", parsePolicy(t, "apiVersion: rampart.dev/v1\nname: dbhosts\nthresholds:\n  exposure:\n    allow_roles: [database, remote-access]\n"),
			openPort("db-1.example.org", 5432, model.ServiceFacts{Service: model.SvcPostgres}), nil},
		{"allow_roles: a cache is outside the allowed roles", parsePolicy(t, "apiVersion: rampart.dev/v1\nname: dbhosts\nthresholds:\n  exposure:\n    allow_roles: [database]\n"),
			openPort("db-1.example.org", 6379, model.ServiceFacts{Service: model.SvcRedis, AuthRequired: yes()}), []string{"exposure/cache-port"}},
		{"allow_roles: a web server outside the allowed roles", parsePolicy(t, "apiVersion: rampart.dev/v1\nname: dbhosts\nthresholds:\n  exposure:\n    allow_roles: [database]\n"),
			openPort("db-1.example.org", 80, model.ServiceFacts{Service: model.SvcHTTP}), []string{"exposure/port-not-allowed"}},
		{"roles: allowed port, nothing denied", roles, openPort("web.example.org", 443, model.ServiceFacts{Service: model.SvcHTTP, TLS: true}), nil},
	}
	cat := exposureCatalogue(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obs := tc.obs
			got := cat.Evaluate(&obs, tc.policy, now)
			assertRules(t, got, tc.want)
			for _, f := range got {
				if f.Message == "" || f.Evidence["port"] == "" || f.Detail != f.Evidence["port"] {
					t.Errorf("incomplete finding %+v", f)
				}
			}
		})
	}
}

func TestAvailabilityRules(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	facts := func(attempts, ok int, connect, hs time.Duration) *model.AvailabilityFacts {
		a := &model.AvailabilityFacts{Attempts: attempts, Successes: ok, ConnectMin: connect / 2, ConnectMedian: connect, ConnectMax: 2 * connect}
		if attempts > 0 {
			a.ErrorRate = float64(attempts-ok) / float64(attempts)
		}
		if hs > 0 {
			a.Handshake, a.HandshakeMedian, a.HandshakeMax = true, hs, 2*hs
		}
		if attempts > ok {
			a.Errors = []model.AttemptError{{Stage: "connect", Error: "i/o timeout", Count: attempts - ok}}
		}
		return a
	}
	cases := []struct {
		name string
		a    *model.AvailabilityFacts
		want []string
	}{
		{"not measured", nil, nil},
		{"no attempts (interrupted)", &model.AvailabilityFacts{Interrupted: true}, nil},
		{"healthy", facts(10, 10, 20*ms, 80*ms), nil},
		{"one failure in five is noise", facts(5, 4, 20*ms, 0), nil},
		{"two failures in ten", facts(10, 8, 20*ms, 0), []string{"avail/error-rate"}},
		{"two failures in twenty is under 20%", facts(20, 18, 20*ms, 0), nil},
		{"all failed", facts(5, 0, 0, 0), []string{"avail/error-rate"}},
		{"slow connect", facts(5, 5, 1500*ms, 0), []string{"avail/slow-connect"}},
		{"connect at threshold is fine", facts(5, 5, time.Second, 0), nil},
		{"slow handshake", facts(5, 5, 20*ms, 2500*ms), []string{"avail/slow-handshake"}},
		{"everything wrong", facts(10, 5, 3*time.Second, 4*time.Second), []string{"avail/error-rate", "avail/slow-connect", "avail/slow-handshake"}},
	}
	cat := exposureCatalogue(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obs := healthy()
			obs.Availability = tc.a
			assertRules(t, cat.Evaluate(&obs, policies.Default(), now), tc.want)
		})
	}
}

func TestExposureRulesComplete(t *testing.T) {
	t.Parallel()
	for _, ch := range []Check{exposureCheck(), availabilityCheck()} {
		for _, r := range ch.Rules {
			if r.ID == "" || r.Title == "" || r.Why == "" || r.Fix == "" || len(r.Tags) == 0 {
				t.Errorf("rule %q incomplete", r.ID)
			}
			if ch.Name == "exposure" {
				hasCWE := false
				for _, tag := range r.Tags {
					if len(tag) > 4 && tag[:4] == "CWE-" {
						hasCWE = true
					}
				}
				if !hasCWE || len(r.References) == 0 {
					t.Errorf("rule %s lacks a CWE tag or references", r.ID)
				}
			}
		}
	}
}
