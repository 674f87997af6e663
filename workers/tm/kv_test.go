package tm_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/internal/testenv"
	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/mttest"
	"github.com/dewire/dewire/workers/tm"
)

// withJS starts a JetStream server.
func withJS(t *testing.T) jetstream.JetStream {
	t.Helper()
	return natstest.Server(t).JetStream()
}

func TestKV(t *testing.T) {
	js := withJS(t)
	ctx := context.Background()
	m, err := tm.NewKV(ctx, js, "TM_TEST")
	if err != nil {
		t.Fatal(err)
	}
	key := mt.MemoryKey("deepl", "EN-US", "Schnee fiel in Schuscha.")
	t.Run("a missing key is a miss, not an error", func(t *testing.T) {
		if _, ok, err := m.Get(ctx, key); ok || err != nil {
			t.Fatalf("Get = %v, %v", ok, err)
		}
	})
	t.Run("a stored translation comes back", func(t *testing.T) {
		if err := m.Put(ctx, key, "Snow fell in Shusha."); err != nil {
			t.Fatal(err)
		}
		again, err := tm.NewKV(ctx, js, "TM_TEST") // a second replica binds the same bucket
		if err != nil {
			t.Fatal(err)
		}
		if en, ok, err := again.Get(ctx, key); !ok || err != nil || en != "Snow fell in Shusha." {
			t.Fatalf("Get = %q, %v, %v", en, ok, err)
		}
	})
	t.Run("a key that is not hex is refused", func(t *testing.T) {
		if err := m.Put(ctx, "a.b>c", "x"); !errors.Is(err, tm.ErrBadKey) {
			t.Fatalf("Put = %v, want ErrBadKey", err)
		}
	})
}

// seedArticle reads ../shared/seed/article.de.txt: title, lead, paragraphs
// separated by blank lines.
func seedArticle(t *testing.T) *article.Article {
	t.Helper()
	b, err := os.ReadFile(testenv.SharedFile(t, "seed", "article.de.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, blk := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n\n") {
		if blk = strings.TrimSpace(blk); blk != "" {
			blocks = append(blocks, blk)
		}
	}
	return &article.Article{ID: "seed", Rev: 1, DE: article.Text{Title: blocks[0], Lead: blocks[1], Paragraphs: blocks[2:]},
		Entities: []article.Entity{{ID: "putin", DE: "Wladimir Putin", EN: "Vladimir Putin"}}}
}

// TestRevisionSendsOnlyChangedSentences measures characters sent to the
// engine for a fresh article, a revision with one paragraph changed, and a
// replay of the revision.
func TestRevisionSendsOnlyChangedSentences(t *testing.T) {
	seed := seedArticle(t)
	js := withJS(t)
	ctx := context.Background()
	translate := func(a *article.Article) mt.Stats {
		t.Helper()
		m, err := tm.NewKV(ctx, js, "TM") // a fresh handle each time, as after a restart
		if err != nil {
			t.Fatal(err)
		}
		tr := &mt.Translator{Engine: &mttest.Engine{EngineName: "deepl", ModelName: "EN-US", Lim: mt.Limits{MaxSegments: 50, MaxBytes: 124 << 10}}, Memory: m}
		st, err := tr.TranslateArticle(ctx, a, nil)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	fresh := translate(seed)

	revised := seedArticle(t)
	revised.Rev = 2
	p := len(revised.DE.Paragraphs) - 2
	revised.DE.Paragraphs[p] = strings.Replace(revised.DE.Paragraphs[p], "Schnee fiel in Shusha.", "Schnee fiel in Schuscha.", 1)
	if revised.DE.Paragraphs[p] == seed.DE.Paragraphs[p] {
		t.Fatal("seed changed: the revised sentence is not there")
	}
	rev := translate(revised)

	replay := seedArticle(t)
	replay.DE = revised.DE
	replay.Rev = 2
	again := translate(replay)

	t.Logf("characters sent to the engine: fresh %d (%d sentences), one-paragraph revision %d (%d of %d sentences), replay %d",
		fresh.SentChars, fresh.Translated, rev.SentChars, rev.Translated, rev.Segments, again.SentChars)
	if again.SentChars != 0 || again.FromMemory != again.Segments {
		t.Errorf("replay sent %d characters; want 0", again.SentChars)
	}
	if rev.Translated != 1 || rev.SentChars >= fresh.SentChars {
		t.Errorf("revision translated %d sentences (%d chars); want only the changed one", rev.Translated, rev.SentChars)
	}
	if revised.EN.Paragraphs[0] != seed.EN.Paragraphs[0] || replay.EN.Paragraphs[p] != revised.EN.Paragraphs[p] {
		t.Errorf("English differs between memory and engine")
	}
}
