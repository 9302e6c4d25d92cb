package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
)

// testRules is a fixed catalogue, so these tests do not depend on which checks exist.
var testRules = []model.Rule{
	{ID: "cert/expired", Title: "Certificate has expired", Why: "Clients refuse it.", Fix: "Renew it.",
		DefaultSeverity: model.SeverityCritical, Tags: []string{"cert", "CWE-298"},
		Snippets:   []model.Snippet{{Software: "Postfix", Config: "smtpd_tls_chain_files = /etc/ssl/mail.pem"}},
		References: []model.Reference{{Title: "RFC 5280", URL: "https://www.rfc-editor.org/rfc/rfc5280"}}},
	{ID: "tls/legacy-protocol-negotiated", Title: "Legacy protocol", Why: "Old.", Fix: "Upgrade.", DefaultSeverity: model.SeverityHigh},
	policies.Rules()[0],
}

// run executes one command built by mk with a bytes.Buffer Env.
func runPolicyTest(t *testing.T, mk func(*Env) *cobra.Command, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	old := catalogueRules
	catalogueRules = func() []model.Rule { return testRules }
	defer func() { catalogueRules = old }()
	var out, errb bytes.Buffer
	env := &Env{In: &bytes.Buffer{}, Out: &out, Err: &errb, Getenv: func(string) string { return "" }, Version: "test"}
	cmd := mk(env)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func policyExit(err error) int {
	if err == nil {
		return ExitOK
	}
	if ee, ok := err.(*ExitError); ok {
		return ee.Code
	}
	return -1
}

func TestPolicyList(t *testing.T) {
	out, _, err := runPolicyTest(t, newPolicyCmd, "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range policies.Builtins() {
		if !strings.Contains(out, name) {
			t.Errorf("list lacks %s:\n%s", name, out)
		}
	}
	if !strings.Contains(out, "messaging-baseline (default)") || !strings.Contains(out, "Mozilla Server Side TLS 5.8") {
		t.Errorf("list:\n%s", out)
	}
	out, _, err = runPolicyTest(t, newPolicyCmd, "list", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var list []policySummary
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != len(policies.Builtins()) {
		t.Fatalf("json list: %v %s", err, out)
	}
	if _, _, err := runPolicyTest(t, newPolicyCmd, "list", "--format", "xml"); policyExit(err) != ExitUsage {
		t.Errorf("bad format: %v", err)
	}
}

func TestPolicyShowResolvesExtends(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mine.yaml")
	src := "apiVersion: rampart.dev/v1\nname: mine\nextends: mozilla-intermediate\nthresholds:\n  certificate: {expiry_warning_days: 10}\nwaivers:\n  - {rule: cert/expired, reason: lab, owner: me, expires: 2030-01-01}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runPolicyTest(t, newPolicyCmd, "show", file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# Policy mine@sha256:",
		"# Resolved from (parents first): mozilla-intermediate → " + file,
		"min_version: TLS1.2",                     // inherited
		"- TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", // inherited
		"expiry_warning_days: 10",                 // own
		"owner: me",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "extends") {
		t.Error("a resolved policy has no extends")
	}
	// What show prints is itself a valid policy with the same identity.
	resolved := filepath.Join(dir, "resolved.yaml")
	if err := os.WriteFile(resolved, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := policies.Load(file, policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := policies.Load(resolved, policies.Options{})
	if err != nil {
		t.Fatalf("show output does not load: %v", err)
	}
	if a.Hash != b.Hash {
		t.Error("show output differs from the policy it shows")
	}

	out, _, err = runPolicyTest(t, newPolicyCmd, "show", "--source", "mozilla-old")
	if err != nil || !strings.HasPrefix(out, "# Mozilla Server Side TLS 5.8") {
		t.Errorf("--source: %v\n%s", err, out)
	}
	if _, _, err := runPolicyTest(t, newPolicyCmd, "show", "mozila-old"); policyExit(err) != ExitUsage || !strings.Contains(err.Error(), `did you mean "mozilla-old"?`) {
		t.Errorf("unknown name: %v", err)
	}
}

func TestPolicyValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("apiVersion: rampart.dev/v1\nname: good\nextends: messaging-baseline\ndisable: [cert/expired]\n"), 0o644)
	os.WriteFile(bad, []byte("apiVersion: rampart.dev/v1\nname: bad\nthresholds:\n  tls:\n    min_versoin: TLS1.2\ndisable: [cert/expird]\n"), 0o644)

	out, errOut, err := runPolicyTest(t, newPolicyCmd, "validate", good)
	if err != nil || !strings.Contains(out, good+": valid (good@sha256:") || !strings.Contains(out, "extends messaging-baseline") || errOut != "" {
		t.Fatalf("good: %v\n%s%s", err, out, errOut)
	}
	out, errOut, err = runPolicyTest(t, newPolicyCmd, "validate", good, bad)
	if policyExit(err) != ExitUsage {
		t.Fatalf("want exit 2, got %v", err)
	}
	want := bad + ":5:5: unknown key \"min_versoin\" in thresholds.tls; did you mean \"min_version\"?\n" +
		bad + ":6:11: unknown rule \"cert/expird\" in disable[0]; did you mean \"cert/expired\"?\n"
	if errOut != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, want)
	}
	if !strings.Contains(out, good+": valid") {
		t.Error("the valid file is still reported")
	}
	if _, errOut, err := runPolicyTest(t, newPolicyCmd, "validate", filepath.Join(dir, "missing.yaml")); policyExit(err) != ExitUsage || !strings.Contains(errOut, "does not exist") {
		t.Errorf("missing file: %v %s", err, errOut)
	}
}

