package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// ScanMeta is what is known when a scan starts.
type ScanMeta struct {
	// ID is the scan's identifier; empty: one is generated (time-ordered, e.g.
	// "20261129T032731Z-9f2c1a").
	ID         string
	Tool       model.ToolInfo
	Policy     string // policy name
	PolicyHash string // hash of the effective policy, so a changed policy is visible
	Targets    []model.Target
	// Started defaults to now.
	Started time.Time
}

// ScanInfo summarises one stored scan.
type ScanInfo struct {
	ID         string           `json:"id"`
	Status     model.ScanStatus `json:"status"`
	Error      string           `json:"error,omitempty"`
	ScopeKey   string           `json:"scope_key"`
	Scope      string           `json:"scope"` // the targets, as typed
	Policy     string           `json:"policy"`
	PolicyHash string           `json:"policy_hash,omitempty"`
	Tool       model.ToolInfo   `json:"tool"`
	Started    time.Time        `json:"started"`
	Finished   time.Time        `json:"finished,omitzero"`
	Endpoints  int              `json:"endpoints"`
	// Findings counts active (not waived) findings by severity name.
	Findings map[string]int `json:"findings"`
	Waived   int            `json:"waived"`
	// Grades counts endpoints by grade; filled by Trend only, and only when grades are stored.
	Grades map[string]int `json:"grades,omitempty"`
}

