package checks

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rampart-scan/rampart/model"
)

// Rules raised from the HTTP-level facts of HTTPS endpoints (model.HTTPSecurityFacts): HSTS,
// the browser security headers, and response compression (BREACH). They apply wherever the
// audit made the HTTP requests: the services https and matrix.

// httpHSTSDefaultMinAge is the smallest max-age accepted when the policy sets none: 180 days,
// the threshold of SSL Labs' A+ and testssl.sh's HSTS_MIN.
const httpHSTSDefaultMinAge = 180 * 24 * 3600

var (
	httpHSTSSnippets = []model.Snippet{
		{Software: "nginx", Config: "add_header Strict-Transport-Security \"max-age=63072000; includeSubDomains\" always;"},
		{Software: "Apache httpd", Config: "Header always set Strict-Transport-Security \"max-age=63072000; includeSubDomains\""},
	}
	httpRefHSTS    = model.Reference{Title: "RFC 6797 (HTTP Strict Transport Security)", URL: "https://www.rfc-editor.org/rfc/rfc6797"}
	httpRefOWASP   = model.Reference{Title: "OWASP HTTP Security Response Headers Cheat Sheet", URL: "https://cheatsheetseries.owasp.org/cheatsheets/HTTP_Headers_Cheat_Sheet.html"}
	httpRefMozilla = model.Reference{Title: "Mozilla Web Security Guidelines", URL: "https://infosec.mozilla.org/guidelines/web_security"}

	ruleHTTPNoHSTS = model.Rule{
		ID:    "http/no-hsts",
		Title: "HTTPS endpoint does not send Strict-Transport-Security",
		Why: "Without HSTS a browser that is sent to http:// (a typed address, an old link, an attacker's redirect) talks " +
			"plaintext first, and an active attacker can keep it on plaintext (SSL stripping) and read the session, " +
			"passwords and tokens included. Raised when the policy requires HSTS and the response has no usable header " +
			"(none, or max-age=0, which tells browsers to forget HSTS).",
		Fix:             "Send Strict-Transport-Security with a max-age of at least one year on every HTTPS response.",
		Snippets:        httpHSTSSnippets,
		References:      []model.Reference{httpRefHSTS, httpRefMozilla},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"http", "hsts", "CWE-319"},
	}
	ruleHTTPHSTSInvalid = model.Rule{
		ID:    "http/hsts-invalid",
		Title: "Strict-Transport-Security header is malformed",
		Why: "RFC 6797 §8.1 makes browsers ignore a Strict-Transport-Security header that does not follow its grammar " +
			"(max-age missing or not a number, a directive given twice, a bad value), so the site has no HSTS although " +
			"its operator meant to enable it. Raised whatever the policy says, because the header is broken.",
		Fix:             "Send exactly one header of the form max-age=<seconds>[; includeSubDomains][; preload].",
		Snippets:        httpHSTSSnippets,
		References:      []model.Reference{httpRefHSTS},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"http", "hsts"},
	}
	ruleHTTPHSTSShort = model.Rule{
		ID:    "http/hsts-short-max-age",
		Title: "HSTS max-age shorter than required",
		Why: "HSTS protects a browser only until max-age runs out after its last visit; a short max-age leaves occasional " +
			"users unprotected most of the time. The minimum is the policy's hsts_min_age_seconds, or 180 days when the " +
			"policy sets none (the SSL Labs and testssl.sh threshold).",
		Fix:             "Raise max-age to at least the policy minimum (two years, 63072000, is common).",
		Snippets:        httpHSTSSnippets,
		References:      []model.Reference{httpRefHSTS, httpRefMozilla},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"http", "hsts"},
	}
	ruleHTTPHSTSNoSub = model.Rule{
		ID:    "http/hsts-no-subdomains",
		Title: "HSTS does not cover subdomains",
		Why: "Without includeSubDomains, HSTS protects only this host name: a browser can still be lured to a plaintext " +
			"sibling (or a made-up subdomain) where cookies scoped to the parent domain leak. It is also required for " +
			"the browsers' HSTS preload list. Informational: includeSubDomains is only safe once every subdomain serves HTTPS.",
		Fix:             "Add includeSubDomains once every subdomain serves HTTPS.",
		Snippets:        httpHSTSSnippets,
		References:      []model.Reference{httpRefHSTS, {Title: "HSTS preload list submission requirements", URL: "https://hstspreload.org/"}},
		DefaultSeverity: model.SeverityInfo,
		Tags:            []string{"http", "hsts"},
	}
	ruleHTTPMissingHeader = model.Rule{
		ID:    "http/missing-security-headers",
		Title: "Browser security header missing",
		Why: "A messaging web front end (webmail, a chat client, an admin page) runs in browsers, where these headers " +
			"turn on protections that are off by default: Content-Security-Policy limits injected script (XSS), " +
			"X-Content-Type-Options: nosniff stops content sniffing, X-Frame-Options or CSP frame-ancestors stop " +
			"clickjacking, Referrer-Policy keeps URLs (room names, tokens) from leaking to other sites, " +
			"Permissions-Policy switches off camera, microphone and other features the page does not use, and " +
			"Cross-Origin-Opener-Policy isolates the window from pages it opens. One finding per header (the detail). " +
			"Not raised for redirects, which carry no page. Only the requested path (\"/\") is examined.",
		Fix: "Send the headers from the web server or the application for every HTML response.",
		Snippets: []model.Snippet{
			{Software: "nginx", Config: "add_header Content-Security-Policy \"default-src 'self'; frame-ancestors 'none'\" always;\n" +
				"add_header X-Content-Type-Options nosniff always;\nadd_header X-Frame-Options DENY always;\n" +
				"add_header Referrer-Policy strict-origin-when-cross-origin always;\nadd_header Permissions-Policy \"camera=(), microphone=(), geolocation=()\" always;\n" +
				"add_header Cross-Origin-Opener-Policy same-origin always;"},
			{Software: "Apache httpd", Config: "Header always set Content-Security-Policy \"default-src 'self'; frame-ancestors 'none'\"\n" +
				"Header always set X-Content-Type-Options nosniff\nHeader always set X-Frame-Options DENY\n" +
				"Header always set Referrer-Policy strict-origin-when-cross-origin\nHeader always set Cross-Origin-Opener-Policy same-origin"},
		},
		References:      []model.Reference{httpRefOWASP, httpRefMozilla},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"http", "headers", "CWE-693"},
	}
	ruleHTTPBREACH = model.Rule{
		ID:    "vuln/breach",
		Title: "HTTP responses are compressed over TLS (BREACH, CVE-2013-3587): potentially vulnerable",
		Why: "BREACH recovers secrets from HTTPS responses by watching their compressed length while the attacker's " +
			"input, reflected in the same body, guesses the secret byte by byte. It needs HTTP compression (tested here: " +
			"the response to a request offering gzip, deflate and br came back compressed), a secret in the body " +
			"(a CSRF token, a session identifier) and attacker-controlled text reflected next to it, plus a network " +
			"position to measure lengths. The last three cannot be observed from outside, so this is a potential " +
			"vulnerability: only the requested path was tested, and a page with no secrets is not affected. " +
			"Not vulnerable means the tested response was not compressed. Cost: one HTTPS request, and a second " +
			"(asking for no compression) when the first response was compressed.",
		Fix: "Do not compress responses that carry secrets and reflect user input, or mask the secrets per response " +
			"(randomised CSRF tokens, as modern frameworks do), or add a SameSite cookie policy so cross-site requests carry no session.",
		Snippets: []model.Snippet{
			{Software: "nginx", Config: "# in the location that serves pages with secrets\ngzip off;\nbrotli off;  # when ngx_brotli is loaded"},
			{Software: "Apache httpd", Config: "# in the <Location> that serves pages with secrets\nSetEnv no-gzip 1\nSetEnv no-brotli 1"},
		},
		References: []model.Reference{
			{Title: "CVE-2013-3587", URL: "https://nvd.nist.gov/vuln/detail/CVE-2013-3587"},
			{Title: "BREACH: reviving the CRIME attack", URL: "https://www.breachattack.com/"},
		},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"http", "vulnerability", "CVE-2013-3587", "CWE-200"},
	}
	ruleHTTPInconclusive = model.Rule{
		ID:    "http/inconclusive",
		Title: "HTTP checks could not be made",
		Why: "The HTTP request to this HTTPS endpoint got no complete response (the reason is in the message), so HSTS, " +
			"the security headers and BREACH were not decided. This is not a clean result.",
		Fix:             "Check that the endpoint answers HTTP/1.1 GET / over TLS, then scan again.",
		DefaultSeverity: model.SeverityInfo,
		Tags:            []string{"http", "inconclusive"},
	}
)

