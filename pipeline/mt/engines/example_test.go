package engines_test

import (
	"context"
	"fmt"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/engines"
)

func ExampleOpen() {
	eng, hint, err := engines.Open(context.Background(), engines.Config{
		Name: "auto",
		CT2:  func() (mt.Engine, bool, error) { return nil, false, nil }, // no model installed
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(eng.Name())
	fmt.Println(hint == mt.NoneHint)
	// Output:
	// none
	// true
}
