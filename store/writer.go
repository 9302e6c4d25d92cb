package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// WriterOptions tunes a Writer. Zero values take the defaults.
type WriterOptions struct {
	// Batch is how many results are buffered before they are written in one transaction
	// (default 256).
	Batch int
	// Interval is the longest a result waits in the buffer before it is written (default
	// 250 ms): the most a killed process can lose of what had finished.
	Interval time.Duration
}

// Writer streams one scan's results into the store as they finish: results are encoded when
// added, buffered, and written in one short transaction per batch (Batch results, or every
// Interval). Memory stays bounded by the batch whatever the size of the scan. A Writer is safe
// for concurrent use by the probe workers. Close it (which writes what is buffered) before
// FinishScan.
type Writer struct {
	st       *Store
	ctx      context.Context
	id       string
	pk       int64
	batch    int
	interval time.Duration

	flushMu sync.Mutex // serialises flushes so batches land in order

	mu       sync.Mutex // guards the fields below
	buf      []any      // *epRow, *domRow, *noteRow
	bufStart time.Time
	nextEp   int64
	nextDom  int64
	nextNote int64
	err      error
	closed   bool

	stop chan struct{}
	done chan struct{}
}

type findingRow struct {
	fp, rule, asset string
	sev             int
	waived          bool
	data            []byte
}

type certRow struct {
	pos                            int
	sha, subject, issuer, notAfter string
	derRef                         string // SHA-256 of der, when its bytes are kept in the der table
	der                            []byte
}

// derPart is one certificate's DER taken out of an observation.
type derPart struct {
	ref string
	der []byte
}

// splitDER returns the observation to encode with every certificate's DER left out, and the
// DER by chain position (nil when no certificate carried DER; then o is returned as is). The
// caller's observation is not modified.
func splitDER(o *model.Observation) (*model.Observation, []derPart) {
	if o.Certificates == nil {
		return o, nil
	}
	var parts []derPart
	for i, c := range o.Certificates.Chain {
		if len(c.DER) == 0 {
			continue
		}
		if parts == nil {
			parts = make([]derPart, len(o.Certificates.Chain))
		}
		sum := sha256.Sum256(c.DER)
		parts[i] = derPart{ref: hex.EncodeToString(sum[:]), der: c.DER}
	}
	if parts == nil {
		return o, nil
	}
	cp := *o
	cf := *o.Certificates
	cf.Chain = slices.Clone(cf.Chain)
	for i := range cf.Chain {
		cf.Chain[i].DER = nil
	}
	cp.Certificates = &cf
	return &cp, parts
}

type epRow struct {
	seq                    int64
	grade                  []byte // JSON of the endpoint's grade; nil when it has none
	id, host, name, addr   string
	port                   int
	service, status        string
	obs                    []byte
	findingsNil            bool
	connectNS, handshakeNS int64
	findings               []findingRow
	certs                  []certRow
	open                   bool
	addrport               string
	facts                  [][2]string
}

type domRow struct {
	seq         int64
	kind        string // "domain" or "nodes"
	name        string
	obs         []byte
	findingsNil bool
	findings    []findingRow
}

type noteRow struct {
	seq  int64
	data []byte
}

// Writer opens a batched writer for a scan with the default options.
func (s *Store) Writer(ctx context.Context, scanID string) (*Writer, error) {
	return s.NewWriter(ctx, scanID, WriterOptions{})
}

// NewWriter opens a batched writer for a scan. ctx bounds nothing but the lookup: writes go on
// after ctx is cancelled, so that Ctrl-C keeps every result that finished.
func (s *Store) NewWriter(ctx context.Context, scanID string, o WriterOptions) (*Writer, error) {
	if o.Batch <= 0 {
		o.Batch = 256
	}
	if o.Interval <= 0 {
		o.Interval = 250 * time.Millisecond
	}
	w := &Writer{st: s, ctx: context.WithoutCancel(ctx), id: scanID, batch: o.Batch, interval: o.Interval,
		stop: make(chan struct{}), done: make(chan struct{})}
	err := s.db.QueryRowContext(ctx, `SELECT pk,
		(SELECT coalesce(max(seq) + 1, 0) FROM endpoints WHERE scan = scans.pk),
		(SELECT coalesce(max(seq) + 1, 0) FROM domains WHERE scan = scans.pk),
		(SELECT coalesce(max(seq) + 1, 0) FROM notes WHERE scan = scans.pk)
		FROM scans WHERE id = ?`, scanID).Scan(&w.pk, &w.nextEp, &w.nextDom, &w.nextNote)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: writer: %w: %s", ErrNotFound, scanID)
	}
	if err != nil {
		return nil, fmt.Errorf("store: writer for scan %s: %w", scanID, s.lockErr(err))
	}
	go w.ticker()
	return w, nil
}

