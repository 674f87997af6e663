package record_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dewire/dewire/internal/testenv"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/record"
)

func articles() []*article.Article {
	return []*article.Article{
		{ID: "0123abcd", Rev: 1, Segments: []article.Segment{
			{Para: article.ParaTitle, DE: "Alijew & Putin <sprechen>", EN: "Aliyev & Putin <talk>"},
			{Para: 0, DE: "„Wir warten. Jetzt“, sagte er.", EN: "“We wait. Now,” he said."},
		}},
		{ID: "4567ef", Rev: 2, Segments: []article.Segment{
			{Para: 3, DE: "Steuer\x01zeichen\uFFFE und 😀 \"Zitat\" 'x' ]]>", EN: "Control\x0bchars and 😀 \"quote\" 'x' ]]>", FromMemory: true},
		}},
	}
}

type pair struct{ DE, EN string }

func wantPairs(as []*article.Article) []pair {
	var out []pair
	for _, a := range as {
		for _, s := range a.Segments {
			out = append(out, pair{record.SanitizeXML(s.DE), record.SanitizeXML(s.EN)})
		}
	}
	return out
}

func xmllint(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command(testenv.Tool(t, "xmllint", "libxml2-utils"), "--noout", path).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint: %v\n%s", err, out)
	}
}

const readTMX = `
import json, sys
from translate.storage import tmx
f = tmx.tmxfile.parsefile(sys.argv[1])
print(json.dumps([[u.source, u.target] for u in f.units if u.source or u.target]))
`

func translateToolkit(t *testing.T, path string) []pair {
	t.Helper()
	// Debian's package installs for the system interpreter, which a
	// version manager on PATH may hide.
	py := ""
	for _, cand := range []string{"python3", "/usr/bin/python3"} {
		if p, err := exec.LookPath(cand); err == nil && exec.Command(p, "-c", "import translate.storage.tmx").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		testenv.RequireOrSkip(t, "translate-toolkit not installed (Debian package python3-translate)")
	}
	out, err := exec.Command(py, "-c", readTMX, path).Output()
	if err != nil {
		t.Fatalf("translate-toolkit: %v", err)
	}
	var raw [][2]string
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("translate-toolkit output %q: %v", out, err)
	}
	pairs := make([]pair, len(raw))
	for i, r := range raw {
		pairs[i] = pair{r[0], r[1]}
	}
	return pairs
}

func equalPairs(t *testing.T, got, want []pair) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d pairs, wrote %d:\n%q\n%q", len(got), len(want), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("pair %d: read %q, wrote %q", i, got[i], want[i])
		}
	}
}

