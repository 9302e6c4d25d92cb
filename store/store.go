// Package store is Rampart's memory: it keeps every scan (observations, findings, certificates,
// open ports and the facts drift compares) in one SQLite file, and answers what changed between
// two scans, what a target looked like over time, and what a stored scan contained.
//
// The file is opened in WAL mode with foreign keys on and a busy timeout, and brought to the
// current schema by forward-only migrations. Results are written in short batched transactions
// as endpoints finish, so a scan that is interrupted or killed keeps what it finished; the next
// Open marks a scan whose process died as interrupted.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// ErrLocked is wrapped by errors returned when another writer held the database lock for
// longer than the store was willing to wait.
var ErrLocked = errors.New("database is locked by another writer")

// ErrNotFound is wrapped by errors about a scan that is not in the store.
var ErrNotFound = errors.New("scan not found")

// Options tunes Open. The zero value is usable.
type Options struct {
	// BusyTimeout is how long one statement waits for a lock before SQLite gives up
	// (default 10 s).
	BusyTimeout time.Duration
	// LockRetries is how many more times a write transaction waits BusyTimeout again when the
	// lock is still held, telling Logf each time (default 5, so a minute in all by default).
	// A negative value means no retry.
	LockRetries int
	// Logf receives notices: waiting for a lock, scans recovered as interrupted. Nil: silent.
	Logf func(format string, args ...any)
	// StaleAfter is how long a running scan recorded by another host may go without writing
	// before Open marks it interrupted (its process cannot be checked from here; default 24 h).
	StaleAfter time.Duration
}

// Store is an open Rampart database. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
	opts Options
	host string
	pid  int
	// pidStart identifies this process beyond its PID (Linux: start time in clock ticks).
	pidStart string
}

// Open opens (creating it and its directory when missing) the database at path, migrates it
// to the current schema, and marks as interrupted every running scan whose process is gone.
func Open(ctx context.Context, path string, opts *Options) (*Store, error) {
	return open(ctx, path, opts, migrations)
}

// open is Open with the schema steps to apply (tests build databases at earlier versions).
func open(ctx context.Context, path string, opts *Options, steps []migration) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 10 * time.Second
	}
	if o.LockRetries == 0 {
		o.LockRetries = 5
	} else if o.LockRetries < 0 {
		o.LockRetries = 0
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = 24 * time.Hour
	}
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	if strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, fmt.Errorf("store: unsupported database path %q (plain file paths only)", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: creating directory for %s: %w", path, err)
	}
	// Scan results describe an organisation's weak spots: a new database is private to its user.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("store: creating %s: %w", path, err)
	}
	dsn := path + "?_busy_timeout=" + strconv.FormatInt(o.BusyTimeout.Milliseconds(), 10) +
		"&_foreign_keys=on&_journal_mode=WAL&_synchronous=NORMAL&_cache_size=-16000"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(4)
	host, _ := os.Hostname()
	s := &Store{db: db, path: path, opts: o, host: host, pid: os.Getpid()}
	s.pidStart, _ = procStart(s.pid)
	// Opening a new file races with other processes opening it (switching to WAL needs a moment
	// of exclusive access, and SQLite answers busy at once there): retry for BusyTimeout.
	for start := time.Now(); ; {
		err := s.check(ctx)
		if err == nil {
			break
		}
		if !isBusy(err) || time.Since(start) > o.BusyTimeout || ctx.Err() != nil {
			db.Close()
			return nil, fmt.Errorf("store: opening %s: %w", path, s.lockErr(err))
		}
		time.Sleep(25 * time.Millisecond)
	}
	if err := s.migrate(ctx, steps); err != nil {
		db.Close()
		return nil, err
	}
	if len(steps) < len(migrations) {
		return s, nil
	}
	if err := s.recoverStale(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// check makes sure the file is an SQLite database in WAL mode with foreign keys on.
func (s *Store) check(ctx context.Context) error {
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	var fk int
	if err := s.db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return fmt.Errorf("reading foreign_keys: %w", err)
	}
	if fk != 1 {
		return errors.New("foreign keys are off")
	}
	return nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// DB exposes the underlying handle for read-only inspection (tests, diagnostics).
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: closing %s: %w", s.path, err)
	}
	return nil
}

