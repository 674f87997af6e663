package normalize_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestZZScratch(t *testing.T) {
	in := os.Getenv("ZZ")
	if in == "" {
		t.Skip()
	}
	lang := os.Getenv("ZZLANG")
	if lang == "" {
		lang = "de"
	}
	n := normalizer(t, lang)
	for _, line := range strings.Split(in, "\n") {
		out, edits, flags := n.Text(line)
		fmt.Printf("IN : %s\nOUT: %s\n", line, out)
		for _, e := range edits {
			fmt.Printf("  E %s %q→%q\n", e.Rule, e.Before, e.After)
		}
		for _, f := range flags {
			fmt.Printf("  F %s @%d %s\n", f.Code, f.Offset, f.Message)
		}
	}
}
