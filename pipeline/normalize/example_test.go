package normalize_test

import (
	"fmt"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/normalize"
)

func ExampleNormalizer_Article() {
	n, err := normalize.New("de")
	if err != nil {
		panic(err)
	}
	a := &article.Article{DE: article.Text{
		Title:      "Aliyev kündigte ein Gespräch mit Putin an",
		Paragraphs: []string{"Das sagte Dmitry Peskov in Moskau??"},
	}}
	n.Article(a)
	fmt.Println(a.DE.Title)
	fmt.Println(a.DE.Paragraphs[0])
	for _, e := range a.Edits {
		fmt.Printf("%s %s: %q → %q\n", e.Field, e.Rule, e.Before, e.After)
	}
	// Output:
	// Alijew kündigte ein Gespräch mit Putin an
	// Das sagte Dmitri Peskow in Moskau?
	// de.paragraphs[0] punct.collapse: "??" → "?"
	// de.title names.canonical: "Aliyev" → "Alijew"
	// de.paragraphs[0] names.canonical: "Dmitry Peskov" → "Dmitri Peskow"
}
