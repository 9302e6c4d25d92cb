package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampart-scan/rampart/checks"
	"github.com/rampart-scan/rampart/discover"
	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/pipeline"
	"github.com/rampart-scan/rampart/policies"
	"github.com/rampart-scan/rampart/reports"
	"github.com/rampart-scan/rampart/scanner"
	"github.com/rampart-scan/rampart/scanner/exposure"
	"github.com/rampart-scan/rampart/scanner/netx"
	"github.com/rampart-scan/rampart/services"
	"github.com/rampart-scan/rampart/targets"
)

// scanOptions are the flags of `rampart scan` (and the scan part of `rampart demo`).
type scanOptions struct {
	files       []string
	timeout     time.Duration
	concurrency int
	rate        float64
	perAddress  int
	format      string
	quiet       bool
	noColor     bool
	resolvers   []string
	caFile      string
	failOn      string
	verbose     bool
	scope       []string
	wordlist    string
	dnsTimeout  time.Duration
	dnsRate     float64
	quick       bool
	attempts    int
	noLint      bool
	noVulns     bool
	exhaustive  bool
	ports       string
	policy      string
	db          string
	noStore     bool

	reports reportFiles

	// Set by the demo, not by flags.
	extraRoots    *x509.CertPool
	connectTo     map[string]string
	wordlistWords []string
}

func (o *scanOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.DurationVar(&o.timeout, "timeout", 5*time.Second, "timeout for each dial, read and handshake")
	f.IntVarP(&o.concurrency, "concurrency", "c", 32, "endpoints probed at once")
	f.Float64Var(&o.rate, "rate", 100, "new connections per second across the whole scan (0: unlimited)")
	f.IntVar(&o.perAddress, "per-address", 4, "concurrent connections to one IP address at most")
	f.StringVar(&o.format, "format", "text", "standard output format: text, json or jsonl")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress bar and no text summary (json/jsonl still print)")
	f.BoolVar(&o.noColor, "no-color", false, "no colour in the text summary (also: NO_COLOR=1)")
	f.StringArrayVar(&o.resolvers, "resolver", nil, "DNS resolver ADDR[:PORT] (repeatable; default: the system's)")
	f.StringVar(&o.caFile, "ca-file", "", "PEM file of extra trust anchors, added to the system roots")
	f.StringVar(&o.failOn, "fail-on", "high", "exit 1 when a finding has this severity or above: info, low, medium, high, critical or none")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "list every finding in the text summary, not only medium and above")
	f.StringArrayVar(&o.scope, "scope", nil, "domains and CIDRs that SRV/MX/CNAME records may lead to (repeatable; default: the targets themselves)")
	f.StringVar(&o.wordlist, "wordlist", "", "brute-force subdomains of domain targets with FILE (\"default\": the embedded messaging list)")
	f.DurationVar(&o.dnsTimeout, "dns-timeout", 2*time.Second, "timeout of one DNS query")
	f.Float64Var(&o.dnsRate, "dns-rate", 0, "DNS queries per second at most (0: unlimited)")
	f.BoolVar(&o.quick, "quick", false, "one modern handshake per endpoint instead of the full audit (versions, every suite, groups, handshake features)")
	f.IntVar(&o.attempts, "attempts", 1, "connection attempts per endpoint for availability facts (latency, error rate); 1 measures nothing extra")
	f.BoolVar(&o.noLint, "no-lint", false, "skip zlint on certificates")
	f.BoolVar(&o.exhaustive, "exhaustive", false, "probe what the full audit settles from other answers: each older protocol version on its own, TLS 1.0/1.1 suite by suite, and the fallback SCSV even where no fallback is possible (more connections)")
	f.BoolVar(&o.noVulns, "no-vulns", false, "leave out the active vulnerability probes (Heartbleed, CCS injection, Ticketbleed, ROBOT, renegotiation, CRIME, 0-RTT)")
	f.StringVar(&o.policy, "policy", "", "policy to judge against: a built-in name (see 'rampart policy list') or a YAML file (default messaging-baseline)")
	f.StringVar(&o.ports, "ports", "", "also run the exposure scan over these ports on every address: named sets ("+strings.Join(exposure.SetNames(), ", ")+"), lists and ranges, e.g. messaging,databases,8000-8100")
	o.reports.addFlags(cmd)
	f.StringVar(&o.db, "db", "", "scan database for history and drift (default $XDG_DATA_HOME/rampart/rampart.db)")
	f.BoolVar(&o.noStore, "no-store", false, "do not record the scan in the database (no drift, no history)")
}

