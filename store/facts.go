package store

import (
	"strconv"
	"strings"

	"github.com/rampart-scan/rampart/model"
)

// factExtractors derive the per-endpoint facts that drift compares, as (name, value) pairs. A
// fact may have several values (a set, e.g. the supported protocol versions); drift reports a
// change when an endpoint's set of values for a fact differs between two scans. New fact
// families add an extractor here; the facts of scans stored earlier are derived again by a
// migration when needed (see fillFacts).
var factExtractors = []func(r *model.EndpointResult, emit func(name, value string)){
	func(r *model.EndpointResult, emit func(string, string)) {
		emit("status", string(r.Observation.Status))
		if g := r.Grade; g != nil && g.Letter != "" {
			emit("grade", g.Letter)
		}
	},
	func(r *model.EndpointResult, emit func(string, string)) {
		t := r.Observation.TLS
		if t == nil {
			return
		}
		emit("tls.speaks", strconv.FormatBool(t.Speaks))
		if h := t.Handshake; h != nil {
			emit("tls.version", h.Version)
			emit("tls.suite", h.CipherSuite)
			if h.ALPN != "" {
				emit("tls.alpn", h.ALPN)
			}
		}
		if e := t.Engine; e != nil {
			for _, v := range e.Versions {
				if !v.Supported {
					continue
				}
				emit("tls.versions", v.Version)
				for _, s := range v.Suites {
					emit("tls.suites", v.Version+" "+s.Name)
				}
				if v.Preference != "" {
					emit("tls.preference", v.Version+" "+v.Preference)
				}
			}
			for _, g := range e.Groups {
				emit("tls.groups", g.Name)
			}
		}
	},
	func(r *model.EndpointResult, emit func(string, string)) {
		c := r.Observation.Certificates
		if c == nil {
			return
		}
		emit("cert.trusted", strconv.FormatBool(c.Trusted))
		if c.NameChecked != "" {
			emit("cert.name_matches", strconv.FormatBool(c.NameMatches))
		}
		if len(c.Chain) == 0 {
			return
		}
		leaf := c.Chain[0]
		emit(factLeaf, leaf.SHA256)
		emit("cert.issuer", leaf.Issuer)
		emit("cert.key", leaf.KeyType+" "+strconv.Itoa(leaf.KeyBits))
	},
	func(r *model.EndpointResult, emit func(string, string)) {
		sv := r.Observation.Service
		if sv == nil {
			return
		}
		emit("port.state", string(sv.State))
		emit("service", sv.Service)
		emit("service.tls", strconv.FormatBool(sv.TLS))
		if sv.Product != "" {
			emit("service.software", strings.TrimSpace(sv.Product+" "+sv.Version))
		}
		if sv.AuthRequired != nil {
			emit("service.auth_required", strconv.FormatBool(*sv.AuthRequired))
		}
		if sv.StartTLS != nil {
			emit("service.starttls", strconv.FormatBool(*sv.StartTLS))
		}
	},
	func(r *model.EndpointResult, emit func(string, string)) {
		st := r.Observation.StartTLS
		if st == nil {
			return
		}
		emit("starttls.outcome", string(st.Outcome))
		emit("starttls.required", strconv.FormatBool(st.Required))
		for _, m := range st.PlaintextAuth {
			emit("starttls.plaintext_auth", m)
		}
	},
}

// factLeaf is the leaf certificate fingerprint; drift reports its changes as certificate
// rotations rather than as fact changes.
const factLeaf = "cert.leaf"

// extractFacts emits every fact of one endpoint result, skipping empty values.
func extractFacts(r *model.EndpointResult, emit func(name, value string)) {
	e := func(name, value string) {
		if value != "" {
			emit(name, value)
		}
	}
	for _, x := range factExtractors {
		x(r, e)
	}
}
