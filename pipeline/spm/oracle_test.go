package spm_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dewire/dewire/internal/testenv"

	"github.com/dewire/dewire/pipeline/spm"
)

func loadModelFile(t testing.TB, path string) *spm.Model {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := spm.Load(f)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return m
}

func readLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// runTool runs an oracle command with one input line per element and
// returns its output lines.
func runTool(t testing.TB, lines []string, name string, args ...string) []string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v: %s", filepath.Base(name), err, stderr.String())
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(got) != len(lines) {
		t.Fatalf("%s returned %d lines for %d", filepath.Base(name), len(got), len(lines))
	}
	return got
}

// compareWithOracle encodes every line with spm_encode (pieces and ids) and
// decodes the pieces with spm_decode, reporting each disagreement.
func compareWithOracle(t *testing.T, modelPath string, m *spm.Model, lines []string) {
	t.Helper()
	encode := testenv.Tool(t, "spm_encode", "sentencepiece")
	decode := testenv.Tool(t, "spm_decode", "sentencepiece")
	wantPieces := runTool(t, lines, encode, "--model="+modelPath, "--output_format=piece")
	wantIDs := runTool(t, lines, encode, "--model="+modelPath, "--output_format=id")
	wantText := runTool(t, wantPieces, decode, "--model="+modelPath, "--input_format=piece")
	var pieceDiff, idDiff, textDiff int
	report := func(n *int, format string, args ...any) {
		*n++
		if *n <= 5 {
			t.Errorf(format, args...)
		}
	}
	for i, line := range lines {
		pieces := m.Encode(line)
		if got := strings.Join(pieces, " "); got != wantPieces[i] {
			report(&pieceDiff, "line %d %q pieces:\n got %s\nwant %s", i+1, line, got, wantPieces[i])
		}
		if got := fmt.Sprint(m.EncodeIDs(line)); got != "["+wantIDs[i]+"]" {
			report(&idDiff, "line %d %q ids:\n got %s\nwant [%s]", i+1, line, got, wantIDs[i])
		}
		if got := m.Decode(splitPieces(wantPieces[i])); got != wantText[i] {
			report(&textDiff, "line %d %q decoded:\n got %q\nwant %q", i+1, line, got, wantText[i])
		}
	}
	t.Logf("%d lines compared: %d piece, %d id, %d decode mismatches", len(lines), pieceDiff, idDiff, textDiff)
}

// decodeCases are piece sequences Encode never produces but Decode must
// handle as the reference does.
var decodeCases = []string{
	"<s> ▁die </s>",
	"▁ ▁ ▁die",
	"▁die ▁ ▁",
	"<0xF0> <0x9F> <0x99> <0x82> ▁und",
	"<0xFF> ▁a <0xE4> <0xB8>",
	"<unk> ▁die <unk>",
	"▁▁a XYZ ▁die",
	"</s>",
}

// compareDecodeWithOracle decodes decodeCases with spm_decode and Decode.
func compareDecodeWithOracle(t *testing.T, modelPath string, m *spm.Model) {
	t.Helper()
	want := runTool(t, decodeCases, testenv.Tool(t, "spm_decode", "sentencepiece"), "--model="+modelPath, "--input_format=piece")
	for i, line := range decodeCases {
		if got := m.Decode(splitPieces(line)); got != want[i] {
			t.Errorf("Decode(%s) = %q, spm_decode gives %q", line, got, want[i])
		}
	}
}

// splitPieces splits spm_encode output on ASCII spaces only: with identity
// normalization a piece may be a tab or a no-break space.
func splitPieces(line string) []string {
	if line == "" {
		return nil
	}
	return strings.Split(line, " ")
}

func corpusFiles(shared string) []string {
	dir := filepath.Join(shared, "corpora", "wmt22")
	return []string{
		filepath.Join(dir, "generaltest2022.de-en.src.de"),
		filepath.Join(dir, "generaltest2022.en-de.ref.A.de"),
		filepath.Join(dir, "generaltest2022.de-en.ref.A.en"),
	}
}