// ScopeKey is the identity of a scan's scope: the targets as parsed, order and input location
// ignored. Scans with the same key are compared by drift.
func ScopeKey(targets []model.Target) string {
	keys := make([]string, 0, len(targets))
	for _, t := range targets {
		var addr, prefix string
		if t.Addr.IsValid() {
			addr = t.Addr.String()
		}
		if t.Prefix.IsValid() {
			prefix = t.Prefix.String()
		}
		keys = append(keys, strings.Join([]string{string(t.Kind), strings.ToLower(t.Host), addr, prefix,
			strconv.Itoa(int(t.Port)), t.Service}, "\x1f"))
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

func scopeText(targets []model.Target) string {
	var raw []string
	for _, t := range targets {
		raw = append(raw, t.Raw)
	}
	return strings.Join(raw, " ")
}

func newScanID(t time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}

// BeginScan records a new scan as running and returns its ID. The scan carries this process's
// PID and host name so a later Open can tell whether it is still alive.
func (s *Store) BeginScan(ctx context.Context, meta ScanMeta) (string, error) {
	return s.beginScan(ctx, meta, model.SchemaVersion, s.pid, s.pidStart)
}

func (s *Store) beginScan(ctx context.Context, meta ScanMeta, schema string, pid int, pidStart string) (string, error) {
	if meta.Started.IsZero() {
		meta.Started = time.Now()
	}
	if meta.ID == "" {
		meta.ID = newScanID(meta.Started)
	}
	targets := meta.Targets
	if targets == nil {
		targets = []model.Target{}
	}
	tj, err := json.Marshal(targets)
	if err != nil {
		return "", fmt.Errorf("store: encoding targets: %w", err)
	}
	err = s.writeTx(ctx, func(ctx context.Context, c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `INSERT INTO scans (id, status, scope_key, scope, targets, policy, policy_hash,
			tool_name, tool_version, schema_version, started, started_ns, updated_ns, pid, pid_start, hostname)
			VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			meta.ID, ScopeKey(meta.Targets), scopeText(meta.Targets), string(tj), meta.Policy, meta.PolicyHash,
			meta.Tool.Name, meta.Tool.Version, schema, fmtTime(meta.Started), meta.Started.UnixNano(),
			time.Now().UnixNano(), pid, pidStart, s.host)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: beginning scan %s: %w", meta.ID, err)
	}
	return meta.ID, nil
}

// FinishScan ends a running scan with status complete, interrupted or failed, recording
// scanErr's text (if any) and the end time. Close the scan's Writer first.
func (s *Store) FinishScan(ctx context.Context, id string, status model.ScanStatus, scanErr error) error {
	msg := ""
	if scanErr != nil {
		msg = scanErr.Error()
	}
	return s.finishScan(ctx, id, status, msg, time.Now())
}

func (s *Store) finishScan(ctx context.Context, id string, status model.ScanStatus, msg string, end time.Time) error {
	switch status {
	case model.ScanComplete, model.ScanInterrupted, model.ScanFailed:
	default:
		return fmt.Errorf("store: finishing scan %s: status %q is not an end state", id, status)
	}
	err := s.writeTx(ctx, func(ctx context.Context, c *sql.Conn) error {
		res, err := c.ExecContext(ctx, `UPDATE scans SET status = ?, error = ?, finished = ?, finished_ns = ?, updated_ns = ?
			WHERE id = ? AND status = 'running'`, string(status), msg, fmtTime(end), end.UnixNano(), time.Now().UnixNano(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if status != model.ScanComplete {
				return nil
			}
			// Remember every fingerprint this complete scan saw, for reopened findings.
			_, err := c.ExecContext(ctx, `INSERT INTO seen (scope_key, fingerprint, first_ns, last_ns)
				SELECT s.scope_key, f.fingerprint, s.started_ns, s.started_ns
				FROM findings f JOIN scans s ON s.pk = f.scan WHERE s.id = ? GROUP BY f.fingerprint ORDER BY f.fingerprint
				ON CONFLICT (scope_key, fingerprint) DO UPDATE SET
					first_ns = min(first_ns, excluded.first_ns), last_ns = max(last_ns, excluded.last_ns)`, id)
			return err
		}
		var cur string
		err = c.QueryRowContext(ctx, `SELECT status FROM scans WHERE id = ?`, id).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("scan is %s, not running", cur)
	})
	if err != nil {
		return fmt.Errorf("store: finishing scan %s: %w", id, err)
	}
	return nil
}

// SaveScan stores a whole finished result at once (an imported JSON report, a test fixture)
// and returns its ID (r.ID, or a generated one). A result still marked running is stored as
// interrupted: no process will finish it.
func (s *Store) SaveScan(ctx context.Context, r *model.ScanResult, policyHash string) (string, error) {
	meta := ScanMeta{ID: r.ID, Tool: r.Tool, Policy: r.Policy, PolicyHash: policyHash, Targets: r.Targets, Started: r.Started}
	id, err := s.beginScan(ctx, meta, r.SchemaVersion, 0, "")
	if err != nil {
		return "", err
	}
	w, err := s.Writer(ctx, id)
	if err != nil {
		return "", err
	}
	for _, n := range r.Discovery {
		w.AddNote(n)
	}
	for _, e := range r.Endpoints {
		w.Add(e)
	}
	for _, d := range r.Domains {
		w.AddDomain(d)
	}
	for _, n := range r.Nodes {
		w.AddNodes(n)
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	status := r.Status
	if status == model.ScanRunning || status == "" {
		status = model.ScanInterrupted
	}
	end := r.Finished
	if end.IsZero() {
		end = time.Now()
	}
	if err := s.finishScan(ctx, id, status, r.Error, end); err != nil {
		return "", err
	}
	return id, nil
}

// scanRow is the stored scan row.
type scanRow struct {
	pk        int64
	info      ScanInfo
	targets   []byte
	schema    string
	startedNS int64
	started   string
	finished  string
}

const scanCols = `pk, id, status, error, scope_key, scope, targets, policy, policy_hash, tool_name, tool_version,
	schema_version, started, started_ns, finished`

type rowScanner interface{ Scan(dest ...any) error }

func scanScanRow(r rowScanner) (*scanRow, error) {
	var sr scanRow
	var status string
	i := &sr.info
	if err := r.Scan(&sr.pk, &i.ID, &status, &i.Error, &i.ScopeKey, &i.Scope, &sr.targets, &i.Policy, &i.PolicyHash,
		&i.Tool.Name, &i.Tool.Version, &sr.schema, &sr.started, &sr.startedNS, &sr.finished); err != nil {
		return nil, err
	}
	i.Status = model.ScanStatus(status)
	var err error
	if i.Started, err = parseTime(sr.started); err != nil {
		return nil, err
	}
	if i.Finished, err = parseTime(sr.finished); err != nil {
		return nil, err
	}
	return &sr, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getScan(ctx context.Context, q querier, id string) (*scanRow, error) {
	sr, err := scanScanRow(q.QueryRowContext(ctx, `SELECT `+scanCols+` FROM scans WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading scan %s: %w", id, err)
	}
	return sr, nil
}

// fillCounts adds endpoint and finding counts to a scan summary.
func fillCounts(ctx context.Context, q querier, pk int64, i *ScanInfo) error {
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM endpoints WHERE scan = ?`, pk).Scan(&i.Endpoints); err != nil {
		return err
	}
	i.Findings = map[string]int{}
	for _, sev := range model.Severities() {
		i.Findings[sev.String()] = 0
	}
	rows, err := q.QueryContext(ctx, `SELECT severity, waived, count(*) FROM findings WHERE scan = ? GROUP BY severity, waived`, pk)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var sev, waived, n int
		if err := rows.Scan(&sev, &waived, &n); err != nil {
			return err
		}
		if waived != 0 {
			i.Waived += n
			continue
		}
		i.Findings[model.Severity(sev).String()] += n
	}
	return rows.Err()
}

// ListOptions selects scans for ListScans.
type ListOptions struct {
	Limit    int    // at most this many, newest first (0: all)
	ScopeKey string // only this scope ("" : every scope)
	Status   model.ScanStatus
}

// ListScans summarises stored scans, newest first.
func (s *Store) ListScans(ctx context.Context, o ListOptions) ([]ScanInfo, error) {
	q := `SELECT ` + scanCols + ` FROM scans WHERE (? = '' OR scope_key = ?) AND (? = '' OR status = ?)
		ORDER BY started_ns DESC, pk DESC`
	args := []any{o.ScopeKey, o.ScopeKey, string(o.Status), string(o.Status)}
	if o.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, o.Limit)
	}
	var out []ScanInfo
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		var srs []*scanRow
		for rows.Next() {
			sr, err := scanScanRow(rows)
			if err != nil {
				rows.Close()
				return err
			}
			srs = append(srs, sr)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, sr := range srs {
			if err := fillCounts(ctx, tx, sr.pk, &sr.info); err != nil {
				return err
			}
			out = append(out, sr.info)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: listing scans: %w", err)
	}
	return out, nil
}

// Scan summarises one scan.
func (s *Store) Scan(ctx context.Context, id string) (*ScanInfo, error) {
	var out ScanInfo
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		sr, err := getScan(ctx, tx, id)
		if err != nil {
			return err
		}
		out = sr.info
		return fillCounts(ctx, tx, sr.pk, &out)
	})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return &out, nil
}

// ResolveScan turns a reference typed by a user into a scan ID: a full ID or a unique prefix
// of one.
func (s *Store) ResolveScan(ctx context.Context, ref string) (string, error) {
	if ref == "" {
		return "", errors.New("store: empty scan reference")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM scans WHERE id = ? OR substr(id, 1, length(?)) = ? ORDER BY id = ? DESC, started_ns LIMIT 3`,
		ref, ref, ref, ref)
	if err != nil {
		return "", fmt.Errorf("store: resolving scan %q: %w", ref, s.lockErr(err))
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return "", fmt.Errorf("store: resolving scan %q: %w", ref, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("store: resolving scan %q: %w", ref, err)
	}
	switch {
	case len(ids) == 0:
		return "", fmt.Errorf("store: %w: %q", ErrNotFound, ref)
	case ids[0] == ref || len(ids) == 1:
		return ids[0], nil
	default:
		return "", fmt.Errorf("store: scan reference %q is ambiguous (%s, %s, …)", ref, ids[0], ids[1])
	}
}

// PreviousComplete returns the ID of the latest complete scan of the same scope that started
// before scanID, or "" when there is none.
func (s *Store) PreviousComplete(ctx context.Context, scanID string) (string, error) {
	var prev string
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		sr, err := getScan(ctx, tx, scanID)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT id FROM scans WHERE scope_key = ? AND status = 'complete' AND pk <> ?
			AND (started_ns < ? OR (started_ns = ? AND pk < ?)) ORDER BY started_ns DESC, pk DESC LIMIT 1`,
			sr.info.ScopeKey, sr.pk, sr.startedNS, sr.startedNS, sr.pk).Scan(&prev)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: previous complete scan of %s: %w", scanID, err)
	}
	return prev, nil
}

// LatestComplete returns the ID of the newest complete scan, of any scope, or "" when none.
func (s *Store) LatestComplete(ctx context.Context) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT id FROM scans WHERE status = 'complete' ORDER BY started_ns DESC, pk DESC LIMIT 1`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: latest complete scan: %w", s.lockErr(err))
	}
	return id, nil
}

// LoadScan reads a stored scan back as the result it was written from, so reports can be
// rendered again. Endpoints, domains and findings come back in the order they were added.
func (s *Store) LoadScan(ctx context.Context, id string) (*model.ScanResult, error) {
	var out *model.ScanResult
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		sr, err := getScan(ctx, tx, id)
		if err != nil {
			return err
		}
		r := &model.ScanResult{
			SchemaVersion: sr.schema, Tool: sr.info.Tool, ID: sr.info.ID, Status: sr.info.Status,
			Error: sr.info.Error, Started: sr.info.Started, Finished: sr.info.Finished, Policy: sr.info.Policy,
			Endpoints: []model.EndpointResult{},
		}
		if err := json.Unmarshal(sr.targets, &r.Targets); err != nil {
			return fmt.Errorf("decoding targets: %w", err)
		}
		if err := loadNotes(ctx, tx, sr.pk, r); err != nil {
			return err
		}
		if err := loadEndpoints(ctx, tx, sr.pk, r); err != nil {
			return err
		}
		if err := loadDomains(ctx, tx, sr.pk, r); err != nil {
			return err
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: loading scan %s: %w", id, err)
	}
	return out, nil
}

func loadNotes(ctx context.Context, tx *sql.Tx, pk int64, r *model.ScanResult) error {
	rows, err := tx.QueryContext(ctx, `SELECT data FROM notes WHERE scan = ? ORDER BY seq`, pk)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		var n model.DiscoveryNote
		if err := rows.Scan(&b); err != nil {
			return err
		}
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("decoding discovery note: %w", err)
		}
		r.Discovery = append(r.Discovery, n)
	}
	return rows.Err()
}