func (w *Writer) ticker() {
	defer close(w.done)
	t := time.NewTicker(w.interval / 2)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.mu.Lock()
			due := len(w.buf) > 0 && time.Since(w.bufStart) >= w.interval
			w.mu.Unlock()
			if due {
				_ = w.Flush()
			}
		}
	}
}

func encodeFindings(fs []model.Finding) ([]findingRow, error) {
	out := make([]findingRow, 0, len(fs))
	for _, f := range fs {
		b, err := json.Marshal(f)
		if err != nil {
			return nil, fmt.Errorf("encoding finding %s on %s: %w", f.RuleID, f.Asset, err)
		}
		fp := f.Fingerprint
		if fp == "" {
			fp = model.FindingFingerprint(f.RuleID, f.Asset, f.Detail)
		}
		out = append(out, findingRow{fp: fp, rule: f.RuleID, asset: f.Asset, sev: int(f.Severity), waived: f.Waived, data: b})
	}
	return out, nil
}

// reachable is whether the endpoint's address:port is an open port: the state an exposure scan
// recorded, else whether it took a TCP connection.
func reachable(o *model.Observation) bool {
	if o.Service != nil && o.Service.State != "" {
		return o.Service.State == model.PortOpen
	}
	return o.Status == model.StatusOK || (o.Connect != nil && o.Connect.Reachable)
}

func encodeEndpoint(r *model.EndpointResult) (*epRow, error) {
	o := &r.Observation
	stripped, ders := splitDER(o)
	obs, err := json.Marshal(stripped)
	if err != nil {
		return nil, fmt.Errorf("encoding observation of %s: %w", o.Endpoint.ID(), err)
	}
	fs, err := encodeFindings(r.Findings)
	if err != nil {
		return nil, err
	}
	var grade []byte
	if r.Grade != nil {
		if grade, err = json.Marshal(r.Grade); err != nil {
			return nil, fmt.Errorf("encoding grade of %s: %w", o.Endpoint.ID(), err)
		}
	}
	e := &epRow{
		grade: grade,
		id:    o.Endpoint.ID(), name: o.Endpoint.Name, port: int(o.Endpoint.Addr.Port()),
		service: o.Endpoint.Service, status: string(o.Status), obs: obs, findingsNil: r.Findings == nil,
		findings: fs, open: reachable(o), addrport: o.Endpoint.Addr.String(),
	}
	if o.Endpoint.Addr.IsValid() {
		e.addr = o.Endpoint.Addr.Addr().String()
	}
	e.host = e.name
	if e.host == "" {
		e.host = e.addr
	}
	if o.Connect != nil {
		e.connectNS = int64(o.Connect.Latency)
	}
	if o.TLS != nil && o.TLS.Handshake != nil {
		e.handshakeNS = int64(o.TLS.Handshake.Latency)
	}
	// Repeated attempts measure latency better than the one probe connection: prefer their median.
	if a := o.Availability; a != nil {
		if a.ConnectMedian > 0 {
			e.connectNS = int64(a.ConnectMedian)
		}
		if a.HandshakeMedian > 0 {
			e.handshakeNS = int64(a.HandshakeMedian)
		}
	}
	if o.Certificates != nil {
		for i, c := range o.Certificates.Chain {
			cr := certRow{pos: i, sha: c.SHA256, subject: c.Subject, issuer: c.Issuer, notAfter: fmtTime(c.NotAfter)}
			if ders != nil && ders[i].der != nil {
				cr.derRef, cr.der = ders[i].ref, ders[i].der
			}
			e.certs = append(e.certs, cr)
		}
	}
	extractFacts(r, func(name, value string) { e.facts = append(e.facts, [2]string{name, value}) })
	return e, nil
}