// httpSecurityHeaders are the headers http/missing-security-headers asks for, in report order.
var httpSecurityHeaders = []string{
	"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
	"Permissions-Policy", "Cross-Origin-Opener-Policy",
}

// httpSecurityCheck judges the HTTP-level facts of HTTPS endpoints.
func httpSecurityCheck() Check {
	return Check{
		Name:  "http-security",
		Rules: []model.Rule{ruleHTTPNoHSTS, ruleHTTPHSTSInvalid, ruleHTTPHSTSShort, ruleHTTPHSTSNoSub, ruleHTTPMissingHeader, ruleHTTPBREACH, ruleHTTPInconclusive},
		Run:   runHTTPSecurity,
	}
}

func runHTTPSecurity(in *Input, r *Reporter) {
	f := in.Obs.HTTP
	if f == nil {
		return
	}
	ev := map[string]string{"path": f.Path}
	if f.Status == 0 {
		ev["error"] = f.Error
		r.Raise(ruleHTTPInconclusive.ID, "", "The HTTP request got no response: "+f.Error+".", ev)
		return
	}
	ev["status"] = strconv.Itoa(f.Status)
	httpHSTS(in, f, ev, r)
	if f.Status < 300 || f.Status >= 400 {
		httpHeaders(f, r)
	}
	if c := f.Compression; c != nil && c.Encoding != "" {
		bev := map[string]string{"path": f.Path, "accept_encoding": c.Offered, "content_encoding": c.Encoding, "content_type": f.ContentType}
		msg := fmt.Sprintf("The response to GET %s was compressed with %s when the request offered %q.", f.Path, c.Encoding, c.Offered)
		if c.Compared {
			bev["content_encoding_without_offer"] = c.WithoutOffer
			if c.WithoutOffer != "" {
				msg += " The server compressed it (" + c.WithoutOffer + ") even when asked not to."
			}
		}
		r.Raise(ruleHTTPBREACH.ID, "", msg+" BREACH needs a secret and reflected input in the body as well: potentially vulnerable.", bev)
	}
}

