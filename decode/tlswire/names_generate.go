package tlswire

// The name tables (cipher suites, alerts, handshake types, groups,
// extensions, signature schemes) are generated from the IANA registries'
// CSV exports kept in testdata/iana; TestNameTablesAreGenerated checks that
// names_table.go is up to date.
//go:generate go run gen.go
