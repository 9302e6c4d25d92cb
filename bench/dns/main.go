// Command dns benchmarks Rampart's DNS brute force against the `dnsx` command in one run: the
// same 10,000-name wordlist under one domain, served by a local knotd on a loopback high
// port, resolved by both with the same number of workers. Both must find the same names; the
// program prints each one's wall time, names per second and DNS packets per second (counted
// by knot's mod-stats), and the ratio of Rampart's rate to dnsx's.
//
//	go run ./bench/dns                 # needs knotd and knotc (Debian package knot)
//	go run ./bench/dns -runs 5 -threads 100
//
// dnsx v1.2.3 is built from the Go module proxy in a scratch module outside the repository
// (-scratch, default /tmp/dnsxbench: a go.mod requiring github.com/projectdiscovery/dnsx
// v1.2.3 and a tools.go importing its cmd/dnsx), unless -dnsx names a binary. dnsx runs with
// its defaults (A queries, -retry 2) and -t set to -threads; Rampart runs its brute force with
// Concurrency -threads, its default retries (on timeouts and SERVFAIL only) and its wildcard
// probes, without hygiene lookups.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rampart-scan/rampart/discover"
	"github.com/rampart-scan/rampart/model"
)

func main() {
	words := flag.Int("words", 10000, "wordlist size")
	exist := flag.Int("exist", 500, "how many of the words have A records")
	threads := flag.Int("threads", 100, "concurrent lookups of both tools")
	runs := flag.Int("runs", 3, "runs of each tool (the median is compared)")
	dnsxBin := flag.String("dnsx", "", "dnsx binary (default: build v1.2.3 in -scratch)")
	scratch := flag.String("scratch", "/tmp/dnsxbench", "scratch module for building dnsx (outside the repository)")
	ip := flag.String("ip", "127.0.0.80", "loopback address knotd listens on")
	flag.Parse()
	if err := run(*words, *exist, *threads, *runs, *dnsxBin, *scratch, *ip); err != nil {
		fmt.Fprintln(os.Stderr, "bench/dns:", err)
		os.Exit(1)
	}
}

const domain = "bench.test"

