// Package testenv decides what a test does when a real peer (openssl, nginx, prosody…) is not
// installed. On a developer's machine the test is skipped with a message naming the Debian
// package; when RAMPART_REAL_SERVERS=1 (set by .ci/run, which installs them) it fails instead,
// so CI can never pass by skipping the real-server tests.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Strict reports whether missing real peers are errors rather than skips.
func Strict() bool { return os.Getenv("RAMPART_REAL_SERVERS") == "1" }

// LookPath returns the path of binary, or skips (fails under Strict) naming the package.
func LookPath(t testing.TB, binary, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(binary)
	if err != nil {
		if Strict() {
			t.Fatalf("%s not found (install Debian package %s): %v", binary, debianPackage, err)
		}
		t.Skipf("%s not installed (Debian package %s); RAMPART_REAL_SERVERS=1 makes this a failure", binary, debianPackage)
	}
	return p
}

// NeedRoot skips (fails under Strict) when the test needs root, e.g. for network namespaces.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		if Strict() {
			t.Fatal("this test needs root")
		}
		t.Skip("needs root")
	}
}
