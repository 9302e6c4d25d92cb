package policies

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-scan/rampart/model"
)

// catalogue is a fixed rule list for loader tests (the real catalogue grows independently).
var catalogue = []string{
	"cert/expired", "cert/expiring-soon", "cert/self-signed",
	"tls/legacy-protocol-negotiated", "tls/weak-suite", "exposure/database-port",
}

func TestLoadValid(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		check func(t *testing.T, p *Policy)
	}{
		{
			name: "minimal",
			src:  "apiVersion: rampart.dev/v1\nname: minimal\n",
			check: func(t *testing.T, p *Policy) {
				if p.Name != "minimal" || p.Thresholds.MinProtocol != 0 {
					t.Errorf("got %+v", p)
				}
			},
		},
		{
			name: "aliases and case are canonicalised",
			src: `apiVersion: rampart.dev/v1
name: lenient
thresholds:
  tls: {min_version: tlsv1.2}
  certificate:
    allowed_curves: [prime256v1, secp384r1]
    allowed_signature_algorithms: [sha256WithRSAEncryption, ecdsa-with-SHA384]
severities:
  cert/expired: HIGH
`,
			check: func(t *testing.T, p *Policy) {
				th := p.Thresholds
				if th.MinProtocol != 0x0303 {
					t.Errorf("min protocol %x", th.MinProtocol)
				}
				if strings.Join(th.AllowedCurves, ",") != "P-256,P-384" || strings.Join(th.AllowedSignatureAlgorithms, ",") != "SHA256-RSA,ECDSA-SHA384" {
					t.Errorf("not canonical: %v %v", th.AllowedCurves, th.AllowedSignatureAlgorithms)
				}
				if p.Severities["cert/expired"] != model.SeverityHigh {
					t.Errorf("severity %v", p.Severities)
				}
			},
		},
		{
			name: "extends a built-in as a scalar",
			src:  "apiVersion: rampart.dev/v1\nname: mine\nextends: mozilla-intermediate\nthresholds:\n  certificate: {expiry_warning_days: 14}\n",
			check: func(t *testing.T, p *Policy) {
				if p.Thresholds.MinProtocol != 0x0303 || p.Thresholds.ExpiryWarningDays != 14 || p.Thresholds.MaxCertLifetimeDays != 366 {
					t.Errorf("merge: %+v", p.Thresholds)
				}
				if strings.Join(p.Chain, ",") != "mozilla-intermediate,x.yaml" {
					t.Errorf("chain %v", p.Chain)
				}
			},
		},
		{
			name: "explicit false overrides an inherited true",
			src:  "apiVersion: rampart.dev/v1\nname: mine\nextends: [mozilla-modern]\nthresholds:\n  certificate: {require_ocsp_stapling: false}\n",
			check: func(t *testing.T, p *Policy) {
				if p.Thresholds.RequireOCSPStapling {
					t.Error("require_ocsp_stapling still true")
				}
				if !p.Thresholds.RequireHSTS {
					t.Error("unrelated inherited value lost")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("x.yaml", []byte(tt.src), Options{KnownRules: catalogue})
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, p)
		})
	}
}

