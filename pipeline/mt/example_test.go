package mt_test

import (
	"context"
	"fmt"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/mttest"
)

func ExampleTranslator() {
	tr := &mt.Translator{Engine: &mttest.Engine{EngineName: "fake"}, Memory: mt.NewMemoryTM()}
	a := &article.Article{ID: "a1", Rev: 1, DE: article.Text{
		Title:      "Schnee in Schuscha",
		Paragraphs: []string{"Am 4. April schneite es. „Wir warten. Jetzt“, sagte er."},
	}}
	st, err := tr.TranslateArticle(context.Background(), a, func() { /* msg.InProgress() */ })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.EN.Paragraphs[0])
	fmt.Println(st.Segments, st.Translated, st.FromMemory, st.SentChars)

	again, _ := tr.TranslateArticle(context.Background(), a, nil)
	fmt.Println(again.FromMemory, again.SentChars)
	// Output:
	// [en] Am 4. April schneite es. [en] „Wir warten. Jetzt“, sagte er.
	// 3 3 0 72
	// 3 0
}
