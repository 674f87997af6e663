package mttest_test

import (
	"context"
	"fmt"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/mttest"
)

func ExampleEngine() {
	eng := &mttest.Engine{Lim: mt.Limits{MaxSegments: 50}}
	res, _ := eng.Translate(context.Background(), mt.Request{
		Segments: []string{"Schnee fiel in Schuscha."},
		Glossary: []mt.Term{{DE: "Schuscha", EN: "Shusha"}},
	})
	fmt.Println(res.Translations[0], eng.Counts().Chars)
	// Output: [en] Schnee fiel in Shusha. 24
}
