package checks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rampart-scan/rampart/model"
)

// dnsChecks lists the DNS hygiene checks, which read a model.DomainObservation through
// DomainInput and run in Catalogue.EvaluateDomain. builtinDomain returns them.
func dnsChecks() []DomainCheck {
	return []DomainCheck{caaCheck(), dnssecCheck(), mtaSTSCheck(), tlsRPTCheck(), daneCheck(), dnsRecordsCheck()}
}

func rfc(n int, section string) model.Reference {
	t := fmt.Sprintf("RFC %d", n)
	if section != "" {
		t += " " + section
	}
	return model.Reference{Title: t, URL: fmt.Sprintf("https://www.rfc-editor.org/rfc/rfc%d", n)}
}

var (
	ruleNoCAA = model.Rule{
		ID:    "dns/no-caa",
		Title: "No CAA record restricts which CAs may issue certificates",
		Why: "Without a CAA record any publicly trusted certificate authority may issue certificates " +
			"for the domain, so a CA tricked by a spoofed validation can issue one that clients accept.",
		Fix: "Publish CAA records at the domain (or a parent) naming the CAs you use, e.g. " +
			"`example.org. CAA 0 issue \"letsencrypt.org\"`, plus an iodef contact.",
		References:      []model.Reference{rfc(8659, "")},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"dns", "pki"},
	}
	ruleNoDNSSEC = model.Rule{
		ID:    "dns/no-dnssec",
		Title: "Zone is not DNSSEC-signed or not linked from its parent",
		Why: "Without DNSSEC, SRV, MX and TLSA answers can be forged on the path, redirecting clients " +
			"and mail to an attacker's host; DANE cannot be used at all.",
		Fix: "Sign the zone (e.g. knot `dnssec-signing: on`, BIND `dnssec-policy default`) and " +
			"publish its DS record at the registrar.",
		References:      []model.Reference{rfc(4033, ""), rfc(4035, "")},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"dns", "dnssec"},
	}
	ruleMTASTSMissing = model.Rule{
		ID:    "dns/mta-sts-missing",
		Title: "Mail domain has no working MTA-STS policy",
		Why: "Sending servers fall back to opportunistic STARTTLS, which an attacker on the path can " +
			"strip or downgrade; MTA-STS tells them to insist on authenticated TLS.",
		Fix: "Publish `_mta-sts.<domain> TXT \"v=STSv1; id=<n>\"` and serve the policy at " +
			"`https://mta-sts.<domain>/.well-known/mta-sts.txt` (version, mode, mx, max_age) with a valid certificate and no redirect.",
		References:      []model.Reference{rfc(8461, "")},
		DefaultSeverity: model.SeverityMedium,
		Tags:            []string{"dns", "mail", "mta-sts"},
	}
	ruleMTASTSMismatch = model.Rule{
		ID:    "dns/mta-sts-mx-mismatch",
		Title: "MTA-STS policy does not cover an MX host",
		Why: "Senders that apply the policy refuse (mode enforce) or report (mode testing) delivery to an " +
			"MX host no `mx:` pattern matches: mail to that host is lost or flagged.",
		Fix: "Add an `mx:` line for every MX host (a `*.` pattern matches exactly one left-most label), " +
			"then change the id in the TXT record so senders refetch the policy.",
		References:      []model.Reference{rfc(8461, "§4.1")},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"dns", "mail", "mta-sts"},
	}
	ruleMTASTSTesting = model.Rule{
		ID:    "dns/mta-sts-testing",
		Title: "MTA-STS policy is not enforced",
		Why: "In mode testing (or none) senders still deliver over unauthenticated or plaintext " +
			"connections when TLS fails; the policy only produces reports.",
		Fix:             "After TLS-RPT reports show no failures, set `mode: enforce` and change the TXT record id.",
		References:      []model.Reference{rfc(8461, "§5")},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"dns", "mail", "mta-sts"},
	}
	ruleNoTLSRPT = model.Rule{
		ID:    "dns/no-tls-rpt",
		Title: "Mail domain has no valid TLS-RPT record",
		Why: "Without SMTP TLS reporting, failed or downgraded TLS deliveries to the domain (MTA-STS or " +
			"DANE failures, attacks) go unnoticed.",
		Fix:             "Publish exactly one `_smtp._tls.<domain> TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@<domain>\"`.",
		References:      []model.Reference{rfc(8460, "§3")},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"dns", "mail"},
	}
	ruleDANEMismatch = model.Rule{
		ID:    "dns/dane-mismatch",
		Title: "TLSA records do not match the certificate the server presents",
		Why: "DANE-aware clients (and SMTP senders, RFC 7672) refuse a server whose chain matches no " +
			"TLSA record: mail or client connections fail, typically after a certificate or key rollover.",
		Fix: "Publish TLSA records for the new key before rolling it over (e.g. `3 1 1` of the SPKI), " +
			"keep the old ones until caches expire, and remove stale records.",
		References:      []model.Reference{rfc(6698, ""), rfc(7671, ""), rfc(7672, ""), rfc(7673, "")},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"dns", "dane", "tls"},
	}
	ruleSRVTargetCNAME = model.Rule{
		ID:    "dns/srv-target-cname",
		Title: "SRV record points at an alias",
		Why: "RFC 2782 requires an SRV target to be a name with address records, not a CNAME; " +
			"some clients then fail to connect, and certificate and DANE checks look up the wrong name.",
		Fix:             "Point the SRV record at the canonical host name (the CNAME's target).",
		References:      []model.Reference{rfc(2782, "")},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"dns"},
	}
	ruleDanglingCNAME = model.Rule{
		ID:    "dns/dangling-cname",
		Title: "CNAME points at a name that does not exist",
		Why: "Whoever registers or claims the missing target (an expired domain, a deleted cloud " +
			"resource) controls what the alias serves: a subdomain takeover.",
		Fix:             "Delete the CNAME, or point it at a name you control.",
		References:      []model.Reference{rfc(1034, "§3.6.2")},
		DefaultSeverity: model.SeverityHigh,
		Tags:            []string{"dns", "takeover"},
	}
	ruleResolverDisagreement = model.Rule{
		ID:    "dns/resolver-disagreement",
		Title: "Resolvers give different addresses for a name",
		Why: "Different answers from different resolvers point to a stale or split-horizon zone, " +
			"a half-finished migration or tampering: some clients reach a host others do not.",
		Fix: "Check the zone's authoritative servers agree (serials, NOTIFY/transfer) and that no " +
			"resolver rewrites answers; expected for geo-DNS, then waive it.",
		References:      []model.Reference{rfc(1034, "")},
		DefaultSeverity: model.SeverityLow,
		Tags:            []string{"dns"},
	}
)