// Update replaces the findings and grade of an endpoint added earlier to this scan, for
// evaluation that needs every endpoint first (a key shared with an SSLv2 server, grades capped
// across endpoints). What was queued before is flushed first, so the endpoint's row exists.
func (w *Writer) Update(r model.EndpointResult) error {
	if err := w.Flush(); err != nil {
		return err
	}
	row, err := encodeEndpoint(&r)
	if err != nil {
		w.fail(err)
		return err
	}
	return w.push(func() {}, &endpointUpdate{row: row})
}

// Add queues one endpoint's result. It returns the first error the writer met, if any; after an
// error wrapping ErrLocked the result is still kept and written by a later flush.
func (w *Writer) Add(r model.EndpointResult) error {
	row, err := encodeEndpoint(&r)
	if err != nil {
		w.fail(err)
		return err
	}
	return w.push(func() { row.seq = w.nextEp; w.nextEp++ }, row)
}

// AddDomain queues one domain's result.
func (w *Writer) AddDomain(d model.DomainResult) error {
	obs, err := json.Marshal(d.Observation)
	if err != nil {
		err = fmt.Errorf("encoding domain %s: %w", d.Observation.Name, err)
		w.fail(err)
		return err
	}
	fs, err := encodeFindings(d.Findings)
	if err != nil {
		w.fail(err)
		return err
	}
	row := &domRow{kind: "domain", name: d.Observation.Name, obs: obs, findingsNil: d.Findings == nil, findings: fs}
	return w.push(func() { row.seq = w.nextDom; w.nextDom++ }, row)
}

// AddNodes queues one node group (the addresses behind a name compared). It shares the
// domains table, told apart by kind, so its findings take part in drift like any other.
func (w *Writer) AddNodes(n model.NodeGroupResult) error {
	obs, err := json.Marshal(n.Group)
	if err != nil {
		err = fmt.Errorf("encoding node group %s: %w", n.Group.ID(), err)
		w.fail(err)
		return err
	}
	fs, err := encodeFindings(n.Findings)
	if err != nil {
		w.fail(err)
		return err
	}
	row := &domRow{kind: "nodes", name: n.Group.ID(), obs: obs, findingsNil: n.Findings == nil, findings: fs}
	return w.push(func() { row.seq = w.nextDom; w.nextDom++ }, row)
}

// AddNote queues one discovery note.
func (w *Writer) AddNote(n model.DiscoveryNote) error {
	b, err := json.Marshal(n)
	if err != nil {
		err = fmt.Errorf("encoding discovery note: %w", err)
		w.fail(err)
		return err
	}
	row := &noteRow{data: b}
	return w.push(func() { row.seq = w.nextNote; w.nextNote++ }, row)
}

func (w *Writer) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

func (w *Writer) push(number func(), row any) error {
	w.mu.Lock()
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return err
	}
	if w.closed {
		w.mu.Unlock()
		return fmt.Errorf("store: writer for scan %s is closed", w.id)
	}
	number()
	if len(w.buf) == 0 {
		w.bufStart = time.Now()
	}
	w.buf = append(w.buf, row)
	full := len(w.buf) >= w.batch
	w.mu.Unlock()
	if full {
		return w.Flush()
	}
	return nil
}

// Flush writes everything buffered now, in one transaction. When another writer held the lock
// past the store's patience (an error wrapping ErrLocked) the results stay buffered for the
// next flush; any other error is final and every later call returns it.
func (w *Writer) Flush() error {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	items := w.buf
	w.buf = nil
	err := w.err
	w.mu.Unlock()
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	if err := w.write(items); err != nil {
		err = fmt.Errorf("store: writing results of scan %s: %w", w.id, err)
		if errors.Is(err, ErrLocked) {
			// Nothing was written: keep the results, in order, for the next flush.
			w.mu.Lock()
			w.buf = append(items, w.buf...)
			w.mu.Unlock()
			return err
		}
		w.fail(err)
		return err
	}
	return nil
}

