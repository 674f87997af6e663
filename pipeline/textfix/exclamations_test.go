package textfix_test

import (
	"testing"

	"github.com/dewire/dewire/pipeline/textfix"
)

func TestRepeatedExclamationMarks(t *testing.T) {
	const in = "Tokajew versprach, die Reformen fortzusetzen!!"
	t.Run("are flagged and left alone by default", func(t *testing.T) {
		f, _ := textfix.New(textfix.Style{Lang: "de"})
		out, edits, flags := f.Fix(in)
		if out != in || len(edits) != 0 {
			t.Fatalf("changed to %q (%v)", out, edits)
		}
		if len(flags) != 1 || flags[0].Code != textfix.FlagRepeatedExclamation || flags[0].Offset != len(in)-2 {
			t.Fatalf("flags %+v", flags)
		}
	})
	t.Run("are collapsed when the desk style says so", func(t *testing.T) {
		f, _ := textfix.New(textfix.Style{Lang: "de", Exclamations: textfix.ExclamationsCollapse})
		out, edits, _ := f.Fix(in)
		if out != "Tokajew versprach, die Reformen fortzusetzen!" || len(edits) != 1 || edits[0].Rule != textfix.RulePunctCollapse {
			t.Fatalf("%q %+v", out, edits)
		}
	})
	t.Run("an unknown policy is an error", func(t *testing.T) {
		if _, err := textfix.New(textfix.Style{Exclamations: "shout"}); err == nil {
			t.Fatal("accepted")
		}
	})
}
