package langid_test

import (
	"fmt"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/langid"
)

func ExampleGate_IsGerman() {
	gate, err := langid.New(langid.Options{})
	if err != nil {
		panic(err)
	}
	ok, code, _ := gate.IsGerman(&article.Text{
		Title:      "Peskov: Keine neuen Gespräche geplant",
		Paragraphs: []string{"Der Sprecher des Kremls sagte am Montag, dass es derzeit keine Pläne für ein Treffen gebe und dass die Position Moskaus unverändert sei."},
	})
	fmt.Println(ok, code)
	ok, code, _ = gate.IsGerman(&article.Text{
		Title:      "Peskov: No new talks planned",
		Paragraphs: []string{"The Kremlin spokesman said on Monday that there were currently no plans for a meeting and that Moscow's position was unchanged."},
	})
	fmt.Println(ok, code)
	// Output:
	// true de
	// false en
}
