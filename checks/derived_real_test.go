package checks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/internal/testenv"
	"github.com/rampart-scan/rampart/policies"
	"github.com/rampart-scan/rampart/scanner/certs/certtest"
	"github.com/rampart-scan/rampart/scanner/hello"
)

// oakley2 is the 1024-bit MODP prime of RFC 2409 §6.2 (Oakley group 2).
const oakley2 = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
	"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB" +
	"5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF"

func writeDHParams(t *testing.T, path string, p *big.Int) {
	t.Helper()
	der, err := asn1.Marshal(struct{ P, G *big.Int }{p, big.NewInt(2)})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "DH PARAMETERS", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// runServer starts a real TLS server and waits until addr accepts connections.
func runServer(t *testing.T, addr, bin string, args ...string) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(30 * time.Millisecond) {
		select {
		case <-done:
			t.Fatalf("%s exited: %s", bin, out.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			_ = c.Close()
			return
		}
	}
	t.Fatalf("%s did not listen on %s: %s", bin, addr, out.String())
}

// TestDerivedVerdictsRealServers enumerates Debian's openssl s_server and gnutls-serv with
// the engine and checks which derived verdicts fire: legacy configurations that really are
// exposed, and modern ones (including a custom 1024-bit DH prime, which is not Logjam) that
// are not.
func TestDerivedVerdictsRealServers(t *testing.T) {
	opensslBin := testenv.LookPath(t, "openssl", "openssl")
	gnutlsBin := testenv.LookPath(t, "gnutls-serv", "gnutls-bin")
	dir := t.TempDir()
	crt, key, err := certtest.WritePEM(dir, "rsa", certtest.Issue(certtest.Spec{CN: "localhost", DNS: []string{"localhost"}, Key: certtest.Key(certtest.RSA2048, 0)}, nil))
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := new(big.Int).SetString(oakley2, 16)
	if got := hello.KnownPrime(p2); got != oakleyGroup2 {
		t.Fatalf("the test's Oakley group 2 prime is named %q", got)
	}
	oakley := filepath.Join(dir, "oakley2.pem")
	writeDHParams(t, oakley, p2)
	cp, err := rand.Prime(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	custom := filepath.Join(dir, "custom1024.pem")
	writeDHParams(t, custom, cp)

	ossl := func(extra ...string) func(string, int) []string {
		return func(addr string, port int) []string {
			return append([]string{"s_server", "-accept", fmt.Sprintf("%s:%d", addr, port), "-www", "-quiet", "-cert", crt, "-key", key}, extra...)
		}
	}
	servers := []struct {
		name string
		bin  string
		args func(addr string, port int) []string
		want []string
	}{
		{"openssl-tls10-cbc-oakley2", opensslBin, ossl("-tls1", "-cipher", "AES128-SHA:DHE-RSA-AES256-SHA:@SECLEVEL=0", "-dhparam", oakley),
			[]string{"vuln/beast", "vuln/lucky13", "vuln/logjam"}},
		{"gnutls-3des-rc4", gnutlsBin, func(_ string, port int) []string {
			return []string{"-p", fmt.Sprint(port), "--x509certfile", crt, "--x509keyfile", key, "--http",
				"--priority", "NONE:+VERS-TLS1.2:+VERS-TLS1.1:+ECDHE-RSA:+RSA:+AES-128-GCM:+3DES-CBC:+ARCFOUR-128:+SHA1:+AEAD:+COMP-NULL:+SIGN-ALL:+GROUP-SECP256R1:%SERVER_PRECEDENCE"}
		}, []string{"vuln/sweet32", "vuln/rc4", "vuln/lucky13"}},
		{"openssl-tls12-cbc", opensslBin, ossl("-no_tls1_3", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA"),
			[]string{"vuln/lucky13"}},
		{"openssl-modern", opensslBin, ossl("-no_tls1", "-no_tls1_1", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305"), nil},
		{"openssl-dhe-custom-1024", opensslBin, ossl("-no_tls1_3", "-cipher", "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0", "-dhparam", custom), nil},
	}
	cat, err := NewCatalogue([]Check{derivedVulnCheck()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, sv := range servers {
		t.Run(sv.name, func(t *testing.T) {
			addr := fmt.Sprintf("127.0.52.%d", i+1)
			if sv.bin == gnutlsBin {
				addr = "127.0.0.1" // gnutls-serv cannot bind one address
			}
			ln, err := net.Listen("tcp", addr+":0")
			if err != nil {
				t.Fatal(err)
			}
			port := ln.Addr().(*net.TCPAddr).Port
			_ = ln.Close()
			target := fmt.Sprintf("%s:%d", addr, port)
			runServer(t, target, sv.bin, sv.args(addr, port)...)

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			dial := func(ctx context.Context) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "tcp", target)
			}
			e, err := hello.Scan(ctx, dial, hello.Options{ServerName: "localhost", Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			obs := healthy()
			obs.TLS.Engine = e
			got := cat.Evaluate(&obs, policies.Default(), now)
			for _, f := range got {
				t.Logf("%s: %s", f.RuleID, f.Message)
			}
			assertRules(t, got, sv.want)
		})
	}
}