// Close writes what is buffered and stops the writer. It returns the first error met.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		err := w.err
		w.mu.Unlock()
		return err
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	if err := w.Flush(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *Writer) write(items []any) error {
	return w.st.writeTx(w.ctx, func(ctx context.Context, c *sql.Conn) error {
		st, err := prepareAll(ctx, c)
		if err != nil {
			return err
		}
		defer st.close()
		for _, it := range items {
			switch r := it.(type) {
			case *epRow:
				err = st.endpoint(ctx, w.pk, r)
			case *endpointUpdate:
				// Findings added earlier in this transaction must reach the table before
				// the update deletes and re-adds the endpoint's own.
				if err = st.findings.flush(ctx); err == nil {
					if err = st.facts.flush(ctx); err == nil {
						err = st.update(ctx, c, w.pk, r)
					}
				}
			case *domRow:
				err = st.domain(ctx, w.pk, r)
			case *noteRow:
				_, err = st.note.ExecContext(ctx, w.pk, r.seq, string(r.data))
			}
			if err != nil {
				return err
			}
		}
		if err := st.facts.flush(ctx); err != nil {
			return fmt.Errorf("facts: %w", err)
		}
		if err := st.findings.flush(ctx); err != nil {
			return fmt.Errorf("findings: %w", err)
		}
		_, err = c.ExecContext(ctx, `UPDATE scans SET updated_ns = ? WHERE pk = ?`, time.Now().UnixNano(), w.pk)
		return err
	})
}

// bulk inserts rows into one table many rows per statement: far fewer calls into SQLite than
// a statement per row, for the tables with most rows (facts, findings).
type bulk struct {
	c      *sql.Conn
	prefix string // "INSERT INTO t (a, b) VALUES "
	cols   int
	per    int       // rows per full statement
	full   *sql.Stmt // prepared on first use
	args   []any
}

func newBulk(c *sql.Conn, prefix string, cols, per int) *bulk {
	return &bulk{c: c, prefix: prefix, cols: cols, per: per, args: make([]any, 0, cols*per)}
}

func (b *bulk) query(rows int) string {
	one := "(" + strings.Repeat("?, ", b.cols-1) + "?)"
	return b.prefix + strings.Repeat(one+", ", rows-1) + one
}

func (b *bulk) add(ctx context.Context, vals ...any) error {
	b.args = append(b.args, vals...)
	if len(b.args) < b.cols*b.per {
		return nil
	}
	if b.full == nil {
		s, err := b.c.PrepareContext(ctx, b.query(b.per))
		if err != nil {
			return err
		}
		b.full = s
	}
	_, err := b.full.ExecContext(ctx, b.args...)
	b.args = b.args[:0]
	return err
}

func (b *bulk) flush(ctx context.Context) error {
	if len(b.args) == 0 {
		return nil
	}
	_, err := b.c.ExecContext(ctx, b.query(len(b.args)/b.cols), b.args...)
	b.args = b.args[:0]
	return err
}

func (b *bulk) close() {
	if b.full != nil {
		b.full.Close()
	}
}

type stmts struct {
	ep, dom, cert, port, note, der *sql.Stmt
	facts, findings                *bulk
}

