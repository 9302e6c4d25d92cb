package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/rampart-scan/rampart/discover"
	"github.com/rampart-scan/rampart/scanner/netx"
	"github.com/rampart-scan/rampart/services"
)

func newDiscoverCmd(env *Env) *cobra.Command {
	o := &scanOptions{}
	cmd := &cobra.Command{
		Use:   "discover DOMAIN|TARGET...",
		Short: "Print the messaging estate found through DNS, without probing it",
		Long: `Discover follows the service profiles of each domain (XMPP, Matrix, SIP, mail, MQTT,
IRC, HTTPS) through SRV, MX, CNAME and A/AAAA records and prints the endpoints with the chain
of records that led to each, what was skipped as out of scope and why, and the domain's DNS
hygiene facts (DNSSEC, CAA, MTA-STS, TLS-RPT, TLSA). No endpoint is connected to; the only
traffic is DNS (and HTTPS for Matrix .well-known and MTA-STS policies, within scope).`,
		Example: `  rampart discover example.org
  rampart discover --wordlist default --resolver 127.0.0.1:5353 example.org
  rampart discover --format json example.org`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiscover(cmd.Context(), env, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	f.StringArrayVar(&o.resolvers, "resolver", nil, "DNS resolver ADDR[:PORT] (repeatable; default: the system's)")
	f.StringArrayVar(&o.scope, "scope", nil, "domains and CIDRs records may lead to (repeatable; default: the targets)")
	f.StringVar(&o.wordlist, "wordlist", "", "brute-force subdomains with FILE (\"default\": the embedded list)")
	f.DurationVar(&o.dnsTimeout, "dns-timeout", 0, "timeout of one DNS query (default 2s)")
	f.Float64Var(&o.dnsRate, "dns-rate", 0, "DNS queries per second at most (0: unlimited)")
	f.DurationVar(&o.timeout, "timeout", 0, "timeout of HTTPS fetches' dial and reads (default 5s)")
	f.StringVar(&o.caFile, "ca-file", "", "PEM file of extra trust anchors for HTTPS fetches")
	f.StringArrayVarP(&o.files, "file", "f", nil, "read targets from FILE (repeatable; - for standard input)")
	return cmd
}

func runDiscover(ctx context.Context, env *Env, o *scanOptions, args []string) error {
	if o.format != "text" && o.format != "json" {
		return usageError(fmt.Errorf("--format %q: want text or json", o.format))
	}
	reg := services.Default()
	ts, err := readTargets(env, reg, args, o.files)
	if err != nil {
		return usageError(err)
	}
	roots, err := loadRoots(o.caFile)
	if err != nil {
		return usageError(err)
	}
	if err := o.loadWordlist(); err != nil {
		return usageError(err)
	}
	dialer := netx.New(netx.Options{Timeout: o.timeout})
	d, err := newDiscoverer(o, reg, dialer, roots)
	if err != nil {
		return usageError(err)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, derr := d.d.Discover(ctx, ts)
	if res != nil {
		if o.format == "json" {
			enc := json.NewEncoder(env.Out)
			enc.SetIndent("", "  ")
			err = enc.Encode(res)
		} else {
			err = discover.WriteText(env.Out, res)
		}
		if err != nil {
			return &ExitError{Code: ExitFailed, Err: err}
		}
	}
	if derr != nil {
		if ctx.Err() != nil {
			return &ExitError{Code: ExitInterrupted, Err: derr}
		}
		return &ExitError{Code: ExitFailed, Err: derr}
	}
	return nil
}
