// Package capturetest finds the shared corpus of real, public packet
// captures (shared/corpus beside the repository; its README lists every
// capture and its source) and reads the tshark facts recorded for each, for
// the tests of any package.
package capturetest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// EnvCorpus names the environment variable that overrides where the corpus
// is looked for.
const EnvCorpus = "MODSNIFF_CORPUS"

// FindCorpus returns the corpus directory and whether it exists: the
// directory named by $MODSNIFF_CORPUS when set, else ../shared/corpus from
// the repository root (the nearest directory upwards from the working
// directory that holds go.mod). When it does not exist, dir says where it
// looked.
func FindCorpus() (dir string, ok bool) {
	if env := os.Getenv(EnvCorpus); env != "" {
		return env, isDir(env)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "../shared/corpus (working directory unknown: " + err.Error() + ")", false
	}
	root := wd
	for !isFile(filepath.Join(root, "go.mod")) {
		parent := filepath.Dir(root)
		if parent == root {
			return "../shared/corpus beside the repository (no go.mod above " + wd + ")", false
		}
		root = parent
	}
	dir = filepath.Join(filepath.Dir(root), "shared", "corpus")
	return dir, isDir(dir)
}

// CorpusDir returns the corpus directory, or skips tb with a message that
// says where it looked and how to point at it.
func CorpusDir(tb testing.TB) string {
	tb.Helper()
	dir, ok := FindCorpus()
	if !ok {
		tb.Skipf("capture corpus not found at %s; set %s to its directory to run this test", dir, EnvCorpus)
	}
	return dir
}

// Captures returns the paths of every capture of the corpus (each file
// that has a .facts.json beside it), sorted; it skips tb when the corpus is
// absent.
func Captures(tb testing.TB) []string {
	tb.Helper()
	paths, err := CapturesIn(CorpusDir(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return paths
}

// CapturesIn returns the paths of every capture under dir (each file that
// has a .facts.json beside it), sorted.
func CapturesIn(dir string) ([]string, error) {
	facts, err := filepath.Glob(filepath.Join(dir, "*", "*.facts.json"))
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range facts {
		if p := strings.TrimSuffix(f, ".facts.json"); isFile(p) {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	return paths, nil
}

// Facts holds the parts of a capture's .facts.json (schema
// modsniff-corpus-facts/1, made with tshark) that most tests need; Raw is
// the whole file for the rest.
type Facts struct {
	// Packets is the number of frames tshark read.
	Packets int `json:"packets"`
	// EncapTypes counts frames per link type, by capinfos short name
	// ("ether", "null", "linux-sll", "linux-sll2", "rawip", "rawip4",
	// "rawip6", "nflog", …).
	EncapTypes map[string]int `json:"encap_types"`
	File       struct {
		Type                    string `json:"type"`
		Encapsulation           string `json:"encapsulation"`
		DecryptionSecretsBlocks int    `json:"decryption_secrets_blocks"`
	} `json:"file"`
	TsharkMessages []string        `json:"tshark_messages"`
	Raw            json.RawMessage `json:"-"`
}

// ReadFacts reads the facts of the capture at path (path + ".facts.json").
func ReadFacts(tb testing.TB, path string) Facts {
	tb.Helper()
	b, err := os.ReadFile(path + ".facts.json")
	if err != nil {
		tb.Fatalf("facts: %v", err)
	}
	var f Facts
	if err := json.Unmarshal(b, &f); err != nil {
		tb.Fatalf("facts of %s: %v", path, err)
	}
	f.Raw = b
	return f
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