func run(nWords, nExist, threads, runs int, dnsxBin, scratch, ip string) error {
	if !strings.HasPrefix(ip, "127.") {
		return fmt.Errorf("-ip %s: only loopback addresses", ip)
	}
	if nExist > nWords {
		return errors.New("-exist larger than -words")
	}
	knotd, err := exec.LookPath("knotd")
	if err != nil {
		return fmt.Errorf("knotd not found (Debian package knot): %w", err)
	}
	knotc, err := exec.LookPath("knotc")
	if err != nil {
		return fmt.Errorf("knotc not found (Debian package knot): %w", err)
	}
	if dnsxBin == "" {
		if dnsxBin, err = buildDnsx(scratch); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "rampart-bench-dns-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	words := make([]string, nWords)
	var zone strings.Builder
	fmt.Fprintf(&zone, "$ORIGIN %s.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 127.0.0.1\n", domain)
	want := map[string]bool{}
	step := nWords / max(nExist, 1)
	for i := range words {
		words[i] = fmt.Sprintf("w%05d", i)
		if nExist > 0 && i%step == 0 && len(want) < nExist {
			fmt.Fprintf(&zone, "%s A 127.1.%d.%d\n", words[i], i/250%250, i%250+1)
			want[words[i]+"."+domain] = true
		}
	}
	wordFile := filepath.Join(dir, "words.txt")
	if err := os.WriteFile(wordFile, []byte(strings.Join(words, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	k, err := startKnot(knotd, knotc, dir, ip, zone.String())
	if err != nil {
		return err
	}
	defer k.stop()

	fmt.Printf("wordlist %d names (%d exist) under %s, knotd at %s, %d workers, %d runs each\n\n", nWords, len(want), domain, k.addr, threads, runs)
	type sample struct {
		wall    time.Duration
		packets int64
	}
	var dx, rp []sample
	for i := 0; i < runs; i++ {
		before, err := k.packets()
		if err != nil {
			return err
		}
		start := time.Now()
		found, err := runDnsx(dnsxBin, wordFile, k.addr, threads)
		wall := time.Since(start)
		if err != nil {
			return err
		}
		after, err := k.packets()
		if err != nil {
			return err
		}
		if err := sameSet("dnsx", found, want); err != nil {
			return err
		}
		dx = append(dx, sample{wall, after - before})

		before = after
		start = time.Now()
		found, err = runRampart(words, k.addr, threads)
		wall = time.Since(start)
		if err != nil {
			return err
		}
		if after, err = k.packets(); err != nil {
			return err
		}
		if err := sameSet("rampart", found, want); err != nil {
			return err
		}
		rp = append(rp, sample{wall, after - before})
		fmt.Printf("run %d: dnsx %v (%d packets), rampart %v (%d packets)\n", i+1, dx[i].wall.Round(time.Millisecond), dx[i].packets,
			rp[i].wall.Round(time.Millisecond), rp[i].packets)
	}
	med := func(s []sample) sample {
		c := append([]sample(nil), s...)
		sort.Slice(c, func(i, j int) bool { return c[i].wall < c[j].wall })
		return c[len(c)/2]
	}
	d, r := med(dx), med(rp)
	rate := func(n int64, w time.Duration) float64 { return float64(n) / w.Seconds() }
	fmt.Printf("\n%-8s %10s %12s %14s\n", "tool", "wall", "names/s", "packets/s")
	fmt.Printf("%-8s %10v %12.0f %14.0f\n", "dnsx", d.wall.Round(time.Millisecond), rate(int64(nWords), d.wall), rate(d.packets, d.wall))
	fmt.Printf("%-8s %10v %12.0f %14.0f\n", "rampart", r.wall.Round(time.Millisecond), rate(int64(nWords), r.wall), rate(r.packets, r.wall))
	ratio := d.wall.Seconds() / r.wall.Seconds()
	fmt.Printf("\nrampart/dnsx names per second: %.2f (goal ≥ 0.90)\n", ratio)
	fmt.Printf("rampart/dnsx packets per second: %.2f (dnsx asks every absent name %.1f times, rampart %.1f)\n",
		rate(r.packets, r.wall)/rate(d.packets, d.wall), float64(d.packets)/float64(nWords), float64(r.packets)/float64(nWords))
	if ratio < 0.9 {
		return fmt.Errorf("rampart resolved %.2f× dnsx's names per second, below 0.90", ratio)
	}
	return nil
}

// buildDnsx builds dnsx v1.2.3 in a scratch module outside the repository.
func buildDnsx(dir string) (string, error) {
	bin := filepath.Join(dir, "dnsx")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	files := map[string]string{
		"go.mod":   "module dnsxbench\n\ngo 1.24\n\nrequire github.com/projectdiscovery/dnsx v1.2.3\n",
		"tools.go": "//go:build tools\n\npackage tools\n\nimport _ \"github.com/projectdiscovery/dnsx/cmd/dnsx\"\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return "", err
		}
	}
	fmt.Fprintf(os.Stderr, "building dnsx v1.2.3 in %s (once)…\n", dir)
	for _, args := range [][]string{{"mod", "tidy"}, {"build", "-o", bin, "github.com/projectdiscovery/dnsx/cmd/dnsx"}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
		}
	}
	return bin, nil
}

type knot struct {
	cmd   *exec.Cmd
	knotc string
	conf  string
	addr  string
}

func startKnot(knotd, knotc, dir, ip, zone string) (*knot, error) {
	if err := os.WriteFile(filepath.Join(dir, domain+".zone"), []byte(zone), 0o644); err != nil {
		return nil, err
	}
	port, err := freePort(ip)
	if err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`server:
    rundir: "%[1]s"
    listen: %[2]s@%[3]d
    udp-workers: 2
    tcp-workers: 1
control:
    listen: "%[1]s/knot.sock"
log:
  - target: stderr
    any: warning
database:
    storage: "%[1]s"
mod-stats:
  - id: default
    request-protocol: on
template:
  - id: default
    storage: "%[1]s"
    file: "%%s.zone"
    global-module: mod-stats
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: %[4]s
`, dir, ip, port, domain)
	confPath := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(knotd, "-c", confPath)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting knotd: %w", err)
	}
	k := &knot{cmd: cmd, knotc: knotc, conf: confPath, addr: fmt.Sprintf("%s:%d", ip, port)}
	for i := 0; i < 100; i++ {
		if _, err := k.packets(); err == nil {
			if c, err := net.Dial("tcp", k.addr); err == nil {
				c.Close()
				return k, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	k.stop()
	return nil, fmt.Errorf("knotd did not come up:\n%s", log.String())
}

func (k *knot) stop() {
	_ = k.cmd.Process.Kill()
	_ = k.cmd.Wait()
}

// packets sums knot's request counters over every protocol.
func (k *knot) packets() (int64, error) {
	out, err := exec.Command(k.knotc, "-c", k.conf, "stats", "mod-stats.request-protocol").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("knotc stats: %v: %s", err, out)
	}
	var n int64
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		_, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		c, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err == nil {
			n += c
		}
	}
	return n, nil
}

func freePort(ip string) (int, error) {
	for i := 0; i < 50; i++ {
		pc, err := net.ListenPacket("udp", ip+":0")
		if err != nil {
			return 0, err
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", fmt.Sprintf("%s:%d", ip, port))
		pc.Close()
		if err == nil {
			ln.Close()
			return port, nil
		}
	}
	return 0, errors.New("no free port")
}

func runDnsx(bin, wordFile, resolver string, threads int) (map[string]bool, error) {
	cmd := exec.Command(bin, "-silent", "-d", domain, "-w", wordFile, "-r", resolver, "-t", strconv.Itoa(threads), "-nc", "-duc")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("dnsx: %v: %s", err, stderr.String())
	}
	found := map[string]bool{}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			found[strings.ToLower(line)] = true
		}
	}
	return found, nil
}

