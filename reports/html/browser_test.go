package html

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/rampart-scan/rampart/internal/testenv"
	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/reports/internal/reporttest"
)

// browserLog collects what the page did that a self-contained, script-safe report must not do.
type browserLog struct {
	mu       sync.Mutex
	requests []string
	console  []string
	dialogs  []string
}

func (l *browserLog) add(dst *[]string, s string) {
	l.mu.Lock()
	*dst = append(*dst, s)
	l.mu.Unlock()
}

func (l *browserLog) snapshot() (req, con, dia []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.requests...), append([]string(nil), l.console...), append([]string(nil), l.dialogs...)
}

// newBrowser starts Debian's chromium headless with a fresh profile and records requests,
// console errors and dialogs of its tab.
func newBrowser(t testing.TB, exe string) (context.Context, *browserLog) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bl := &browserLog{}
	var ctx context.Context
	var cancel context.CancelFunc
	ctx, cancel = chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			bl.add(&bl.requests, e.Request.URL)
		case *runtime.EventConsoleAPICalled:
			if e.Type == "error" || e.Type == "assert" {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				bl.add(&bl.console, "console."+string(e.Type)+": "+strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			bl.add(&bl.console, fmt.Sprintf("exception at %d:%d: %s", d.LineNumber, d.ColumnNumber, msg))
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
				bl.add(&bl.console, "log "+string(e.Entry.Level)+" ("+string(e.Entry.Source)+"): "+e.Entry.Text)
			}
		case *cdppage.EventJavascriptDialogOpening:
			bl.add(&bl.dialogs, string(e.Type)+": "+e.Message)
			go chromedp.Call(ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: true}) //nolint:errcheck // best effort: the test fails on the dialog anyway
		}
	}))
	t.Cleanup(func() {
		cancel()
		acancel()
	})
	// Start the browser now, on a context without deadline (it lives as long as ctx).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx, bl
}

// hostileLab is a TLS server on loopback whose certificate subject and banner carry script and
// markup payloads. It returns what a client read from it: the leaf subject and the banner line.
func hostileLab(t *testing.T) (subject, banner string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cn := "evil " + reporttest.ScriptPayload + reporttest.ImgPayload
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: cn},
		NotBefore: reporttest.Now.AddDate(0, -3, 0), NotAfter: reporttest.Now.AddDate(0, 0, -12)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "220 %s %s ESMTP\r\n", reporttest.ScriptPayload, reporttest.ImgPayload)
		io.Copy(io.Discard, io.LimitReader(c, 1024))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true}} // lab server: we read what it presents
	conn, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial lab: %v", err)
	}
	tc := conn.(*tls.Conn)
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(io.LimitReader(tc, 512)).ReadString('\n')
	if err != nil {
		t.Fatalf("read banner: %v", err)
	}
	leaf := tc.ConnectionState().PeerCertificates[0]
	tc.Close()
	<-done
	return "CN=" + leaf.Subject.CommonName, strings.TrimRight(line, "\r\n")
}

