package ct2_test

import (
	"testing"

	"github.com/dewire/dewire/internal/testenv"
	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/ct2"
	"github.com/dewire/dewire/pipeline/mt/mttest"
)

// TestContract runs the engine contract on the CTranslate2 test model in
// ../shared/fixtures/ct2, whose translations CTranslate2's own tests fix
// (EXPECTED.md).
func TestContract(t *testing.T) {
	dir := testenv.SharedFile(t, "fixtures", "ct2", "v2", "aren-transliteration")
	features := mttest.Features{
		// The model transliterates Arabic names token by token; it knows
		// no German, so the suite uses these rows of EXPECTED.md.
		Samples: []mttest.Sample{
			{Source: "آ ت ز م و ن", Translation: "a t z m o n"},
			{Source: "آ ت ش ي س و ن", Translation: "a c h i s o n"},
			{Source: "آ ز ا", Translation: "a z z a"},
		},
		// Glossary: no. A CTranslate2 model takes no glossary; the
		// Translator checks and repairs entity forms after it.
		// Failures and Hang: none. The engine runs in process, with no
		// service to refuse or hold a request; cancellation is still
		// checked with a cancelled context.
		// SplitsLargeRequests: no. The engine refuses more segments than
		// its Limits, and mt.Translator batches within them.
	}
	mttest.Run(t, features, func(t *testing.T, b mttest.Behaviour) mt.Engine {
		if b != mttest.Normal {
			t.Fatalf("the suite asked for a %s service, which Features does not name", b)
		}
		e, err := ct2.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		return e
	})
}
