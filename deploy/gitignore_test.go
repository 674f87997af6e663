package deploy

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dewire/dewire/internal/testenv"
)

func TestAFreshCloneIgnoresWhatRunWrites(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		testenv.RequireOrSkip(t, "git not installed")
	}
	root := testenv.Root(t)
	for _, p := range []string{"dewire-data/jetstream/x", "dewire-out/articles-2026-12-01.jsonl", "deploy/dewire-out/x", "deploy/.env"} {
		cmd := exec.Command(git, "check-ignore", "--no-index", "-q", filepath.FromSlash(p))
		cmd.Dir = root
		if err := cmd.Run(); err != nil {
			t.Errorf("%s is not ignored: %v", p, err)
		}
	}
}
