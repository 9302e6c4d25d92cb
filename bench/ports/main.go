// Command ports benchmarks Rampart's exposure connect scan against `nmap -sT` on the same
// grid in one run: 1,000 ports on each of 20 loopback hosts (127.0.10.1–127.0.10.20), a few
// of them open (in-process listeners), the rest closed. Both scanners must agree on the open
// set; the program prints each one's wall time and the ratio.
//
//	go run ./bench/ports            # needs nmap (Debian package nmap)
//	go run ./bench/ports -runs 5 -per-address 4
//
// Rampart runs with its dialer's per-address cap (default 4, the CLI's default) and no global
// rate limit (the CLI's --rate 0), without service identification: `nmap -sT` identifies
// nothing either.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/exposure"
	"github.com/rampart-scan/rampart/scanner/netx"
)

func main() {
	hostsN := flag.Int("hosts", 20, "loopback hosts 127.0.10.1…")
	portsN := flag.Int("ports", 1000, "ports per host")
	base := flag.Int("base-port", 20000, "first port of the range")
	perAddr := flag.Int("per-address", 4, "Rampart's per-address connection cap")
	workers := flag.Int("workers", 256, "Rampart's scan workers")
	runs := flag.Int("runs", 3, "runs of each scanner (the median is compared)")
	nmapBin := flag.String("nmap", "nmap", "nmap binary (\"\" runs Rampart alone)")
	flag.Parse()
	if err := run(*hostsN, *portsN, *base, *perAddr, *workers, *runs, *nmapBin); err != nil {
		fmt.Fprintln(os.Stderr, "bench/ports:", err)
		os.Exit(1)
	}
}

func run(hostsN, portsN, base, perAddr, workers, runs int, nmapBin string) error {
	if base < 1 || base+portsN-1 > 65535 {
		return fmt.Errorf("port range %d-%d out of bounds", base, base+portsN-1)
	}
	if nmapBin == "" {
		// Rampart alone, for tuning.
	} else if _, err := exec.LookPath(nmapBin); err != nil {
		return fmt.Errorf("nmap not found (Debian package nmap): %w", err)
	}
	var hosts []netip.Addr
	for i := 1; i <= hostsN; i++ {
		hosts = append(hosts, netip.AddrFrom4([4]byte{127, 0, 10, byte(i)}))
	}
	ports := make([]uint16, portsN)
	for i := range ports {
		ports[i] = uint16(base + i)
	}
	// Three open ports per host, spread over the range.
	var want []string
	for _, h := range hosts {
		for _, off := range []int{22, portsN / 2, portsN - 1} {
			ap := netip.AddrPortFrom(h, uint16(base+off))
			ln, err := net.Listen("tcp", ap.String())
			if err != nil {
				return fmt.Errorf("listen %s: %w", ap, err)
			}
			defer ln.Close()
			go acceptClose(ln)
			want = append(want, ap.String())
		}
	}
	sort.Strings(want)

	var ours, theirs, oursCPU, theirsCPU []time.Duration
	for r := 0; r < runs; r++ {
		before := cpuTime()
		d, open, err := rampart(hosts, ports, perAddr, workers)
		oursCPU = append(oursCPU, cpuTime()-before)
		if err != nil {
			return err
		}
		if !slices.Equal(open, want) {
			return fmt.Errorf("rampart found %d open ports, want %d", len(open), len(want))
		}
		ours = append(ours, d)

		if nmapBin == "" {
			fmt.Printf("run %d: rampart %v (cpu %v)\n", r+1, d.Round(time.Millisecond), oursCPU[r].Round(time.Millisecond))
			continue
		}
		d, cpu, open, err := nmap(nmapBin, hostsN, base, portsN)
		theirsCPU = append(theirsCPU, cpu)
		if err != nil {
			return err
		}
		if !slices.Equal(open, want) {
			return fmt.Errorf("nmap found %d open ports, want %d: %v", len(open), len(want), open)
		}
		theirs = append(theirs, d)
		fmt.Printf("run %d: rampart %v (cpu %v), nmap -sT %v (cpu %v)\n", r+1, ours[r].Round(time.Millisecond),
			oursCPU[r].Round(time.Millisecond), theirs[r].Round(time.Millisecond), theirsCPU[r].Round(time.Millisecond))
	}
	if nmapBin == "" {
		fmt.Printf("rampart median %v\n", median(ours).Round(time.Millisecond))
		return nil
	}
	mo, mt := median(ours), median(theirs)
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("\n%d hosts × %d ports (%d connects, %d open), median of %d runs; load average %s\n", hostsN, portsN,
		hostsN*portsN, len(want), runs, strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "))
	fmt.Printf("rampart exposure scan (per-address %d, workers %d): %v (%.0f ports/s)\n", perAddr, workers, mo.Round(time.Millisecond), float64(hostsN*portsN)/mo.Seconds())
	fmt.Printf("nmap -sT:                                     %v (%.0f ports/s)\n", mt.Round(time.Millisecond), float64(hostsN*portsN)/mt.Seconds())
	fmt.Printf("ratio nmap time / rampart time = %.2f (≥ 1.00 means rampart is no slower)\n", mt.Seconds()/mo.Seconds())
	fmt.Printf("cpu (user+sys): rampart %v, nmap %v, ratio %.2f\n", median(oursCPU).Round(time.Millisecond),
		median(theirsCPU).Round(time.Millisecond), median(theirsCPU).Seconds()/median(oursCPU).Seconds())
	return nil
}

func acceptClose(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_ = c.Close()
	}
}

func rampart(hosts []netip.Addr, ports []uint16, perAddr, workers int) (time.Duration, []string, error) {
	d := netx.New(netx.Options{Timeout: 2 * time.Second, PerAddress: perAddr})
	s := exposure.New(d, exposure.Options{Workers: workers})
	start := time.Now()
	var open []string
	err := s.Scan(context.Background(), hosts, ports, func(r exposure.Result) {
		if r.State == model.PortOpen {
			open = append(open, r.Addr.String())
		}
	})
	took := time.Since(start)
	sort.Strings(open)
	return took, open, err
}

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func nmap(bin string, hostsN, base, portsN int) (time.Duration, time.Duration, []string, error) {
	args := []string{"-sT", "-Pn", "-n", "-p", fmt.Sprintf("%d-%d", base, base+portsN-1), "-oG", "-",
		fmt.Sprintf("127.0.10.1-%d", hostsN)}
	start := time.Now()
	cmd := exec.Command(bin, args...)
	out, err := cmd.Output()
	took := time.Since(start)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("nmap %s: %w", strings.Join(args, " "), err)
	}
	var open []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		host, rest, ok := strings.Cut(strings.TrimPrefix(line, "Host: "), " ")
		if !ok || !strings.HasPrefix(line, "Host: ") {
			continue
		}
		_, portsField, ok := strings.Cut(rest, "Ports: ")
		if !ok {
			continue
		}
		for _, p := range strings.Split(portsField, ", ") {
			f := strings.Split(strings.TrimSpace(p), "/")
			if len(f) > 1 && f[1] == "open" {
				if _, err := strconv.Atoi(f[0]); err == nil {
					open = append(open, host+":"+f[0])
				}
			}
		}
	}
	sort.Strings(open)
	return took, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), open, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
