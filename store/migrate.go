package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// migration is one forward-only schema step. Version i+1 is reached by running migrations[i]
// in its own transaction; a database is never taken backwards.
type migration struct {
	name string
	sql  string
	// fill, when set, runs after sql in the same transaction to derive data from what is
	// already stored.
	fill func(ctx context.Context, c *sql.Conn) error
}

// migrations is the schema history. Append only: never edit a released step.
var migrations = []migration{
	{name: "scans, endpoints, findings, domains, discovery notes", sql: `
CREATE TABLE scans (
	pk             INTEGER PRIMARY KEY,
	id             TEXT NOT NULL UNIQUE,
	status         TEXT NOT NULL CHECK (status IN ('running', 'complete', 'interrupted', 'failed')),
	error          TEXT NOT NULL DEFAULT '',
	scope_key      TEXT NOT NULL,
	scope          TEXT NOT NULL,
	targets        TEXT NOT NULL,
	policy         TEXT NOT NULL DEFAULT '',
	policy_hash    TEXT NOT NULL DEFAULT '',
	tool_name      TEXT NOT NULL DEFAULT '',
	tool_version   TEXT NOT NULL DEFAULT '',
	schema_version TEXT NOT NULL DEFAULT '',
	started        TEXT NOT NULL,
	started_ns     INTEGER NOT NULL,
	finished       TEXT NOT NULL DEFAULT '',
	finished_ns    INTEGER NOT NULL DEFAULT 0,
	updated_ns     INTEGER NOT NULL,
	pid            INTEGER NOT NULL DEFAULT 0,
	pid_start      TEXT NOT NULL DEFAULT '',
	hostname       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX scans_scope ON scans (scope_key, status, started_ns);
CREATE INDEX scans_started ON scans (started_ns);

CREATE TABLE endpoints (
	pk           INTEGER PRIMARY KEY,
	scan         INTEGER NOT NULL REFERENCES scans (pk) ON DELETE CASCADE,
	seq          INTEGER NOT NULL,
	endpoint_id  TEXT NOT NULL,
	host         TEXT NOT NULL,
	name         TEXT NOT NULL,
	addr         TEXT NOT NULL,
	port         INTEGER NOT NULL,
	service      TEXT NOT NULL,
	status       TEXT NOT NULL,
	observation  TEXT NOT NULL,
	findings_nil INTEGER NOT NULL DEFAULT 0,
	UNIQUE (scan, seq)
);
CREATE INDEX endpoints_scan_id ON endpoints (scan, endpoint_id);
CREATE INDEX endpoints_id ON endpoints (endpoint_id);
CREATE INDEX endpoints_host ON endpoints (host);
CREATE INDEX endpoints_addr ON endpoints (addr);

CREATE TABLE domains (
	pk           INTEGER PRIMARY KEY,
	scan         INTEGER NOT NULL REFERENCES scans (pk) ON DELETE CASCADE,
	seq          INTEGER NOT NULL,
	name         TEXT NOT NULL,
	observation  TEXT NOT NULL,
	findings_nil INTEGER NOT NULL DEFAULT 0,
	UNIQUE (scan, seq)
);

CREATE TABLE findings (
	pk          INTEGER PRIMARY KEY,
	scan        INTEGER NOT NULL REFERENCES scans (pk) ON DELETE CASCADE,
	ep          INTEGER,
	dom         INTEGER,
	fingerprint TEXT NOT NULL,
	rule        TEXT NOT NULL,
	severity    INTEGER NOT NULL,
	asset       TEXT NOT NULL,
	waived      INTEGER NOT NULL DEFAULT 0,
	data        TEXT NOT NULL,
	CHECK ((ep IS NULL) <> (dom IS NULL))
);
CREATE INDEX findings_scan ON findings (scan, ep);
CREATE INDEX findings_fp ON findings (fingerprint, scan);

CREATE TABLE notes (
	scan INTEGER NOT NULL REFERENCES scans (pk) ON DELETE CASCADE,
	seq  INTEGER NOT NULL,
	data TEXT NOT NULL,
	PRIMARY KEY (scan, seq)
) WITHOUT ROWID;
`},
	{name: "certificates and open ports, from stored observations", sql: `
CREATE TABLE certificates (
	scan      INTEGER NOT NULL REFERENCES scans (pk) ON DELETE CASCADE,
	ep        INTEGER NOT NULL,
	position  INTEGER NOT NULL,
	sha256    TEXT NOT NULL,
	subject   TEXT NOT NULL,
	issuer    TEXT NOT NULL,
	not_after TEXT NOT NULL,
	PRIMARY KEY (scan, ep, position)
) WITHOUT ROWID;
CREATE INDEX certificates_sha256 ON certificates (sha256);

CREATE TABLE ports (
	scan     INTEGER NOT NULL REFERENCES scans (pk) ON DELETE CASCADE,
	addrport TEXT NOT NULL,
	PRIMARY KEY (scan, addrport)
) WITHOUT ROWID;

INSERT INTO certificates (scan, ep, position, sha256, subject, issuer, not_after)
SELECT e.scan, e.seq, c.key,
	coalesce(json_extract(c.value, '$.sha256'), ''),
	coalesce(json_extract(c.value, '$.subject'), ''),
	coalesce(json_extract(c.value, '$.issuer'), ''),
	coalesce(json_extract(c.value, '$.not_after'), '')
FROM endpoints e, json_each(e.observation, '$.certificates.chain') c;

INSERT OR IGNORE INTO ports (scan, addrport)
SELECT scan, json_extract(observation, '$.endpoint.addr') FROM endpoints
WHERE CASE WHEN coalesce(json_extract(observation, '$.service.state'), '') <> ''
	THEN json_extract(observation, '$.service.state') = 'open'
	ELSE status = 'ok' OR json_extract(observation, '$.connect.reachable') = 1 END;
`},
	{name: "per-endpoint facts for drift, latency for history", sql: `
CREATE TABLE facts (
	scan  INTEGER NOT NULL REFERENCES scans (pk) ON DELETE CASCADE,
	ep    INTEGER NOT NULL,
	fact  TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (scan, ep, fact, value)
) WITHOUT ROWID;

ALTER TABLE endpoints ADD COLUMN connect_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN handshake_ns INTEGER NOT NULL DEFAULT 0;
UPDATE endpoints SET
	connect_ns = coalesce(nullif(json_extract(observation, '$.availability.connect_median_ns'), 0),
		json_extract(observation, '$.connect.latency_ns'), 0),
	handshake_ns = coalesce(nullif(json_extract(observation, '$.availability.handshake_median_ns'), 0),
		json_extract(observation, '$.tls.handshake.latency_ns'), 0);
`, fill: fillFacts},
	{name: "certificate DER stored once, out of the observations", sql: `
CREATE TABLE der (
	sha256 TEXT PRIMARY KEY,
	der    BLOB NOT NULL
);
ALTER TABLE certificates ADD COLUMN der_ref TEXT NOT NULL DEFAULT '';
CREATE INDEX certificates_der ON certificates (der_ref) WHERE der_ref <> '';
`, fill: moveDER},
	{name: "fingerprints indexed per scan; per-scope registry of fingerprints seen", sql: `
DROP INDEX findings_fp;
CREATE INDEX findings_scan_fp ON findings (scan, fingerprint);

CREATE TABLE seen (
	scope_key   TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	first_ns    INTEGER NOT NULL,
	last_ns     INTEGER NOT NULL,
	PRIMARY KEY (scope_key, fingerprint)
) WITHOUT ROWID;

INSERT INTO seen (scope_key, fingerprint, first_ns, last_ns)
SELECT s.scope_key, f.fingerprint, min(s.started_ns), max(s.started_ns)
FROM findings f JOIN scans s ON s.pk = f.scan
WHERE s.status = 'complete'
GROUP BY s.scope_key, f.fingerprint;
`},
	{name: "finding counts by severity answered from the index", sql: `
DROP INDEX findings_scan;
CREATE INDEX findings_scan ON findings (scan, ep, waived, severity);
`},
	{name: "node groups (the addresses behind one name) kept beside domains", sql: `
ALTER TABLE domains ADD COLUMN kind TEXT NOT NULL DEFAULT 'domain' CHECK (kind IN ('domain', 'nodes'));
`},
	{name: "per-endpoint grade", sql: `
ALTER TABLE endpoints ADD COLUMN grade TEXT NOT NULL DEFAULT '';
`},
}

