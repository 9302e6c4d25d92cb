package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/rampart-scan/rampart/model"
)

// Diff reports what changed from scan baseID to scan headID. Set differences are computed in
// SQL over indexed columns, so two 10,000-endpoint scans compare in well under a second.
//
// Findings are matched by fingerprint: new (in head, not in base), fixed (in base, not in head),
// unchanged, and reopened (new, but present in an earlier complete scan of the head's scope
// that started before base; the store remembers every fingerprint a complete scan of a scope
// has seen, even after Prune deleted that scan). When the head scan is not complete, Drift.Partial is set and
// nothing is reported as fixed, vanished or closed: absence in an unfinished scan proves
// nothing.
func (s *Store) Diff(ctx context.Context, baseID, headID string) (*model.Drift, error) {
	var d *model.Drift
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		base, err := getScan(ctx, tx, baseID)
		if err != nil {
			return err
		}
		head, err := getScan(ctx, tx, headID)
		if err != nil {
			return err
		}
		d, err = diff(ctx, tx, base, head)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: diff %s → %s: %w", baseID, headID, err)
	}
	return d, nil
}

func diff(ctx context.Context, tx *sql.Tx, base, head *scanRow) (*model.Drift, error) {
	d := &model.Drift{
		BaseScan: base.info.ID, HeadScan: head.info.ID, BaseTime: base.info.Started, HeadTime: head.info.Started,
		Partial:     head.info.Status != model.ScanComplete,
		NewFindings: []model.Finding{}, FixedFindings: []model.Finding{}, ReopenedFindings: []model.Finding{},
		EndpointsAppeared: []string{}, EndpointsVanished: []string{}, HostsAppeared: []string{}, HostsVanished: []string{},
		CertRotations: []model.CertRotation{}, PortsOpened: []string{}, PortsClosed: []string{}, Changes: []model.FactChange{},
	}
	b, h := base.pk, head.pk
	full := !d.Partial

	// Findings new in head, split into new and reopened.
	before := min(base.startedNS, head.startedNS)
	rows, err := tx.QueryContext(ctx, `
		WITH added AS (SELECT fingerprint FROM findings WHERE scan = ?1 EXCEPT SELECT fingerprint FROM findings WHERE scan = ?2)
		SELECT f.data, EXISTS (SELECT 1 FROM seen WHERE scope_key = ?3 AND fingerprint = f.fingerprint AND first_ns < ?4)
		FROM findings f WHERE f.scan = ?1 AND f.fingerprint IN added ORDER BY f.pk`,
		h, b, head.info.ScopeKey, before)
	if err != nil {
		return nil, fmt.Errorf("new findings: %w", err)
	}
	err = eachRow(rows, func(r *sql.Rows) error {
		var data []byte
		var reopened bool
		if err := r.Scan(&data, &reopened); err != nil {
			return err
		}
		var f model.Finding
		if err := json.Unmarshal(data, &f); err != nil {
			return fmt.Errorf("decoding finding: %w", err)
		}
		if reopened {
			d.ReopenedFindings = append(d.ReopenedFindings, f)
		} else {
			d.NewFindings = append(d.NewFindings, f)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("new findings: %w", err)
	}
	if full {
		d.FixedFindings, err = queryFindings(ctx, tx, `
			WITH gone AS (SELECT fingerprint FROM findings WHERE scan = ?1 EXCEPT SELECT fingerprint FROM findings WHERE scan = ?2)
			SELECT data FROM findings WHERE scan = ?1 AND fingerprint IN gone ORDER BY pk`, b, h)
		if err != nil {
			return nil, fmt.Errorf("fixed findings: %w", err)
		}
	}
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM findings f WHERE f.scan = ?1
		AND EXISTS (SELECT 1 FROM findings p WHERE p.scan = ?2 AND p.fingerprint = f.fingerprint)`, h, b).Scan(&d.UnchangedFindings)
	if err != nil {
		return nil, fmt.Errorf("unchanged findings: %w", err)
	}

	// Endpoints, hosts and open ports: set differences.
	sets := []struct {
		dst  *[]string
		q    string
		a, b int64
		need bool
	}{
		{&d.EndpointsAppeared, `SELECT endpoint_id FROM endpoints WHERE scan = ?1 EXCEPT SELECT endpoint_id FROM endpoints WHERE scan = ?2`, h, b, true},
		{&d.EndpointsVanished, `SELECT endpoint_id FROM endpoints WHERE scan = ?1 EXCEPT SELECT endpoint_id FROM endpoints WHERE scan = ?2`, b, h, full},
		{&d.HostsAppeared, `SELECT host FROM endpoints WHERE scan = ?1 EXCEPT SELECT host FROM endpoints WHERE scan = ?2`, h, b, true},
		{&d.HostsVanished, `SELECT host FROM endpoints WHERE scan = ?1 EXCEPT SELECT host FROM endpoints WHERE scan = ?2`, b, h, full},
		{&d.PortsOpened, `SELECT addrport FROM ports WHERE scan = ?1 EXCEPT SELECT addrport FROM ports WHERE scan = ?2`, h, b, true},
		{&d.PortsClosed, `SELECT addrport FROM ports WHERE scan = ?1 EXCEPT SELECT addrport FROM ports WHERE scan = ?2`, b, h, full},
	}
	for _, q := range sets {
		if !q.need {
			continue
		}
		rows, err := tx.QueryContext(ctx, q.q, q.a, q.b)
		if err != nil {
			return nil, err
		}
		err = eachRow(rows, func(r *sql.Rows) error {
			var v string
			if err := r.Scan(&v); err != nil {
				return err
			}
			*q.dst = append(*q.dst, v)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}

	// Leaf certificates that changed on an endpoint present in both scans.
	rows, err = tx.QueryContext(ctx, `
		SELECT he.endpoint_id, bc.sha256, hc.sha256, bc.not_after, hc.not_after
		FROM endpoints he
		JOIN endpoints be ON be.endpoint_id = he.endpoint_id AND be.scan = ?2
		JOIN certificates hc ON hc.scan = he.scan AND hc.ep = he.seq AND hc.position = 0
		JOIN certificates bc ON bc.scan = be.scan AND bc.ep = be.seq AND bc.position = 0
		WHERE he.scan = ?1 AND hc.sha256 <> bc.sha256 AND hc.sha256 <> '' AND bc.sha256 <> ''
		ORDER BY he.endpoint_id`, h, b)
	if err != nil {
		return nil, fmt.Errorf("certificate rotations: %w", err)
	}
	err = eachRow(rows, func(r *sql.Rows) error {
		var c model.CertRotation
		var oldExp, newExp string
		if err := r.Scan(&c.Endpoint, &c.OldSHA256, &c.NewSHA256, &oldExp, &newExp); err != nil {
			return err
		}
		var err error
		if c.OldExpiry, err = parseTime(oldExp); err != nil {
			return err
		}
		if c.NewExpiry, err = parseTime(newExp); err != nil {
			return err
		}
		d.CertRotations = append(d.CertRotations, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("certificate rotations: %w", err)
	}

	// Other facts of endpoints present in both scans: compare each fact's set of values. Both
	// sides stream in (endpoint, fact, value) order and are merged here, in one pass.
	if d.Changes, err = factChanges(ctx, tx, b, h); err != nil {
		return nil, fmt.Errorf("fact changes: %w", err)
	}

	for _, fs := range [][]model.Finding{d.NewFindings, d.FixedFindings, d.ReopenedFindings} {
		slices.SortStableFunc(fs, func(a, b model.Finding) int {
			return cmp.Or(strings.Compare(a.Asset, b.Asset), strings.Compare(a.RuleID, b.RuleID), strings.Compare(a.Detail, b.Detail))
		})
	}
	for _, ss := range [][]string{d.EndpointsAppeared, d.EndpointsVanished, d.HostsAppeared, d.HostsVanished, d.PortsOpened, d.PortsClosed} {
		slices.Sort(ss)
	}
	return d, nil
}

// factGroups reads one scan's facts of the endpoints also in the other scan, one (endpoint,
// fact) group at a time, in order.
type factGroups struct {
	rows           *sql.Rows
	id, fact, val  string
	pending, ended bool
	err            error
}

func openFactGroups(ctx context.Context, tx *sql.Tx, scan, other int64) (*factGroups, error) {
	rows, err := tx.QueryContext(ctx, `SELECT e.endpoint_id, f.fact, f.value
		FROM endpoints e JOIN facts f ON f.scan = e.scan AND f.ep = e.seq
		WHERE e.scan = ?1 AND f.fact <> ?3
			AND EXISTS (SELECT 1 FROM endpoints o WHERE o.scan = ?2 AND o.endpoint_id = e.endpoint_id)
		ORDER BY e.endpoint_id, f.fact, f.value`, scan, other, factLeaf)
	if err != nil {
		return nil, err
	}
	g := &factGroups{rows: rows}
	g.advance()
	return g, nil
}

func (g *factGroups) advance() {
	if g.rows.Next() {
		g.err = g.rows.Scan(&g.id, &g.fact, &g.val)
		g.pending = g.err == nil
		return
	}
	g.pending, g.ended, g.err = false, true, g.rows.Err()
}

// next returns the next group: endpoint, fact and its values joined by ", ".
func (g *factGroups) next() (id, fact, values string, ok bool) {
	if !g.pending {
		return "", "", "", false
	}
	id, fact = g.id, g.fact
	var vals []string
	for g.pending && g.id == id && g.fact == fact {
		vals = append(vals, g.val)
		g.advance()
	}
	return id, fact, strings.Join(vals, ", "), true
}

func factChanges(ctx context.Context, tx *sql.Tx, base, head int64) ([]model.FactChange, error) {
	bg, err := openFactGroups(ctx, tx, base, head)
	if err != nil {
		return nil, err
	}
	defer bg.rows.Close()
	hg, err := openFactGroups(ctx, tx, head, base)
	if err != nil {
		return nil, err
	}
	defer hg.rows.Close()
	out := []model.FactChange{}
	bid, bfact, bval, bok := bg.next()
	hid, hfact, hval, hok := hg.next()
	for bok || hok {
		c := 0
		switch {
		case !bok:
			c = 1
		case !hok:
			c = -1
		default:
			c = cmp.Or(strings.Compare(bid, hid), strings.Compare(bfact, hfact))
		}
		switch {
		case c < 0: // only in base
			out = append(out, model.FactChange{Endpoint: bid, Fact: bfact, Old: bval})
			bid, bfact, bval, bok = bg.next()
		case c > 0: // only in head
			out = append(out, model.FactChange{Endpoint: hid, Fact: hfact, New: hval})
			hid, hfact, hval, hok = hg.next()
		default:
			if bval != hval {
				out = append(out, model.FactChange{Endpoint: hid, Fact: hfact, Old: bval, New: hval})
			}
			bid, bfact, bval, bok = bg.next()
			hid, hfact, hval, hok = hg.next()
		}
	}
	if err := cmp.Or(bg.err, hg.err); err != nil {
		return nil, err
	}
	return out, nil
}

func eachRow(rows *sql.Rows, fn func(*sql.Rows) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func queryFindings(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]model.Finding, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	out := []model.Finding{}
	err = eachRow(rows, func(r *sql.Rows) error {
		var data []byte
		if err := r.Scan(&data); err != nil {
			return err
		}
		var f model.Finding
		if err := json.Unmarshal(data, &f); err != nil {
			return fmt.Errorf("decoding finding: %w", err)
		}
		out = append(out, f)
		return nil
	})
	return out, err
}
