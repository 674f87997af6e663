package textfix_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/dewire/dewire/internal/testenv"

	"github.com/dewire/dewire/pipeline/textfix"
)

type ftfyCase struct {
	Label    string `json:"label"`
	Original string `json:"original"`
	Fixed    string `json:"fixed"`
	FixedEnc string `json:"fixed-encoding"`
	Expect   string `json:"expect"`
}

// uncurl maps curly quotes to ASCII, as ftfy's expected output does.
var uncurl = strings.NewReplacer("„", `"`, "“", `"`, "”", `"`, "‚", "'", "‘", "'", "’", "'", "«", `"`, "»", `"`)

// TestMojibakeVectors runs ftfy's test vectors through the encoding repair
// alone (comparing modulo quote characters) and asserts that the negative
// cases, legitimate text that merely looks odd, are never changed.
func TestMojibakeVectors(t *testing.T) {
	f := mustNew(t, textfix.Style{Lang: "en"})
	total, fixed := 0, 0
	for _, name := range []string{"synthetic.json", "in-the-wild.json", "negative.json", "known-failures.json"} {
		raw, err := os.ReadFile(testenv.SharedFile(t, "corpora", "ftfy", name))
		if err != nil {
			t.Fatal(err)
		}
		var cases []ftfyCase
		if err := json.Unmarshal(raw, &cases); err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			want := c.Fixed
			if c.FixedEnc != "" {
				want = c.FixedEnc
			}
			got := textfix.FixEncoding(f, c.Original)
			ok := uncurl.Replace(got) == uncurl.Replace(want)
			if name == "negative.json" && !ok {
				t.Errorf("%s: legitimate text changed:\n%q\n%q", c.Label, c.Original, got)
			}
			if c.Original != want || name != "negative.json" {
				total++
				if ok {
					fixed++
				} else if testing.Verbose() {
					t.Logf("%s %s (%s):\n  in   %q\n  got  %q\n  want %q", name, c.Label, c.Expect, c.Original, got, want)
				}
			}
		}
	}
	t.Logf("ftfy vectors: %d of %d repaired (modulo quote characters)", fixed, total)
}

func TestMojibake(t *testing.T) {
	f := mustNew(t, textfix.Style{Lang: "de"})
	cases := []struct{ name, in, want string }{
		{"German umlauts read as Windows-1252 are restored", "FÃ¼r die BehÃ¶rden", "Für die Behörden"},
		{"mis-decoded German quotation marks become curly marks, not ASCII", "Er sagte â€žJaâ€œ.", "Er sagte „Ja“."},
		{"Portuguese text with Ã is left alone", "SÃO PAULO, São Paulo", "SÃO PAULO, São Paulo"},
		{"a capital umlaut before a closing mark is left alone", "Die Marke „Ä“ ist neu.", "Die Marke „Ä“ ist neu."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, _, _ := f.Fix(c.in); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}
