package exposure

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// top100 is the 100 most frequently open TCP ports in nmap's nmap-services frequency data, as
// nmap 7.93 lists them for `--top-ports 100` (the same set as `nmap -F`). Source:
// /usr/share/nmap/nmap-services (Debian package nmap 7.93), read through the scaninfo line of
// `nmap -sT --top-ports 100 -oX -`.
const top100 = "7,9,13,21-23,25-26,37,53,79-81,88,106,110-111,113,119,135,139,143-144,179,199," +
	"389,427,443-445,465,513-515,543-544,548,554,587,631,646,873,990,993,995,1025-1029,1110,1433," +
	"1720,1723,1755,1900,2000-2001,2049,2121,2717,3000,3128,3306,3389,3986,4899,5000,5009,5051," +
	"5060,5101,5190,5357,5432,5631,5666,5800,5900,6000-6001,6646,7070,8000,8008-8009,8080-8081," +
	"8443,8888,9100,9999-10000,32768,49152-49157"

// namedSets are the port sets --ports accepts by name. Each is a list or range spec (no names).
var namedSets = map[string]string{
	// XMPP c2s/s2s (+ direct TLS, BOSH, proxy65), Matrix, SIP, TURN/STUN, MQTT, IRC, NNTP.
	"messaging": "119,563,1883,3478,5060,5061,5222,5223,5269,5270,5280,5281,5349,6667,6697,7777,8008,8448,8883",
	// SMTP, submission (+ 2525), IMAP, POP3, ManageSieve, LMTP.
	"mail": "24,25,110,143,465,587,993,995,2525,4190",
	// HTTP and HTTPS on their common ports.
	"web": "80,443,3000,8000,8008,8080,8081,8443,8888,9443",
	// Databases and data stores: MSSQL, Oracle, MySQL (+X), PostgreSQL, CouchDB, Redis,
	// Neo4j, InfluxDB, Cassandra, Elasticsearch, Memcached, CockroachDB, MongoDB.
	"databases": "1433,1521,3306,33060,5432,5984,6379,7474,8086,9042,9200,9300,11211,26257,27017,27018",
	// Remote administration: FTP, SSH, Telnet, SMB, Docker API, etcd, RDP, VNC, WinRM,
	// Kubernetes API, Prometheus/Cockpit, Webmin, kubelet.
	"admin":   "21,22,23,445,2375,2376,2379,2380,3389,5800,5900,5901,5985,5986,6443,9090,10000,10250",
	"top-100": top100,
}

// SetNames lists the named port sets, sorted.
func SetNames() []string {
	out := make([]string, 0, len(namedSets))
	for n := range namedSets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ParsePorts reads a port specification: comma-separated named sets (see SetNames), single
// ports and inclusive ranges, e.g. "messaging,8000-8100,9999". Whitespace around items is
// ignored. The result is the union, sorted and without duplicates.
func ParsePorts(spec string) ([]uint16, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("ports: empty specification (want e.g. %q)", "messaging,8000-8100,9999")
	}
	var out []uint16
	for i, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("ports: item %d is empty (stray comma?) in %q", i+1, spec)
		}
		if set, ok := namedSets[strings.ToLower(item)]; ok {
			ps, err := parseNumeric(set)
			if err != nil {
				return nil, fmt.Errorf("ports: built-in set %s: %w", item, err)
			}
			out = append(out, ps...)
			continue
		}
		ps, err := parseItem(item)
		if err != nil {
			return nil, fmt.Errorf("ports: item %d %q: %w", i+1, item, err)
		}
		out = append(out, ps...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func parseNumeric(spec string) ([]uint16, error) {
	var out []uint16
	for _, item := range strings.Split(spec, ",") {
		ps, err := parseItem(item)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", item, err)
		}
		out = append(out, ps...)
	}
	return out, nil
}

func parseItem(item string) ([]uint16, error) {
	lo, hi, isRange := strings.Cut(item, "-")
	if !isRange {
		if !isDigits(item) {
			return nil, fmt.Errorf("not a port, range or set name (sets: %s)", strings.Join(SetNames(), ", "))
		}
		p, err := parsePort(item)
		if err != nil {
			return nil, err
		}
		return []uint16{p}, nil
	}
	a, err := parsePort(strings.TrimSpace(lo))
	if err != nil {
		return nil, fmt.Errorf("range start: %w", err)
	}
	b, err := parsePort(strings.TrimSpace(hi))
	if err != nil {
		return nil, fmt.Errorf("range end: %w", err)
	}
	if b < a {
		return nil, fmt.Errorf("range end %d is below its start %d", b, a)
	}
	out := make([]uint16, 0, int(b)-int(a)+1)
	for p := int(a); p <= int(b); p++ {
		out = append(out, uint16(p))
	}
	return out, nil
}

func parsePort(s string) (uint16, error) {
	if s == "" {
		return 0, fmt.Errorf("missing port number")
	}
	if !isDigits(s) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %s out of range 1-65535", s)
	}
	return uint16(n), nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