// findingsBy reads the findings of one scan's endpoints (ep IS NOT NULL) or domains, grouped by
// owner sequence number.
func findingsBy(ctx context.Context, tx *sql.Tx, pk int64, domains bool) (map[int64][]model.Finding, error) {
	col := "ep"
	if domains {
		col = "dom"
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+col+`, data FROM findings WHERE scan = ? AND `+col+` IS NOT NULL ORDER BY pk`, pk)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]model.Finding{}
	for rows.Next() {
		var owner int64
		var b []byte
		if err := rows.Scan(&owner, &b); err != nil {
			return nil, err
		}
		var f model.Finding
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("decoding finding: %w", err)
		}
		out[owner] = append(out[owner], f)
	}
	return out, rows.Err()
}

// dersBy reads the DER kept apart for one scan's certificates, by endpoint and chain position.
func dersBy(ctx context.Context, tx *sql.Tx, pk int64) (map[int64]map[int][]byte, error) {
	rows, err := tx.QueryContext(ctx, `SELECT c.ep, c.position, d.der FROM certificates c JOIN der d ON d.sha256 = c.der_ref
		WHERE c.scan = ? AND c.der_ref <> ''`, pk)
	if err != nil {
		return nil, err
	}
	out := map[int64]map[int][]byte{}
	err = eachRow(rows, func(r *sql.Rows) error {
		var ep int64
		var pos int
		var der []byte
		if err := r.Scan(&ep, &pos, &der); err != nil {
			return err
		}
		if out[ep] == nil {
			out[ep] = map[int][]byte{}
		}
		out[ep][pos] = der
		return nil
	})
	return out, err
}

