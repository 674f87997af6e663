package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dewire/dewire/pipeline/intake"
)

// Source reads inputs and hands every item to Emit.
type Source struct {
	Reader *intake.Reader
	Stdin  io.Reader // for "-"; default os.Stdin
	// Name, when set, is the source name of every item; otherwise the
	// folder or file name decides (intake.DefaultSourceName).
	Name string
	Emit func(ctx context.Context, it intake.Item) error
	// OnError is told about a file that could not be read (the walk goes
	// on, and a watched file is tried again next round); nil means such
	// errors end the walk.
	OnError func(path string, err error)

	seen     map[string]fileStamp
	reported map[string]fileStamp // unreadable files already reported, so a watch logs each once
}

type fileStamp struct {
	size int64
	mod  time.Time
}

// Paths reads every path: a file, a folder (recursively, in name order,
// skipping hidden files), or "-" for stdin.
func (s *Source) Paths(ctx context.Context, paths []string) error {
	for _, p := range paths {
		if err := s.path(ctx, p, false); err != nil {
			return err
		}
	}
	return nil
}

// Watch reads the folders now and then every interval, picking up files
// that are new or changed since they were last read, until ctx ends. A file
// that cannot be read is reported and tried again next round; only the end
// of ctx (or an error without OnError) stops the watch.
func (s *Source) Watch(ctx context.Context, paths []string, interval time.Duration) error {
	for {
		for _, p := range paths {
			if p == "-" {
				continue
			}
			if err := s.path(ctx, p, true); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

func (s *Source) path(ctx context.Context, p string, onlyChanged bool) error {
	if p == "-" {
		in := s.Stdin
		if in == nil {
			in = os.Stdin
		}
		return s.read(ctx, in, "-")
	}
	st, err := os.Stat(p)
	if err != nil {
		return s.fail(p, err)
	}
	if !st.IsDir() {
		return s.file(ctx, p, st, onlyChanged)
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return s.fail(path, err)
		}
		name := d.Name()
		if path != p && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			if err := s.fail(f, err); err != nil {
				return err
			}
			continue
		}
		if err := s.file(ctx, f, st, onlyChanged); err != nil {
			return err
		}
	}
	return nil
}

func (s *Source) file(ctx context.Context, path string, st os.FileInfo, onlyChanged bool) error {
	stamp := fileStamp{size: st.Size(), mod: st.ModTime()}
	if s.seen == nil {
		s.seen = map[string]fileStamp{}
	}
	if onlyChanged && s.seen[path] == stamp {
		return nil
	}
	if onlyChanged && time.Since(stamp.mod) < 500*time.Millisecond {
		return nil // probably still being written: next round
	}
	f, err := os.Open(path)
	if err != nil {
		return s.failOnce(path, stamp, err)
	}
	defer f.Close()
	if err := s.read(ctx, f, path); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Not marked as seen: a watch reads it again next round (items
		// already published come back as duplicates).
		return s.failOnce(path, stamp, err)
	}
	s.seen[path] = stamp
	delete(s.reported, path)
	return nil
}

func (s *Source) read(ctx context.Context, r io.Reader, path string) error {
	err := s.Reader.Read(ctx, r, intake.Origin{Name: s.Name, Path: path}, func(it intake.Item) error {
		return s.Emit(ctx, it)
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("ingest %s: %w", path, err)
	}
	return err
}

// failOnce reports an unreadable file once per version of it.
func (s *Source) failOnce(path string, stamp fileStamp, err error) error {
	if s.OnError != nil {
		if s.reported == nil {
			s.reported = map[string]fileStamp{}
		}
		if old, ok := s.reported[path]; ok && old == stamp {
			return nil
		}
		s.reported[path] = stamp
	}
	return s.fail(path, err)
}

func (s *Source) fail(path string, err error) error {
	if s.OnError != nil {
		s.OnError(path, err)
		return nil
	}
	return fmt.Errorf("ingest %s: %w", path, err)
}