// TestLoadErrors pins each error kind to its exact position, message and suggestion.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    string // the first error, exactly
		wantAll int    // number of errors, 0 = don't care
	}{
		{"unknown top-level key", "apiVersion: rampart.dev/v1\nname: a\ndescripton: x\n",
			`p.yaml:3:1: unknown key "descripton" in the policy; did you mean "description"?`, 1},
		{"unknown nested key", "apiVersion: rampart.dev/v1\nname: a\nthresholds:\n  tls:\n    min_verison: TLS1.2\n",
			`p.yaml:5:5: unknown key "min_verison" in thresholds.tls; did you mean "min_version"?`, 1},
		{"unknown key far from any", "apiVersion: rampart.dev/v1\nname: a\nthresholds:\n  zzzzzz: 1\n",
			`p.yaml:4:3: unknown key "zzzzzz" in thresholds (valid keys: tls, keys, certificate, http, messaging, exposure, dns)`, 1},
		{"bad enum value", "apiVersion: rampart.dev/v1\nname: a\nthresholds:\n  tls: {min_version: TLS1.4}\n",
			`p.yaml:4:22: invalid value "TLS1.4" for thresholds.tls.min_version; did you mean "TLS1.0"?`, 1},
		{"bad api version", "apiVersion: rampart.dev/v2\nname: a\n",
			`p.yaml:1:13: invalid value "rampart.dev/v2" for apiVersion; did you mean "rampart.dev/v1"?`, 1},
		{"misspelt suite", "apiVersion: rampart.dev/v1\nname: a\nthresholds:\n  tls:\n    forbidden_suites:\n      - TLS_RSA_WITH_RC4_128_SHA1\n",
			`p.yaml:6:9: unknown cipher suite "TLS_RSA_WITH_RC4_128_SHA1" (not an IANA TLS Cipher Suites registry name) in thresholds.tls.forbidden_suites[0]; did you mean "TLS_RSA_WITH_RC4_128_SHA"?`, 1},
		{"lower-case suite", "apiVersion: rampart.dev/v1\nname: a\nthresholds:\n  tls: {allowed_suites: [ecdhe-rsa-aes128-gcm-sha256]}\n",
			`p.yaml:4:26: invalid cipher suite "ecdhe-rsa-aes128-gcm-sha256": use the IANA name (upper case, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) or a glob such as *_CBC_* in thresholds.tls.allowed_suites[0]`, 1},
		{"glob matching nothing", "apiVersion: rampart.dev/v1\nname: a\nthresholds:\n  tls: {forbidden_suites: [\"*_ROT13_*\"]}\n",
			`p.yaml:4:28: cipher-suite glob "*_ROT13_*" matches no IANA suite in thresholds.tls.forbidden_suites[0]`, 1},
		{"wrong kind: string for int", "apiVersion: rampart.dev/v1\nname: a\nthresholds:\n  keys:\n    min_rsa_bits: lots\n",
			`p.yaml:5:19: thresholds.keys.min_rsa_bits must be a whole number, not "lots"`, 1},
		{"wrong kind: yes for bool", "apiVersion: rampart.dev/v1\nname: a\nthresholds:\n  messaging: {require_starttls: required}\n",
			`p.yaml:4:33: thresholds.messaging.require_starttls must be true or false, not "required"; did you mean "true"?`, 1},
		{"wrong kind: scalar for list", "apiVersion: rampart.dev/v1\nname: a\ndisable: cert/expired\n",
			`p.yaml:3:10: disable must be a list, not a string; did you mean "[cert/expired]"?`, 1},
		{"port out of range", "apiVersion: rampart.dev/v1\nname: a\noverrides:\n  - selector: {ports: [70000]}\n",
			`p.yaml:4:24: overrides[0].selector.ports[0]: port 70000 is out of range 1-65535`, 1},
		{"unknown rule", "apiVersion: rampart.dev/v1\nname: a\ndisable: [cert/expird]\n",
			`p.yaml:3:11: unknown rule "cert/expird" in disable[0]; did you mean "cert/expired"?`, 1},
		{"rule glob matching nothing", "apiVersion: rampart.dev/v1\nname: a\nseverities:\n  dns/*: low\n",
			`p.yaml:4:3: rule glob "dns/*" matches no rule in the catalogue in severities`, 1},
		{"bad severity", "apiVersion: rampart.dev/v1\nname: a\nseverities:\n  cert/expired: severe\n",
			`p.yaml:4:17: invalid value "severe" for severities.cert/expired (want one of: info, low, medium, high, critical)`, 1},
		{"unknown service", "apiVersion: rampart.dev/v1\nname: a\noverrides:\n  - selector: {services: [xmmp-client]}\n",
			`p.yaml:4:27: invalid value "xmmp-client" for overrides[0].selector.services[0]; did you mean "xmpp-client"?`, 1},
		{"bad date", "apiVersion: rampart.dev/v1\nname: a\nwaivers:\n  - rule: cert/expired\n    reason: r\n    owner: o\n    expires: 31/12/2027\n",
			`p.yaml:7:14: invalid date "31/12/2027": write YYYY-MM-DD, e.g. 2027-03-31 in waivers[0].expires`, 1},
		{"waiver missing fields", "apiVersion: rampart.dev/v1\nname: a\nwaivers:\n  - rule: cert/expired\n    reason: r\n",
			`p.yaml:4:5: waivers[0] is missing the required key "owner"`, 2},
		{"missing name", "apiVersion: rampart.dev/v1\n",
			`p.yaml:1:1: the policy is missing the required key "name"`, 1},
		{"bad policy name", "apiVersion: rampart.dev/v1\nname: My Policy\n",
			`p.yaml:2:7: invalid policy name "My Policy": use 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit in name; did you mean "my-policy"?`, 1},
		{"duplicate key", "apiVersion: rampart.dev/v1\nname: a\nname: b\n",
			`p.yaml:3:1: YAML syntax error: mapping key "name" already defined at [2:1]`, 1},
		{"alias refused", "apiVersion: rampart.dev/v1\nname: &n a\ndescription: *n\n",
			`p.yaml:3:14: YAML aliases (*name) are not supported in policies: write the value out, or use extends and overrides`, 1},
		{"not a mapping", "- a\n- b\n",
			`p.yaml:1:1: the policy must be a mapping of keys to values, not a list`, 1},
		{"empty", "# nothing\n",
			`p.yaml:1:1: policy file is empty: it needs at least apiVersion and name`, 1},
		{"two documents", "apiVersion: rampart.dev/v1\nname: a\n---\napiVersion: rampart.dev/v1\nname: b\n",
			`p.yaml:4:1: a policy file holds one YAML document; found a second one (remove the '---' separator)`, 1},
		{"syntax error", "apiVersion: rampart.dev/v1\nname: [a\n",
			`p.yaml:2:7: YAML syntax error:`, 1},
		{"unknown built-in in extends", "apiVersion: rampart.dev/v1\nname: a\nextends: mozila-modern\n",
			`p.yaml:3:10: unknown built-in policy "mozila-modern" (built-ins: bsi-tr-02102-2, messaging-baseline, mozilla-intermediate, mozilla-modern, mozilla-old, nist-sp800-52r2, pci-dss-v4; a file path needs a / or a .yaml extension); did you mean "mozilla-modern"?`, 1},
		{"host pattern upper case", "apiVersion: rampart.dev/v1\nname: a\noverrides:\n  - selector: {hosts: [\"*.Example.org\"]}\n",
			`p.yaml:4:24: host pattern "*.Example.org" must be lower case (names are compared in lower case) in overrides[0].selector.hosts[0]; did you mean "*.example.org"?`, 1},
		{"bad cidr", "apiVersion: rampart.dev/v1\nname: a\noverrides:\n  - selector: {addresses: [10.0.0.0/33]}\n",
			`p.yaml:4:28: invalid address or CIDR "10.0.0.0/33" (want e.g. 192.0.2.7 or 10.0.0.0/8) in overrides[0].selector.addresses[0]`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tt.src), Options{KnownRules: catalogue})
			if err == nil {
				t.Fatal("loaded without error")
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not an ErrorList: %T %v", err, err)
			}
			got := list[0].Error()
			if strings.HasSuffix(tt.want, ":") {
				if !strings.HasPrefix(got, tt.want) {
					t.Fatalf("got  %s\nwant prefix %s", got, tt.want)
				}
			} else if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			if tt.wantAll > 0 && len(list) != tt.wantAll {
				t.Errorf("got %d errors, want %d:\n%v", len(list), tt.wantAll, err)
			}
		})
	}
}

