// Package testenv decides what a test does when a real peer (openssl, nginx, prosody…) is not
// installed. On a developer's machine the test is skipped with a message naming the Debian
// package; when RAMPART_REAL_SERVERS=1 (set by .ci/run, which installs them) it fails instead,
// so CI can never pass by skipping the real-server tests.
package testenv

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
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

// FreePort returns a TCP port that was free on host a moment ago, for a real server a test
// starts on a chosen loopback address.
func FreePort(t testing.TB, host string) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// StartServer runs cmd (a real server), waits until every addr accepts connections, and at
// cleanup calls stop and waits for the process (killing it after 10s). If the server exits
// early or never listens, the test fails with its output and the file at logPath.
func StartServer(t testing.TB, cmd *exec.Cmd, stop func(), logPath string, addrs ...string) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		stop()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	logs := func() string {
		b, _ := os.ReadFile(logPath)
		return out.String() + "\n" + string(b)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, a := range addrs {
		for {
			c, err := net.DialTimeout("tcp", a, 500*time.Millisecond)
			if err == nil {
				_ = c.Close()
				break
			}
			select {
			case err := <-exited:
				exited <- err
				t.Fatalf("%s exited early (%v):\n%s", cmd.Path, err, logs())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s does not listen on %s: %v\n%s", cmd.Path, a, err, logs())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
