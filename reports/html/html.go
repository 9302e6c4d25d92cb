// Package html writes a scan as one self-contained HTML report: summary, drift and trend
// first, then every host and endpoint with its facts, then the findings with filters, search
// and sortable tables, the waived findings apart, and the fix for every rule.
//
// The file makes no external requests: its style and script are inline and allowed by a
// Content-Security-Policy that names their SHA-256 hashes, so nothing else can run. Every
// string a server supplied goes through html/template's contextual escaping and is shown as
// text; control, bidirectional and zero-width characters are made visible. The report stays
// complete and readable without script: script only filters, searches and sorts.
package html

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// Input is what one report is written from.
type Input struct {
	// Scan is the scan to report. Required.
	Scan *model.ScanResult
	// Rules looks a rule up by ID (e.g. (*checks.Catalogue).Rule); it supplies each finding's
	// explanation and fix. May be nil.
	Rules func(id string) (model.Rule, bool)
	// Drift is the change since the previous scan. May be nil (first scan, or no store).
	Drift *model.Drift
	// Trend is the history of earlier scans of the same scope, oldest first, for the trend
	// chart; the current scan is appended when it is not already the last point. May be empty.
	Trend []TrendPoint
	// Grades counts this scan's endpoints by grade ("A+", "A", "B", …) for the summary's grade
	// distribution. Empty when grades were not computed: the section is then left out.
	Grades map[string]int
}

// TrendPoint is one scan in the history.
type TrendPoint struct {
	Time   time.Time `json:"time"`
	ScanID string    `json:"scan_id,omitempty"`
	// Findings counts the active (unwaived) findings of the scan by severity.
	Findings map[model.Severity]int `json:"findings"`
	// Grades counts endpoints by grade ("A+", "A", "B", …); empty when grades were not computed.
	Grades map[string]int `json:"grades,omitempty"`
}

var (
	//go:embed assets/report.tmpl
	pageTemplate string
	//go:embed assets/report.css
	css string
	//go:embed assets/report.js
	js string

	tmpl = template.Must(template.New("report").Funcs(funcs).Parse(pageTemplate))
)

// ContentSecurityPolicy is the policy the report carries: nothing but its own inline style and
// script (by hash) and data: images.
func ContentSecurityPolicy() string {
	return "default-src 'none'; script-src " + hash(js) + "; style-src " + hash(css) +
		"; img-src data:; base-uri 'none'; form-action 'none'"
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// Write renders the report.
func Write(w io.Writer, in Input) error {
	if in.Scan == nil {
		return errors.New("html report: no scan to write")
	}
	p := build(in)
	p.CSP = ContentSecurityPolicy()
	p.CSS = template.CSS(css) // our own embedded asset, never server data
	p.JS = template.JS(js)    // our own embedded asset, never server data
	if err := tmpl.Execute(w, p); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return nil
}

var funcs = template.FuncMap{
	"date":         fmtTime,
	"lintClass":    lintClass,
	"versionClass": versionClass,
}
