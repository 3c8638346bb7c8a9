// Package bench measures modsniff's speed and memory on large generated
// captures: BenchmarkAnalyzeBulk (go test -bench) here, and bench.sh (make
// bench), which compares with tshark on the same file. The captures come
// from package benchgen; command gen writes one to a file.
package bench
