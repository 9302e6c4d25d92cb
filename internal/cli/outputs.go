package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/rampart-scan/rampart/checks"
	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/reports"
	"github.com/rampart-scan/rampart/reports/html"
	"github.com/rampart-scan/rampart/reports/markdown"
	"github.com/rampart-scan/rampart/reports/sarif"
)

// reportFiles are the report files one scan (or `rampart report`) writes besides stdout.
type reportFiles struct {
	json, html, sarif, sarifArchive, markdown string
	sarifCategory, sarifTargets               string
}

func (r *reportFiles) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&r.json, "json", "", "write the JSON document to FILE")
	f.StringVar(&r.html, "html", "", "write the self-contained HTML report to FILE")
	f.StringVar(&r.sarif, "sarif", "", "write SARIF 2.1.0 for GitHub code scanning to FILE (active, unwaived findings)")
	f.StringVar(&r.sarifArchive, "sarif-archive", "", "write a SARIF archive with waived findings and drift states to FILE (not for upload)")
	f.StringVar(&r.sarifCategory, "sarif-category", "rampart", "SARIF automationDetails.id category (one per target set)")
	f.StringVar(&r.sarifTargets, "sarif-targets-file", sarif.DefaultTargetsFile, "repository file SARIF locations use for command-line targets (line N = N-th target)")
	f.StringVar(&r.markdown, "markdown", "", "write a Markdown summary to FILE (e.g. $GITHUB_STEP_SUMMARY)")
}

// reportContext is what reports need beyond the scan itself.
type reportContext struct {
	catalog *checks.Catalogue
	drift   *model.Drift
	trend   []html.TrendPoint
	env     *Env
}

// write renders every requested file. Each file is written whole or not at all (temporary
// file, then rename), so a failed render never leaves a truncated report behind.
func (r *reportFiles) write(res *model.ScanResult, rc reportContext) ([]string, error) {
	var written []string
	emit := func(path string, render func(*bytes.Buffer) error) error {
		if path == "" {
			return nil
		}
		var buf bytes.Buffer
		if err := render(&buf); err != nil {
			return fmt.Errorf("rendering %s: %w", path, err)
		}
		if err := writeAtomic(path, buf.Bytes()); err != nil {
			return err
		}
		written = append(written, path)
		return nil
	}
	rules := rc.catalog.Rule
	repoRoot, workDir := sarifRoots(rc.env)
	steps := []struct {
		path   string
		render func(*bytes.Buffer) error
	}{
		{r.json, func(b *bytes.Buffer) error { return reports.WriteJSON(b, res) }},
		{r.html, func(b *bytes.Buffer) error {
			return html.Write(b, html.Input{Scan: res, Rules: rules, Drift: rc.drift, Trend: rc.trend, Grades: gradeCounts(res)})
		}},
		{r.sarif, func(b *bytes.Buffer) error {
			return sarif.Write(b, sarif.Input{Scan: res, Rules: rules, Drift: rc.drift}, sarif.Options{
				Category: r.sarifCategory, TargetsFile: r.sarifTargets, RepoRoot: repoRoot, WorkDir: workDir})
		}},
		{r.sarifArchive, func(b *bytes.Buffer) error {
			return sarif.Write(b, sarif.Input{Scan: res, Rules: rules, Drift: rc.drift}, sarif.Options{
				Category: r.sarifCategory, TargetsFile: r.sarifTargets, RepoRoot: repoRoot, WorkDir: workDir, Archive: true})
		}},
		{r.markdown, func(b *bytes.Buffer) error {
			return markdown.Write(b, markdown.Input{Scan: res, Rules: rules, Drift: rc.drift})
		}},
	}
	for _, s := range steps {
		if err := emit(s.path, s.render); err != nil {
			return written, err
		}
	}
	return written, nil
}

// sarifRoots finds the repository root SARIF paths are relative to: $GITHUB_WORKSPACE in
// Actions, else the nearest parent holding .git, else the working directory.
func sarifRoots(env *Env) (repoRoot, workDir string) {
	wd, err := os.Getwd()
	if err != nil {
		return "", ""
	}
	if ws := env.Getenv("GITHUB_WORKSPACE"); ws != "" {
		return ws, wd
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d, wd
		}
		if filepath.Dir(d) == d {
			return wd, wd
		}
	}
}

func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".rampart-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// gradeCounts counts endpoints by grade letter for the report's distribution.
func gradeCounts(res *model.ScanResult) map[string]int {
	m := map[string]int{}
	for _, er := range res.Endpoints {
		if er.Grade != nil && er.Grade.Letter != "" {
			m[er.Grade.Letter]++
		}
	}
	return m
}