func TestEncodeMatchesSpmEncodeOnRealVocabulary(t *testing.T) {
	shared := testenv.Shared(t)
	testenv.Tool(t, "spm_encode", "sentencepiece")
	testenv.Tool(t, "spm_decode", "sentencepiece")
	modelPath := filepath.Join(shared, "fixtures", "spm", "vocab.deen.spm")
	m := loadModelFile(t, modelPath)
	for _, file := range corpusFiles(shared) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			compareWithOracle(t, modelPath, m, readLines(t, file))
		})
	}
	t.Run("edge cases", func(t *testing.T) {
		compareWithOracle(t, modelPath, m, edgeCases)
	})
	t.Run("decoding odd piece sequences", func(t *testing.T) {
		compareDecodeWithOracle(t, modelPath, m)
	})
}

func TestEncodeMatchesSpmEncodeOnTrainedModels(t *testing.T) {
	if testing.Short() {
		t.Skip("trains models; skipped with -short")
	}
	shared := testenv.Shared(t)
	train := testenv.Tool(t, "spm_train", "sentencepiece")
	testenv.Tool(t, "spm_encode", "sentencepiece")
	testenv.Tool(t, "spm_decode", "sentencepiece")
	src := readLines(t, filepath.Join(shared, "corpora", "wmt22", "generaltest2022.en-de.ref.B.de"))
	input := filepath.Join(t.TempDir(), "train.de")
	if err := os.WriteFile(input, []byte(strings.Join(src, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	models := []struct {
		name  string
		flags []string
	}{
		{"with byte fallback and user-defined symbols", []string{"--byte_fallback=true", "--user_defined_symbols=<sep>,EUR"}},
		{"with identity normalization and whitespace as suffix", []string{"--normalization_rule_name=identity", "--treat_whitespace_as_suffix=true"}},
		{"with case folding and no dummy prefix", []string{"--normalization_rule_name=nmt_nfkc_cf", "--add_dummy_prefix=false", "--remove_extra_whitespaces=false"}},
	}
	for _, tm := range models {
		t.Run(tm.name, func(t *testing.T) {
			prefix := filepath.Join(t.TempDir(), "de")
			args := append([]string{"--input=" + input, "--model_prefix=" + prefix,
				"--vocab_size=2000", "--model_type=unigram", "--character_coverage=0.9995",
				"--num_threads=2", "--minloglevel=2"}, tm.flags...)
			if out, err := exec.Command(train, args...).CombinedOutput(); err != nil {
				t.Fatalf("spm_train: %v\n%s", err, lastLines(out, 20))
			}
			modelPath := prefix + ".model"
			m := loadModelFile(t, modelPath)
			for _, file := range corpusFiles(shared) {
				t.Run(filepath.Base(file), func(t *testing.T) {
					compareWithOracle(t, modelPath, m, readLines(t, file))
				})
			}
			t.Run("edge cases", func(t *testing.T) {
				compareWithOracle(t, modelPath, m, edgeCases)
			})
			t.Run("decoding odd piece sequences", func(t *testing.T) {
				compareDecodeWithOracle(t, modelPath, m)
			})
		})
	}
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// edgeCases exercise normalization and fallback paths the corpora rarely hit.
var edgeCases = []string{
	"",
	" ",
	"   führende und   doppelte  Leerzeichen   ",
	"\tTab\tgetrennt\u00a0geschütztes\u2009Leerzeichen",
	"Ligaturen: ﬁnden ﬂach, Vollbreite: ＡＢＣ１２３",
	"Emoji 🙂 und 中文 und ελληνικά und עברית",
	"Zero\u200bwidth\u200djoiner and soft\u00adhyphen",
	"„Anführungszeichen“ ‚einfach‘ »Guillemets« «français»",
	"kombiniert: a\u0308 o\u0308 u\u0308 vs ä ö ü; ß ẞ",
	"Ⅻ ½ ² ℃ № ™ … — –",
	"<sep> EUR 100EUR <s> </s> <unk>",
	"\ufffd ungültig \u2581 Unterstrich▁Zeichen",
	"<0xE2> <0x41> wörtlich",
	"ȷ̈ ǅ ﬀ ﬃ",
	"a\x80b\xffc",
}