func loadEndpoints(ctx context.Context, tx *sql.Tx, pk int64, r *model.ScanResult) error {
	fs, err := findingsBy(ctx, tx, pk, false)
	if err != nil {
		return err
	}
	ders, err := dersBy(ctx, tx, pk)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, observation, findings_nil, grade FROM endpoints WHERE scan = ? ORDER BY seq`, pk)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var b, grade []byte
		var isNil bool
		if err := rows.Scan(&seq, &b, &isNil, &grade); err != nil {
			return err
		}
		var e model.EndpointResult
		if err := json.Unmarshal(b, &e.Observation); err != nil {
			return fmt.Errorf("decoding observation: %w", err)
		}
		if len(grade) > 0 {
			e.Grade = new(model.Grade)
			if err := json.Unmarshal(grade, e.Grade); err != nil {
				return fmt.Errorf("decoding grade: %w", err)
			}
		}
		for pos, der := range ders[seq] {
			c := e.Observation.Certificates
			if c == nil || pos >= len(c.Chain) {
				return fmt.Errorf("endpoint %d: stored DER for missing certificate %d", seq, pos)
			}
			c.Chain[pos].DER = der
		}
		e.Findings = fs[seq]
		if e.Findings == nil && !isNil {
			e.Findings = []model.Finding{}
		}
		r.Endpoints = append(r.Endpoints, e)
	}
	return rows.Err()
}

func loadDomains(ctx context.Context, tx *sql.Tx, pk int64, r *model.ScanResult) error {
	fs, err := findingsBy(ctx, tx, pk, true)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, observation, findings_nil, kind FROM domains WHERE scan = ? ORDER BY seq`, pk)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var b []byte
		var isNil bool
		var kind string
		if err := rows.Scan(&seq, &b, &isNil, &kind); err != nil {
			return err
		}
		if kind == "nodes" {
			var n model.NodeGroupResult
			if err := json.Unmarshal(b, &n.Group); err != nil {
				return fmt.Errorf("decoding node group: %w", err)
			}
			n.Findings = fs[seq]
			if n.Findings == nil && !isNil {
				n.Findings = []model.Finding{}
			}
			r.Nodes = append(r.Nodes, n)
			continue
		}
		var d model.DomainResult
		if err := json.Unmarshal(b, &d.Observation); err != nil {
			return fmt.Errorf("decoding domain observation: %w", err)
		}
		d.Findings = fs[seq]
		if d.Findings == nil && !isNil {
			d.Findings = []model.Finding{}
		}
		r.Domains = append(r.Domains, d)
	}
	return rows.Err()
}