func encode(t *testing.T, as []*article.Article) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := record.NewTMXEncoder(&b, record.TMXHeader{CreationToolVersion: "1.0", CreationDate: time.Date(2026, 4, 13, 10, 0, 0, 0, time.UTC)})
	for _, a := range as {
		if err := enc.Encode(a); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestTMXEncoderHeaderAndUnits(t *testing.T) {
	doc := encode(t, articles())
	var tmx struct {
		Version string `xml:"version,attr"`
		Header  struct {
			Attrs []xml.Attr `xml:",any,attr"`
		} `xml:"header"`
		TUs []struct {
			TUID  string `xml:"tuid,attr"`
			Props []struct {
				Type  string `xml:"type,attr"`
				Value string `xml:",chardata"`
			} `xml:"prop"`
			TUVs []struct {
				Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
				Seg  string `xml:"seg"`
			} `xml:"tuv"`
		} `xml:"body>tu"`
	}
	if err := xml.Unmarshal(doc, &tmx); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	attrs := map[string]string{}
	for _, a := range tmx.Header.Attrs {
		attrs[a.Name.Local] = a.Value
	}
	for _, name := range []string{"creationtool", "creationtoolversion", "segtype", "o-tmf", "adminlang", "srclang", "datatype"} {
		if attrs[name] == "" {
			t.Errorf("header lacks required attribute %s", name)
		}
	}
	if tmx.Version != "1.4" || attrs["segtype"] != "sentence" || attrs["srclang"] != "de" || attrs["datatype"] != "plaintext" || attrs["creationdate"] != "20260413T100000Z" {
		t.Errorf("version %q header %v", tmx.Version, attrs)
	}
	if len(tmx.TUs) != 3 || tmx.TUs[0].TUID != "0123abcd@1#1" || tmx.TUs[2].TUID != "4567ef@2#1" {
		t.Fatalf("units %+v", tmx.TUs)
	}
	tu := tmx.TUs[2]
	if tu.Props[0].Value != "4567ef" || tu.Props[1].Value != "2" || tu.Props[2].Value != "3" || tu.TUVs[0].Lang != "de" || tu.TUVs[1].Lang != "en" {
		t.Errorf("unit %+v", tu)
	}
	if tu.TUVs[0].Seg != record.SanitizeXML(articles()[1].Segments[0].DE) {
		t.Errorf("seg %q", tu.TUVs[0].Seg)
	}
}

func TestTMXIsReadByTheTools(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.tmx")
	if err := os.WriteFile(path, encode(t, articles()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("xmllint finds it well-formed", func(t *testing.T) { xmllint(t, path) })
	t.Run("translate-toolkit reads back the pairs written", func(t *testing.T) {
		equalPairs(t, translateToolkit(t, path), wantPairs(articles()))
	})
}

func TestTMXFileIsValidAfterEveryAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "2026-04-13.tmx")
	as := articles()
	for i, a := range as {
		f, _ := openFile(t, path)
		if _, err := f.Append(a); err != nil {
			t.Fatal(err)
		}
		xmllint(t, path)
		equalPairs(t, translateToolkit(t, path), wantPairs(as[:i+1]))
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTMXFileRecoversFromATornAppend(t *testing.T) {
	tests := []struct {
		name string
		cut  func(b []byte) []byte
	}{
		{"a crash inside a unit", func(b []byte) []byte { return b[:len(b)-40] }},
		{"a crash before the closing tags", func(b []byte) []byte { return b[:len(b)-len("</body>\n</tmx>\n")] }},
		{"a crash after a partial closing tag", func(b []byte) []byte { return b[:len(b)-3] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "day.tmx")
			as := articles()
			f, _ := openFile(t, path)
			for _, a := range as {
				if _, err := f.Append(a); err != nil {
					t.Fatal(err)
				}
			}
			f.Close()
			b, _ := os.ReadFile(path)
			os.WriteFile(path, tt.cut(b), 0o644)
			f, _ = openFile(t, path)
			defer f.Close()
			xmllint(t, path)
			got := translateToolkit(t, path)
			want := wantPairs(as)
			if len(got) < len(want)-1 {
				t.Fatalf("lost more than the torn unit: %q", got)
			}
			equalPairs(t, got, want[:len(got)])
		})
	}
}

func TestTMXEncoderOfNothingIsComplete(t *testing.T) {
	var b bytes.Buffer
	if err := record.NewTMXEncoder(&b, record.TMXHeader{}).Close(); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b.Bytes(), new(struct{})); err != nil || !strings.HasSuffix(b.String(), "</tmx>\n") {
		t.Fatalf("%v: %s", err, b.String())
	}
}

func FuzzTMXEscape(f *testing.F) {
	f.Add("a & b < c > d \" ' \x00 \uFFFF \r\n")
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		enc := record.NewTMXEncoder(&b, record.TMXHeader{})
		enc.Encode(&article.Article{ID: "x", Rev: 1, Segments: []article.Segment{{DE: s, EN: s}}})
		enc.Close()
		d := xml.NewDecoder(&b)
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("not well-formed for %q: %v", s, err)
			}
		}
	})
}