// fillFacts derives the facts of every stored endpoint from its observation.
func fillFacts(ctx context.Context, c *sql.Conn) error {
	rows, err := c.QueryContext(ctx, `SELECT scan, seq, observation FROM endpoints ORDER BY scan, seq`)
	if err != nil {
		return err
	}
	type fact struct {
		scan, ep    int64
		name, value string
	}
	var all []fact
	for rows.Next() {
		var scan, ep int64
		var obs []byte
		if err := rows.Scan(&scan, &ep, &obs); err != nil {
			rows.Close()
			return err
		}
		var r model.EndpointResult
		if err := json.Unmarshal(obs, &r.Observation); err != nil {
			rows.Close()
			return fmt.Errorf("endpoint %d of scan %d: decoding observation: %w", ep, scan, err)
		}
		extractFacts(&r, func(name, value string) { all = append(all, fact{scan, ep, name, value}) })
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	stmt, err := c.PrepareContext(ctx, `INSERT OR IGNORE INTO facts (scan, ep, fact, value) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, f := range all {
		if _, err := stmt.ExecContext(ctx, f.scan, f.ep, f.name, f.value); err != nil {
			return err
		}
	}
	return nil
}

// moveDER takes the DER of every stored certificate out of its observation into the der table
// (one copy per certificate, however many scans saw it).
func moveDER(ctx context.Context, c *sql.Conn) error {
	rows, err := c.QueryContext(ctx, `SELECT pk FROM endpoints WHERE instr(observation, '"der":') > 0`)
	if err != nil {
		return err
	}
	var pks []int64
	err = eachRow(rows, func(r *sql.Rows) error {
		var pk int64
		err := r.Scan(&pk)
		pks = append(pks, pk)
		return err
	})
	if err != nil {
		return err
	}
	insDER, err := c.PrepareContext(ctx, `INSERT OR IGNORE INTO der (sha256, der) VALUES (?, ?)`)
	if err != nil {
		return err
	}
	defer insDER.Close()
	for _, pk := range pks {
		var scan, seq int64
		var b []byte
		if err := c.QueryRowContext(ctx, `SELECT scan, seq, observation FROM endpoints WHERE pk = ?`, pk).Scan(&scan, &seq, &b); err != nil {
			return err
		}
		var o model.Observation
		if err := json.Unmarshal(b, &o); err != nil {
			return fmt.Errorf("endpoint %d of scan %d: decoding observation: %w", seq, scan, err)
		}
		stripped, ders := splitDER(&o)
		if ders == nil {
			continue
		}
		nb, err := json.Marshal(stripped)
		if err != nil {
			return err
		}
		if _, err := c.ExecContext(ctx, `UPDATE endpoints SET observation = ? WHERE pk = ?`, string(nb), pk); err != nil {
			return err
		}
		for pos, d := range ders {
			if d.der == nil {
				continue
			}
			if _, err := insDER.ExecContext(ctx, d.ref, d.der); err != nil {
				return err
			}
			if _, err := c.ExecContext(ctx, `UPDATE certificates SET der_ref = ? WHERE scan = ? AND ep = ? AND position = ?`,
				d.ref, scan, seq, pos); err != nil {
				return err
			}
		}
	}
	return nil
}

// SchemaVersion returns the schema version of the open database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("store: reading schema version: %w", err)
	}
	return v, nil
}

// LatestSchemaVersion is the schema version this build writes.
func LatestSchemaVersion() int { return len(migrations) }

// migrate brings the database to len(steps), one transaction per step. A database newer than
// this build is refused rather than guessed at.
func (s *Store) migrate(ctx context.Context, steps []migration) error {
	err := s.writeTx(ctx, func(ctx context.Context, c *sql.Conn) error {
		_, err := c.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at TEXT NOT NULL)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: %s: creating schema_version: %w", s.path, err)
	}
	for {
		done := false
		err := s.writeTx(ctx, func(ctx context.Context, c *sql.Conn) error {
			var v int
			if err := c.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
				return err
			}
			if v > len(migrations) {
				return fmt.Errorf("schema version %d is newer than this rampart knows (%d): upgrade rampart", v, len(migrations))
			}
			if v >= len(steps) {
				done = true
				return nil
			}
			m := steps[v]
			if _, err := c.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %d (%s): %w", v+1, m.name, err)
			}
			if m.fill != nil {
				if err := m.fill(ctx, c); err != nil {
					return fmt.Errorf("migration %d (%s): %w", v+1, m.name, err)
				}
			}
			_, err := c.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)`,
				v+1, m.name, time.Now().UTC().Format(time.RFC3339))
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migrating %s: %w", s.path, err)
		}
		if done {
			return nil
		}
	}
}
