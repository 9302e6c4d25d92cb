package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
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
}

type epRow struct {
	seq                    int64
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

// reachable is whether the endpoint's address:port took a TCP connection: an open port.
func reachable(o *model.Observation) bool {
	return o.Status == model.StatusOK || (o.Connect != nil && o.Connect.Reachable)
}

func encodeEndpoint(r *model.EndpointResult) (*epRow, error) {
	o := &r.Observation
	obs, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encoding observation of %s: %w", o.Endpoint.ID(), err)
	}
	fs, err := encodeFindings(r.Findings)
	if err != nil {
		return nil, err
	}
	e := &epRow{
		id: o.Endpoint.ID(), name: o.Endpoint.Name, port: int(o.Endpoint.Addr.Port()),
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
	if o.Certificates != nil {
		for i, c := range o.Certificates.Chain {
			e.certs = append(e.certs, certRow{pos: i, sha: c.SHA256, subject: c.Subject, issuer: c.Issuer, notAfter: fmtTime(c.NotAfter)})
		}
	}
	extractFacts(r, func(name, value string) { e.facts = append(e.facts, [2]string{name, value}) })
	return e, nil
}

// Add queues one endpoint's result. It returns the first error the writer met, if any (the
// result is then not stored).
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
	row := &domRow{name: d.Observation.Name, obs: obs, findingsNil: d.Findings == nil, findings: fs}
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

// Flush writes everything buffered now, in one transaction.
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
			case *domRow:
				err = st.domain(ctx, w.pk, r)
			case *noteRow:
				_, err = st.note.ExecContext(ctx, w.pk, r.seq, string(r.data))
			}
			if err != nil {
				return err
			}
		}
		_, err = c.ExecContext(ctx, `UPDATE scans SET updated_ns = ? WHERE pk = ?`, time.Now().UnixNano(), w.pk)
		return err
	})
}

type stmts struct {
	ep, dom, finding, cert, port, fact, note *sql.Stmt
}

func prepareAll(ctx context.Context, c *sql.Conn) (*stmts, error) {
	st := &stmts{}
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&st.ep, `INSERT INTO endpoints (scan, seq, endpoint_id, host, name, addr, port, service, status, observation,
			findings_nil, connect_ns, handshake_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&st.dom, `INSERT INTO domains (scan, seq, name, observation, findings_nil) VALUES (?, ?, ?, ?, ?)`},
		{&st.finding, `INSERT INTO findings (scan, ep, dom, fingerprint, rule, severity, asset, waived, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&st.cert, `INSERT OR REPLACE INTO certificates (scan, ep, position, sha256, subject, issuer, not_after)
			VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{&st.port, `INSERT OR IGNORE INTO ports (scan, addrport) VALUES (?, ?)`},
		{&st.fact, `INSERT OR IGNORE INTO facts (scan, ep, fact, value) VALUES (?, ?, ?, ?)`},
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
	for _, s := range []*sql.Stmt{st.ep, st.dom, st.finding, st.cert, st.port, st.fact, st.note} {
		if s != nil {
			s.Close()
		}
	}
}

func (st *stmts) endpoint(ctx context.Context, scan int64, r *epRow) error {
	if _, err := st.ep.ExecContext(ctx, scan, r.seq, r.id, r.host, r.name, r.addr, r.port, r.service, r.status,
		string(r.obs), r.findingsNil, r.connectNS, r.handshakeNS); err != nil {
		return fmt.Errorf("endpoint %s: %w", r.id, err)
	}
	for _, f := range r.findings {
		if _, err := st.finding.ExecContext(ctx, scan, r.seq, nil, f.fp, f.rule, f.sev, f.asset, f.waived, string(f.data)); err != nil {
			return fmt.Errorf("finding %s on %s: %w", f.rule, r.id, err)
		}
	}
	for _, c := range r.certs {
		if _, err := st.cert.ExecContext(ctx, scan, r.seq, c.pos, c.sha, c.subject, c.issuer, c.notAfter); err != nil {
			return fmt.Errorf("certificate of %s: %w", r.id, err)
		}
	}
	if r.open {
		if _, err := st.port.ExecContext(ctx, scan, r.addrport); err != nil {
			return fmt.Errorf("port %s: %w", r.addrport, err)
		}
	}
	for _, f := range r.facts {
		if _, err := st.fact.ExecContext(ctx, scan, r.seq, f[0], f[1]); err != nil {
			return fmt.Errorf("fact %s of %s: %w", f[0], r.id, err)
		}
	}
	return nil
}

func (st *stmts) domain(ctx context.Context, scan int64, r *domRow) error {
	if _, err := st.dom.ExecContext(ctx, scan, r.seq, r.name, string(r.obs), r.findingsNil); err != nil {
		return fmt.Errorf("domain %s: %w", r.name, err)
	}
	for _, f := range r.findings {
		if _, err := st.finding.ExecContext(ctx, scan, nil, r.seq, f.fp, f.rule, f.sev, f.asset, f.waived, string(f.data)); err != nil {
			return fmt.Errorf("finding %s on %s: %w", f.rule, r.name, err)
		}
	}
	return nil
}
