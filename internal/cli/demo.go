package cli

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/rampart-scan/rampart/demo"
	"github.com/rampart-scan/rampart/model"
)

type demoOptions struct {
	scan  scanOptions
	net   string
	out   string
	serve bool
}

func newDemoCmd(env *Env) *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a scan of the built-in demo lab (loopback only, no network needed)",
		Long: `Demo starts a small messaging estate in-process, on loopback addresses only: an
authoritative DNS server for ` + demo.Domain + ` with SRV, MX, CNAME, CAA and A records, TLS
endpoints with known faults (TLS 1.0 only, an expired, a self-signed and a mismatched
certificate, two MQTT nodes serving different certificates, SMTP with plaintext AUTH before
STARTTLS, XMPP with optional STARTTLS), a good TLS 1.3 endpoint, an exposed plaintext cache
port and an SSH port that only the exposure scan (--ports, by default the lab's list) finds. It scans the estate through its DNS
server, records it in --out/rampart.db (run the demo twice to see drift), prints the results,
and writes report.html, results.sarif and results.json and the lab's CA (demo-ca.pem) into
--out, printing their paths.

With --serve the lab keeps running after the scan until Ctrl-C, and the command prints how
to scan it with 'rampart scan'.`,
		Example: `  rampart demo
  rampart demo --format json > demo.json
  rampart demo --serve`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), env, o)
		},
	}
	o.scan.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.net, "net", "127.77.0.0/24", "loopback /24 the lab binds to")
	f.StringVar(&o.out, "out", "rampart-demo", "folder for the lab CA and the reports")
	f.BoolVar(&o.serve, "serve", false, "keep the lab running after the scan, until Ctrl-C")
	_ = f.Set("fail-on", "none")
	f.Lookup("fail-on").DefValue = "none"
	// The lab is our own, on loopback: no need to pace connections.
	_ = f.Set("rate", "0")
	f.Lookup("rate").DefValue = "0"
	return cmd
}

func runDemo(ctx context.Context, env *Env, o *demoOptions) error {
	pfx, err := netip.ParsePrefix(o.net)
	if err != nil {
		return usageError(fmt.Errorf("--net: %w", err))
	}
	lab, err := demo.Start(demo.Options{Net: pfx})
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("starting the demo lab: %w", err)}
	}
	defer lab.Close()
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("--out: %w", err)}
	}
	caPath := filepath.Join(o.out, "demo-ca.pem")
	if err := os.WriteFile(caPath, lab.CAPEM, 0o644); err != nil {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("writing the lab CA: %w", err)}
	}
	if !o.scan.quiet {
		lab.Describe(env.Err)
		fmt.Fprintln(env.Err)
	}
	set := func(dst *string, name string) {
		if *dst == "" {
			*dst = filepath.Join(o.out, name)
		}
	}
	set(&o.scan.reports.html, "report.html")
	set(&o.scan.reports.sarif, "results.sarif")
	set(&o.scan.reports.json, "results.json")
	set(&o.scan.db, "rampart.db")
	if o.scan.ports == "" {
		o.scan.ports = lab.Ports
	}
	o.scan.resolvers = []string{lab.DNS}
	o.scan.extraRoots = lab.Roots
	o.scan.connectTo = lab.ConnectTo
	setup, err := prepareScan(env, &o.scan, lab.Targets)
	if err != nil {
		return err
	}
	res, err := executeScan(ctx, env, &o.scan, setup)
	if err != nil {
		return err
	}
	// A Ctrl-C during the scan ends the demo: it must not go on to serve and wait for another.
	if o.serve && res.Status != model.ScanInterrupted {
		return serveLab(ctx, env, lab, caPath)
	}
	return exitFor(res, setup)
}

func serveLab(ctx context.Context, env *Env, lab *demo.Lab, caPath string) error {
	fmt.Fprintf(env.Err, "\nThe lab keeps running. Scan it yourself, e.g.:\n  rampart scan --resolver %s --ca-file %s %s\n", lab.DNS, caPath, demo.Domain)
	if len(lab.ConnectTo) > 0 {
		fmt.Fprintln(env.Err, "(ports below 1024 are served from unprivileged ports; those endpoints answer only inside 'rampart demo')")
	}
	fmt.Fprintln(env.Err, "Press Ctrl-C to stop.")
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
