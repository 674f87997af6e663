package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/dewire/dewire/pipeline/modelstore"
	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/ct2"
	"github.com/dewire/dewire/pipeline/spm"
)

// ct2 opens the embedded engine: --model (a CTranslate2 folder or an
// .argosmodel file), else the installed de-en package. installed is false
// when there is none, so "auto" can move on.
func (e *engineFlags) ct2() (mt.Engine, bool, error) {
	path := e.model
	if path == "" {
		dir, err := modelstore.Dir()
		if err != nil {
			return nil, false, nil
		}
		p, ok := modelstore.Installed(dir, "de", "en")
		if !ok {
			return nil, false, nil
		}
		path = p
	}
	opts := []ct2.Option{
		ct2.WithTokenizerLoader(func(r io.Reader) (ct2.Tokenizer, error) { return spm.Load(r) }),
		ct2.WithModelName(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))),
	}
	if strings.HasSuffix(path, ".argosmodel") {
		pkg, err := modelstore.OpenPackage(path)
		if err != nil {
			return nil, true, err
		}
		if err := pkg.CheckPair("de", "en"); err != nil {
			return nil, true, err
		}
		eng, err := ct2.OpenFS(pkg.FS(), opts...)
		if err != nil {
			return nil, true, fmt.Errorf("model %s: %w", path, err)
		}
		return eng, true, nil
	}
	eng, err := ct2.Open(path, opts...)
	if err != nil {
		return nil, true, fmt.Errorf("model %s: %w", path, err)
	}
	return eng, true, nil
}
