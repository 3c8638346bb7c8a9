package lab

import (
	"os"
	"path/filepath"
	"strings"
)

// GoEnv returns the whole environment for an isolated, offline `go mod
// download` against the lab: a fresh GOPATH, GOMODCACHE and GOCACHE under
// dir, GOPROXY=proxyURL, GOSUMDB=off, GOTOOLCHAIN=local (no toolchain
// download), GOFLAGS="-mod=mod -modcacherw" (the second so that the
// module cache can be removed without chmod), SSL_CERT_FILE=caFile,
// HOME=dir, GOENV=off and GOWORK=off (no user settings), and a PATH that
// finds this go command. Nothing else of this process's environment is
// passed on; callers append HTTPS_PROXY and the like.
func GoEnv(dir, proxyURL, caFile string) []string {
	path := os.Getenv("PATH")
	if goBin, err := GoBinary(); err == nil {
		path = filepath.Dir(goBin) + string(os.PathListSeparator) + path
	}
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	gopath := filepath.Join(dir, "gopath")
	env := []string{
		"PATH=" + path,
		"HOME=" + dir,
		"GOPATH=" + gopath,
		"GOMODCACHE=" + filepath.Join(gopath, "pkg", "mod"),
		"GOCACHE=" + filepath.Join(dir, "gocache"),
		"GOPROXY=" + proxyURL,
		"GOSUMDB=off",
		"GONOSUMDB=",
		"GOPRIVATE=",
		"GONOPROXY=",
		"GOINSECURE=",
		"GOTOOLCHAIN=local",
		"GOFLAGS=-mod=mod -modcacherw",
		"GOENV=off",
		"GOWORK=off",
		"GO111MODULE=on",
		"SSL_CERT_FILE=" + caFile,
		"SSL_CERT_DIR=" + filepath.Join(dir, "no-cert-dir"),
	}
	if tmp := os.Getenv("TMPDIR"); tmp != "" && !strings.ContainsRune(tmp, os.PathListSeparator) {
		env = append(env, "TMPDIR="+tmp)
	}
	return env
}
