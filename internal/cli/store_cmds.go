package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/store"
)

// storeOptions are the flags every store command shares.
type storeOptions struct {
	db     string
	format string
}

func (o *storeOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.db, "db", "", "scan database (default $XDG_DATA_HOME/rampart/rampart.db)")
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text or json")
}

// open checks the format and opens the existing database (a query never creates one).
func (o *storeOptions) open(ctx context.Context, env *Env) (*store.Store, error) {
	if o.format != "text" && o.format != "json" {
		return nil, usageError(fmt.Errorf("--format %q: want text or json", o.format))
	}
	return openStore(ctx, env, o.db, false)
}

// OpenScanStore opens the database a scan records itself in, creating it (and its directory)
// when missing: path, or Env.DefaultDBPath when path is empty. Notices such as waiting for
// another writer's lock go to env.Err.
func OpenScanStore(ctx context.Context, env *Env, path string) (*store.Store, error) {
	return openStore(ctx, env, path, true)
}

func openStore(ctx context.Context, env *Env, path string, create bool) (*store.Store, error) {
	if path == "" {
		p, err := env.DefaultDBPath()
		if err != nil {
			return nil, usageError(err)
		}
		path = p
	}
	if _, err := os.Stat(path); !create && errors.Is(err, os.ErrNotExist) {
		return nil, usageError(fmt.Errorf("no scan database at %s: run `rampart scan` first, or pass --db", path))
	}
	st, err := store.Open(ctx, path, &store.Options{Logf: func(f string, a ...any) {
		fmt.Fprintf(env.Err, "rampart: "+f+"\n", a...)
	}})
	if err != nil {
		return nil, &ExitError{Code: ExitFailed, Err: err}
	}
	return st, nil
}

// StoreCmds returns the commands that read and maintain the scan database: scans, diff,
// history and prune.
func StoreCmds(env *Env) []*cobra.Command {
	return []*cobra.Command{NewScansCmd(env), NewDiffCmd(env), NewHistoryCmd(env), NewPruneCmd(env)}
}