func caaCheck() DomainCheck {
	return DomainCheck{Name: "caa", Rules: []model.Rule{ruleNoCAA}, Run: func(in *DomainInput, r *Reporter) {
		obs := in.Obs
		c := obs.CAA
		if c == nil || c.Error != "" {
			return
		}
		issue := false
		for _, rec := range c.Records {
			if strings.EqualFold(rec.Tag, "issue") || strings.EqualFold(rec.Tag, "issuewild") {
				issue = true
			}
		}
		switch {
		case c.Found == "":
			r.Raise(ruleNoCAA.ID, "", fmt.Sprintf("No CAA record at %s or any parent: every CA may issue certificates for it.", obs.Name), nil)
		case !issue:
			r.Raise(ruleNoCAA.ID, "no-issue", fmt.Sprintf("The CAA set at %s has no issue or issuewild tag, so it restricts no CA.", c.Found),
				map[string]string{"caa_at": c.Found})
		}
	}}
}

func dnssecCheck() DomainCheck {
	return DomainCheck{Name: "dnssec", Rules: []model.Rule{ruleNoDNSSEC}, Run: func(in *DomainInput, r *Reporter) {
		obs := in.Obs
		s := obs.DNSSEC
		if s == nil || s.Error != "" {
			return
		}
		ev := map[string]string{"zone": s.Zone, "dnskey": fmt.Sprint(s.DNSKEY), "ds": fmt.Sprint(s.DS), "validated": fmt.Sprint(s.Validated)}
		switch {
		case !s.DNSKEY:
			r.Raise(ruleNoDNSSEC.ID, "unsigned", fmt.Sprintf("Zone %s has no DNSKEY: it is not signed.", s.Zone), ev)
		case !s.DS && s.DSError == "":
			r.Raise(ruleNoDNSSEC.ID, "no-ds", fmt.Sprintf("Zone %s is signed but its parent publishes no DS record, so no resolver can validate it.", s.Zone), ev)
		}
	}}
}

