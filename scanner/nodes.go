package scanner

import (
	"sort"
	"strings"

	"github.com/rampart-scan/rampart/model"
)

// CompareNodes groups observations that serve one name, port and service from different
// addresses and records, as facts, every compared fact whose value differs between them:
// reachability, the leaf certificate, the modern client's negotiated version and suite, the
// protocol versions, cipher suites and groups the engine found, and the STARTTLS outcome.
// Names with a single address form no group. Interrupted observations are left out: a node
// that was never probed differs in nothing.
func CompareNodes(obs []model.Observation) []model.NodeGroup {
	type key struct {
		name, service string
		port          uint16
	}
	groups := map[key][]model.Observation{}
	for _, o := range obs {
		e := o.Endpoint
		if e.Name == "" || o.Status == model.StatusInterrupted || o.Status == model.StatusSkipped {
			continue
		}
		k := key{e.Name, e.Service, e.Addr.Port()}
		groups[k] = append(groups[k], o)
	}
	var out []model.NodeGroup
	for k, members := range groups {
		if len(members) < 2 {
			continue
		}
		sort.Slice(members, func(i, j int) bool { return members[i].Endpoint.Addr.String() < members[j].Endpoint.Addr.String() })
		g := model.NodeGroup{Name: k.name, Port: k.port, Service: k.service}
		for _, m := range members {
			g.Endpoints = append(g.Endpoints, m.Endpoint.ID())
		}
		for _, f := range nodeFacts {
			values := map[string]string{}
			distinct := map[string]bool{}
			for _, m := range members {
				v := f.value(&m)
				values[m.Endpoint.Addr.String()] = v
				distinct[v] = true
			}
			if len(distinct) > 1 {
				g.Differences = append(g.Differences, model.NodeDifference{Fact: f.name, Values: values})
			}
		}
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out
}

var nodeFacts = []struct {
	name  string
	value func(o *model.Observation) string
}{
	{"reachable", func(o *model.Observation) string {
		if o.Connect != nil && o.Connect.Reachable {
			return "yes"
		}
		return "no: " + string(o.Status)
	}},
	{"leaf_certificate", func(o *model.Observation) string {
		if o.Certificates == nil || len(o.Certificates.Chain) == 0 {
			return "none"
		}
		return o.Certificates.Chain[0].SHA256
	}},
	{"negotiated", func(o *model.Observation) string {
		if o.TLS == nil || o.TLS.Handshake == nil {
			return "none"
		}
		return o.TLS.Handshake.Version + " " + o.TLS.Handshake.CipherSuite
	}},
	{"protocol_versions", func(o *model.Observation) string {
		if o.TLS == nil || o.TLS.Engine == nil {
			return "not enumerated"
		}
		var vs []string
		for _, v := range o.TLS.Engine.Versions {
			if v.Supported {
				vs = append(vs, v.Version)
			}
		}
		return strings.Join(vs, ", ")
	}},
	{"cipher_suites", func(o *model.Observation) string {
		if o.TLS == nil || o.TLS.Engine == nil {
			return "not enumerated"
		}
		var ss []string
		for _, v := range o.TLS.Engine.Versions {
			for _, s := range v.Suites {
				ss = append(ss, v.Version+" "+s.Name)
			}
		}
		sort.Strings(ss)
		return strings.Join(ss, ", ")
	}},
	{"groups", func(o *model.Observation) string {
		if o.TLS == nil || o.TLS.Engine == nil {
			return "not enumerated"
		}
		var gs []string
		for _, g := range o.TLS.Engine.Groups {
			gs = append(gs, g.Name)
		}
		sort.Strings(gs)
		return strings.Join(gs, ", ")
	}},
	{"starttls", func(o *model.Observation) string {
		if o.StartTLS == nil {
			return "none"
		}
		return string(o.StartTLS.Outcome)
	}},
}
