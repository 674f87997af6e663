package sink_test

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dewire/dewire/internal/testenv"
	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/record"
	"github.com/dewire/dewire/workers/sink"
	"github.com/dewire/dewire/workers/sink/sinktest"
	"github.com/dewire/dewire/workers/stage"
)

type jsonlWriter struct{ j *sink.JSONL }

func (w jsonlWriter) Write(_ context.Context, a *article.Article) error {
	_, err := w.j.Write(a)
	return err
}
func (w jsonlWriter) Close() error { return w.j.Close() }

func openJSONL(t *testing.T, dir string) sinktest.Writer {
	t.Helper()
	j, err := sink.OpenJSONL(dir)
	if err != nil {
		t.Fatalf("OpenJSONL: %v", err)
	}
	return jsonlWriter{j}
}

func openTMX(t *testing.T, dir string) sinktest.Writer {
	t.Helper()
	w, err := sink.OpenTMX(dir, record.TMXHeader{CreationToolVersion: "test"})
	if err != nil {
		t.Fatalf("OpenTMX: %v", err)
	}
	return w
}

// readJSONL reads every data file line by line with encoding/json, and
// checks that index.tsv names only records the data holds.
func readJSONL(t *testing.T, dir string) []sinktest.Stored {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "articles-*.jsonl"))
	var out []sinktest.Stored
	held := map[string]bool{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for n := 1; sc.Scan(); n++ {
			var r struct {
				ID    string `json:"id"`
				Rev   int    `json:"rev"`
				Hash  string `json:"hash"`
				Flags []struct {
					Code string `json:"code"`
				} `json:"flags"`
			}
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				f.Close()
				t.Fatalf("%s line %d does not parse: %v: %q", filepath.Base(p), n, err, sc.Bytes())
			}
			s := sinktest.Stored{ID: r.ID, Rev: r.Rev, Hash: r.Hash}
			for _, fl := range r.Flags {
				s.Reassigned = s.Reassigned || fl.Code == sink.FlagRevisionReassigned
			}
			out = append(out, s)
			held[r.ID+"@"+strconv.Itoa(r.Rev)] = true
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	idx, err := os.ReadFile(filepath.Join(dir, "index.tsv"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(idx), "\n"), "\n") {
		if line == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 4 || !held[cols[0]] {
			t.Fatalf("index line %q: not 4 columns naming a stored record", line)
		}
	}
	return out
}

// readTMX reads every TMX file with encoding/xml. A record is one copy per
// unit #1; every one of its three units must be there as often.
func readTMX(t *testing.T, dir string) []sinktest.Stored {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "articles-*.tmx"))
	var out []sinktest.Stored
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			TUs []struct {
				TUID  string `xml:"tuid,attr"`
				Props []struct {
					Type  string `xml:"type,attr"`
					Value string `xml:",chardata"`
				} `xml:"prop"`
			} `xml:"body>tu"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s is not well-formed: %v\n%s", filepath.Base(p), err, b)
		}
		units := map[string]int{}
		for _, tu := range doc.TUs {
			units[tu.TUID]++
			if !strings.HasSuffix(tu.TUID, "#1") {
				continue
			}
			s := sinktest.Stored{}
			for _, pr := range tu.Props {
				switch pr.Type {
				case "x-dewire-id":
					s.ID = pr.Value
				case "x-dewire-rev":
					s.Rev, _ = strconv.Atoi(pr.Value)
				case "x-dewire-hash":
					s.Hash = pr.Value
				}
			}
			out = append(out, s)
		}
		for tuid, n := range units {
			k, _, _ := strings.Cut(tuid, "#")
			for i := 1; i <= 3; i++ {
				if units[k+"#"+strconv.Itoa(i)] != n {
					t.Fatalf("%s: record %s torn: units %v", filepath.Base(p), k, units)
				}
			}
		}
	}
	return out
}

// dtdValid checks every TMX file of every folder against the TMX 1.4b DTD.
func dtdValid(t *testing.T, dirs []string) {
	t.Helper()
	dtd := testenv.SharedFile(t, "fixtures", "tmx", "tmx14.dtd")
	xmllint := testenv.Tool(t, "xmllint", "libxml2-utils")
	var paths []string
	for _, d := range dirs {
		ps, _ := filepath.Glob(filepath.Join(d, "articles-*.tmx"))
		paths = append(paths, ps...)
	}
	if len(paths) == 0 {
		t.Fatal("no TMX file to check")
	}
	for len(paths) > 0 {
		n := min(len(paths), 500)
		out, err := exec.Command(xmllint, append([]string{"--noout", "--dtdvalid", dtd}, paths[:n]...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("xmllint --dtdvalid: %v\n%s", err, out)
		}
		paths = paths[n:]
	}
}

func TestJSONLContract(t *testing.T) {
	sinktest.Run(t, sinktest.Backend{
		Open:  openJSONL,
		Read:  readJSONL,
		Files: []string{"articles-*.jsonl", "index.tsv"},
		Flags: true,
	})
}

func TestTMXContract(t *testing.T) {
	sinktest.Run(t, sinktest.Backend{
		Open:  openTMX,
		Read:  readTMX,
		Files: []string{"articles-*.tmx"},
		Check: dtdValid,
	})
}

// TestTMXContractWithItsIndex keeps the index in every crash state as the
// writer left it, behind the files: reopening resumes from it rather than
// rebuilding it.
func TestTMXContractWithItsIndex(t *testing.T) {
	sinktest.Run(t, sinktest.Backend{
		Open:  openTMX,
		Read:  readTMX,
		Files: []string{"articles-*.tmx", "tmx-index.db"},
		Check: dtdValid,
	})
}

// composed drives a Sink (TMX extra, then JSONL) through its stage handler,
// as the sink consumer does.
type composed struct {
	tmx   *sink.TMX
	jsonl *sink.JSONL
	h     stage.Handler
}

func (c composed) Write(ctx context.Context, a *article.Article) error {
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	_, err = c.h(ctx, stage.Msg{Data: data})
	return err
}

func (c composed) Close() error {
	return errors.Join(c.tmx.Close(), c.jsonl.Close())
}

func TestSinkContract(t *testing.T) {
	sinktest.Run(t, sinktest.Backend{
		Open: func(t *testing.T, dir string) sinktest.Writer {
			tmx := openTMX(t, dir).(*sink.TMX)
			j, err := sink.OpenJSONL(dir)
			if err != nil {
				t.Fatalf("OpenJSONL: %v", err)
			}
			s := &sink.Sink{JSONL: j, Extras: []sink.Writer{tmx}}
			return composed{tmx, j, s.Handler()}
		},
		Read: func(t *testing.T, dir string) []sinktest.Stored {
			fromJSONL, fromTMX := readJSONL(t, dir), readTMX(t, dir)
			count := map[sinktest.Stored]int{}
			for _, s := range fromJSONL {
				count[sinktest.Stored{ID: s.ID, Rev: s.Rev, Hash: s.Hash}]++
			}
			for _, s := range fromTMX {
				count[s]--
			}
			for s, n := range count {
				if n != 0 {
					t.Fatalf("JSONL and TMX disagree on %+v (%d more in the JSONL)\nJSONL %+v\nTMX %+v", s, n, fromJSONL, fromTMX)
				}
			}
			return fromJSONL
		},
		Files: []string{"articles-*.tmx", "articles-*.jsonl", "index.tsv"},
		Check: dtdValid,
		Flags: true,
	})
}
