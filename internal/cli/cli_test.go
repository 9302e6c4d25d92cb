package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/reports"
	"github.com/rampart-scan/rampart/services"
)

func testEnv(stdin string) (*Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	env := &Env{In: strings.NewReader(stdin), Out: &out, Err: &errb, Getenv: func(string) string { return "" }, Version: "test"}
	return env, &out, &errb
}

func TestProgressDrawsCountsAndETA(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Unix(0, 0)
	p := newProgress(&buf, func() time.Time { return clock })
	p.Start(4)
	clock = clock.Add(2 * time.Second)
	p.Endpoint(nil)
	if got := buf.String(); !strings.Contains(got, "1/4 endpoints") || !strings.Contains(got, "ETA 6s") {
		t.Fatalf("progress = %q, want 1/4 and ETA 6s", got)
	}
	p.Finish()
	var nilP *progress // a disabled bar is a nil pointer and must be safe
	nilP.Start(1)
	nilP.Endpoint(nil)
	nilP.Finish()
}

func TestColourOnlyOnTTY(t *testing.T) {
	env, _, _ := testEnv("")
	if env.Color(false) {
		t.Fatal("colour on a non-TTY")
	}
	env.OutTTY = true
	if !env.Color(false) || env.Color(true) {
		t.Fatal("--no-color not honoured on a TTY")
	}
	env.Getenv = func(k string) string {
		if k == "NO_COLOR" {
			return "1"
		}
		return ""
	}
	if env.Color(false) {
		t.Fatal("NO_COLOR not honoured")
	}
	r := &model.ScanResult{Status: model.ScanComplete, Endpoints: []model.EndpointResult{{
		Findings: []model.Finding{{RuleID: "cert/expired", Severity: model.SeverityCritical, Message: "expired\x1b[2J"}},
	}}}
	var plain, colour bytes.Buffer
	_ = reports.WriteText(&plain, r, reports.TextOptions{})
	_ = reports.WriteText(&colour, r, reports.TextOptions{Color: true})
	if strings.Contains(plain.String(), "\x1b[") {
		t.Fatalf("plain output has escape codes: %q", plain.String())
	}
	if !strings.Contains(colour.String(), "\x1b[") {
		t.Fatal("colour output has no escape codes")
	}
}

func TestVersionAndHelp(t *testing.T) {
	env, out, _ := testEnv("")
	if code := Execute(context.Background(), env, []string{"version"}); code != 0 || out.String() != "rampart test\n" {
		t.Fatalf("version: exit %d, %q", code, out.String())
	}
	for _, cmd := range [][]string{{"--help"}, {"scan", "--help"}, {"demo", "--help"}, {"discover", "--help"}, {"version", "--help"}} {
		env, out, _ := testEnv("")
		if code := Execute(context.Background(), env, cmd); code != 0 || !strings.Contains(out.String(), "Usage:") {
			t.Errorf("%v: exit %d, output %q", cmd, code, out.String())
		}
	}
}

func TestReadTargetsStdinOnce(t *testing.T) {
	env, _, _ := testEnv("example.org\n# c\n\nsmtp://mx.example.org\n")
	o := &scanOptions{}
	ts, err := readTargets(env, servicesDefault(), []string{"-", "xmpp.example.org:5222"}, o.files)
	if err != nil || len(ts) != 3 || ts[0].Source != "stdin:1" || ts[1].Source != "stdin:4" || ts[2].Source != "args:1" {
		t.Fatalf("targets = %+v, err %v", ts, err)
	}
	if _, err := readTargets(env, servicesDefault(), []string{"-"}, []string{"-"}); err == nil {
		t.Fatal("stdin accepted twice")
	}
}

func servicesDefault() *services.Registry { return services.Default() }

func TestScanFlagConflicts(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in the error output
	}{
		{[]string{"scan", "--quick", "--exhaustive", "127.0.0.1:1"}, "--quick and --exhaustive"},
		{[]string{"scan", "--format", "xml", "127.0.0.1:1"}, "--format"},
		{[]string{"scan", "--timeout", "0s", "127.0.0.1:1"}, "--timeout"},
	} {
		env, _, errOut := testEnv("")
		if code := Execute(context.Background(), env, tc.args); code != ExitUsage || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d (want %d, usage), stderr %q (want %q)", tc.args, code, ExitUsage, errOut.String(), tc.want)
		}
	}
}
