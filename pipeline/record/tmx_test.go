package record_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
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
		f, err := record.OpenTMXFile(path, record.TMXHeader{})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Append(a); err != nil {
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
			f, err := record.OpenTMXFile(path, record.TMXHeader{})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range as {
				if err := f.Append(a); err != nil {
					t.Fatal(err)
				}
			}
			f.Close()
			b, _ := os.ReadFile(path)
			os.WriteFile(path, tt.cut(b), 0o644)
			f, err = record.OpenTMXFile(path, record.TMXHeader{})
			if err != nil {
				t.Fatal(err)
			}
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