func mtaSTSCheck() DomainCheck {
	rules := []model.Rule{ruleMTASTSMissing, ruleMTASTSMismatch, ruleMTASTSTesting}
	return DomainCheck{Name: "mta-sts", Rules: rules, Run: func(in *DomainInput, r *Reporter) {
		obs := in.Obs
		m := obs.MTASTS
		if m == nil || m.Error != "" {
			return
		}
		switch {
		case m.Record == "":
			r.Raise(ruleMTASTSMissing.ID, "", fmt.Sprintf("%s receives mail (MX) but publishes no _mta-sts TXT record.", obs.Name), nil)
			return
		case m.Records > 1:
			r.Raise(ruleMTASTSMissing.ID, "several-records", fmt.Sprintf("_mta-sts.%s has %d v=STSv1 records; senders treat that as no policy.", obs.Name, m.Records), nil)
			return
		case !m.Fetched:
			r.Raise(ruleMTASTSMissing.ID, "policy-unavailable", fmt.Sprintf("The MTA-STS policy could not be fetched: %s", m.FetchError),
				map[string]string{"url": m.PolicyURL})
			return
		case m.PolicyError != "":
			r.Raise(ruleMTASTSMissing.ID, "policy-invalid", fmt.Sprintf("The MTA-STS policy is invalid: %s", m.PolicyError),
				map[string]string{"url": m.PolicyURL})
			return
		}
		for _, h := range m.Uncovered {
			r.Raise(ruleMTASTSMismatch.ID, h, fmt.Sprintf("MX host %s matches no mx pattern of the MTA-STS policy (%s).", h, strings.Join(m.MX, ", ")),
				map[string]string{"mx": h, "mode": m.Mode, "patterns": strings.Join(m.MX, " ")})
		}
		if m.Mode == "testing" || m.Mode == "none" {
			r.Raise(ruleMTASTSTesting.ID, m.Mode, fmt.Sprintf("The MTA-STS policy is in mode %s: senders do not enforce it.", m.Mode),
				map[string]string{"mode": m.Mode})
		}
	}}
}

func tlsRPTCheck() DomainCheck {
	return DomainCheck{Name: "tls-rpt", Rules: []model.Rule{ruleNoTLSRPT}, Run: func(in *DomainInput, r *Reporter) {
		obs := in.Obs
		t := obs.TLSRPT
		if t == nil || t.Error != "" || t.Valid {
			return
		}
		if t.Record == "" {
			r.Raise(ruleNoTLSRPT.ID, "", fmt.Sprintf("%s receives mail (MX) but publishes no _smtp._tls TXT record.", obs.Name), nil)
			return
		}
		r.Raise(ruleNoTLSRPT.ID, "invalid", fmt.Sprintf("The TLS-RPT record %q is invalid (one record with a mailto: or https: rua is required).", t.Record),
			map[string]string{"record": t.Record})
	}}
}

func daneCheck() DomainCheck {
	return DomainCheck{Name: "dane", Rules: []model.Rule{ruleDANEMismatch}, Run: func(in *DomainInput, r *Reporter) {
		obs := in.Obs
		for _, set := range obs.TLSA {
			for _, m := range set.Matches {
				if m.Matched {
					continue
				}
				r.Raise(ruleDANEMismatch.ID, set.Owner+" "+m.Endpoint,
					fmt.Sprintf("The chain served by %s matches none of the %d TLSA records at %s: %s", m.Endpoint, len(set.Records), set.Owner, m.Detail),
					map[string]string{"tlsa": set.Owner, "endpoint": m.Endpoint, "dnssec_secure": fmt.Sprint(set.Secure)})
			}
		}
	}}
}

func dnsRecordsCheck() DomainCheck {
	rules := []model.Rule{ruleSRVTargetCNAME, ruleDanglingCNAME, ruleResolverDisagreement}
	return DomainCheck{Name: "dns-records", Rules: rules, Run: func(in *DomainInput, r *Reporter) {
		obs := in.Obs
		for _, s := range obs.SRV {
			if s.TargetCNAME == "" {
				continue
			}
			r.Raise(ruleSRVTargetCNAME.ID, s.Owner+" "+s.Target,
				fmt.Sprintf("SRV %s points at %s, which is a CNAME to %s.", s.Owner, s.Target, s.TargetCNAME),
				map[string]string{"srv": s.Owner, "target": s.Target, "cname": s.TargetCNAME})
		}
		for _, c := range obs.CNAMEs {
			if !c.Dangling {
				continue
			}
			r.Raise(ruleDanglingCNAME.ID, c.Name,
				fmt.Sprintf("%s is a CNAME to %s, which does not exist (%s).", c.Name, c.Target, c.Rcode),
				map[string]string{"name": c.Name, "target": c.Target, "rcode": c.Rcode})
		}
		for _, d := range obs.Disagreements {
			keys := make([]string, 0, len(d.Answers))
			for k := range d.Answers {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			ev := map[string]string{"name": d.Name, "type": d.Type}
			var parts []string
			for _, k := range keys {
				v := strings.Join(d.Answers[k], ",")
				ev["resolver "+k] = v
				parts = append(parts, k+": "+v)
			}
			r.Raise(ruleResolverDisagreement.ID, d.Name+" "+d.Type,
				fmt.Sprintf("%s %s differs between resolvers (%s).", d.Name, d.Type, strings.Join(parts, "; ")), ev)
		}
	}}
}