// IntegrityCheck runs SQLite's integrity check and returns an error unless it says "ok".
func (s *Store) IntegrityCheck(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return fmt.Errorf("store: integrity check: %w", err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return fmt.Errorf("store: integrity check of %s failed: %s", s.path, strings.Join(msgs, "; "))
	}
	var fkRows int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM pragma_foreign_key_check").Scan(&fkRows); err != nil {
		return fmt.Errorf("store: foreign key check: %w", err)
	}
	if fkRows != 0 {
		return fmt.Errorf("store: %s has %d rows violating foreign keys", s.path, fkRows)
	}
	return nil
}

func (s *Store) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// isBusy reports whether err is SQLite's "database is locked/busy".
func isBusy(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked
	}
	return false
}

// lockErr turns a busy error into one that says what to do about it.
func (s *Store) lockErr(err error) error {
	if !isBusy(err) {
		return err
	}
	return fmt.Errorf("%s is locked: another rampart (scan, prune or vacuum) is writing to it: %w (%w)", s.path, ErrLocked, err)
}

// writeTx runs fn in a transaction that takes the write lock at its start (BEGIN IMMEDIATE), so
// it never fails half-way on a lock upgrade. While another writer holds the lock it waits, up to
// BusyTimeout × (1 + LockRetries), telling Logf each time BusyTimeout passes.
func (s *Store) writeTx(ctx context.Context, fn func(ctx context.Context, c *sql.Conn) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return s.lockErr(err)
	}
	defer conn.Close()
	start := time.Now()
	for attempt := 0; ; attempt++ {
		_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
		if err == nil {
			break
		}
		if !isBusy(err) || attempt >= s.opts.LockRetries || ctx.Err() != nil {
			if isBusy(err) {
				return fmt.Errorf("gave up after waiting %s: %w", time.Since(start).Round(time.Millisecond), s.lockErr(err))
			}
			return s.lockErr(err)
		}
		s.logf("store: waiting for %s: another rampart process is writing to it (%s so far)",
			s.path, time.Since(start).Round(time.Second))
	}
	if err := fn(ctx, conn); err != nil {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
			return errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
		return s.lockErr(err)
	}
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return fmt.Errorf("commit: %w", s.lockErr(err))
	}
	return nil
}

// readTx runs fn in a deferred transaction: one consistent snapshot, no write lock.
func (s *Store) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.lockErr(err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to undo
	return fn(tx)
}

// recoverStale marks interrupted the running scans whose process is gone: on this host, a PID
// that no longer runs (or now belongs to another process); on another host, a scan that has not
// written for StaleAfter.
func (s *Store) recoverStale(ctx context.Context) error {
	type running struct {
		pk       int64
		id, host string
		pid      int
		pidStart string
		updated  int64
	}
	var list []running
	rows, err := s.db.QueryContext(ctx, `SELECT pk, id, hostname, pid, pid_start, updated_ns FROM scans WHERE status = 'running'`)
	if err != nil {
		return fmt.Errorf("store: listing running scans: %w", s.lockErr(err))
	}
	for rows.Next() {
		var r running
		if err := rows.Scan(&r.pk, &r.id, &r.host, &r.pid, &r.pidStart, &r.updated); err != nil {
			rows.Close()
			return fmt.Errorf("store: listing running scans: %w", err)
		}
		list = append(list, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: listing running scans: %w", err)
	}
	now := time.Now()
	for _, r := range list {
		var why string
		switch {
		case r.host == s.host && r.pid == s.pid && r.pidStart == s.pidStart:
			continue // this very process
		case r.host == s.host && canCheckProcesses:
			if processAlive(r.pid, r.pidStart) {
				continue
			}
			why = fmt.Sprintf("process %d on %s ended without finishing the scan", r.pid, r.host)
		default:
			if now.Sub(time.Unix(0, r.updated)) < s.opts.StaleAfter {
				continue
			}
			why = fmt.Sprintf("process %d on %s has not written for over %s", r.pid, r.host, s.opts.StaleAfter)
		}
		last := time.Unix(0, r.updated).UTC()
		err := s.writeTx(ctx, func(ctx context.Context, c *sql.Conn) error {
			_, err := c.ExecContext(ctx, `UPDATE scans SET status = 'interrupted', error = ?, finished = ?, finished_ns = ?
				WHERE pk = ? AND status = 'running'`, why, last.Format(time.RFC3339Nano), last.UnixNano(), r.pk)
			return err
		})
		if err != nil {
			return fmt.Errorf("store: marking scan %s interrupted: %w", r.id, err)
		}
		s.logf("store: scan %s was left running (%s); marked interrupted", r.id, why)
	}
	return nil
}
