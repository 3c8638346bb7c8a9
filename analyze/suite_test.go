package analyze

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// designPath returns shared/DESIGN.md beside the repository: the nearest
// directory above the working directory that holds go.mod, then
// ../shared/DESIGN.md from there.
func designPath(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			t.Fatalf("no go.mod above %s", wd)
		}
		root = parent
	}
	return filepath.Join(filepath.Dir(root), "shared", "DESIGN.md")
}

// designIDs returns the check IDs of the table under the heading that
// starts with prefix: the backquoted first cell of each row.
func designIDs(doc, prefix string) []string {
	row := regexp.MustCompile("^\\| `([a-z0-9-]+)` \\|")
	var ids []string
	in := false
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(l, "#") {
			in = strings.HasPrefix(l, prefix)
			continue
		}
		if m := row.FindStringSubmatch(l); in && m != nil {
			ids = append(ids, m[1])
		}
	}
	return ids
}

func TestSuiteMatchesDesign(t *testing.T) {
	path := designPath(t)
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("%s is absent: the check IDs cannot be compared with the design's tables (§4, §4.1)", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	first, second := designIDs(string(data), "## 4. "), designIDs(string(data), "### 4.1 ")
	if len(first) < 20 || len(second) == 0 {
		t.Fatalf("%s: found %d IDs in §4 and %d in §4.1; has the table format changed?", path, len(first), len(second))
	}
	implemented := map[string]bool{}
	for _, c := range suite() {
		implemented[c.ID] = true
		if !slices.Contains(first, c.ID) && !slices.Contains(second, c.ID) {
			t.Errorf("check %s is not in DESIGN §4 or §4.1: add it to the design's table", c.ID)
		}
	}
	for _, id := range first {
		if !implemented[id] {
			t.Errorf("DESIGN §4 lists %s, but no check in Suite has that ID", id)
		}
	}
	var pending []string
	for _, id := range second {
		if !implemented[id] {
			pending = append(pending, id)
		}
	}
	t.Logf("DESIGN §4.1: %d of %d checks pending: %s", len(pending), len(second), strings.Join(pending, ", "))
}

func TestSuiteIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for i, c := range Suite {
		switch {
		case c == nil:
			t.Fatalf("Suite[%d] is nil", i)
		case seen[c.ID]:
			t.Errorf("%s is listed twice", c.ID)
		case c.Role != RoleCause && c.Role != RoleSymptom && c.Role != RoleContext:
			t.Errorf("%s: role %q, want cause, symptom or context", c.ID, c.Role)
		}
		seen[c.ID] = true
	}
	for _, c := range late {
		t.Logf("%s is added with register: list it in Suite at its place in cause order", c.ID)
	}
}

func TestGoErrorsAreRecognised(t *testing.T) {
	explained := map[string]bool{}
	for _, c := range suite() {
		for _, text := range c.GoErrors {
			ex := Explain(text)
			if len(ex) == 0 {
				t.Errorf("%s: `modsniff explain` does not recognise its go error %q", c.ID, text)
				continue
			}
			if !slices.Contains(ex[0].Checks, c.ID) {
				t.Errorf("%s: explaining %q lists %v, not the check", c.ID, text, ex[0].Checks)
			}
			explained[c.ID] = true
		}
	}
	for i, p := range errorPatterns() {
		if p.mean != "" && len(familyChecks()[errorFamily{pattern: i}]) == 0 {
			t.Errorf("error family %q: no check names a go error of it", p.re)
		}
	}
}
