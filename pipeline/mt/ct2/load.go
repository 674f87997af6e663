package ct2

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
)

// LoadDir loads a CTranslate2 model folder (model.bin, optional config.json,
// and its vocabulary files).
func LoadDir(dir string, opts ...LoadOption) (*Model, error) {
	return LoadFS(os.DirFS(dir), ".", opts...)
}

// LoadFS loads the CTranslate2 model folder dir inside fsys.
func LoadFS(fsys fs.FS, dir string, opts ...LoadOption) (*Model, error) {
	cfg := DefaultConfig()
	if b, err := fs.ReadFile(fsys, path.Join(dir, "config.json")); err == nil {
		if err := json.Unmarshal(b, &cfg); err != nil {
			return nil, fmt.Errorf("ct2: %s: %w", path.Join(dir, "config.json"), err)
		}
		if cfg.UnkToken == "" {
			cfg.UnkToken = "<unk>"
		}
		if cfg.EosToken == "" {
			cfg.EosToken = "</s>"
		}
		if cfg.BosToken == "" {
			cfg.BosToken = "<s>"
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("ct2: read config.json: %w", err)
	}

	f, err := readModelFS(fsys, path.Join(dir, "model.bin"))
	if err != nil {
		return nil, err
	}
	src, err := readVocabFS(fsys, dir, "source", cfg.UnkToken)
	if err != nil {
		return nil, err
	}
	tgt, err := readVocabFS(fsys, dir, "target", cfg.UnkToken)
	if err != nil {
		return nil, err
	}
	return NewModel(f, cfg, src, tgt, opts...)
}

func readModelFS(fsys fs.FS, name string) (*File, error) {
	file, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("ct2: open model: %w", err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("ct2: stat %s: %w", name, err)
	}
	f, err := ReadModel(file, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f, nil
}

// readVocabFS finds the side's vocabulary: {side}_vocabulary or
// shared_vocabulary, as .json or .txt.
func readVocabFS(fsys fs.FS, dir, side, unk string) (*Vocabulary, error) {
	for _, base := range []string{side + "_vocabulary", "shared_vocabulary"} {
		for _, ext := range []string{".json", ".txt"} {
			name := path.Join(dir, base+ext)
			file, err := fsys.Open(name)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("ct2: open %s: %w", name, err)
			}
			v, err := ReadVocabulary(file, ext == ".json", unk)
			file.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			return v, nil
		}
	}
	return nil, fmt.Errorf("ct2: %s: no %s_vocabulary or shared_vocabulary (.json or .txt)", dir, side)
}