// Trend returns the complete scans of scanID's scope that started before it, and scanID itself
// whatever its status, oldest first: at most limit scans (the newest; 0: all). It is the
// history a report draws its trend from.
func (s *Store) Trend(ctx context.Context, scanID string, limit int) ([]ScanInfo, error) {
	if limit <= 0 {
		limit = -1
	}
	var out []ScanInfo
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		cur, err := getScan(ctx, tx, scanID)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT * FROM (SELECT `+scanCols+` FROM scans
			WHERE pk = ?1 OR (scope_key = ?2 AND status = 'complete' AND (started_ns < ?3 OR (started_ns = ?3 AND pk < ?1)))
			ORDER BY started_ns DESC, pk DESC LIMIT ?4) ORDER BY started_ns, pk`, cur.pk, cur.info.ScopeKey, cur.startedNS, limit)
		if err != nil {
			return err
		}
		var srs []*scanRow
		err = eachRow(rows, func(r *sql.Rows) error {
			sr, err := scanScanRow(r)
			srs = append(srs, sr)
			return err
		})
		if err != nil {
			return err
		}
		for _, sr := range srs {
			if err := fillCounts(ctx, tx, sr.pk, &sr.info); err != nil {
				return err
			}
			grades, err := tx.QueryContext(ctx, `SELECT value, count(*) FROM facts WHERE scan = ? AND fact = 'grade' GROUP BY value`, sr.pk)
			if err != nil {
				return err
			}
			err = eachRow(grades, func(r *sql.Rows) error {
				var g string
				var n int
				if err := r.Scan(&g, &n); err != nil {
					return err
				}
				if sr.info.Grades == nil {
					sr.info.Grades = map[string]int{}
				}
				sr.info.Grades[g] = n
				return nil
			})
			if err != nil {
				return err
			}
			out = append(out, sr.info)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: trend of %s: %w", scanID, err)
	}
	return out, nil
}

// DriftSincePrevious compares scanID with the previous complete scan of its scope; it returns
// nil (and no error) when there is none, as for a scope's first scan.
func (s *Store) DriftSincePrevious(ctx context.Context, scanID string) (*model.Drift, error) {
	prev, err := s.PreviousComplete(ctx, scanID)
	if err != nil || prev == "" {
		return nil, err
	}
	return s.Diff(ctx, prev, scanID)
}
