// Package schema holds the JSON Schema (draft 2020-12) of modsniff's JSON
// report, the contract of DESIGN §3, so that consumers can validate what
// 'modsniff analyze --format json' writes ('modsniff schema' prints it).
//
// The report's "schema" field is the version of that contract: fields are
// only ever added, which keeps it at 1, and every object in the schema
// allows properties it does not list. Renaming or removing a field, or
// changing its meaning, would bump the version.
package schema

import _ "embed"

// Version is the report format version the schema describes; it equals
// analyze.Schema.
const Version = 1

// Report is the JSON Schema of the report.
//
//go:embed report.schema.json
var Report []byte
