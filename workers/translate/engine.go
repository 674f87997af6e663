package translate

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"go.uber.org/zap"

	"github.com/dewire/dewire/pipeline/modelstore"
	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/ct2"
	"github.com/dewire/dewire/pipeline/mt/engines"
	"github.com/dewire/dewire/pipeline/names"
	"github.com/dewire/dewire/pipeline/spm"
)

// EngineConfig chooses the engine of a translate worker (and of the offline
// `dewire translate`): the service settings, plus Model for the embedded
// ct2 engine (a CTranslate2 folder or an .argosmodel file; empty: the
// installed de-en package) and ComputeType for how it computes (zero:
// ct2.DefaultComputeType).
type EngineConfig struct {
	engines.Config
	Model       string
	ComputeType ct2.ComputeType
}

// OpenEngine opens the engine cfg names, logging what it chose (and, for the
// none engine, how to enable translation). A DeepL engine gets one glossary
// built from the whole gazetteer.
func OpenEngine(ctx context.Context, cfg EngineConfig, log *zap.Logger) (mt.Engine, error) {
	if log == nil {
		log = zap.NewNop()
	}
	c := cfg.Config
	c.CT2 = func() (mt.Engine, bool, error) { return openCT2(cfg.Model, cfg.ComputeType) }
	if c.DeepLAuthKey != "" && len(c.DeepLGlossary) == 0 {
		if g, err := names.Default(); err == nil {
			for _, ent := range g.Entities() {
				if ent.DE != "" && ent.EN != "" && ent.DE != ent.EN {
					c.DeepLGlossary = append(c.DeepLGlossary, mt.Term{DE: ent.DE, EN: ent.EN})
				}
			}
		}
	}
	eng, hint, err := engines.Open(ctx, c)
	if err != nil {
		return nil, err
	}
	switch {
	case hint != "" && eng.Name() == "none":
		log.Warn(hint)
	case hint != "":
		log.Info(hint)
	}
	log.Info("translation engine", zap.String("engine", eng.Name()), zap.String("model", eng.Model()))
	return eng, nil
}

// NewTranslator is the translator every translate worker and the offline
// command use: the engine behind the translation memory.
func NewTranslator(eng mt.Engine, memory mt.Memory) *mt.Translator {
	return &mt.Translator{Engine: eng, Memory: memory}
}

// openCT2 opens the embedded engine from path, else the installed de-en
// package. installed is false when there is none, so "auto" can move on.
func openCT2(path string, compute ct2.ComputeType) (mt.Engine, bool, error) {
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
		ct2.WithComputeType(compute),
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