func httpHSTS(in *Input, f *model.HTTPSecurityFacts, ev map[string]string, r *Reporter) {
	h := f.HSTS
	t := in.Thresholds
	if h != nil {
		ev["hsts"] = strings.Join(h.Values, " | ")
		if len(h.Problems) > 0 {
			ev["hsts_problems"] = strings.Join(h.Problems, "; ")
		}
	}
	switch {
	case h != nil && !h.Valid:
		first := ""
		if len(h.Values) > 0 {
			first = h.Values[0]
		}
		r.Raise(ruleHTTPHSTSInvalid.ID, "", fmt.Sprintf("Browsers ignore the Strict-Transport-Security header %q: %s.", first, strings.Join(h.Problems, "; ")), ev)
		return
	case h == nil || h.MaxAge == 0:
		if t.RequireHSTS {
			msg := "The response has no Strict-Transport-Security header."
			if h != nil {
				msg = "The Strict-Transport-Security header has max-age=0, which removes HSTS."
			}
			r.Raise(ruleHTTPNoHSTS.ID, "", msg+" The policy requires HSTS.", ev)
		}
		return
	}
	minAge := int64(t.HSTSMinAgeSeconds)
	if minAge <= 0 {
		minAge = httpHSTSDefaultMinAge
	}
	if h.MaxAge < minAge {
		ev["max_age"], ev["min_age"] = strconv.FormatInt(h.MaxAge, 10), strconv.FormatInt(minAge, 10)
		r.Raise(ruleHTTPHSTSShort.ID, "", fmt.Sprintf("HSTS max-age is %d seconds (%s); the minimum is %d (%s).", h.MaxAge, httpDays(h.MaxAge), minAge, httpDays(minAge)), ev)
	}
	if !h.IncludeSubDomains {
		r.Raise(ruleHTTPHSTSNoSub.ID, "", "The Strict-Transport-Security header has no includeSubDomains directive.", ev)
	}
}

func httpDays(s int64) string {
	if s >= 86400 {
		return strconv.FormatInt(s/86400, 10) + " days"
	}
	return "less than a day"
}

func httpHeaders(f *model.HTTPSecurityFacts, r *Reporter) {
	csp := strings.ToLower(f.Headers["Content-Security-Policy"])
	for _, name := range httpSecurityHeaders {
		v, ok := f.Headers[name]
		ev := map[string]string{"header": name, "path": f.Path, "status": strconv.Itoa(f.Status)}
		msg := fmt.Sprintf("The response to GET %s has no %s header.", f.Path, name)
		switch name {
		case "X-Frame-Options":
			if !ok && httpCSPHasDirective(csp, "frame-ancestors") {
				continue // CSP frame-ancestors supersedes X-Frame-Options
			}
			if ok && !strings.EqualFold(v, "DENY") && !strings.EqualFold(v, "SAMEORIGIN") {
				ok, msg = false, fmt.Sprintf("X-Frame-Options is %q, which browsers ignore (DENY or SAMEORIGIN), and CSP has no frame-ancestors.", v)
				if httpCSPHasDirective(csp, "frame-ancestors") {
					continue
				}
			}
		case "X-Content-Type-Options":
			if ok && !strings.EqualFold(strings.TrimSpace(v), "nosniff") {
				ok, msg = false, fmt.Sprintf("X-Content-Type-Options is %q; only \"nosniff\" has an effect.", v)
			}
		}
		if ok {
			continue
		}
		if v != "" {
			ev["value"] = v
		}
		r.Raise(ruleHTTPMissingHeader.ID, name, msg, ev)
	}
}

// httpCSPHasDirective reports whether a (lower-cased) policy names the directive.
func httpCSPHasDirective(csp, directive string) bool {
	for d := range strings.SplitSeq(csp, ";") {
		if f := strings.Fields(d); len(f) > 0 && f[0] == directive {
			return true
		}
	}
	return false
}
