package reports

// The JSON Schemas of the scan document (model.ScanResult) and of one JSON Lines record
// (JSONLine) are generated from the Go types into docs/schema; docs/json.md describes them.
//go:generate go run ./internal/jsonschemagen -o ../docs/schema
