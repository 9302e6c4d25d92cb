package discover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	neturl "net/url"
	"strconv"
	"strings"
)

// maxDocument bounds an HTTPS document read during discovery (MTA-STS policies are at most
// 64 KiB by convention; a .well-known file is far smaller).
const maxDocument = 64 << 10

// fetch GETs url through the configured client, with a bounded body. Redirects are not
// followed (RFC 8461 §3.3 forbids them for MTA-STS; the built client never follows any).
func (d *Discoverer) fetch(ctx context.Context, url string) (int, []byte, error) {
	if d.http == nil {
		return 0, nil, errNoHTTP
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.HTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("GET %s: %w", url, err)
	}
	resp, err := d.http.Do(req)
	if err != nil {
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is already in our message
		}
		return 0, nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("GET %s: reading body: %w", url, err)
	}
	if len(body) > maxDocument {
		return resp.StatusCode, nil, fmt.Errorf("GET %s: body larger than %d bytes", url, maxDocument)
	}
	return resp.StatusCode, body, nil
}

// matrix follows the Matrix server-name resolution (server-server API, "Resolving server
// names"): .well-known delegation, then _matrix-fed._tcp, then legacy _matrix._tcp, then 8448.
func (r *run) matrix(ctx context.Context, dom string, root []string) {
	svc, ok := r.d.opts.Services.ByName("matrix")
	if !ok {
		return
	}
	serverName := dom
	delegated := false
	wkURL := "https://" + dom + "/.well-known/matrix/server"
	status, body, err := r.d.fetch(ctx, wkURL)
	switch {
	case errors.Is(err, errNoHTTP):
		r.note("skipped", dom, "%s not fetched: %v", wkURL, err)
	case err != nil:
		// Absent or unreachable well-known is the common case; the spec goes on with SRV.
	case status == http.StatusOK:
		host, port, perr := parseMatrixWellKnown(body)
		if perr != nil {
			r.note("error", dom, "%s: %v", wkURL, perr)
			break
		}
		delegated = true
		origin := append(append([]string(nil), root...), fmt.Sprintf("well-known %s → %s", wkURL, joinHostPort(host, port)))
		if port != 0 {
			r.emit(ctx, emitReq{host: host, port: port, service: svc.Name, tlsName: host, origin: origin, tags: []string{"well-known"}})
			return
		}
		if _, err := netip.ParseAddr(host); err == nil {
			r.emit(ctx, emitReq{host: host, port: svc.Port, service: svc.Name, origin: origin, tags: []string{"well-known"}})
			return
		}
		if !r.scope.HasName(host) {
			r.note("skipped", host, "Matrix delegation %s → %s leads outside the scope; widen --scope to include it", dom, host)
			return
		}
		serverName = host
		root = origin
	}
	for _, label := range []string{"_matrix-fed._tcp", "_matrix._tcp"} {
		owner := label + "." + serverName
		ans := r.lookupSRV(ctx, owner)
		if ans.err != nil {
			r.note("error", owner, "%v", ans.err)
			continue
		}
		r.addSRVFacts(owner, svc.Name, ans)
		if ans.absent {
			r.note("empty", owner, "SRV %s has target \".\": the service is decidedly not available", owner)
			return
		}
		if len(ans.records) == 0 {
			continue
		}
		for _, s := range ans.records {
			r.emit(ctx, emitReq{host: s.Target, port: s.Port, service: svc.Name, tlsName: serverName, tags: []string{"srv"},
				origin: append(append([]string(nil), root...), srvOrigin(owner, s))})
		}
		return
	}
	if delegated || !r.d.opts.NoFallback {
		tags := []string{"fallback"}
		if delegated {
			tags = []string{"well-known"}
		}
		r.emit(ctx, emitReq{host: serverName, port: svc.Port, service: svc.Name, quiet: !delegated, tags: tags,
			origin: append(append([]string(nil), root...), fmt.Sprintf("fallback: no Matrix SRV for %s; A/AAAA on %d", serverName, svc.Port))})
	}
}

func joinHostPort(host string, port uint16) string {
	if port == 0 {
		return host
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// parseMatrixWellKnown reads {"m.server": "host[:port]"}.
func parseMatrixWellKnown(body []byte) (string, uint16, error) {
	var doc struct {
		Server *string `json:"m.server"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", 0, fmt.Errorf("not JSON: %w", err)
	}
	if doc.Server == nil {
		return "", 0, errors.New("no m.server key")
	}
	s := strings.TrimSpace(*doc.Server)
	if s == "" || len(s) > 300 {
		return "", 0, fmt.Errorf("m.server %q is not a server name", s)
	}
	host, port := s, uint16(0)
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return "", 0, fmt.Errorf("m.server %q: bad port", s)
		}
		host, port = h, uint16(n)
	}
	host = strings.Trim(host, "[]")
	if a, err := netip.ParseAddr(host); err == nil {
		return a.String(), port, nil
	}
	host = canonical(host)
	if !validHostname(host) {
		return "", 0, fmt.Errorf("m.server %q is not a valid host name", s)
	}
	return host, port, nil
}