func TestPolicySchema(t *testing.T) {
	out, _, err := runPolicyTest(t, newPolicyCmd, "schema")
	if err != nil || out != string(policies.Schema()) {
		t.Fatalf("schema: %v", err)
	}
}

func TestRulesCmd(t *testing.T) {
	out, _, err := runPolicyTest(t, newRulesCmd)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "RULE") || !strings.Contains(lines[1], "cert/expired") || !strings.Contains(lines[1], "critical") {
		t.Fatalf("rules:\n%s", out)
	}
	dir := t.TempDir()
	pol := filepath.Join(dir, "p.yaml")
	os.WriteFile(pol, []byte("apiVersion: rampart.dev/v1\nname: p\nseverities: {cert/expired: low}\ndisable: [\"tls/*\"]\n"), 0o644)
	out, _, err = runPolicyTest(t, newRulesCmd, "--policy", pol)
	if err != nil || !strings.Contains(out, "low*") || !strings.Contains(out, "disabled") {
		t.Fatalf("--policy: %v\n%s", err, out)
	}
	out, _, err = runPolicyTest(t, newRulesCmd, "--format", "json")
	var rules []model.Rule
	if err != nil || json.Unmarshal([]byte(out), &rules) != nil || len(rules) != 3 {
		t.Fatalf("json: %v %s", err, out)
	}
	out, _, err = runPolicyTest(t, newRulesCmd, "--format", "markdown")
	if err != nil || !strings.HasPrefix(out, "# Rule catalogue") || !strings.Contains(out, "## `cert/expired`") {
		t.Fatalf("markdown: %v", err)
	}
}

func TestExplainCmd(t *testing.T) {
	out, _, err := runPolicyTest(t, newExplainCmd, "cert/expired", "--policy", "mozilla-modern")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"cert/expired — Certificate has expired", "Default severity: critical", "Under mozilla-modern: critical",
		"Tags: cert, CWE-298", "Why it matters:\n  Clients refuse it.", "How to fix it:\n  Renew it.",
		"  Postfix:\n    smtpd_tls_chain_files = /etc/ssl/mail.pem", "  - RFC 5280 <https://www.rfc-editor.org/rfc/rfc5280>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
	_, _, err = runPolicyTest(t, newExplainCmd, "cert/expird")
	if policyExit(err) != ExitUsage || !strings.Contains(err.Error(), `did you mean "cert/expired"?`) {
		t.Errorf("misspelt: %v", err)
	}
	_, _, err = runPolicyTest(t, newExplainCmd, "legacy-protocol-negotiated")
	if err == nil || !strings.Contains(err.Error(), `did you mean "tls/legacy-protocol-negotiated"?`) {
		t.Errorf("family omitted: %v", err)
	}
	if out, _, err := runPolicyTest(t, newExplainCmd, "policy/waiver-expired"); err != nil || !strings.Contains(out, "Rampart policy:") {
		t.Errorf("policy rule: %v\n%s", err, out)
	}
}

// TestRealCatalogue runs the commands against the real catalogue (whatever it holds now).
func TestRealCatalogue(t *testing.T) {
	rules := catalogueRules()
	if len(rules) == 0 {
		t.Fatal("empty catalogue")
	}
	var out, errb bytes.Buffer
	env := &Env{In: &bytes.Buffer{}, Out: &out, Err: &errb, Getenv: func(string) string { return "" }}
	cmd := newRulesCmd(env)
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if !strings.Contains(out.String(), r.ID) {
			t.Errorf("rules lacks %s", r.ID)
		}
	}
	for _, name := range policies.Builtins() {
		if _, err := loadPolicy(name, rules); err != nil {
			t.Errorf("built-in %s against the real catalogue: %v", name, err)
		}
	}
}

func TestScanPolicy(t *testing.T) {
	p, err := scanPolicy("")
	if err != nil || p.Name != policies.DefaultName {
		t.Fatalf("default: %v", err)
	}
	if p, err := scanPolicy("pci-dss-v4"); err != nil || p.Name != "pci-dss-v4" {
		t.Fatalf("built-in: %v", err)
	}
	_, err = scanPolicy("./mozilla-modern.yaml")
	if policyExit(err) != ExitUsage || !strings.Contains(err.Error(), `does not exist; did you mean "mozilla-modern"?`) {
		t.Fatalf("missing file named like a built-in: %v", err)
	}
}