// NewScansCmd builds `rampart scans`: the stored scans, newest first.
func NewScansCmd(env *Env) *cobra.Command {
	o := &storeOptions{}
	var limit int
	var status string
	cmd := &cobra.Command{
		Use:   "scans",
		Short: "List stored scans, newest first",
		Long: `Scans lists the scans kept in the database, newest first: ID, status (running, complete,
interrupted, failed), start time and duration, endpoints, active findings by severity
(critical/high/medium/low/info), policy and scope. Any unique prefix of an ID names a scan in
diff and report.`,
		Example: `  rampart scans
  rampart scans --limit 5 --status complete --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := o.open(ctx, env)
			if err != nil {
				return err
			}
			defer st.Close()
			lo := store.ListOptions{Limit: limit, Status: model.ScanStatus(status)}
			switch lo.Status {
			case "", model.ScanRunning, model.ScanComplete, model.ScanInterrupted, model.ScanFailed:
			default:
				return usageError(fmt.Errorf("--status %q: want running, complete, interrupted or failed", status))
			}
			list, err := st.ListScans(ctx, lo)
			if err != nil {
				return err
			}
			if o.format == "json" {
				if list == nil {
					list = []store.ScanInfo{}
				}
				return dbWriteJSON(env.Out, list)
			}
			return writeScansText(env.Out, list)
		},
	}
	o.addFlags(cmd)
	cmd.Flags().IntVar(&limit, "limit", 0, "show at most N scans (0: all)")
	cmd.Flags().StringVar(&status, "status", "", "only scans with this status")
	return cmd
}

// NewDiffCmd builds `rampart diff [A] [B]`: the drift between two scans.
func NewDiffCmd(env *Env) *cobra.Command {
	o := &storeOptions{}
	cmd := &cobra.Command{
		Use:   "diff [BASE] [HEAD]",
		Short: "Show what changed between two scans",
		Long: `Diff compares two stored scans: findings new, fixed, reopened and unchanged (by
fingerprint), endpoints and hosts that appeared or vanished, certificates rotated, ports opened
or closed, and changes of protocol versions, cipher suites and other facts.

With no argument it compares the newest complete scan with the previous complete scan of the
same scope; with one, that scan with the previous complete scan of its scope; with two, BASE
with HEAD. When HEAD did not complete, nothing is reported as fixed, vanished or closed.`,
		Example: `  rampart diff
  rampart diff 20261129T0300
  rampart diff 20261128T0300 20261129T0300 --format json`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := o.open(ctx, env)
			if err != nil {
				return err
			}
			defer st.Close()
			base, head, err := diffPair(ctx, st, args)
			if err != nil {
				return err
			}
			d, err := st.Diff(ctx, base, head)
			if err != nil {
				return err
			}
			if o.format == "json" {
				return dbWriteJSON(env.Out, d)
			}
			return writeDriftText(env.Out, d)
		},
	}
	o.addFlags(cmd)
	return cmd
}

// diffPair resolves the scans to compare from zero, one or two references.
func diffPair(ctx context.Context, st *store.Store, args []string) (base, head string, err error) {
	resolve := func(ref string) (string, error) {
		id, err := st.ResolveScan(ctx, ref)
		if errors.Is(err, store.ErrNotFound) || (err != nil && strings.Contains(err.Error(), "ambiguous")) {
			return "", usageError(err)
		}
		return id, err
	}
	if len(args) == 2 {
		if base, err = resolve(args[0]); err != nil {
			return "", "", err
		}
		head, err = resolve(args[1])
		return base, head, err
	}
	if len(args) == 1 {
		if head, err = resolve(args[0]); err != nil {
			return "", "", err
		}
	} else {
		if head, err = st.LatestComplete(ctx); err != nil {
			return "", "", err
		}
		if head == "" {
			return "", "", usageError(errors.New("no complete scan stored yet"))
		}
	}
	if base, err = st.PreviousComplete(ctx, head); err != nil {
		return "", "", err
	}
	if base == "" {
		return "", "", usageError(fmt.Errorf("no complete scan of the same scope before %s to compare with", head))
	}
	return base, head, nil
}

// NewHistoryCmd builds `rampart history TARGET`: one target over time.
func NewHistoryCmd(env *Env) *cobra.Command {
	o := &storeOptions{}
	var limit int
	cmd := &cobra.Command{
		Use:   "history TARGET",
		Short: "Show a host or endpoint across stored scans",
		Long: `History prints the timeline of a target, oldest first: for every scan and every endpoint
under the target, the probe status, grade, active findings by severity
(critical/high/medium/low/info), the leaf certificate (SHA-256 prefix and expiry) and the TCP
connect and TLS handshake latency. TARGET is a host name, an IP address, HOST:PORT or an
endpoint ID as shown in reports (service://name@address:port).`,
		Example: `  rampart history xmpp.example.org
  rampart history mx.example.org:25 --limit 10 --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := o.open(ctx, env)
			if err != nil {
				return err
			}
			defer st.Close()
			pts, err := st.History(ctx, args[0], limit)
			if err != nil {
				return err
			}
			if o.format == "json" {
				if pts == nil {
					pts = []store.Point{}
				}
				return dbWriteJSON(env.Out, pts)
			}
			if len(pts) == 0 {
				_, err := fmt.Fprintf(env.Out, "No stored scan has an endpoint under %s.\n", dbClean(args[0]))
				return err
			}
			return writeHistoryText(env.Out, pts)
		},
	}
	o.addFlags(cmd)
	cmd.Flags().IntVar(&limit, "limit", 0, "only the newest N scans (0: all)")
	return cmd
}

// NewPruneCmd builds `rampart prune`: delete old finished scans.
func NewPruneCmd(env *Env) *cobra.Command {
	o := &storeOptions{}
	var keep int
	var older string
	var dryRun, vacuum bool
	cmd := &cobra.Command{
		Use:   "prune --keep N | --older-than DURATION",
		Short: "Delete old scans from the database",
		Long: `Prune deletes finished scans and everything stored for them. --keep N keeps the newest N
finished scans; --older-than deletes scans started longer ago than DURATION (Go durations, plus
d for days and w for weeks: 90d, 12w, 36h). With both, a scan is deleted only when it is older
and not among the newest N. A running scan is never deleted. --vacuum compacts the file
afterwards; it is skipped, not waited for, while another process uses the database.`,
		Example: `  rampart prune --keep 100
  rampart prune --older-than 90d --keep 10 --vacuum
  rampart prune --older-than 30d --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			po := store.PruneOptions{Keep: keep, DryRun: dryRun, Vacuum: vacuum}
			if keep < 0 {
				return usageError(fmt.Errorf("--keep %d: want a positive number", keep))
			}
			if older != "" {
				d, err := parseAge(older)
				if err != nil {
					return usageError(fmt.Errorf("--older-than: %w", err))
				}
				po.OlderThan = d
			}
			if po.Keep == 0 && po.OlderThan == 0 {
				return usageError(errors.New("prune needs --keep N or --older-than DURATION"))
			}
			ctx := cmd.Context()
			st, err := o.open(ctx, env)
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := st.Prune(ctx, po)
			if err != nil {
				return err
			}
			if o.format == "json" {
				return dbWriteJSON(env.Out, res)
			}
			verb := "Deleted"
			if dryRun {
				verb = "Would delete"
			}
			fmt.Fprintf(env.Out, "%s %d scan(s).\n", verb, len(res.Deleted))
			for _, id := range res.Deleted {
				fmt.Fprintf(env.Out, "  %s\n", id)
			}
			switch {
			case res.Vacuumed:
				fmt.Fprintf(env.Out, "Database compacted: %s → %s.\n", dbSize(res.BytesBefore), dbSize(res.BytesAfter))
			case res.VacuumError != "":
				fmt.Fprintf(env.Out, "Not compacted: %s\n", res.VacuumError)
			}
			return nil
		},
	}
	o.addFlags(cmd)
	f := cmd.Flags()
	f.IntVar(&keep, "keep", 0, "keep the newest N finished scans")
	f.StringVar(&older, "older-than", "", "delete scans started longer ago than DURATION (e.g. 90d, 12w, 36h)")
	f.BoolVar(&dryRun, "dry-run", false, "list what would be deleted, delete nothing")
	f.BoolVar(&vacuum, "vacuum", false, "compact the database file afterwards")
	return cmd
}