// TestLoadReportsEveryError: one run lists all problems, in file order.
func TestLoadReportsEveryError(t *testing.T) {
	src := "apiVersion: rampart.dev/v1\nname: a\nthresholds:\n  tls:\n    min_versoin: TLS1.2\n  keys: {min_rsa_bits: big}\ndisable: [nope/nope]\n"
	_, err := Parse("p.yaml", []byte(src), Options{KnownRules: catalogue})
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 3 {
		t.Fatalf("want 3 errors, got %v", err)
	}
	for i, line := range []int{5, 6, 7} {
		if list[i].Line != line {
			t.Errorf("error %d at line %d, want %d: %v", i, list[i].Line, line, list[i])
		}
	}
}

func TestRulesUncheckedWithoutCatalogue(t *testing.T) {
	src := "apiVersion: rampart.dev/v1\nname: a\ndisable: [future/rule]\n"
	if _, err := Parse("p.yaml", []byte(src), Options{}); err != nil {
		t.Fatalf("without KnownRules any well-formed rule ID is accepted: %v", err)
	}
	if _, err := Parse("p.yaml", []byte(src), Options{KnownRules: catalogue}); err == nil {
		t.Fatal("with KnownRules an unknown rule must be an error")
	}
	bad := "apiVersion: rampart.dev/v1\nname: a\ndisable: [\"Not A Rule\"]\n"
	if _, err := Parse("p.yaml", []byte(bad), Options{}); err == nil {
		t.Fatal("a malformed rule ID must be an error even without a catalogue")
	}
}

