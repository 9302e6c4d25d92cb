package policies

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
)

func mustParse(t *testing.T, src string) *Policy {
	t.Helper()
	p, err := Parse("t.yaml", []byte(src), Options{KnownRules: catalogue})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func endpoint(name, addr, service string, tags ...string) model.Endpoint {
	return model.Endpoint{Name: name, Addr: netip.MustParseAddrPort(addr), Service: service, Tags: tags}
}

func finding(ep model.Endpoint, rule, detail string, sev model.Severity) model.Finding {
	return model.Finding{RuleID: rule, Severity: sev, Asset: ep.ID(), Detail: detail, Fingerprint: model.FindingFingerprint(rule, ep.ID(), detail)}
}

func TestSelectors(t *testing.T) {
	mx := endpoint("mx1.example.org", "192.0.2.10:25", "smtp", "prod")
	chat := endpoint("chat.example.org", "[2001:db8::5]:5222", "xmpp", "legacy")
	bare := endpoint("", "10.1.2.3:5432", "postgres")
	tests := []struct {
		sel  string
		want [3]bool // mx, chat, bare
	}{
		{"{}", [3]bool{true, true, true}},
		{"{hosts: ['*.example.org']}", [3]bool{true, true, false}},
		{"{hosts: ['mx*.example.org', '10.1.2.*']}", [3]bool{true, false, true}},
		{"{services: [xmpp-client]}", [3]bool{false, true, false}}, // "xmpp" is an alias of xmpp-client
		{"{services: [smtp, postgresql]}", [3]bool{true, false, true}},
		{"{roles: [mail]}", [3]bool{true, false, false}},
		{"{roles: [database, messaging]}", [3]bool{false, true, true}},
		{"{ports: [25, 5222]}", [3]bool{true, true, false}},
		{"{tags: [legacy]}", [3]bool{false, true, false}},
		{"{addresses: [192.0.2.0/24, '2001:db8::/32']}", [3]bool{true, true, false}},
		{"{addresses: [10.1.2.3]}", [3]bool{false, false, true}},
		{"{hosts: ['*.example.org'], ports: [25]}", [3]bool{true, false, false}}, // AND across fields
		{"{hosts: ['*.example.org'], tags: [nope]}", [3]bool{false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			p := mustParse(t, "apiVersion: rampart.dev/v1\nname: s\noverrides:\n  - selector: "+tt.sel+"\n    disable: [cert/expired]\n")
			for i, ep := range []model.Endpoint{mx, chat, bare} {
				got := p.State(ep, "cert/expired", model.SeverityHigh).Disabled
				if got != tt.want[i] {
					t.Errorf("%s: matched=%v, want %v", ep.ID(), got, tt.want[i])
				}
			}
		})
	}
}

func TestOverridesScopeThresholds(t *testing.T) {
	p := mustParse(t, `apiVersion: rampart.dev/v1
name: scoped
extends: messaging-baseline
overrides:
  - selector: {hosts: [legacy.example.org]}
    thresholds:
      tls: {min_version: TLS1.0}
  - selector: {services: [https]}
    thresholds:
      tls: {min_version: TLS1.3}
      certificate: {expiry_warning_days: 45}
    severities: {"cert/*": critical}
`)
	legacy := endpoint("legacy.example.org", "192.0.2.1:993", "imaps")
	web := endpoint("www.example.org", "192.0.2.2:443", "https")
	other := endpoint("mx.example.org", "192.0.2.3:25", "smtp")
	if v := p.For(legacy).MinProtocol; v != 0x0301 {
		t.Errorf("legacy min %x", v)
	}
	w := p.For(web)
	if w.MinProtocol != 0x0304 || w.ExpiryWarningDays != 45 || !w.RequireSTARTTLS {
		t.Errorf("web thresholds %+v", w)
	}
	if o := p.For(other); o.MinProtocol != 0x0303 || o.ExpiryWarningDays != 30 {
		t.Errorf("unselected endpoint changed: %+v", o)
	}
	if p.Thresholds.MinProtocol != 0x0303 {
		t.Error("For must not modify the policy's own thresholds")
	}
	if st := p.State(web, "cert/expiring-soon", model.SeverityMedium); st.Severity != model.SeverityCritical || !st.Overridden {
		t.Errorf("glob severity override: %+v", st)
	}
	if st := p.State(other, "cert/expiring-soon", model.SeverityMedium); st.Severity != model.SeverityMedium || st.Overridden {
		t.Errorf("unselected severity: %+v", st)
	}
}

func TestSeverityPrecedence(t *testing.T) {
	p := mustParse(t, "apiVersion: rampart.dev/v1\nname: s\nseverities:\n  \"*\": low\n  \"cert/*\": medium\n  cert/expired: critical\n")
	ep := model.Endpoint{}
	for rule, want := range map[string]model.Severity{
		"cert/expired": model.SeverityCritical, "cert/self-signed": model.SeverityMedium, "tls/weak-suite": model.SeverityLow,
	} {
		if got := p.State(ep, rule, model.SeverityHigh).Severity; got != want {
			t.Errorf("%s: %v, want %v", rule, got, want)
		}
	}
}

func TestApplyDisableAndSeverity(t *testing.T) {
	p := mustParse(t, `apiVersion: rampart.dev/v1
name: a
disable: [cert/self-signed]
severities: {cert/expiring-soon: high}
overrides:
  - selector: {tags: [lab]}
    enable: [cert/self-signed]
`)
	prod := endpoint("a.example.org", "192.0.2.1:443", "https")
	lab := endpoint("b.example.org", "192.0.2.2:443", "https", "lab")
	in := func(ep model.Endpoint) []model.Finding {
		return []model.Finding{
			finding(ep, "cert/self-signed", "", model.SeverityHigh),
			finding(ep, "cert/expiring-soon", "", model.SeverityMedium),
		}
	}
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	got := p.Apply(prod, in(prod), now)
	if len(got) != 1 || got[0].RuleID != "cert/expiring-soon" || got[0].Severity != model.SeverityHigh {
		t.Fatalf("prod: %+v", got)
	}
	got = p.Apply(lab, in(lab), now)
	if len(got) != 2 {
		t.Fatalf("lab: the override re-enables cert/self-signed: %+v", got)
	}
}

const waiverPolicy = `apiVersion: rampart.dev/v1
name: w
waivers:
  - rule: tls/legacy-protocol-negotiated
    selector: {hosts: [legacy.example.org]}
    reason: Vendor appliance, replacement ordered
    owner: mail-team@example.org
    ticket: CHG-1234
    expires: 2027-03-31
  - rule: "cert/*"
    detail: "leaf*"
    reason: Internal CA
    owner: pki@example.org
    expires: 2026-12-31
`

func TestWaivers(t *testing.T) {
	p := mustParse(t, waiverPolicy)
	legacy := endpoint("legacy.example.org", "192.0.2.1:993", "imaps")
	other := endpoint("new.example.org", "192.0.2.2:993", "imaps")
	fs := func(ep model.Endpoint) []model.Finding {
		return []model.Finding{
			finding(ep, "tls/legacy-protocol-negotiated", "TLS 1.0", model.SeverityHigh),
			finding(ep, "cert/self-signed", "leaf", model.SeverityHigh),
			finding(ep, "cert/expired", "intermediate", model.SeverityCritical),
		}
	}

	t.Run("active", func(t *testing.T) {
		now := time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC) // last minute of the cert waiver
		got := p.Apply(legacy, fs(legacy), now)
		if len(got) != 3 {
			t.Fatalf("waived findings are kept: %+v", got)
		}
		if !got[0].Waived || got[0].Waiver == nil || got[0].Waiver.Owner != "mail-team@example.org" || got[0].Waiver.Expires != "2027-03-31" {
			t.Errorf("legacy protocol not waived: %+v", got[0])
		}
		if !got[1].Waived || got[1].Waiver.Rule != "cert/*" {
			t.Errorf("cert/self-signed (detail leaf) not waived: %+v", got[1])
		}
		if got[2].Waived {
			t.Errorf("detail glob leaf* must not cover %q", got[2].Detail)
		}
		got = p.Apply(other, fs(other), now)
		if got[0].Waived {
			t.Error("selector limits the waiver to legacy.example.org")
		}
	})

	t.Run("expired", func(t *testing.T) {
		now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) // the cert waiver's day is over
		got := p.Apply(legacy, fs(legacy), now)
		if len(got) != 4 {
			t.Fatalf("want 3 findings + 1 waiver-expired, got %+v", got)
		}
		if !got[0].Waived {
			t.Error("the protocol waiver is still in force")
		}
		if got[1].Waived || got[1].Waiver != nil {
			t.Errorf("an expired waiver must stop hiding its finding: %+v", got[1])
		}
		x := got[3]
		if x.RuleID != WaiverExpiredRuleID || x.Severity != model.SeverityMedium || x.Asset != legacy.ID() {
			t.Fatalf("waiver-expired finding: %+v", x)
		}
		if x.Evidence["waiver.owner"] != "pki@example.org" || x.Evidence["waiver.expires"] != "2026-12-31" ||
			x.Evidence["findings"] != got[1].Fingerprint || x.Evidence["rules"] != "cert/self-signed" {
			t.Errorf("evidence: %v", x.Evidence)
		}
		if x.Fingerprint != model.FindingFingerprint(WaiverExpiredRuleID, legacy.ID(), "cert/*@2026-12-31") {
			t.Errorf("fingerprint %s", x.Fingerprint)
		}
		if !strings.Contains(x.Message, "expired on 2026-12-31") {
			t.Errorf("message %q", x.Message)
		}
	})

	t.Run("renewed waiver wins over the lapsed one", func(t *testing.T) {
		q := mustParse(t, waiverPolicy+"  - {rule: cert/self-signed, reason: renewed, owner: pki@example.org, expires: 2027-06-30}\n")
		got := q.Apply(legacy, fs(legacy), time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC))
		if len(got) != 3 || !got[1].Waived || got[1].Waiver.Reason != "renewed" {
			t.Fatalf("%+v", got)
		}
	})

	t.Run("waiver-expired obeys severities and disable", func(t *testing.T) {
		q := mustParse(t, waiverPolicy+"severities: {policy/waiver-expired: high}\n")
		got := q.Apply(legacy, fs(legacy), time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC))
		if got[len(got)-1].Severity != model.SeverityHigh {
			t.Errorf("%+v", got[len(got)-1])
		}
		q = mustParse(t, waiverPolicy+"disable: [policy/waiver-expired]\n")
		got = q.Apply(legacy, fs(legacy), time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC))
		if len(got) != 3 || got[1].Waived {
			t.Errorf("disabled waiver-expired, the finding is still active: %+v", got)
		}
	})
}