func dtdValid(t *testing.T, paths ...string) {
	t.Helper()
	dtd := testenv.SharedFile(t, "fixtures", "tmx", "tmx14.dtd")
	args := append([]string{"--noout", "--dtdvalid", dtd}, paths...)
	out, err := exec.Command(testenv.Tool(t, "xmllint", "libxml2-utils"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint --dtdvalid: %v\n%s", err, out)
	}
}

// unitKeys reads the file with encoding/xml and counts the units per tuid.
func unitKeys(t *testing.T, path string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TUs []struct {
			TUID string `xml:"tuid,attr"`
		} `xml:"body>tu"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, b)
	}
	n := map[string]int{}
	for _, tu := range doc.TUs {
		n[tu.TUID]++
	}
	return n
}

func threeSegments(id string, rev int, hash string) *article.Article {
	return &article.Article{ID: id, Rev: rev, Hash: hash, Segments: []article.Segment{
		{Para: article.ParaTitle, DE: "Titel " + id, EN: "Title " + id},
		{Para: 0, DE: "Erster Satz.", EN: "First sentence."},
		{Para: 0, DE: "Zweiter Satz.", EN: "Second sentence."},
	}}
}

// openFile opens the file at path from the start and returns the records
// it holds.
func openFile(t *testing.T, path string) (*record.TMXFile, []record.TMXRecord) {
	t.Helper()
	var recs []record.TMXRecord
	f, err := record.OpenTMXFile(path, record.TMXHeader{}, record.TMXMark{}, func(r record.TMXRecord) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f, recs
}

func TestOpenTMXFileReportsTheRecordsItHolds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "day.tmx")
	f, recs := openFile(t, path)
	if len(recs) != 0 {
		t.Fatalf("a new file holds %+v", recs)
	}
	for _, a := range []*article.Article{threeSegments("a", 1, "h1"), threeSegments("b", 2, "h2"), {ID: "c", Rev: 1}} {
		if _, err := f.Append(a); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	f, recs = openFile(t, path)
	defer f.Close()
	want := []record.TMXRecord{{ID: "a", Rev: 1, Hash: "h1"}, {ID: "b", Rev: 2, Hash: "h2"}}
	if fmt.Sprint(recs) != fmt.Sprint(want) {
		t.Fatalf("records %+v, want %+v (a record without segments adds nothing)", recs, want)
	}
	dtdValid(t, path)
}

func TestTMXFileRollsBackATornRecordWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "day.tmx")
	f, _ := openFile(t, path)
	first, last := threeSegments("a", 1, "h1"), threeSegments("b", 1, "h2")
	if _, err := f.Append(first); err != nil {
		t.Fatal(err)
	}
	f.Close()
	before, _ := os.ReadFile(path)
	f, _ = openFile(t, path)
	if _, err := f.Append(last); err != nil {
		t.Fatal(err)
	}
	f.Close()
	after, _ := os.ReadFile(path)

	// The append overwrote the closing tags: a crash leaves after[:cut],
	// followed by what is left of the old closing tags.
	from := len(before) - len("</body>\n</tmx>\n")
	var states []string
	for cut := from; cut <= len(after); cut++ {
		torn := append([]byte(nil), after[:cut]...)
		if cut < len(before) {
			torn = append(torn, before[cut:]...)
		}
		p := filepath.Join(dir, fmt.Sprintf("cut-%05d.tmx", cut))
		if err := os.WriteFile(p, torn, 0o644); err != nil {
			t.Fatal(err)
		}
		had := false
		f, err := record.OpenTMXFile(p, record.TMXHeader{}, record.TMXMark{}, func(r record.TMXRecord) error {
			had = had || r.Key() == last.Key()
			return nil
		})
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if !had { // the redelivery, as the sink sends it: only what the file lacks
			if _, err := f.Append(last); err != nil {
				t.Fatalf("cut at %d: %v", cut, err)
			}
		}
		f.Close()
		units := unitKeys(t, p)
		if len(units) != 6 {
			t.Fatalf("cut at %d (b@1 held: %v): %d units, want 6: %v", cut, had, len(units), units)
		}
		for tuid, n := range units {
			if n != 1 {
				t.Fatalf("cut at %d: %s written %d times", cut, tuid, n)
			}
		}
		states = append(states, p)
	}
	dtdValid(t, states...)
}

func TestTMXFileReadsUnitsWithoutKeys(t *testing.T) {
	// A file as written before units carried their key, hash and count.
	const old = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE tmx SYSTEM "tmx14.dtd">
<tmx version="1.4">
<header creationtool="dewire" creationtoolversion="dev" segtype="sentence" o-tmf="dewire" adminlang="en" srclang="de" datatype="plaintext"/>
<body>
<tu tuid="a1@1#1">
  <prop type="x-dewire-id">a1</prop>
  <prop type="x-dewire-rev">1</prop>
  <prop type="x-dewire-para">0</prop>
  <tuv xml:lang="de"><seg>Guten Morgen.</seg></tuv>
  <tuv xml:lang="en"><seg>Good morning.</seg></tuv>
</tu>
</body>
</tmx>
`
	path := filepath.Join(t.TempDir(), "old.tmx")
	os.WriteFile(path, []byte(old), 0o644)
	f, recs := openFile(t, path)
	defer f.Close()
	if len(recs) != 1 || recs[0].Key() != "a1@1" {
		t.Fatalf("records %+v", recs)
	}
	if _, err := f.Append(threeSegments("b", 1, "h")); err != nil {
		t.Fatal(err)
	}
	if n := len(unitKeys(t, path)); n != 4 {
		t.Fatalf("%d units, want 4", n)
	}
	dtdValid(t, path)
}

func TestOpenTMXFileRejectsForeignUnits(t *testing.T) {
	const foreign = `<?xml version="1.0"?>
<tmx version="1.4"><header creationtool="x" creationtoolversion="1" segtype="sentence" o-tmf="x" adminlang="en" srclang="de" datatype="plaintext"/>
<body>
<tu tuid="7">
  <tuv xml:lang="de"><seg>Hallo</seg></tuv>
</tu>
</body>
</tmx>
`
	path := filepath.Join(t.TempDir(), "foreign.tmx")
	os.WriteFile(path, []byte(foreign), 0o644)
	if _, err := record.OpenTMXFile(path, record.TMXHeader{}, record.TMXMark{}, ignore); !errors.Is(err, record.ErrNotDewireTMX) {
		t.Fatalf("OpenTMXFile = %v, want ErrNotDewireTMX", err)
	}
	b, _ := os.ReadFile(path)
	if string(b) != foreign {
		t.Fatal("a foreign file was changed")
	}
}

func TestOpenTMXFileRefusesToCutBackPastTheLastRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "day.tmx")
	f, _ := openFile(t, path)
	for _, id := range []string{"a", "b", "c"} {
		if _, err := f.Append(threeSegments(id, 1, "h")); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	b, _ := os.ReadFile(path)
	i := strings.Index(string(b), `<tu tuid="b@1#2"`)
	b[i+5] = 0 // damage inside b@1, with c@1 after it
	os.WriteFile(path, b, 0o644)
	if _, err := record.OpenTMXFile(path, record.TMXHeader{}, record.TMXMark{}, ignore); !errors.Is(err, record.ErrTMXCorrupt) {
		t.Fatalf("OpenTMXFile = %v, want ErrTMXCorrupt", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(b) {
		t.Fatal("a damaged file was changed")
	}
}

func ignore(record.TMXRecord) error { return nil }

// keys lists the keys of recs.
func keys(recs []record.TMXRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Key())
	}
	return out
}