// parseAge reads a Go duration, or a whole number of days ("90d") or weeks ("12w").
func parseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v <= 0 {
				return 0, fmt.Errorf("%q: want a positive number of %s", s, map[string]string{"d": "days", "w": "weeks"}[suffix])
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q: want a duration such as 90d, 12w or 36h", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: want a positive duration", s)
	}
	return d, nil
}

func dbWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// clean escapes control and other non-printable characters, which can reach the terminal
// from server-supplied names.
func dbClean(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == unicode.ReplacementChar:
			b.WriteString(`\ufffd`)
		case unicode.IsPrint(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

func dbTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

func dbSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// severityCounts renders counts as critical/high/medium/low/info.
func dbSeverities(m map[string]int) string {
	sev := model.Severities()
	parts := make([]string, 0, len(sev))
	for i := len(sev) - 1; i >= 0; i-- {
		parts = append(parts, strconv.Itoa(m[sev[i].String()]))
	}
	return strings.Join(parts, "/")
}

func dbTruncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func dbTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

func writeScansText(w io.Writer, list []store.ScanInfo) error {
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "No scans stored.")
		return err
	}
	tw := dbTable(w)
	fmt.Fprintln(tw, "ID\tSTATUS\tSTARTED\tDURATION\tENDPOINTS\tFINDINGS C/H/M/L/I\tPOLICY\tSCOPE")
	for _, s := range list {
		dur := "-"
		if !s.Finished.IsZero() {
			dur = s.Finished.Sub(s.Started).Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", s.ID, s.Status, dbTime(s.Started), dur, s.Endpoints,
			dbSeverities(s.Findings), dbClean(s.Policy), dbClean(dbTruncate(s.Scope, 48)))
	}
	return tw.Flush()
}