func runRampart(words []string, resolver string, threads int) (map[string]bool, error) {
	d, err := discover.New(discover.Options{
		Resolvers:   []string{"udp:" + resolver},
		Wordlist:    words,
		Concurrency: threads,
		NoHygiene:   true,
		NoFallback:  true,
	})
	if err != nil {
		return nil, err
	}
	res, err := d.Discover(context.Background(), []model.Target{{Raw: domain, Source: "bench", Kind: model.TargetDomain, Host: domain}})
	if err != nil {
		return nil, err
	}
	for _, n := range res.Notes {
		if n.Kind == "error" {
			return nil, fmt.Errorf("rampart: %s: %s", n.Target, n.Detail)
		}
	}
	found := map[string]bool{}
	for _, h := range res.Hosts {
		found[h.Name] = true
	}
	return found, nil
}

func sameSet(tool string, got, want map[string]bool) error {
	var missing, extra []string
	for n := range want {
		if !got[n] {
			missing = append(missing, n)
		}
	}
	for n := range got {
		if !want[n] {
			extra = append(extra, n)
		}
	}
	if len(missing)+len(extra) > 0 {
		sort.Strings(missing)
		sort.Strings(extra)
		return fmt.Errorf("%s found a different set: %d missing (%s), %d extra (%s)", tool, len(missing), head(missing), len(extra), head(extra))
	}
	return nil
}

func head(s []string) string {
	if len(s) > 5 {
		return strings.Join(s[:5], " ") + " …"
	}
	return strings.Join(s, " ")
}