func TestThresholdHelpers(t *testing.T) {
	p, err := Load("mozilla-intermediate", Options{})
	if err != nil {
		t.Fatal(err)
	}
	th := p.Thresholds
	if ok, _ := th.SuiteAllowed("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"); !ok {
		t.Error("intermediate suite refused")
	}
	if ok, why := th.SuiteAllowed("TLS_RSA_WITH_AES_128_GCM_SHA256"); ok || why != "not in the policy's allowed suites" {
		t.Errorf("RSA kx suite: %v %q", ok, why)
	}
	if !th.VersionAllowed(0x0304) || th.VersionAllowed(0x0302) {
		t.Error("version check")
	}
	if !th.KeyTypeAllowed("RSA") || th.KeyTypeAllowed("DSA") || !th.SignatureAllowed("ecdsa-sha256") || th.SignatureAllowed("SHA1-RSA") {
		t.Error("certificate helpers")
	}
	if !th.GroupAllowed("X25519") || th.GroupAllowed("ffdhe2048") || !th.CurveAllowed("P-384") || th.CurveAllowed("P-521") {
		t.Error("group/curve helpers")
	}
	b := Default().Thresholds
	if ok, why := b.SuiteAllowed("TLS_DH_anon_WITH_AES_128_CBC_SHA"); ok || why != "forbidden by *_anon_*" {
		t.Errorf("anon: %v %q", ok, why)
	}
	if ok, _ := b.SuiteAllowed("TLS_RSA_WITH_AES_128_CBC_SHA"); !ok {
		t.Error("baseline has no allow-list")
	}
	for _, tc := range []struct {
		svc  string
		port uint16
		ok   bool
	}{
		{"postgres", 5432, false}, {"redis", 6379, false}, {"docker", 2375, false}, {"telnet", 23, false},
		{"ssh", 22, true}, {"smtp", 25, true}, {"xmpp-client", 5222, true}, {"", 8080, true},
	} {
		if ok, why := b.Exposure.Allowed(tc.svc, tc.port); ok != tc.ok {
			t.Errorf("%s/%d: %v (%s)", tc.svc, tc.port, ok, why)
		}
	}
	e := Exposure{DenyRoles: []string{"database"}, AllowServices: []string{"postgres"}, DenyPorts: []uint16{5432}, AllowPorts: []uint16{3306}}
	if ok, _ := e.Allowed("postgres", 5432); ok {
		t.Error("a denied port wins over an allowed service")
	}
	if ok, _ := e.Allowed("postgres", 6432); !ok {
		t.Error("an allowed service wins over a denied role")
	}
	if ok, _ := e.Allowed("mysql", 3306); !ok {
		t.Error("an allowed port wins over a denied role")
	}
	e = Exposure{AllowRoles: []string{"web", "mail"}, AllowServices: []string{"ssh"}}
	for svc, want := range map[string]bool{"https": true, "smtp": true, "ssh": true, "redis": false, "xmpp-client": false, "": true} {
		if ok, why := e.Allowed(svc, 1000); ok != want {
			t.Errorf("allow_roles: %s allowed=%v (%s)", svc, ok, why)
		}
	}
	if !SuiteForwardSecret("TLS_AES_128_GCM_SHA256") || SuiteForwardSecret("TLS_RSA_WITH_AES_128_GCM_SHA256") || !SuiteAEAD("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256") || SuiteAEAD("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA") {
		t.Error("suite properties")
	}
}