func TestPolicyWaiverExpiredIsAlwaysKnown(t *testing.T) {
	src := "apiVersion: rampart.dev/v1\nname: a\nseverities: {policy/waiver-expired: high}\n"
	p, err := Parse("p.yaml", []byte(src), Options{KnownRules: catalogue})
	if err != nil {
		t.Fatal(err)
	}
	if p.Severities[WaiverExpiredRuleID] != model.SeverityHigh {
		t.Fatal(p.Severities)
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestExtendsChain(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"base/org.yaml": `apiVersion: rampart.dev/v1
name: org
extends: [messaging-baseline]
thresholds:
  certificate: {expiry_warning_days: 21, max_lifetime_days: 398}
severities: {cert/self-signed: critical}
disable: ["tls/*"]
waivers:
  - {rule: cert/expired, reason: parent, owner: a, expires: 2030-01-01}
`,
		"team.yaml": `apiVersion: rampart.dev/v1
name: team
extends: [base/org.yaml, mozilla-intermediate]
thresholds:
  certificate: {expiry_warning_days: 7}
enable: [tls/weak-suite]
waivers:
  - {rule: cert/expiring-soon, reason: child, owner: b, expires: 2030-01-01}
`,
	})
	p, err := Load(filepath.Join(dir, "team.yaml"), Options{KnownRules: catalogue})
	if err != nil {
		t.Fatal(err)
	}
	th := p.Thresholds
	// team's own value wins; mozilla-intermediate (later parent) wins over org; org's value
	// survives where the later ones are silent; messaging-baseline underneath.
	if th.ExpiryWarningDays != 7 {
		t.Errorf("expiry_warning_days %d, want 7 (child)", th.ExpiryWarningDays)
	}
	if th.MaxCertLifetimeDays != 366 {
		t.Errorf("max_lifetime_days %d, want 366 (mozilla-intermediate, the later parent)", th.MaxCertLifetimeDays)
	}
	if !th.RequireSTARTTLS || th.DNS.MailTransport != "dane-or-mta-sts" {
		t.Errorf("messaging-baseline values lost: %+v", th)
	}
	if len(th.AllowedSuites) != 9 {
		t.Errorf("allowed suites from mozilla-intermediate: %v", th.AllowedSuites)
	}
	if p.Severities["cert/self-signed"] != model.SeverityCritical {
		t.Errorf("severities %v", p.Severities)
	}
	if len(p.Spec.Waivers) != 2 || p.Spec.Waivers[0].Reason != "parent" || p.Spec.Waivers[1].Reason != "child" {
		t.Errorf("waivers not concatenated parent first: %+v", p.Spec.Waivers)
	}
	ep := model.Endpoint{Name: "x"}
	if !p.State(ep, "tls/legacy-protocol-negotiated", model.SeverityHigh).Disabled {
		t.Error("tls/* disabled by org should stay disabled")
	}
	if p.State(ep, "tls/weak-suite", model.SeverityHigh).Disabled {
		t.Error("tls/weak-suite re-enabled by team")
	}
	want := []string{"messaging-baseline", filepath.Join(dir, "base/org.yaml"), "mozilla-intermediate", filepath.Join(dir, "team.yaml")}
	if strings.Join(p.Chain, "|") != strings.Join(want, "|") {
		t.Errorf("chain %v\nwant  %v", p.Chain, want)
	}
}

