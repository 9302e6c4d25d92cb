package main

import (
	"net/netip"
	"path"
	"reflect"
	"strings"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/reports"
)

// file is one generated schema file.
type file struct {
	name string // base name, e.g. "scan-v1.json"
	id   string
	data []byte
}

// schemaMajor is the version part of model.SchemaVersion ("v1" of "rampart.scan/v1"); it
// names the files and their $id, so a new major version gets new files beside the old.
func schemaMajor() string { return path.Base(model.SchemaVersion) }

// schemaID is the $id of a schema file.
func schemaID(name string) string { return "https://rampart.dev/schemas/" + name }

// generate builds both schemas. dir is any directory inside the module (for the sources that
// give the descriptions).
func generate(dir string) ([]file, error) {
	docs, err := newSourceDocs(dir)
	if err != nil {
		return nil, err
	}
	v := schemaMajor()
	specs := []struct {
		name, title, desc string
		root              reflect.Type
	}{
		{
			name:  "scan-" + v + ".json",
			title: "Rampart scan document (" + model.SchemaVersion + ")",
			desc: "One whole scan as written by `rampart scan --format json`, `--json FILE`, `rampart demo` " +
				"(results.json) and `rampart report --json`. Generated from the Go types (model.ScanResult); " +
				"see docs/json.md for the versioning policy.",
			root: reflect.TypeFor[model.ScanResult](),
		},
		{
			name:  "jsonl-" + v + ".json",
			title: "Rampart JSON Lines record (" + model.SchemaVersion + ")",
			desc: "One line of `rampart scan --format jsonl`: an endpoint as it finishes, a node group, a domain, " +
				"an endpoint revised once the whole scan was known, or the closing scan summary; `type` says which " +
				"property carries the payload. Generated from the Go types (reports.JSONLine); see docs/json.md.",
			root: reflect.TypeFor[reports.JSONLine](),
		},
	}
	var out []file
	for _, s := range specs {
		g := configured(docs)
		id := schemaID(s.name)
		data, err := g.document(s.root, id, s.title, s.desc)
		if err != nil {
			return nil, err
		}
		out = append(out, file{name: s.name, id: id, data: data})
	}
	return out, nil
}

// configured returns a generator that knows Rampart's marshalled and unit-carrying types.
func configured(docs *sourceDocs) *generator {
	g := newGenerator(docs)
	severities := []string{}
	for _, s := range model.Severities() {
		severities = append(severities, s.String())
	}
	g.specials[reflect.TypeFor[time.Time]()] = special{"Time", schema{
		"type": "string", "format": "date-time",
		"description": "An RFC 3339 timestamp with optional fractional seconds; 0001-01-01T00:00:00Z means unset.",
	}}
	g.specials[reflect.TypeFor[time.Duration]()] = special{"Duration", schema{
		"type": "integer", "description": "A duration in nanoseconds (properties carrying one end in _ns).",
	}}
	g.specials[reflect.TypeFor[netip.Addr]()] = special{"IPAddress", schema{
		"type": "string", "description": "An IPv4 or IPv6 address (192.0.2.7, 2001:db8::1); \"\" when unset.",
	}}
	g.specials[reflect.TypeFor[netip.AddrPort]()] = special{"IPAddressPort", schema{
		"type": "string", "description": "An address and port (192.0.2.7:443, [2001:db8::1]:443); \"\" when unset.",
	}}
	g.specials[reflect.TypeFor[netip.Prefix]()] = special{"IPPrefix", schema{
		"type": "string", "description": "An address block in CIDR notation (192.0.2.0/24); \"\" when unset.",
	}}
	g.specials[reflect.TypeFor[model.Severity]()] = special{"Severity", schema{
		"type": "string", "enum": severities,
		"description": "A finding's severity, lowest first: " + strings.Join(severities, ", ") + ".",
	}}
	g.consts["ScanResult.schema_version"] = model.SchemaVersion
	g.consts["JSONLine.schema_version"] = model.SchemaVersion
	g.keys["ScanSummary.findings"] = schema{"enum": severities}
	g.unions[reflect.TypeFor[reports.JSONLine]()] = "type"
	return g
}
