package discover

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/rampart-scan/rampart/model"
)

// MatchTLSA matches TLSA records (RFC 6698, RFC 7671) against the chain a server presented
// (DER, leaf first). Usages 1 and 3 (PKIX-EE, DANE-EE) match the leaf; usages 0 and 2
// (PKIX-TA, DANE-TA) match any certificate after the leaf. Selector 0 is the whole
// certificate, 1 its SubjectPublicKeyInfo; matching type 0 is the exact data, 1 SHA-256, 2
// SHA-512. PKIX path validation, which usages 0 and 1 also demand, is not part of this match.
// The returned TLSAMatch has no Endpoint: the caller sets it.
func MatchTLSA(records []model.TLSARecord, chainDER [][]byte) model.TLSAMatch {
	if len(records) == 0 {
		return model.TLSAMatch{Detail: "no TLSA records"}
	}
	if len(chainDER) == 0 {
		return model.TLSAMatch{Detail: "no certificate chain"}
	}
	certs := make([]*x509.Certificate, len(chainDER))
	for i, der := range chainDER {
		c, err := x509.ParseCertificate(der)
		if err == nil {
			certs[i] = c
		}
	}
	var why []string
	for _, rec := range records {
		want, err := hex.DecodeString(rec.Data)
		if err != nil {
			why = append(why, fmt.Sprintf("%s: data is not hex", recordString(rec)))
			continue
		}
		var candidates []int
		switch rec.Usage {
		case 1, 3:
			candidates = []int{0}
		case 0, 2:
			for i := 1; i < len(chainDER); i++ {
				candidates = append(candidates, i)
			}
		default:
			why = append(why, fmt.Sprintf("%s: unknown usage", recordString(rec)))
			continue
		}
		matched := false
		for _, i := range candidates {
			var sel []byte
			switch rec.Selector {
			case 0:
				sel = chainDER[i]
			case 1:
				if certs[i] == nil {
					continue
				}
				sel = certs[i].RawSubjectPublicKeyInfo
			default:
				continue
			}
			var got []byte
			switch rec.MatchingType {
			case 0:
				got = sel
			case 1:
				h := sha256.Sum256(sel)
				got = h[:]
			case 2:
				h := sha512.Sum512(sel)
				got = h[:]
			default:
				continue
			}
			if bytes.Equal(got, want) {
				matched = true
				break
			}
		}
		if matched {
			return model.TLSAMatch{Matched: true, Record: recordString(rec)}
		}
		why = append(why, recordString(rec)+": no certificate in the chain matches")
	}
	return model.TLSAMatch{Detail: strings.Join(why, "; ")}
}

func recordString(r model.TLSARecord) string {
	return fmt.Sprintf("%d %d %d", r.Usage, r.Selector, r.MatchingType)
}

// AttachTLSAMatches matches the chain that endpoint e served against every TLSA set of obs
// for the same DNS host and port, and records the result in the set's Matches. The DNS host
// is the endpoint's "dns-host=" tag when it has one (XMPP endpoints are named after the
// domain), else its Name.
func AttachTLSAMatches(obs *model.DomainObservation, e model.Endpoint, chainDER [][]byte) {
	host := canonical(e.Name)
	for _, t := range e.Tags {
		if h, ok := strings.CutPrefix(t, "dns-host="); ok {
			host = canonical(h)
		}
	}
	for i := range obs.TLSA {
		set := &obs.TLSA[i]
		if set.Host != host || set.Port != e.Addr.Port() || len(set.Records) == 0 {
			continue
		}
		m := MatchTLSA(set.Records, chainDER)
		m.Endpoint = e.ID()
		set.Matches = append(set.Matches, m)
	}
}
