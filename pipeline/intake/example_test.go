package intake_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dewire/dewire/pipeline/intake"
)

func ExampleReader_Read() {
	input := `{"title":"Lawrow trifft Bayramov","paragraphs":["Die Außenminister sprachen in Moskau."],"guid":"a-1"}
{"title":"Kaputt",
`
	r := &intake.Reader{Now: func() time.Time { return time.Date(2021, 4, 13, 0, 0, 0, 0, time.UTC) }}
	err := r.Read(context.Background(), strings.NewReader(input), intake.Origin{Name: "Trend", Path: "feed.jsonl"},
		func(it intake.Item) error {
			if it.Reject != nil {
				fmt.Printf("line %d rejected: %s\n", it.Line, it.Reject.Reject.Code)
				return nil
			}
			fmt.Printf("line %d accepted: %s from %s\n", it.Line, it.Article.DE.Title, it.Article.Source.Name)
			return nil
		})
	fmt.Println(err)
	// Output:
	// line 1 accepted: Lawrow trifft Bayramov from trend
	// line 2 rejected: input.bad_json
	// <nil>
}

func ExampleFormatPlain() {
	t := intake.ParsePlain("Titel\r\n\r\nerste Zeile\r\nzweite Zeile\r\n\r\nzweiter Absatz")
	fmt.Print(intake.FormatPlain(&t))
	// Output:
	// Titel
	//
	// erste Zeile zweite Zeile
	//
	// zweiter Absatz
}
