package textfix_test

import (
	"fmt"

	"github.com/dewire/dewire/pipeline/textfix"
)

func ExampleFixer_Fix() {
	f, err := textfix.New(textfix.Style{Lang: "de"})
	if err != nil {
		panic(err)
	}
	out, edits, flags := f.Fix("Der Park ist offen. Sie können gehen und sehen “, sagte Aliyev.")
	fmt.Println(out)
	for _, e := range edits {
		fmt.Printf("%s at %d: %q → %q\n", e.Rule, e.Offset, e.Before, e.After)
	}
	for _, fl := range flags {
		fmt.Println("flag:", fl.Code)
	}
	// Output:
	// Der Park ist offen. „Sie können gehen und sehen“, sagte Aliyev.
	// quote.opening_restored at 20: "" → "„"
	// quote.spacing at 50: " “" → "“"
	// flag: quote.opening_restored
}