func TestExtendsCycle(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.yaml":    "apiVersion: rampart.dev/v1\nname: a\nextends: [b.yaml]\n",
		"b.yaml":    "apiVersion: rampart.dev/v1\nname: b\nextends:\n  - messaging-baseline\n  - a.yaml\n",
		"self.yaml": "apiVersion: rampart.dev/v1\nname: self\nextends: self.yaml\n",
	})
	_, err := Load(filepath.Join(dir, "a.yaml"), Options{})
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("want positioned error, got %v", err)
	}
	e := list[0]
	if e.File != filepath.Join(dir, "b.yaml") || e.Line != 5 || e.Column != 5 || !strings.Contains(e.Msg, "extends cycle") {
		t.Fatalf("got %v", e)
	}
	if !strings.Contains(e.Msg, "a.yaml → file:"+filepath.Join(dir, "b.yaml")) {
		t.Errorf("cycle path not shown: %v", e.Msg)
	}
	_, err = Load(filepath.Join(dir, "self.yaml"), Options{})
	if err == nil || !strings.Contains(err.Error(), "self.yaml:3:10: extends cycle") {
		t.Fatalf("self cycle: %v", err)
	}
}

func TestExtendsMissingFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.yaml": "apiVersion: rampart.dev/v1\nname: a\nextends: [missing.yaml]\n"})
	_, err := Load(filepath.Join(dir, "a.yaml"), Options{})
	if err == nil || !strings.Contains(err.Error(), "a.yaml:3:11: policy file "+filepath.Join(dir, "missing.yaml")+" does not exist") {
		t.Fatalf("got %v", err)
	}
}

func TestLoadUnknownReference(t *testing.T) {
	_, err := Load("mozilla-intermedaite", Options{})
	if err == nil || !strings.Contains(err.Error(), `did you mean "mozilla-intermediate"?`) {
		t.Fatalf("got %v", err)
	}
	_, err = Load("/nonexistent/policy.yaml", Options{})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("got %v", err)
	}
}

func TestIdentityTracksContent(t *testing.T) {
	a, _ := Parse("a.yaml", []byte("apiVersion: rampart.dev/v1\nname: p\n# a comment\n"), Options{})
	b, _ := Parse("b.yaml", []byte("name: p\napiVersion: rampart.dev/v1\n"), Options{})
	c, _ := Parse("c.yaml", []byte("apiVersion: rampart.dev/v1\nname: p\nthresholds: {tls: {min_version: TLS1.3}}\n"), Options{})
	if a.Hash != b.Hash {
		t.Error("comments and key order must not change the identity")
	}
	if a.Hash == c.Hash {
		t.Error("a threshold change must change the identity")
	}
	if !strings.HasPrefix(a.Identity(), "p@sha256:") || len(a.Identity()) != len("p@sha256:")+12 {
		t.Errorf("identity %q", a.Identity())
	}
}

func TestDefaultIsMessagingBaseline(t *testing.T) {
	p := Default()
	if p.Name != DefaultName || p.Thresholds.MinProtocol != 0x0303 || p.Thresholds.ExpiryWarningDays != 30 {
		t.Fatalf("default: %+v", p.Thresholds)
	}
}
