package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// Point is one endpoint of a target in one scan: the timeline of `rampart history`.
type Point struct {
	Scan       string            `json:"scan"`
	ScanStatus model.ScanStatus  `json:"scan_status"`
	Time       time.Time         `json:"time"` // when the scan started
	Endpoint   string            `json:"endpoint"`
	Status     model.ProbeStatus `json:"status"`
	// Grade is the endpoint's grade when the store has one ("" otherwise).
	Grade string `json:"grade,omitempty"`
	// Findings counts active (not waived) findings by severity name.
	Findings     map[string]int `json:"findings"`
	LeafSHA256   string         `json:"leaf_sha256,omitempty"`
	LeafNotAfter time.Time      `json:"leaf_not_after,omitzero"`
	Connect      time.Duration  `json:"connect_ns"`
	Handshake    time.Duration  `json:"handshake_ns"`
}

// History returns the timeline of a target across every stored scan, oldest first. target is
// a host name or IP address (every endpoint under it), a host:port, or an endpoint ID. limit > 0
// keeps only the newest limit scans.
func (s *Store) History(ctx context.Context, target string, limit int) ([]Point, error) {
	target = strings.TrimSpace(target)
	if target == "" {
		return nil, errors.New("store: history: empty target")
	}
	where := `(e.host = ?1 OR e.addr = ?1 OR e.endpoint_id = ?1)`
	args := []any{strings.ToLower(strings.TrimSuffix(target, "."))}
	if strings.Contains(target, "://") {
		args[0] = target
	} else if h, p, err := net.SplitHostPort(target); err == nil {
		if port, err := strconv.Atoi(p); err == nil {
			where = `((e.host = ?1 OR e.addr = ?1) AND e.port = ?2)`
			args = []any{strings.ToLower(strings.TrimSuffix(h, ".")), port}
		}
	}
	scanFilter := ""
	if limit > 0 {
		scanFilter = fmt.Sprintf(` AND e.scan IN (SELECT DISTINCT e.scan FROM endpoints e JOIN scans s ON s.pk = e.scan
			WHERE %s ORDER BY s.started_ns DESC, s.pk DESC LIMIT %d)`, where, limit)
	}
	q := `SELECT s.id, s.status, s.started, e.endpoint_id, e.status, e.connect_ns, e.handshake_ns,
			coalesce(c.sha256, ''), coalesce(c.not_after, ''),
			coalesce((SELECT group_concat(value, ' ') FROM facts g WHERE g.scan = e.scan AND g.ep = e.seq AND g.fact = 'grade'), ''),
			(SELECT group_concat(severity || ':' || n) FROM (SELECT severity, count(*) AS n FROM findings f
				WHERE f.scan = e.scan AND f.ep = e.seq AND f.waived = 0 GROUP BY severity))
		FROM endpoints e JOIN scans s ON s.pk = e.scan
		LEFT JOIN certificates c ON c.scan = e.scan AND c.ep = e.seq AND c.position = 0
		WHERE ` + where + scanFilter + ` ORDER BY s.started_ns, s.pk, e.endpoint_id`
	var out []Point
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		return eachRow(rows, func(r *sql.Rows) error {
			var p Point
			var started, notAfter, status, probe string
			var counts sql.NullString
			var conn, hs int64
			if err := r.Scan(&p.Scan, &status, &started, &p.Endpoint, &probe, &conn, &hs, &p.LeafSHA256, &notAfter,
				&p.Grade, &counts); err != nil {
				return err
			}
			p.ScanStatus, p.Status = model.ScanStatus(status), model.ProbeStatus(probe)
			p.Connect, p.Handshake = time.Duration(conn), time.Duration(hs)
			var err error
			if p.Time, err = parseTime(started); err != nil {
				return err
			}
			if p.LeafNotAfter, err = parseTime(notAfter); err != nil {
				return err
			}
			p.Findings = map[string]int{}
			for _, sev := range model.Severities() {
				p.Findings[sev.String()] = 0
			}
			for _, kv := range strings.Split(counts.String, ",") {
				sev, n, ok := strings.Cut(kv, ":")
				if !ok {
					continue
				}
				si, err1 := strconv.Atoi(sev)
				ni, err2 := strconv.Atoi(n)
				if err1 != nil || err2 != nil {
					return fmt.Errorf("finding counts %q", counts.String)
				}
				p.Findings[model.Severity(si).String()] += ni
			}
			out = append(out, p)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: history of %s: %w", target, err)
	}
	return out, nil
}

// PruneOptions says which finished scans Prune deletes. With both set, a scan is deleted only
// when both rules allow it (older than OlderThan and not among the newest Keep).
type PruneOptions struct {
	Keep      int           // keep the newest Keep finished scans (0: rule unused)
	OlderThan time.Duration // delete scans that started longer ago than this (0: rule unused)
	Now       time.Time     // reference time for OlderThan (zero: now)
	DryRun    bool          // report what would be deleted, delete nothing
	Vacuum    bool          // compact the file afterwards (needs no other process using it)
}

// PruneResult says what Prune did.
type PruneResult struct {
	Deleted []string `json:"deleted"`
	// Vacuumed is true when the file was compacted; VacuumError says why it was not.
	Vacuumed    bool   `json:"vacuumed"`
	VacuumError string `json:"vacuum_error,omitempty"`
	BytesBefore int64  `json:"bytes_before"`
	BytesAfter  int64  `json:"bytes_after"`
}

// Prune deletes old finished scans with everything stored for them. A running scan is never
// deleted. Each scan is deleted in its own short transaction, so a scan writing meanwhile is
// delayed only briefly.
func (s *Store) Prune(ctx context.Context, o PruneOptions) (*PruneResult, error) {
	if o.Keep <= 0 && o.OlderThan <= 0 {
		return nil, errors.New("store: prune needs a rule: keep N or older than a duration")
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	res := &PruneResult{Deleted: []string{}}
	res.BytesBefore = s.size(ctx)
	rows, err := s.db.QueryContext(ctx, `SELECT pk, id, started_ns FROM scans WHERE status <> 'running' ORDER BY started_ns DESC, pk DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: prune: %w", s.lockErr(err))
	}
	type victim struct {
		pk int64
		id string
	}
	var victims []victim
	i := 0
	err = eachRow(rows, func(r *sql.Rows) error {
		var v victim
		var started int64
		if err := r.Scan(&v.pk, &v.id, &started); err != nil {
			return err
		}
		byKeep := o.Keep > 0 && i >= o.Keep
		byAge := o.OlderThan > 0 && o.Now.Sub(time.Unix(0, started)) > o.OlderThan
		i++
		del := byKeep || byAge
		if o.Keep > 0 && o.OlderThan > 0 {
			del = byKeep && byAge
		}
		if del {
			victims = append(victims, v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: prune: %w", err)
	}
	for _, v := range victims {
		if o.DryRun {
			res.Deleted = append(res.Deleted, v.id)
			continue
		}
		var n int64
		err := s.writeTx(ctx, func(ctx context.Context, c *sql.Conn) error {
			r, err := c.ExecContext(ctx, `DELETE FROM scans WHERE pk = ? AND status <> 'running'`, v.pk)
			if err != nil {
				return err
			}
			n, _ = r.RowsAffected()
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("store: prune: deleting scan %s: %w", v.id, err)
		}
		if n == 1 {
			res.Deleted = append(res.Deleted, v.id)
		}
	}
	if len(res.Deleted) > 0 && !o.DryRun {
		err := s.writeTx(ctx, func(ctx context.Context, c *sql.Conn) error {
			_, err := c.ExecContext(ctx, `DELETE FROM der WHERE NOT EXISTS (
				SELECT 1 FROM certificates c WHERE c.der_ref = der.sha256 AND c.der_ref <> '')`)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("store: prune: deleting unused certificates: %w", err)
		}
	}
	if o.Vacuum && !o.DryRun && len(res.Deleted) > 0 {
		if err := s.vacuum(ctx); err != nil {
			res.VacuumError = err.Error()
		} else {
			res.Vacuumed = true
		}
	}
	res.BytesAfter = s.size(ctx)
	return res, nil
}

// vacuum compacts the file. It is refused (not waited for) while another connection holds a
// transaction: VACUUM rewrites the whole file and must not stall a running scan.
func (s *Store) vacuum(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA busy_timeout = 0`); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA busy_timeout = %d`, s.opts.BusyTimeout.Milliseconds())) //nolint:errcheck // best effort restore
	if _, err := conn.ExecContext(ctx, `VACUUM`); err != nil {
		if isBusy(err) {
			return fmt.Errorf("vacuum skipped: the database is in use by another process: %w", err)
		}
		return fmt.Errorf("vacuum: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// size is the bytes used by the database's pages (the file size, less nothing; the WAL is not
// counted).
func (s *Store) size(ctx context.Context) int64 {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT page_count * page_size FROM pragma_page_count, pragma_page_size`).Scan(&n); err != nil {
		return 0
	}
	return n
}

// Size returns the bytes of the database's pages (excluding the write-ahead log).
func (s *Store) Size(ctx context.Context) int64 { return s.size(ctx) }
