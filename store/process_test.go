package store

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// The test binary re-executes itself as a child process when RAMPART_STORE_CHILD is set:
// another rampart writing to, or locking, the same database.
const childEnv = "RAMPART_STORE_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := runChild(mode, os.Getenv("RAMPART_STORE_DB"), os.Getenv("RAMPART_STORE_N")); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// synthetic returns endpoint i of a synthetic scan.
func synthetic(prefix string, i int) model.EndpointResult {
	return epSpec{name: fmt.Sprintf("%s%d.example.org", prefix, i), addr: fmt.Sprintf("10.%d.%d.%d:443", i>>16&255, i>>8&255, i&255),
		service: "https", leaf: fmt.Sprintf("%064x", i), version: "TLS 1.3", findings: []string{"a/b", "c/d|x"}}.result()
}

func runChild(mode, path, nStr string) error {
	ctx := context.Background()
	n, _ := strconv.Atoi(nStr)
	switch mode {
	case "write":
		st, err := Open(ctx, path, nil)
		if err != nil {
			return err
		}
		defer st.Close()
		return writeScan(ctx, st, "child", n, WriterOptions{Batch: 50})
	case "kill":
		st, err := Open(ctx, path, nil)
		if err != nil {
			return err
		}
		id, err := st.BeginScan(ctx, ScanMeta{Targets: targets("example.org")})
		if err != nil {
			return err
		}
		w, err := st.NewWriter(ctx, id, WriterOptions{Batch: 10, Interval: 20 * time.Millisecond})
		if err != nil {
			return err
		}
		for i := range n {
			if err := w.Add(synthetic("k", i)); err != nil {
				return err
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
		fmt.Printf("ready %s\n", id)
		for i := n; ; i++ { // keep writing until killed
			if err := w.Add(synthetic("k", i)); err != nil {
				return err
			}
			time.Sleep(2 * time.Millisecond)
		}
	case "hold":
		// Hold the write lock for n milliseconds, as a long transaction of another process would.
		db, err := sql.Open("sqlite3", path+"?_busy_timeout=10000&_journal_mode=WAL")
		if err != nil {
			return err
		}
		defer db.Close()
		conn, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return err
		}
		fmt.Println("locked")
		time.Sleep(time.Duration(n) * time.Millisecond)
		_, err = conn.ExecContext(ctx, "COMMIT")
		return err
	}
	return fmt.Errorf("unknown child mode %q", mode)
}

// writeScan stores a complete synthetic scan of n endpoints.
func writeScan(ctx context.Context, st *Store, prefix string, n int, o WriterOptions) error {
	id, err := st.BeginScan(ctx, ScanMeta{Targets: targets(prefix + ".example.org")})
	if err != nil {
		return err
	}
	w, err := st.NewWriter(ctx, id, o)
	if err != nil {
		return err
	}
	for i := range n {
		if err := w.Add(synthetic(prefix, i)); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return st.FinishScan(ctx, id, model.ScanComplete, nil)
}

func child(t *testing.T, mode, path string, n int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, "RAMPART_STORE_DB="+path, "RAMPART_STORE_N="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	return cmd
}

// waitLine starts cmd and waits for its first stdout line.
func waitLine(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("child: %v", err)
	}
	return strings.TrimSpace(line)
}

func checkComplete(t *testing.T, st *Store, want map[string]int) {
	t.Helper()
	list, err := st.ListScans(context.Background(), ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range list {
		if s.Status != model.ScanComplete {
			t.Errorf("scan %s (%s) is %s", s.ID, s.Scope, s.Status)
		}
		got[s.Scope] = s.Endpoints
		if s.Findings["high"] != 2*s.Endpoints {
			t.Errorf("scan %s: %d findings for %d endpoints", s.ID, s.Findings["high"], s.Endpoints)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("scans = %v, want %v", got, want)
	}
	if err := st.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentWritersAndReader(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	const n = 1500
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	stop := make(chan struct{})
	for _, p := range []string{"one", "two"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := Open(ctx, path, nil) // its own *sql.DB, as another process would have
			if err != nil {
				errs <- err
				return
			}
			defer st.Close()
			errs <- writeScan(ctx, st, p, n, WriterOptions{Batch: 40})
		}()
	}
	reads := 0
	var rwg sync.WaitGroup
	rwg.Add(1)
	go func() { // a reader while both write
		defer rwg.Done()
		st, err := Open(ctx, path, nil)
		if err != nil {
			errs <- err
			return
		}
		defer st.Close()
		for {
			select {
			case <-stop:
				errs <- nil
				return
			default:
			}
			list, err := st.ListScans(ctx, ListOptions{})
			if err != nil {
				errs <- fmt.Errorf("reading while writing: %w", err)
				return
			}
			for _, s := range list {
				if _, err := st.LoadScan(ctx, s.ID); err != nil {
					errs <- fmt.Errorf("loading while writing: %w", err)
					return
				}
			}
			reads++
			time.Sleep(10 * time.Millisecond)
		}
	}()
	wg.Wait()
	close(stop)
	rwg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if reads == 0 {
		t.Error("the reader never completed a read during the writes")
	}
	st, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkComplete(t, st, map[string]int{"one.example.org": n, "two.example.org": n})
}

func TestConcurrentWriterInChildProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	st, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const n = 2000
	cmd := child(t, "write", path, n)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := writeScan(ctx, st, "parent", n, WriterOptions{Batch: 50}); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child writer: %v", err)
	}
	checkComplete(t, st, map[string]int{"parent.example.org": n, "child.example.org": n})
}

func TestWaitsForLockWithMessage(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	var mu sync.Mutex
	var logs []string
	logf := func(f string, a ...any) {
		mu.Lock()
		logs = append(logs, fmt.Sprintf(f, a...))
		mu.Unlock()
	}
	st, err := Open(ctx, path, &Options{BusyTimeout: 200 * time.Millisecond, LockRetries: 20, Logf: logf})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// Another process holds the lock for 1 s: the scan waits, says so, and then starts.
	hold := child(t, "hold", path, 1000)
	if line := waitLine(t, hold); line != "locked" {
		t.Fatalf("child said %q", line)
	}
	start := time.Now()
	id, err := st.BeginScan(ctx, ScanMeta{Targets: targets("example.org")})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 500*time.Millisecond {
		t.Errorf("BeginScan did not wait for the lock (%s)", time.Since(start))
	}
	if err := hold.Wait(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(logs) == 0 || !strings.Contains(logs[0], "another rampart process is writing") {
		t.Errorf("notices = %q", logs)
	}
	mu.Unlock()

	// Held longer than the store will wait: a clear error, and nothing half-written.
	st2, err := Open(ctx, path, &Options{BusyTimeout: 100 * time.Millisecond, LockRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	hold = child(t, "hold", path, 3000)
	if line := waitLine(t, hold); line != "locked" {
		t.Fatalf("child said %q", line)
	}
	err = st2.FinishScan(ctx, id, model.ScanComplete, nil)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "another rampart") {
		t.Errorf("FinishScan under a held lock = %v", err)
	}
	_ = hold.Process.Kill()
	_ = hold.Wait()
	if info, err := st.Scan(ctx, id); err != nil || info.Status != model.ScanRunning {
		t.Errorf("scan after the failed finish: %+v, %v", info, err)
	}
}

func TestKilledMidScan(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	const n = 120
	cmd := child(t, "kill", path, n)
	line := waitLine(t, cmd)
	id, ok := strings.CutPrefix(line, "ready ")
	if !ok {
		t.Fatalf("child said %q", line)
	}
	time.Sleep(150 * time.Millisecond) // a few more batches land, one may be mid-transaction
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	st, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := st.Scan(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if info.Status != model.ScanInterrupted || !strings.Contains(info.Error, "ended without finishing") {
		t.Fatalf("killed scan: %+v", info)
	}
	if info.Endpoints < n {
		t.Fatalf("%d endpoints kept, want at least the %d flushed before the kill", info.Endpoints, n)
	}
	r, err := st.LoadScan(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// Every stored endpoint is whole: its findings, certificates and facts are there too.
	for i, e := range r.Endpoints {
		if e.Observation.Endpoint.Name != fmt.Sprintf("k%d.example.org", i) || len(e.Findings) != 2 {
			t.Fatalf("endpoint %d: %+v", i, e.Observation.Endpoint)
		}
	}
	if c := count(t, st, `SELECT count(*) FROM certificates`); c != 2*len(r.Endpoints) {
		t.Errorf("%d certificates for %d endpoints", c, len(r.Endpoints))
	}
	t.Logf("kept %d endpoints of the killed scan", len(r.Endpoints))
}

func TestWriterKeepsResultsWhileLocked(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rampart.db")
	st, err := Open(ctx, path, &Options{BusyTimeout: 100 * time.Millisecond, LockRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id, err := st.BeginScan(ctx, ScanMeta{Targets: targets("example.org")})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.NewWriter(ctx, id, WriterOptions{Batch: 3, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	hold := child(t, "hold", path, 1500)
	if line := waitLine(t, hold); line != "locked" {
		t.Fatalf("child said %q", line)
	}
	var lockedErr error
	for i := range 5 {
		if err := w.Add(synthetic("l", i)); err != nil {
			lockedErr = err
		}
	}
	if !errors.Is(lockedErr, ErrLocked) {
		t.Fatalf("Add under a held lock = %v, want ErrLocked", lockedErr)
	}
	if err := hold.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close after the lock was released: %v", err)
	}
	r, err := st.LoadScan(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Endpoints) != 5 {
		t.Fatalf("%d endpoints stored, want 5", len(r.Endpoints))
	}
	for i, e := range r.Endpoints {
		if e.Observation.Endpoint.Name != fmt.Sprintf("l%d.example.org", i) {
			t.Errorf("endpoint %d is %s: order lost", i, e.Observation.Endpoint.Name)
		}
	}
}

func TestConcurrentOpenOfNewDatabase(t *testing.T) {
	// Several processes starting at once on a file that does not exist yet all get in.
	ctx := context.Background()
	for round := range 5 {
		path := filepath.Join(t.TempDir(), fmt.Sprint(round), "rampart.db")
		var wg sync.WaitGroup
		errs := make(chan error, 6)
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := Open(ctx, path, nil)
				if err == nil {
					err = st.Close()
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}