func writeHistoryText(w io.Writer, pts []store.Point) error {
	tw := dbTable(w)
	fmt.Fprintln(tw, "SCAN\tSTARTED\tENDPOINT\tSTATUS\tGRADE\tFINDINGS C/H/M/L/I\tLEAF CERT\tEXPIRES\tCONNECT\tHANDSHAKE")
	for _, p := range pts {
		leaf, exp := "-", "-"
		if p.LeafSHA256 != "" {
			leaf = dbTruncate(p.LeafSHA256, 13)
			exp = p.LeafNotAfter.UTC().Format("2006-01-02")
		}
		grade := p.Grade
		if grade == "" {
			grade = "-"
		}
		lat := func(d time.Duration) string {
			if d == 0 {
				return "-"
			}
			return d.Round(100 * time.Microsecond).String()
		}
		status := string(p.Status)
		if p.ScanStatus != model.ScanComplete {
			status += " (scan " + string(p.ScanStatus) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Scan, dbTime(p.Time), dbClean(p.Endpoint), status,
			dbClean(grade), dbSeverities(p.Findings), dbClean(leaf), exp, lat(p.Connect), lat(p.Handshake))
	}
	return tw.Flush()
}

func writeDriftText(w io.Writer, d *model.Drift) error {
	fmt.Fprintf(w, "Drift %s (%s) → %s (%s)\n", d.BaseScan, dbTime(d.BaseTime), d.HeadScan, dbTime(d.HeadTime))
	if d.Partial {
		fmt.Fprintln(w, "The head scan did not complete: nothing is reported as fixed, vanished or closed.")
	}
	fmt.Fprintf(w, "\nFindings: %d new, %d reopened, %d fixed, %d unchanged\n", len(d.NewFindings), len(d.ReopenedFindings),
		len(d.FixedFindings), d.UnchangedFindings)
	if n := len(d.NewFindings) + len(d.ReopenedFindings) + len(d.FixedFindings); n > 0 {
		tw := dbTable(w)
		for _, g := range []struct {
			label string
			fs    []model.Finding
		}{{"new", d.NewFindings}, {"reopened", d.ReopenedFindings}, {"fixed", d.FixedFindings}} {
			for _, f := range g.fs {
				rule := f.RuleID
				if f.Detail != "" {
					rule += " (" + f.Detail + ")"
				}
				waived := ""
				if f.Waived {
					waived = "waived"
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", g.label, f.Severity, dbClean(rule), dbClean(f.Asset), waived)
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	lists := []struct {
		title        string
		added, taken []string
		addW, takeW  string
	}{
		{"Endpoints", d.EndpointsAppeared, d.EndpointsVanished, "appeared", "vanished"},
		{"Hosts", d.HostsAppeared, d.HostsVanished, "appeared", "vanished"},
		{"Open ports", d.PortsOpened, d.PortsClosed, "opened", "closed"},
	}
	for _, l := range lists {
		fmt.Fprintf(w, "\n%s: %d %s, %d %s\n", l.title, len(l.added), l.addW, len(l.taken), l.takeW)
		for _, s := range l.added {
			fmt.Fprintf(w, "  + %s\n", dbClean(s))
		}
		for _, s := range l.taken {
			fmt.Fprintf(w, "  - %s\n", dbClean(s))
		}
	}
	fmt.Fprintf(w, "\nCertificates rotated: %d\n", len(d.CertRotations))
	if len(d.CertRotations) > 0 {
		tw := dbTable(w)
		for _, c := range d.CertRotations {
			fmt.Fprintf(tw, "  %s\t%s (expires %s)\t→ %s (expires %s)\n", dbClean(c.Endpoint), dbClean(dbTruncate(c.OldSHA256, 13)),
				c.OldExpiry.UTC().Format("2006-01-02"), dbClean(dbTruncate(c.NewSHA256, 13)), c.NewExpiry.UTC().Format("2006-01-02"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nOther changes: %d\n", len(d.Changes))
	if len(d.Changes) == 0 {
		return nil
	}
	tw := dbTable(w)
	fmt.Fprintln(tw, "  ENDPOINT\tFACT\tBEFORE\tNOW")
	for _, c := range d.Changes {
		old, cur := c.Old, c.New
		if old == "" {
			old = "-"
		}
		if cur == "" {
			cur = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", dbClean(c.Endpoint), dbClean(c.Fact), dbClean(old), dbClean(cur))
	}
	return tw.Flush()
}