func writeReport(t testing.TB, in Input) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(f, in); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func fileURL(path string) string { return (&url.URL{Scheme: "file", Path: path}).String() }

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func TestReportInChromium(t *testing.T) {
	exe := testenv.LookPath(t, "chromium", "chromium")
	subject, banner := hostileLab(t)
	if !strings.Contains(subject, reporttest.ScriptPayload) || !strings.Contains(banner, reporttest.ImgPayload) {
		t.Fatalf("lab server did not deliver the payloads: %q %q", subject, banner)
	}
	scan := reporttest.Scan(reporttest.Options{Hostile: true})
	scan.Endpoints[0].Observation.Certificates.Chain[0].Subject = subject
	scan.Endpoints[2].Findings[0].Evidence["banner"] = banner
	scan.Endpoints[2].Observation.StartTLS.Greeting = banner
	path := writeReport(t, Input{Scan: scan, Rules: reporttest.Rule, Drift: reporttest.Drift(scan), Trend: history()})
	docURL := fileURL(path)

	ctx, bl := newBrowser(t, exe)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(docURL), chromedp.WaitReady(chromedp.ID("findings-table"))); err != nil {
		t.Fatalf("load report: %v", err)
	}

	visibleRows := func(t *testing.T, sel string) int {
		t.Helper()
		return eval[int](t, tctx, `Array.from(document.querySelectorAll("#findings-table tbody tr`+sel+`")).filter(r => !r.hidden).length`)
	}
	total := visibleRows(t, "")
	if total != 5 {
		t.Fatalf("%d findings rows visible, want 5 active", total)
	}
	if !eval[bool](t, tctx, `!document.getElementById("filters").hidden`) {
		t.Error("filters still hidden: the script did not run")
	}

	t.Run("payloads are text", func(t *testing.T) {
		subjects := eval[[]string](t, tctx, `Array.from(document.querySelectorAll(".cert-subject")).map(e => e.textContent)`)
		if !containsString(subjects, subject) {
			t.Errorf("certificate subject %q not shown as text; subjects %q", subject, subjects)
		}
		body := eval[string](t, tctx, `document.body.textContent`)
		if !strings.Contains(body, banner) {
			t.Errorf("banner %q not shown as text", banner)
		}
		if n := eval[int](t, tctx, `document.querySelectorAll("img, [onerror], iframe, object, embed").length`); n != 0 {
			t.Errorf("%d injected elements in the DOM", n)
		}
		if n := eval[int](t, tctx, `document.scripts.length`); n != 1 {
			t.Errorf("%d script elements, want only the report's own", n)
		}
	})

	t.Run("severity filter", func(t *testing.T) {
		crit := visibleRows(t, `[data-sev='critical']`)
		if crit == 0 {
			t.Fatal("fixture has no critical rows")
		}
		if err := chromedp.Do(tctx, chromedp.Click(chromedp.ID("f-sev-critical"))); err != nil {
			t.Fatal(err)
		}
		if n := visibleRows(t, `[data-sev='critical']`); n != 0 {
			t.Errorf("%d critical rows visible after unticking critical", n)
		}
		if n := visibleRows(t, ""); n != total-crit {
			t.Errorf("%d rows visible, want %d", n, total-crit)
		}
		if got := eval[string](t, tctx, `document.getElementById("f-count").textContent`); got != fmt.Sprintf("%d of %d shown", total-crit, total) {
			t.Errorf("count %q", got)
		}
		if err := chromedp.Do(tctx, chromedp.Click(chromedp.ID("f-clear"))); err != nil {
			t.Fatal(err)
		}
		if n := visibleRows(t, ""); n != total {
			t.Errorf("%d rows after clearing, want %d", n, total)
		}
	})

	t.Run("rule host new and search filters", func(t *testing.T) {
		set := `(id, v) => { const e = document.getElementById(id); e.value = v; e.dispatchEvent(new Event("change")); }`
		eval[any](t, tctx, `(`+set+`)("f-rule", "starttls/not-offered")`)
		if n, m := visibleRows(t, ""), visibleRows(t, `[data-rule='starttls/not-offered']`); n != 1 || m != 1 {
			t.Errorf("rule filter: %d rows visible, %d of the rule", n, m)
		}
		eval[any](t, tctx, `(`+set+`)("f-rule", "")`)
		eval[any](t, tctx, `(`+set+`)("f-host", "xmpp.example.org:5222")`)
		if n := visibleRows(t, ""); n != 2 {
			t.Errorf("host filter: %d rows, want 2", n)
		}
		eval[any](t, tctx, `(`+set+`)("f-host", "")`)
		if err := chromedp.Do(tctx, chromedp.Click(chromedp.ID("f-new"))); err != nil {
			t.Fatal(err)
		}
		if n, m := visibleRows(t, ""), visibleRows(t, `[data-new='1']`); n != 1 || m != 1 {
			t.Errorf("new-only: %d rows, %d new", n, m)
		}
		if err := chromedp.Do(tctx, chromedp.Click(chromedp.ID("f-clear")), chromedp.SendKeys(chromedp.ID("f-search"), "postgresql")); err != nil {
			t.Fatal(err)
		}
		if n := visibleRows(t, ""); n != 1 {
			t.Errorf("search: %d rows, want 1", n)
		}
		if err := chromedp.Do(tctx, chromedp.Click(chromedp.ID("f-clear"))); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("sort", func(t *testing.T) {
		if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS(`#findings-table thead th:nth-child(2)`))); err != nil {
			t.Fatal(err)
		}
		rules := eval[[]string](t, tctx, `Array.from(document.querySelectorAll("#findings-table tbody tr")).map(r => r.dataset.rule)`)
		for i := 1; i < len(rules); i++ {
			if rules[i-1] > rules[i] {
				t.Errorf("rules not ascending after sorting: %q", rules)
				break
			}
		}
		if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS(`#findings-table thead th:nth-child(1)`)), chromedp.Click(chromedp.CSS(`#findings-table thead th:nth-child(1)`))); err != nil {
			t.Fatal(err)
		}
		if first := eval[string](t, tctx, `document.querySelector("#findings-table tbody tr").dataset.sev`); first != "critical" {
			t.Errorf("first row after sorting severity descending: %s", first)
		}
	})

	t.Run("dark mode and print", func(t *testing.T) {
		bg := func() string {
			return eval[string](t, tctx, `getComputedStyle(document.body).backgroundColor`)
		}
		light := bg()
		media := func(m string, features ...*emulation.MediaFeature) {
			t.Helper()
			if _, err := chromedp.Call(tctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m, Features: features}); err != nil {
				t.Fatal(err)
			}
		}
		media("", &emulation.MediaFeature{Name: "prefers-color-scheme", Value: "dark"})
		dark := bg()
		if dark == light || dark != "rgb(15, 19, 24)" {
			t.Errorf("prefers-color-scheme dark: background %s (light %s)", dark, light)
		}
		png, err := chromedp.Run(tctx, chromedp.CaptureScreenshot())
		if err == nil {
			err = os.WriteFile(filepath.Join(t.TempDir(), "report-dark.png"), png, 0o644)
		}
		if err != nil {
			t.Errorf("dark screenshot: %v", err)
		}
		media("print")
		if d := eval[string](t, tctx, `getComputedStyle(document.getElementById("filters")).display`); d != "none" {
			t.Errorf("filters shown in print (display %s)", d)
		}
		if got := bg(); got != "rgb(255, 255, 255)" {
			t.Errorf("print background %s, want white", got)
		}
		media("")
	})

	png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	shot := filepath.Join(t.TempDir(), "report.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Errorf("screenshot is not a PNG")
	}
	// A copy for people to look at; not fatal when /tmp is not writable.
	if err := os.WriteFile(filepath.Join(os.TempDir(), "rampart-report.png"), png, 0o644); err != nil {
		t.Logf("copy screenshot: %v", err)
	}

	req, con, dia := bl.snapshot()
	for _, r := range req {
		if r != docURL {
			t.Errorf("network request beyond the document: %s", r)
		}
	}
	if len(req) == 0 {
		t.Error("no request seen at all: the network listener is not working")
	}
	for _, c := range con {
		t.Errorf("console: %s", c)
	}
	for _, d := range dia {
		t.Errorf("dialog opened: %s", d)
	}
}

