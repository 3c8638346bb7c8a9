package capturetest

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestFindCorpusHonoursTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a/one.pcap", "a/one.pcap.facts.json", "b/two.pcapng.gz", "b/two.pcapng.gz.facts.json", "b/orphan.facts.json", "b/notes.txt"} {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o700)
		os.WriteFile(p, []byte(`{"packets": 3, "encap_types": {"ether": 3}, "file": {"type": null}}`), 0o600)
	}
	t.Setenv(EnvCorpus, dir)
	if got := CorpusDir(t); got != dir {
		t.Errorf("CorpusDir = %q, want %q", got, dir)
	}
	paths := Captures(t)
	want := []string{filepath.Join(dir, "a/one.pcap"), filepath.Join(dir, "b/two.pcapng.gz")}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("Captures = %v, want %v", paths, want)
	}
	if f := ReadFacts(t, paths[0]); f.Packets != 3 || f.EncapTypes["ether"] != 3 || len(f.Raw) == 0 {
		t.Errorf("facts = %+v", f)
	}
	t.Setenv(EnvCorpus, filepath.Join(dir, "missing"))
	if _, ok := FindCorpus(); ok {
		t.Error("a missing directory was found")
	}
}

func TestFindCorpusLooksBesideTheRepository(t *testing.T) {
	t.Setenv(EnvCorpus, "")
	dir, _ := FindCorpus()
	if filepath.Base(dir) != "corpus" || filepath.Base(filepath.Dir(dir)) != "shared" {
		t.Errorf("FindCorpus looked at %q, want …/shared/corpus", dir)
	}
}
