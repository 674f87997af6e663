package local_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/internal/schematest"
	"github.com/dewire/dewire/internal/testenv"
	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/deepl"
	"github.com/dewire/dewire/pipeline/record"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/local"
	"github.com/dewire/dewire/workers/sink"
	"github.com/dewire/dewire/workers/tm"
)

// rawEnglish is what a careless engine answers: the German sentence with
// German name forms kept and every quotation mark straightened.
func rawEnglish(de string) string {
	return strings.NewReplacer("„", `"`, "“", `"`, "”", `"`, "‚", "'", "‘", "'", "»", `"`, "«", `"`).Replace(de)
}

type tmxDoc struct {
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

func TestSegmentsAndTMXCarryTheFinalEnglish(t *testing.T) {
	seed := testenv.SharedFile(t, "seed", "article.de.txt")
	dtd := testenv.SharedFile(t, "fixtures", "tmx", "tmx14.dtd")
	xmllint := testenv.Tool(t, "xmllint", "libxml2-utils")
	examples := filepath.Join(testenv.Root(t), "examples", "articles")

	fake := &fakeDeepL{glossaries: map[string][]mt.Term{}, calls: map[int]int{}, english: rawEnglish}
	srv := httptestServer(t, fake)
	cfg := config(t, nil)
	cfg.Translator = nil
	cfg.NewTranslator = func(ctx context.Context, js jetstream.JetStream) (local.Translator, error) {
		eng, err := deepl.New(deepl.Config{URL: srv, AuthKey: deeplKey})
		if err != nil {
			return nil, err
		}
		mem, err := tm.NewKV(ctx, js, bus.BucketMemory)
		if err != nil {
			return nil, err
		}
		return &mt.Translator{Engine: eng, Memory: mem}, nil
	}
	tmx, err := sink.OpenTMX(cfg.OutDir, record.TMXHeader{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Extras = []sink.Writer{tmx}
	p := start(t, cfg)
	defer p.Close()
	ctx := waitCtx(t, 2*time.Minute)
	if err := p.Ingest(ctx, []string{seed, examples}, local.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx, nil); err != nil {
		t.Fatalf("wait: %v (%+v)", err, p.Stats())
	}
	tmx.Close()

	recs := readSink(t, cfg.OutDir) // validates every line against the schema
	rejected, err := p.JetStream().Stream(ctx, bus.StreamRejected)
	if err != nil {
		t.Fatal(err)
	}
	info, err := rejected.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs < 2 {
		t.Errorf("%d rejection records, want the two foreign-language examples", info.State.Msgs)
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := rejected.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		schematest.Validate(t, m.Data) // rejection records follow the schema too
	}
	if len(recs) < 2 {
		t.Fatalf("%d records, want the seed and the examples", len(recs))
	}
	jsonl, _ := filepath.Glob(filepath.Join(cfg.OutDir, "articles-*.jsonl"))
	for _, f := range jsonl {
		body, _ := os.ReadFile(f)
		if bytes.Contains(body, []byte(":null")) {
			t.Errorf("%s has a null field", f)
		}
	}

	pairs := map[string][]article.Segment{}
	curly := 0
	for _, a := range recs {
		if a.EN == nil || len(a.Segments) == 0 {
			t.Errorf("%s: not translated", a.Key())
			continue
		}
		pairs[a.Key()] = a.Segments
		for i, s := range a.Segments {
			final := paragraph(a.EN, s.Para)
			if s.EN == "" || !strings.Contains(final, s.EN) {
				t.Errorf("%s segment %d: English %q is not part of the final English %q", a.Key(), i, s.EN, final)
			}
			if strings.Contains(s.EN, `"`) {
				t.Errorf("%s segment %d keeps a straight quote: %q", a.Key(), i, s.EN)
			}
			curly += strings.Count(s.EN, "“")
		}
	}
	if curly == 0 {
		t.Error("no segment carries a repaired quotation mark; the fake's straight quotes were not exercised")
	}

	files, _ := filepath.Glob(filepath.Join(cfg.OutDir, "*.tmx"))
	if len(files) == 0 {
		t.Fatal("no TMX written")
	}
	units := 0
	for _, f := range files {
		if out, err := exec.Command(xmllint, "--noout", "--dtdvalid", dtd, f).CombinedOutput(); err != nil {
			t.Errorf("xmllint --dtdvalid %s: %v\n%s", f, err, out)
		}
		body, _ := os.ReadFile(f)
		var doc tmxDoc
		if err := xml.Unmarshal(body, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tu := range doc.TUs {
			units++
			key, n, _ := strings.Cut(tu.TUID, "#")
			i, err := strconv.Atoi(n)
			segs := pairs[key]
			if err != nil || i < 1 || i > len(segs) || len(tu.TUVs) != 2 {
				t.Errorf("<tu tuid=%q> is no segment of a record", tu.TUID)
				continue
			}
			s := segs[i-1]
			if tu.TUVs[0].Seg != s.DE || tu.TUVs[1].Seg != s.EN {
				t.Errorf("<tu tuid=%q> is (%q, %q), the record's segment (%q, %q)", tu.TUID, tu.TUVs[0].Seg, tu.TUVs[1].Seg, s.DE, s.EN)
			}
		}
	}
	want := 0
	for _, s := range pairs {
		want += len(s)
	}
	if units != want {
		t.Errorf("TMX has %d units, the records %d segments", units, want)
	}
}

// paragraph is the English field a segment's para index names.
func paragraph(t *article.Text, para int) string {
	switch {
	case para == article.ParaTitle:
		return t.Title
	case para == article.ParaLead:
		return t.Lead
	case para >= 0 && para < len(t.Paragraphs):
		return t.Paragraphs[para]
	}
	return ""
}

func httptestServer(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
