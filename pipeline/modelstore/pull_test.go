package modelstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dewire/dewire/pipeline/modelstore"
)

// argosServer serves an Argos-style index.json listing the given entries and
// the package files under /v1/.
type argosServer struct {
	*httptest.Server
	mu       sync.Mutex
	index    []modelstore.IndexEntry
	files    map[string][]byte
	requests []string
}

func newArgosServer(t *testing.T) *argosServer {
	t.Helper()
	s := &argosServer{files: map[string][]byte{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests = append(s.requests, r.URL.Path)
		if r.URL.Path == "/index.json" {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(s.index)
			return
		}
		b, ok := s.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b)
	}))
	t.Cleanup(s.Close)
	return s
}

// publish adds a package file and its index entry; sum "" leaves the
// checksum out of the index, as the public index does.
func (s *argosServer) publish(from, to, version string, body []byte, sum string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := fmt.Sprintf("/v1/translate-%s_%s-%s.argosmodel", from, to, strings.ReplaceAll(version, ".", "_"))
	s.files[name] = body
	s.index = append(s.index, modelstore.IndexEntry{
		Code: "translate-" + from + "_" + to, PackageVersion: version, ArgosVersion: "1.9.0",
		FromCode: from, ToCode: to, Links: []string{s.URL + name}, SHA256: sum,
	})
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestPullDownloadsVerifiesAndInstalls(t *testing.T) {
	srv := newArgosServer(t)
	deen := buildPackage("translate-de_en-1_9", "de", "en", "1.9")
	srv.publish("de", "en", "1.3", buildPackage("translate-de_en-1_3", "de", "en", "1.3"), "")
	srv.publish("de", "en", "1.9", deen, sha(deen))
	srv.publish("en", "de", "1.9", buildPackage("translate-en_de-1_9", "en", "de", "1.9"), "")
	dir := filepath.Join(t.TempDir(), "models")

	var calls int
	var last [2]int64
	path, err := modelstore.Pull(context.Background(), dir, "de-en", modelstore.PullOptions{
		IndexURL: srv.URL + "/index.json",
		Progress: func(done, total int64) { calls++; last = [2]int64{done, total} },
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "translate-de_en-1_9.argosmodel"); path != want {
		t.Errorf("path = %s, want %s", path, want)
	}
	if calls == 0 || last != [2]int64{int64(len(deen)), int64(len(deen))} {
		t.Errorf("progress: %d calls, last %v, want done=total=%d", calls, last, len(deen))
	}
	sum, err := os.ReadFile(path + ".sha256")
	if err != nil || !strings.HasPrefix(string(sum), sha(deen)+"  translate-de_en-1_9.argosmodel") {
		t.Errorf(".sha256 = %q, %v", sum, err)
	}
	if got, ok := modelstore.Installed(dir, "de", "en"); !ok || got != path {
		t.Errorf("Installed(de, en) = %q, %v", got, ok)
	}
	if _, ok := modelstore.Installed(dir, "en", "de"); ok {
		t.Error("Installed(en, de) found a package that was never pulled")
	}
	list, err := modelstore.List(dir)
	if err != nil || len(list) != 1 || list[0].SHA256 != sha(deen) || list[0].Metadata.Pair() != "de-en" {
		t.Errorf("List = %+v, %v", list, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestPullFailsClearly(t *testing.T) {
	srv := newArgosServer(t)
	good := buildPackage("translate-de_en-1_9", "de", "en", "1.9")
	srv.publish("de", "en", "1.9", good, strings.Repeat("0", 64))
	srv.publish("fr", "en", "1.9", buildPackage("translate-fr_en-1_9", "en", "de", "1.9"), "")
	srv.publish("it", "en", "1.9", []byte("<html>not a zip</html>"), "")
	index := srv.URL + "/index.json"
	cases := []struct {
		name string
		pair string
		opts modelstore.PullOptions
		want error
	}{
		{"a checksum that does not match the index", "de-en", modelstore.PullOptions{IndexURL: index}, modelstore.ErrChecksum},
		{"a pair the index does not list", "nl-en", modelstore.PullOptions{IndexURL: index}, modelstore.ErrNotInIndex},
		{"a package for the wrong languages", "fr-en", modelstore.PullOptions{IndexURL: index}, modelstore.ErrWrongPair},
		{"a download that is not a package", "it-en", modelstore.PullOptions{IndexURL: index}, modelstore.ErrNotPackage},
		{"an index that is missing", "de-en", modelstore.PullOptions{IndexURL: srv.URL + "/nope.json"}, modelstore.ErrHTTP},
		{"an explicit checksum that does not match", "de-en", modelstore.PullOptions{PackageURL: srv.URL + "/v1/translate-de_en-1_9.argosmodel", SHA256: sha([]byte("other"))}, modelstore.ErrChecksum},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := modelstore.Pull(context.Background(), dir, tc.pair, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Pull = %v, want %v", err, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("failed pull left %d files in the cache", len(entries))
			}
		})
	}
}

func TestPullWithPackageURLSkipsTheIndex(t *testing.T) {
	srv := newArgosServer(t)
	deen := buildPackage("translate-de_en-1_9", "de", "en", "1.9")
	srv.publish("de", "en", "1.9", deen, "")
	path, err := modelstore.Pull(context.Background(), t.TempDir(), "de-en", modelstore.PullOptions{
		IndexURL:   srv.URL + "/must-not-be-read.json",
		PackageURL: srv.URL + "/v1/translate-de_en-1_9.argosmodel",
		SHA256:     sha(deen),
	})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "translate-de_en-1_9.argosmodel" {
		t.Errorf("path = %s", path)
	}
	for _, r := range srv.requests {
		if strings.Contains(r, "must-not-be-read") {
			t.Error("the index was requested although PackageURL was given")
		}
	}
}

func TestPullWithoutNetworkSaysSoInOneLine(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close() // nothing listens there any more
	_, err := modelstore.Pull(context.Background(), t.TempDir(), "de-en", modelstore.PullOptions{IndexURL: "http://" + addr + "/index.json"})
	if !errors.Is(err, modelstore.ErrUnreachable) {
		t.Fatalf("Pull = %v, want ErrUnreachable", err)
	}
	msg := err.Error()
	for _, want := range []string{"model pull: cannot reach " + addr, "--model FILE"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("message spans lines: %q", msg)
	}
}

func TestPullStopsWhenCancelled(t *testing.T) {
	srv := newArgosServer(t)
	srv.publish("de", "en", "1.9", buildPackage("translate-de_en-1_9", "de", "en", "1.9"), "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := modelstore.Pull(ctx, t.TempDir(), "de-en", modelstore.PullOptions{IndexURL: srv.URL + "/index.json"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Pull = %v, want context.Canceled", err)
	}
}

func TestParsePair(t *testing.T) {
	cases := []struct {
		pair     string
		from, to string
		ok       bool
	}{
		{"de-en", "de", "en", true},
		{"zh_Hant-en", "zh_Hant", "en", true},
		{"deen", "", "", false},
		{"de-", "", "", false},
		{"../x-en", "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.pair, func(t *testing.T) {
			from, to, err := modelstore.ParsePair(tc.pair)
			if (err == nil) != tc.ok || from != tc.from || to != tc.to {
				t.Errorf("ParsePair(%q) = %q, %q, %v", tc.pair, from, to, err)
			}
		})
	}
}

func TestDirHonoursTheEnvironment(t *testing.T) {
	t.Setenv(modelstore.EnvModelDir, "/srv/dewire/models")
	if d, err := modelstore.Dir(); err != nil || d != "/srv/dewire/models" {
		t.Errorf("Dir = %q, %v", d, err)
	}
	t.Setenv(modelstore.EnvModelDir, "")
	t.Setenv("XDG_CACHE_HOME", "/tmp/cache")
	t.Setenv("HOME", "/home/someone")
	d, err := modelstore.Dir()
	if err != nil || !strings.HasSuffix(d, filepath.Join("dewire", "models")) {
		t.Errorf("Dir = %q, %v", d, err)
	}
}

func TestListReportsBrokenFilesAndSkipsOthers(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "broken.argosmodel"), []byte("junk"), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o600)
	os.WriteFile(filepath.Join(dir, "a.argosmodel"), buildPackage("a", "de", "en", "1.10"), 0o600)
	os.WriteFile(filepath.Join(dir, "b.argosmodel"), buildPackage("b", "de", "en", "1.9"), 0o600)
	list, err := modelstore.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ip := range list {
		names = append(names, filepath.Base(ip.Path))
	}
	if got, want := strings.Join(names, " "), "broken.argosmodel a.argosmodel b.argosmodel"; got != want {
		t.Errorf("List order = %s, want %s", got, want)
	}
	if !errors.Is(list[0].Err, modelstore.ErrNotPackage) {
		t.Errorf("broken file Err = %v", list[0].Err)
	}
	if p, ok := modelstore.Installed(dir, "de", "en"); !ok || filepath.Base(p) != "a.argosmodel" {
		t.Errorf("Installed picked %q, %v; want the newest version 1.10", p, ok)
	}
	if list, err := modelstore.List(filepath.Join(dir, "absent")); err != nil || len(list) != 0 {
		t.Errorf("List of a missing folder = %v, %v", list, err)
	}
}

func ExamplePull() {
	pkg := buildPackage("translate-de_en-1_9", "de", "en", "1.9")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/index.json" {
			fmt.Fprintf(w, `[{"code":"translate-de_en","package_version":"1.9","from_code":"de","to_code":"en","links":["http://%s/translate-de_en-1_9.argosmodel"]}]`, r.Host)
			return
		}
		w.Write(pkg)
	}))
	defer srv.Close()
	dir, err := os.MkdirTemp("", "models")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	path, err := modelstore.Pull(context.Background(), dir, "de-en", modelstore.PullOptions{
		IndexURL: srv.URL + "/index.json",
		Progress: func(done, total int64) { /* draw a progress bar */ },
	})
	fmt.Println(filepath.Base(path), err)
	// Output: translate-de_en-1_9.argosmodel <nil>
}