func TestOpenTMXFileFromAMark(t *testing.T) {
	// a@1, b@1, c@1 in one file, and the marks the appends returned.
	setup := func(t *testing.T) (path string, marks []record.TMXMark) {
		path = filepath.Join(t.TempDir(), "day.tmx")
		f, _ := openFile(t, path)
		marks = append(marks, f.Mark())
		for _, id := range []string{"a", "b", "c"} {
			m, err := f.Append(threeSegments(id, 1, "h"+id))
			if err != nil {
				t.Fatal(err)
			}
			marks = append(marks, m)
		}
		f.Close()
		return path, marks
	}
	resume := func(path string, m record.TMXMark) (*record.TMXFile, []record.TMXRecord, error) {
		var recs []record.TMXRecord
		f, err := record.OpenTMXFile(path, record.TMXHeader{}, m, func(r record.TMXRecord) error {
			recs = append(recs, r)
			return nil
		})
		return f, recs, err
	}

	t.Run("it reports only the records after the mark", func(t *testing.T) {
		path, marks := setup(t)
		for i, m := range marks {
			f, recs, err := resume(path, m)
			if err != nil {
				t.Fatalf("from mark %d: %v", i, err)
			}
			if got, want := fmt.Sprint(keys(recs)), fmt.Sprint([]string{"a@1", "b@1", "c@1"}[i:]); got != want {
				t.Errorf("from mark %d: records %s, want %s", i, got, want)
			}
			if end := f.Mark(); end.End != marks[3].End || !bytes.Equal(end.Tail, marks[3].Tail) {
				t.Errorf("from mark %d: the file's mark is not the one its last append returned", i)
			}
			f.Close()
		}
	})

	t.Run("a torn append after the mark is rolled back", func(t *testing.T) {
		path, marks := setup(t)
		b, _ := os.ReadFile(path)
		os.WriteFile(path, b[:len(b)-len(tmxCloseTags)-40], 0o644) // inside c@1#3
		f, recs, err := resume(path, marks[1])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Append(threeSegments("c", 1, "hc")); err != nil { // the redelivery
			t.Fatal(err)
		}
		f.Close()
		if got := fmt.Sprint(keys(recs)); got != "[b@1]" {
			t.Fatalf("records %s, want [b@1]", got)
		}
		units := unitKeys(t, path)
		if len(units) != 9 {
			t.Fatalf("%d units, want 9: %v", len(units), units)
		}
		for tuid, n := range units {
			if n != 1 {
				t.Fatalf("%s written %d times", tuid, n)
			}
		}
		dtdValid(t, path)
	})

	t.Run("a file that does not hold the mark's bytes is left alone", func(t *testing.T) {
		path, marks := setup(t)
		_, otherMarks := setup(t)
		before, _ := os.ReadFile(path)
		for name, m := range map[string]record.TMXMark{
			"a mark from another file":    {End: marks[2].End, Tail: otherMarks[3].Tail},
			"a mark past the end":         {End: marks[3].End + 1000, Tail: marks[3].Tail},
			"a mark without its tail":     {End: marks[2].End},
			"a mark whose tail is cut":    {End: marks[2].End, Tail: marks[2].Tail[1:]},
			"a mark off a record's end":   {End: marks[2].End - 1, Tail: marks[2].Tail},
			"a mark from a longer header": {End: marks[0].End + 1, Tail: marks[0].Tail},
		} {
			if _, _, err := resume(path, m); !errors.Is(err, record.ErrTMXMarkMismatch) {
				t.Errorf("%s: OpenTMXFile = %v, want ErrTMXMarkMismatch", name, err)
			}
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Fatal("the file was changed")
		}
	})

	t.Run("the file before the mark is not read", func(t *testing.T) {
		path, marks := setup(t)
		b, _ := os.ReadFile(path)
		i := strings.Index(string(b), `<tu tuid="a@1#1"`)
		b[i+5] = 0 // damage inside a@1, which a full read reports
		os.WriteFile(path, b, 0o644)
		if _, err := record.OpenTMXFile(path, record.TMXHeader{}, record.TMXMark{}, ignore); !errors.Is(err, record.ErrTMXCorrupt) {
			t.Fatalf("from the start: %v, want ErrTMXCorrupt", err)
		}
		f, recs, err := resume(path, marks[2])
		if err != nil {
			t.Fatalf("from the mark after b@1: %v", err)
		}
		f.Close()
		if got := fmt.Sprint(keys(recs)); got != "[c@1]" {
			t.Fatalf("records %s, want [c@1]", got)
		}
	})
}

const tmxCloseTags = "</body>\n</tmx>\n"