// validate checks flag values before anything touches the network.
func (o *scanOptions) validate() (failOn model.Severity, failNever bool, err error) {
	switch o.format {
	case "text", "json", "jsonl":
	default:
		return 0, false, fmt.Errorf("--format %q: want text, json or jsonl", o.format)
	}
	if o.quick && o.exhaustive {
		return 0, false, errors.New("--quick and --exhaustive exclude each other: --quick makes one handshake, --exhaustive probes more than the full audit")
	}
	if o.timeout <= 0 {
		return 0, false, fmt.Errorf("--timeout must be positive, got %s", o.timeout)
	}
	if o.concurrency < 1 || o.concurrency > 4096 {
		return 0, false, fmt.Errorf("--concurrency must be between 1 and 4096, got %d", o.concurrency)
	}
	if o.rate < 0 {
		return 0, false, fmt.Errorf("--rate must not be negative, got %g", o.rate)
	}
	if o.attempts < 1 || o.attempts > 100 {
		return 0, false, fmt.Errorf("--attempts must be between 1 and 100, got %d", o.attempts)
	}
	if o.perAddress < 1 || o.perAddress > 256 {
		return 0, false, fmt.Errorf("--per-address must be between 1 and 256, got %d", o.perAddress)
	}
	if strings.EqualFold(o.failOn, "none") {
		return 0, true, nil
	}
	s, err := model.ParseSeverity(o.failOn)
	if err != nil {
		return 0, false, fmt.Errorf("--fail-on: %w", err)
	}
	return s, false, nil
}

func newScanCmd(env *Env) *cobra.Command {
	o := &scanOptions{}
	cmd := &cobra.Command{
		Use:   "scan [targets...]",
		Short: "Discover and audit messaging endpoints",
		Long: `Scan discovers the messaging endpoints behind the targets, audits each one and
reports findings under the policy.

Targets (arguments, -f FILE, or - for standard input; one per line, # comments):
  example.org                 a domain: its XMPP, Matrix, SIP, mail, MQTT, IRC and HTTPS
                              endpoints are discovered through SRV, MX and A/AAAA records
  mail.example.org:465        a host and port
  smtp://mx.example.org       a host with a service hint (port: the service's default)
  192.0.2.7, [2001:db8::1]:443  addresses (default port 443)
  192.0.2.0/28                every address of a block (at most 65536)

A malformed target stops the run before any traffic (exit 2).

Exit codes: 0 fine; 1 findings at or above --fail-on; 2 usage or configuration error;
3 the scan itself failed; 130 interrupted (Ctrl-C; what finished is still reported).`,
		Example: `  rampart scan example.org
  rampart scan -f targets.txt --format json > scan.json
  echo smtp://mx.example.org | rampart scan - --fail-on medium`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd.Context(), env, o, args)
		},
	}
	o.addFlags(cmd)
	cmd.Flags().StringArrayVarP(&o.files, "file", "f", nil, "read targets from FILE (repeatable; - for standard input)")
	return cmd
}

