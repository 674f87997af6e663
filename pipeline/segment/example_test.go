package segment_test

import (
	"fmt"

	"github.com/dewire/dewire/pipeline/segment"
)

func ExampleSplit() {
	text := "Am 1. April sprach Dr. Müller. „Wir warten. Jetzt“, sagte er."
	for _, s := range segment.Split("de", text) {
		fmt.Printf("%d-%d %s\n", s.Start, s.End, s.Text)
	}
	// Output:
	// 0-31 Am 1. April sprach Dr. Müller.
	// 32-66 „Wir warten. Jetzt“, sagte er.
}