func prepareAll(ctx context.Context, c *sql.Conn) (*stmts, error) {
	st := &stmts{
		facts: newBulk(c, `INSERT OR IGNORE INTO facts (scan, ep, fact, value) VALUES `, 4, 64),
		findings: newBulk(c, `INSERT INTO findings (scan, ep, dom, fingerprint, rule, severity, asset, waived, data) VALUES `,
			9, 64),
	}
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&st.ep, `INSERT INTO endpoints (scan, seq, endpoint_id, host, name, addr, port, service, status, observation,
			findings_nil, connect_ns, handshake_ns, grade) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&st.dom, `INSERT INTO domains (scan, seq, name, observation, findings_nil, kind) VALUES (?, ?, ?, ?, ?, ?)`},
		{&st.cert, `INSERT OR REPLACE INTO certificates (scan, ep, position, sha256, subject, issuer, not_after, der_ref)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`},
		{&st.der, `INSERT OR IGNORE INTO der (sha256, der) VALUES (?, ?)`},
		{&st.port, `INSERT OR IGNORE INTO ports (scan, addrport) VALUES (?, ?)`},
		{&st.note, `INSERT INTO notes (scan, seq, data) VALUES (?, ?, ?)`},
	} {
		s, err := c.PrepareContext(ctx, p.q)
		if err != nil {
			st.close()
			return nil, err
		}
		*p.dst = s
	}
	return st, nil
}

func (st *stmts) close() {
	for _, s := range []*sql.Stmt{st.ep, st.dom, st.cert, st.port, st.note, st.der} {
		if s != nil {
			s.Close()
		}
	}
	st.facts.close()
	st.findings.close()
}

func (st *stmts) endpoint(ctx context.Context, scan int64, r *epRow) error {
	if _, err := st.ep.ExecContext(ctx, scan, r.seq, r.id, r.host, r.name, r.addr, r.port, r.service, r.status,
		string(r.obs), r.findingsNil, r.connectNS, r.handshakeNS, string(r.grade)); err != nil {
		return fmt.Errorf("endpoint %s: %w", r.id, err)
	}
	return st.endpointFindings(ctx, scan, r)
}

// endpointUpdate replaces what evaluation decided about an endpoint already written: its
// findings, grade and derived facts (observations do not change; certificates and ports stay).
type endpointUpdate struct{ row *epRow }

func (st *stmts) update(ctx context.Context, c *sql.Conn, scan int64, u *endpointUpdate) error {
	r := u.row
	if err := c.QueryRowContext(ctx, `SELECT seq FROM endpoints WHERE scan = ? AND endpoint_id = ?`, scan, r.id).Scan(&r.seq); err != nil {
		return fmt.Errorf("updating endpoint %s: %w", r.id, err)
	}
	for _, q := range []string{
		`DELETE FROM findings WHERE scan = ? AND ep = ?`,
		`DELETE FROM facts WHERE scan = ? AND ep = ?`,
	} {
		if _, err := c.ExecContext(ctx, q, scan, r.seq); err != nil {
			return fmt.Errorf("updating endpoint %s: %w", r.id, err)
		}
	}
	if _, err := c.ExecContext(ctx, `UPDATE endpoints SET findings_nil = ?, grade = ? WHERE scan = ? AND seq = ?`,
		r.findingsNil, string(r.grade), scan, r.seq); err != nil {
		return fmt.Errorf("updating endpoint %s: %w", r.id, err)
	}
	for _, f := range r.findings {
		if err := st.findings.add(ctx, scan, r.seq, nil, f.fp, f.rule, f.sev, f.asset, f.waived, string(f.data)); err != nil {
			return fmt.Errorf("finding %s on %s: %w", f.rule, r.id, err)
		}
	}
	for _, f := range r.facts {
		if err := st.facts.add(ctx, scan, r.seq, f[0], f[1]); err != nil {
			return fmt.Errorf("fact %s of %s: %w", f[0], r.id, err)
		}
	}
	return nil
}

func (st *stmts) endpointFindings(ctx context.Context, scan int64, r *epRow) error {
	for _, f := range r.findings {
		if err := st.findings.add(ctx, scan, r.seq, nil, f.fp, f.rule, f.sev, f.asset, f.waived, string(f.data)); err != nil {
			return fmt.Errorf("finding %s on %s: %w", f.rule, r.id, err)
		}
	}
	for _, c := range r.certs {
		if c.der != nil {
			if _, err := st.der.ExecContext(ctx, c.derRef, c.der); err != nil {
				return fmt.Errorf("certificate of %s: %w", r.id, err)
			}
		}
		if _, err := st.cert.ExecContext(ctx, scan, r.seq, c.pos, c.sha, c.subject, c.issuer, c.notAfter, c.derRef); err != nil {
			return fmt.Errorf("certificate of %s: %w", r.id, err)
		}
	}
	if r.open {
		if _, err := st.port.ExecContext(ctx, scan, r.addrport); err != nil {
			return fmt.Errorf("port %s: %w", r.addrport, err)
		}
	}
	for _, f := range r.facts {
		if err := st.facts.add(ctx, scan, r.seq, f[0], f[1]); err != nil {
			return fmt.Errorf("fact %s of %s: %w", f[0], r.id, err)
		}
	}
	return nil
}

func (st *stmts) domain(ctx context.Context, scan int64, r *domRow) error {
	if _, err := st.dom.ExecContext(ctx, scan, r.seq, r.name, string(r.obs), r.findingsNil, r.kind); err != nil {
		return fmt.Errorf("domain %s: %w", r.name, err)
	}
	for _, f := range r.findings {
		if err := st.findings.add(ctx, scan, nil, r.seq, f.fp, f.rule, f.sev, f.asset, f.waived, string(f.data)); err != nil {
			return fmt.Errorf("finding %s on %s: %w", f.rule, r.name, err)
		}
	}
	return nil
}