// readTargets parses arguments and target files; "-" (as argument or file) reads stdin.
func readTargets(env *Env, reg *services.Registry, args, files []string) ([]model.Target, error) {
	p := &targets.Parser{Services: reg}
	var out []model.Target
	stdinUsed := false
	readStdin := func() error {
		if stdinUsed {
			return errors.New("standard input given twice")
		}
		stdinUsed = true
		ts, err := p.ParseReader(env.In, "stdin")
		out = append(out, ts...)
		return err
	}
	var plain []string
	for _, a := range args {
		if a == "-" {
			if err := readStdin(); err != nil {
				return nil, err
			}
			continue
		}
		plain = append(plain, a)
	}
	ts, err := p.ParseArgs(plain)
	if err != nil {
		return nil, err
	}
	out = append(out, ts...)
	for _, f := range files {
		if f == "-" {
			if err := readStdin(); err != nil {
				return nil, err
			}
			continue
		}
		fh, err := os.Open(f)
		if err != nil {
			return nil, fmt.Errorf("target file: %w", err)
		}
		ts, err := p.ParseReader(fh, f)
		fh.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	if len(out) == 0 {
		return nil, errors.New("no targets: give targets as arguments, with -f FILE, or - for standard input")
	}
	return out, nil
}

// loadRoots returns the system roots plus the certificates of caFile.
func loadRoots(caFile string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if caFile == "" {
		return pool, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca-file %s: no PEM certificates found", caFile)
	}
	return pool, nil
}

// portScanner keeps a nil *portStage from becoming a non-nil interface.
func portScanner(ps *portStage) pipeline.PortScanner {
	if ps == nil {
		return nil
	}
	return ps
}

// loadWordlist reads --wordlist: "default" is the embedded list, anything else a file.
func (o *scanOptions) loadWordlist() error {
	switch o.wordlist {
	case "":
		return nil
	case "default":
		o.wordlistWords = discover.DefaultWordlist()
		return nil
	}
	f, err := os.Open(o.wordlist)
	if err != nil {
		return fmt.Errorf("--wordlist: %w", err)
	}
	defer f.Close()
	words, err := discover.ReadWordlist(f)
	if err != nil {
		return fmt.Errorf("--wordlist %s: %w", o.wordlist, err)
	}
	o.wordlistWords = words
	return nil
}

// scanSetup is everything a scan needs, built from flags before any traffic.
type scanSetup struct {
	targets  []model.Target
	failOn   model.Severity
	never    bool
	dialer   *netx.Dialer
	prober   scanner.Prober
	disc     pipeline.Discoverer
	ports    pipeline.PortScanner
	policy   *policies.Policy
	catalog  *checks.Catalogue
	services *services.Registry
}

func prepareScan(env *Env, o *scanOptions, args []string) (*scanSetup, error) {
	failOn, never, err := o.validate()
	if err != nil {
		return nil, usageError(err)
	}
	reg := services.Default()
	ts, err := readTargets(env, reg, args, o.files)
	if err != nil {
		return nil, usageError(err)
	}
	pol, err := scanPolicy(o.policy)
	if err != nil {
		return nil, usageError(err)
	}
	roots, err := loadRoots(o.caFile)
	if err != nil {
		return nil, usageError(err)
	}
	if o.extraRoots != nil {
		roots = o.extraRoots
	}
	if err := o.loadWordlist(); err != nil {
		return nil, usageError(err)
	}
	d := netx.New(netx.Options{Timeout: o.timeout, Rate: o.rate, PerAddress: o.perAddress, ConnectTo: o.connectTo})
	disc, err := newDiscoverer(o, reg, d, roots)
	if err != nil {
		return nil, usageError(err)
	}
	ps, err := newPortStage(o.ports, d, reg, o.timeout)
	if err != nil {
		return nil, usageError(fmt.Errorf("--ports: %w", err))
	}
	return &scanSetup{
		targets: ts, failOn: failOn, never: never, dialer: d,
		prober:   newProbe(o, d, reg, roots),
		disc:     disc,
		ports:    portScanner(ps),
		policy:   pol,
		catalog:  checks.Default(),
		services: reg,
	}, nil
}

func newProbe(o *scanOptions, d *netx.Dialer, reg *services.Registry, roots *x509.CertPool) *scanner.AuditProbe {
	depth := scanner.DepthFull
	if o.quick {
		depth = scanner.DepthQuick
	}
	return &scanner.AuditProbe{Dialer: d, Services: reg, Roots: roots, Depth: depth, Attempts: o.attempts, Lint: !o.noLint, NoVulns: o.noVulns, Exhaustive: o.exhaustive}
}

// streamSink writes JSON Lines as endpoints finish.
type streamSink struct{ w *reports.JSONLWriter }

func (s streamSink) Start(int)                         {}
func (s streamSink) Endpoint(er *model.EndpointResult) { _ = s.w.Endpoint(er) }
func (s streamSink) Domain(dr *model.DomainResult)     { _ = s.w.Domain(dr) }
func (s streamSink) Nodes(nr *model.NodeGroupResult)   { _ = s.w.Nodes(nr) }
func (s streamSink) Revised(er *model.EndpointResult)  { _ = s.w.Revised(er) }

func runScan(ctx context.Context, env *Env, o *scanOptions, args []string) error {
	setup, err := prepareScan(env, o, args)
	if err != nil {
		return err
	}
	res, err := executeScan(ctx, env, o, setup)
	if err != nil {
		return err
	}
	return exitFor(res, setup)
}

// executeScan runs the pipeline with signal handling, progress and the chosen output.
func executeScan(ctx context.Context, env *Env, o *scanOptions, s *scanSetup) (*model.ScanResult, error) {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	var sinks []pipeline.Sink
	var jl *reports.JSONLWriter
	if o.format == "jsonl" {
		jl = reports.NewJSONLWriter(env.Out)
		sinks = append(sinks, streamSink{jl})
	}
	var prog *progress
	if env.ErrTTY && !o.quiet {
		prog = newProgress(env.Err, time.Now)
		sinks = append(sinks, prog)
	}
	started := time.Now()
	var rec *recorder
	if !o.noStore {
		r, err := startRecording(ctx, env, o.db, s.policy, s.targets, started)
		if err != nil {
			return nil, err
		}
		defer r.st.Close()
		rec = r
		sinks = append(sinks, rec)
	}
	cfg := pipeline.Config{
		Targets: s.targets, Discoverer: s.disc, Ports: s.ports, Prober: s.prober, Workers: o.concurrency,
		Catalogue: s.catalog, Policy: s.policy, Sinks: sinks, Version: env.Version,
		AfterProbe: matchDANE, Now: func() time.Time { return time.Now() },
	}
	if rec != nil {
		cfg.ID = rec.id
	}
	res, _ := pipeline.Run(ctx, cfg)
	prog.Finish()
	rc := reportContext{catalog: s.catalog, env: env}
	if rec != nil {
		if err := rec.finish(ctx, res); err == nil {
			rc = rec.reportContext(ctx, rc)
		}
	}
	if err := writeOutput(env, o, res, jl, rc.drift); err != nil {
		return res, &ExitError{Code: ExitFailed, Err: err}
	}
	written, err := o.reports.write(res, rc)
	for _, p := range written {
		if !o.quiet {
			fmt.Fprintf(env.Err, "wrote %s\n", p)
		}
	}
	if err != nil {
		return res, &ExitError{Code: ExitFailed, Err: err}
	}
	return res, nil
}

func writeOutput(env *Env, o *scanOptions, res *model.ScanResult, jl *reports.JSONLWriter, drift *model.Drift) error {
	switch o.format {
	case "json":
		return reports.WriteJSON(env.Out, res)
	case "jsonl":
		return jl.Close(res)
	default:
		if o.quiet {
			return nil
		}
		return reports.WriteText(env.Out, res, reports.TextOptions{Color: env.Color(o.noColor), Verbose: o.verbose, Drift: drift})
	}
}

// matchDANE records, for each domain's TLSA sets, whether the chains endpoints served match.
func matchDANE(domains []model.DomainObservation, eps []model.EndpointResult) {
	for _, er := range eps {
		cf := er.Observation.Certificates
		if cf == nil || len(cf.Chain) == 0 {
			continue
		}
		chain := make([][]byte, 0, len(cf.Chain))
		for _, c := range cf.Chain {
			if len(c.DER) == 0 {
				break // a certificate too large to keep: match what precedes it
			}
			chain = append(chain, c.DER)
		}
		for i := range domains {
			discover.AttachTLSAMatches(&domains[i], er.Observation.Endpoint, chain)
		}
	}
}

// exitFor maps a finished scan to the process exit code.
func exitFor(res *model.ScanResult, s *scanSetup) error {
	switch res.Status {
	case model.ScanFailed:
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("scan failed: %s", res.Error)}
	case model.ScanInterrupted:
		return &ExitError{Code: ExitInterrupted, Err: errors.New("scan interrupted; the results above are partial")}
	}
	if s.never {
		return nil
	}
	worst, n := model.SeverityInfo, 0
	for _, f := range res.Findings() {
		if !f.Waived && f.Severity >= s.failOn {
			n++
			if f.Severity > worst {
				worst = f.Severity
			}
		}
	}
	if n > 0 {
		return &ExitError{Code: ExitFindings, Err: fmt.Errorf("%d finding(s) at or above %s (worst: %s)", n, s.failOn, worst)}
	}
	return nil
}
