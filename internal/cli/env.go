// Package cli is Rampart's command line: one file per command family, each command an
// options struct and a run function, with all terminal handling in Env so every command can be
// tested without a terminal.
package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mattn/go-isatty"
)

// Env is the process's streams and environment, injected into every command.
type Env struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	Getenv func(string) string
	// OutTTY / ErrTTY say whether the streams are terminals (colour, progress bar).
	OutTTY bool
	ErrTTY bool
	// Version is the tool version shown by `rampart version` and stored with each scan.
	Version string
}

// SystemEnv returns the Env of the running process.
func SystemEnv(version string) *Env {
	return &Env{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv,
		OutTTY:  isatty.IsTerminal(os.Stdout.Fd()),
		ErrTTY:  isatty.IsTerminal(os.Stderr.Fd()),
		Version: version,
	}
}

// Color reports whether output to the terminal may use colour: a TTY, no --no-color, no
// NO_COLOR in the environment.
func (e *Env) Color(noColor bool) bool {
	return e.OutTTY && !noColor && e.Getenv("NO_COLOR") == ""
}

// DefaultDBPath is the store's default file: $XDG_DATA_HOME/rampart/rampart.db, else
// ~/.local/share/rampart/rampart.db.
func (e *Env) DefaultDBPath() (string, error) {
	if d := e.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "rampart", "rampart.db"), nil
	}
	home := e.Getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no data directory: set XDG_DATA_HOME, HOME or --db: %w", err)
		}
		home = h
	}
	return filepath.Join(home, ".local", "share", "rampart", "rampart.db"), nil
}

// ExitError carries a process exit code out of a command.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Exit codes.
const (
	ExitOK       = 0 // fine
	ExitFindings = 1 // findings at or above --fail-on
	ExitUsage    = 2 // usage or configuration error
	ExitFailed   = 3 // the scan itself failed
	// ExitInterrupted: the scan was cancelled (Ctrl-C, SIGTERM); partial results were written.
	ExitInterrupted = 130
)

// usageError wraps err as a usage/configuration error (exit 2).
func usageError(err error) error { return &ExitError{Code: ExitUsage, Err: err} }
