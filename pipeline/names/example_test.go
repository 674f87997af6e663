package names_test

import (
	"fmt"

	"github.com/dewire/dewire/pipeline/names"
)

func ExampleKey() {
	fmt.Println(names.Key("Konaschenkow") == names.Key("Konashenkov"))
	fmt.Println(names.Key("Alijew") == names.Key("Əliyev"))
	// Output:
	// true
	// true
}

func ExampleRewriter_Text() {
	g, err := names.Default()
	if err != nil {
		panic(err)
	}
	rw, err := names.NewRewriter(g, names.Options{Lang: "de"})
	if err != nil {
		panic(err)
	}
	out, res := rw.Text("Nikolai Pashinyan traf Aliyev in Shusha.")
	fmt.Println(out)
	for _, e := range res.Edits {
		fmt.Printf("%s: %s → %s\n", e.Rule, e.Before, e.After)
	}
	// Output:
	// Nikol Paschinjan traf Alijew in Schuscha.
	// names.first_name: Nikolai Pashinyan → Nikol Paschinjan
	// names.canonical: Aliyev → Alijew
	// names.canonical: Shusha → Schuscha
}
