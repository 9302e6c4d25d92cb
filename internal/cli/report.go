package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rampart-scan/rampart/checks"
	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
	"github.com/rampart-scan/rampart/reports"
	"github.com/rampart-scan/rampart/store"
)

type reportOptions struct {
	db, scan, policy, format string
	noColor, verbose, quiet  bool
	files                    reportFiles
}

func newReportCmd(env *Env) *cobra.Command {
	o := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Render a stored scan again, optionally judged under another policy",
		Long: `Report renders a scan from the database — text, JSON, HTML, SARIF or Markdown — with the
drift since the previous complete scan of the same scope and the trend of its history.

With --policy the stored observations are evaluated again under that policy, without any
network traffic: the findings, severities and waivers are the policy's, the facts are the
scan's. The database is not changed.`,
		Example: `  rampart report --html report.html
  rampart report --scan 20261129T032731Z --sarif results.sarif
  rampart report --policy mozilla-modern --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReport(cmd.Context(), env, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "", "scan database (default $XDG_DATA_HOME/rampart/rampart.db)")
	f.StringVar(&o.scan, "scan", "", "scan ID or unique prefix (default: the newest scan)")
	f.StringVar(&o.policy, "policy", "", "evaluate the stored observations again under this policy (name or file)")
	f.StringVar(&o.format, "format", "text", "standard output format: text or json")
	f.BoolVar(&o.noColor, "no-color", false, "no colour in the text summary")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "list every finding in the text summary")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no text summary")
	o.files.addFlags(cmd)
	return cmd
}

func runReport(ctx context.Context, env *Env, o *reportOptions) error {
	if o.format != "text" && o.format != "json" {
		return usageError(fmt.Errorf("--format %q: want text or json", o.format))
	}
	var pol *policies.Policy
	if o.policy != "" {
		p, err := scanPolicy(o.policy)
		if err != nil {
			return usageError(err)
		}
		pol = p
	}
	st, err := openStore(ctx, env, o.db, false)
	if err != nil {
		return err
	}
	defer st.Close()
	id := o.scan
	if id == "" {
		scans, err := st.ListScans(ctx, store.ListOptions{Limit: 1})
		if err != nil {
			return &ExitError{Code: ExitFailed, Err: err}
		}
		if len(scans) == 0 {
			return usageError(fmt.Errorf("the database has no scans yet"))
		}
		id = scans[0].ID
	}
	id, err = st.ResolveScan(ctx, id)
	if err != nil {
		return usageError(err)
	}
	res, err := st.LoadScan(ctx, id)
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	cat := checks.Default()
	rc := historyContext(ctx, st, id, reportContext{catalog: cat, env: env})
	if pol != nil {
		Reevaluate(res, cat, pol)
		rc.drift = nil // the stored drift is the stored policy's
	}
	switch o.format {
	case "json":
		err = reports.WriteJSON(env.Out, res)
	default:
		if !o.quiet {
			err = reports.WriteText(env.Out, res, reports.TextOptions{Color: env.Color(o.noColor), Verbose: o.verbose, Drift: rc.drift})
		}
	}
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	written, err := o.files.write(res, rc)
	for _, p := range written {
		fmt.Fprintf(env.Err, "wrote %s\n", p)
	}
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	return nil
}

// Reevaluate replaces a result's findings with those of pol, from the stored facts alone.
// The evaluation time is the scan's start, as it was when the scan ran.
func Reevaluate(res *model.ScanResult, cat *checks.Catalogue, pol *policies.Policy) {
	res.Policy = pol.Identity()
	at := res.Started
	for i := range res.Endpoints {
		er := &res.Endpoints[i]
		er.Findings = []model.Finding{}
		er.Grade = nil
		if er.Observation.Status != model.StatusInterrupted {
			if fs := cat.Evaluate(&er.Observation, pol, at); len(fs) > 0 {
				er.Findings = fs
			}
			er.Grade = checks.Grade(&er.Observation, pol.For(er.Observation.Endpoint), at)
		}
	}
	for i := range res.Domains {
		d := &res.Domains[i]
		d.Findings = []model.Finding{}
		if fs := cat.EvaluateDomain(&d.Observation, pol, at); len(fs) > 0 {
			d.Findings = fs
		}
	}
	for i := range res.Nodes {
		n := &res.Nodes[i]
		n.Findings = []model.Finding{}
		if fs := cat.EvaluateGroup(&n.Group, pol, at); len(fs) > 0 {
			n.Findings = fs
		}
	}
	cat.DerivedAcrossEndpoints(res.Endpoints, pol, at)
	checks.GradeAcrossEndpoints(res.Endpoints, res.Domains)
}