// TestListenerSeesViolations proves the test's own instruments: a page that breaks the rules
// is caught (a request, a console error, a CSP violation, a dialog).
func TestListenerSeesViolations(t *testing.T) {
	exe := testenv.LookPath(t, "chromium", "chromium")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.html")
	doc := `<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:">` +
		`<p>x</p><img src="nothere.png"><script>alert(1)</script>`
	if err := os.WriteFile(bad, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, bl := newBrowser(t, exe)
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(fileURL(bad))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		_, con, _ := bl.snapshot()
		if len(con) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	req, con, dia := bl.snapshot()
	if len(con) == 0 {
		t.Error("CSP violation (blocked inline script) not seen on the console")
	}
	if len(dia) != 0 {
		t.Errorf("CSP let the inline script run: %q", dia)
	}
	if len(req) < 1 {
		t.Error("document request not seen")
	}
	// Without CSP the alert runs and must be seen.
	open := filepath.Join(dir, "open.html")
	if err := os.WriteFile(open, []byte(`<!DOCTYPE html><p>x</p><script>alert(1)</script>`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(fileURL(open))); err != nil {
		t.Fatal(err)
	}
	for time.Now().Before(deadline.Add(5 * time.Second)) {
		if _, _, d := bl.snapshot(); len(d) > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Error("alert dialog not seen")
}

func containsString(ss []string, want string) bool {
	for _, s := range ss {
		if s == want {
			return true
		}
	}
	return false
}

// BenchmarkReport10k reports the size of a 10,000-finding report, the time to write it and,
// when chromium is installed, the time for the browser to load it.
func BenchmarkReport10k(b *testing.B) {
	scan := reporttest.Large(10000)
	in := Input{Scan: scan, Rules: reporttest.Rule}
	b.Run("write", func(b *testing.B) {
		var size int64
		for b.Loop() {
			cw := &countingWriter{}
			if err := Write(cw, in); err != nil {
				b.Fatal(err)
			}
			size = cw.n
		}
		b.ReportMetric(float64(size), "bytes")
	})
	b.Run("load", func(b *testing.B) {
		exe := testenv.LookPath(b, "chromium", "chromium")
		path := writeReport(b, in)
		st, _ := os.Stat(path)
		ctx, _ := newBrowser(b, exe)
		var parse, load float64
		for b.Loop() {
			if err := chromedp.Do(ctx, chromedp.Navigate(fileURL(path)), chromedp.WaitReady(chromedp.ID("findings-table"))); err != nil {
				b.Fatal(err)
			}
			// The browser's own navigation timing: parsing done (DOMContentLoaded, after the
			// report's script ran) and the load event.
			t, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => { const n = performance.getEntriesByType("navigation")[0]; return [n.domContentLoadedEventEnd, n.loadEventEnd]; })()`))
			if err != nil || len(t) != 2 {
				b.Fatalf("navigation timing: %v %v", t, err)
			}
			parse += t[0]
			load += t[1]
		}
		b.ReportMetric(float64(st.Size()), "bytes")
		b.ReportMetric(parse/float64(b.N), "ms-domcontentloaded")
		b.ReportMetric(load/float64(b.N), "ms-load")
	})
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// TestMinimalReportInChromium loads reports without findings, drift or endpoints: the script
// must cope with the tables it enhances being absent.
func TestMinimalReportInChromium(t *testing.T) {
	exe := testenv.LookPath(t, "chromium", "chromium")
	ctx, bl := newBrowser(t, exe)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	clean := reporttest.Scan(reporttest.Options{})
	for i := range clean.Endpoints {
		clean.Endpoints[i].Findings = nil
	}
	clean.Domains = nil
	for name, in := range map[string]Input{
		"empty scan":  {Scan: &model.ScanResult{Status: model.ScanFailed, Error: "no targets resolved"}},
		"no findings": {Scan: clean, Rules: reporttest.Rule},
	} {
		path := writeReport(t, in)
		if err := chromedp.Do(tctx, chromedp.Navigate(fileURL(path)), chromedp.WaitReady(chromedp.ID("findings"))); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := eval[string](t, tctx, `document.getElementById("f-count").textContent`); got != "0 active" {
			t.Errorf("%s: count %q", name, got)
		}
		if err := chromedp.Do(tctx, chromedp.Click(chromedp.ID("f-sev-critical")), chromedp.Click(chromedp.ID("theme-toggle"))); err != nil {
			t.Errorf("%s: controls: %v", name, err)
		}
	}
	_, con, dia := bl.snapshot()
	for _, c := range con {
		t.Errorf("console: %s", c)
	}
	for _, d := range dia {
		t.Errorf("dialog: %s", d)
	}
}
