package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dewire/dewire/pipeline/intake"
)

// Reasons an input is skipped (OnSkip, and the reason label of
// dewire_ingest_skipped_total).
const (
	SkipHidden     = "hidden"           // a name starting with "." (editors' and rename-into-place temporaries, ConfigMap internals)
	SkipNotRegular = "not_regular_file" // a socket, FIFO or device
	SkipLoop       = "symlink_loop"     // a folder reached again through a symbolic link (a loop, or a second link to it)
	SkipSameFile   = "same_file"        // a file already read under another name (a hard or symbolic link)
)

// Source reads inputs and hands every item to Emit.
//
// Folders are read recursively in name order. Symbolic links are followed
// (Kubernetes ConfigMap and Secret volumes consist of them); a folder that
// links back to one being read and a file reached a second time are skipped
// with a reason, so nothing is read twice and no walk loops. Names starting
// with "." are skipped.
//
// While watching, a new or changed file is read only once it is stable: its
// size and modification time are the same in two rounds in a row (and,
// with Settle set, have stayed so for Settle), or it was last modified at
// least Settle (default 2 s) ago. Writers that cannot guarantee this
// should write to a hidden name (".article.json.tmp") and rename the file
// into place when it is complete: a rename is atomic, and hidden names are
// never read.
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
	// OnSkip is told once about each input left alone on purpose, with one
	// of the Skip reasons.
	OnSkip func(path, reason string)
	// Settle, when set, is how long a watched file's size and modification
	// time must stay the same before it is read, and how long ago a file
	// must have been modified to be read in the round it first appears
	// (default: one more round, and 2 s).
	Settle time.Duration
	// now is the clock (default time.Now).
	now func() time.Time

	seen     map[string]fileStamp   // files read, as they were
	pending  map[string]pendingFile // changed files waiting to be stable
	reported map[string]fileStamp   // unreadable files already reported, so a watch logs each once
	skipped  map[string]string      // inputs skipped, so a watch tells each once
}

type fileStamp struct {
	size int64
	mod  time.Time
}

// pendingFile is a watched file seen changed, and since when it is so.
type pendingFile struct {
	stamp fileStamp
	since time.Time
}

// Paths reads every path: a file, a folder (recursively, in name order), or
// "-" for stdin.
func (s *Source) Paths(ctx context.Context, paths []string) error {
	for _, p := range paths {
		if err := s.path(ctx, p, false); err != nil {
			return err
		}
	}
	return nil
}

// Watch reads the folders now and then every interval, picking up files
// that are new or changed since they were last read once they are stable,
// until ctx ends. A file that cannot be read is reported and tried again
// next round; only the end of ctx (or an error without OnError) stops the watch.
func (s *Source) Watch(ctx context.Context, paths []string, interval time.Duration) error {
	for {
		if err := s.Scan(ctx, paths); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
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

// Scan is one round of Watch: it reads the files that are new or changed
// and stable (stdin is not watched).
func (s *Source) Scan(ctx context.Context, paths []string) error {
	for _, p := range paths {
		if p == "-" {
			continue
		}
		if err := s.path(ctx, p, true); err != nil {
			return err
		}
	}
	return nil
}

// walk is one traversal of one input: the folders and files already
// visited, by device and inode.
type walk struct {
	root    string
	visited map[fileKey]string
	depth   int
}

// maxDepth bounds nested folders where files cannot be told apart by inode.
const maxDepth = 64

type fileKey struct{ dev, ino uint64 }

// first records st as visited at path and says whether it is new; a second
// sighting returns the first path.
func (w *walk) first(path string, st os.FileInfo) (string, bool) {
	k, ok := keyOf(st)
	if !ok {
		return "", true
	}
	if prev, seen := w.visited[k]; seen {
		return prev, false
	}
	w.visited[k] = path
	return "", true
}

func (s *Source) path(ctx context.Context, p string, watching bool) error {
	if p == "-" {
		in := s.Stdin
		if in == nil {
			in = os.Stdin
		}
		return s.read(ctx, in, intake.Origin{Name: s.Name, Path: "-"})
	}
	st, err := os.Stat(p) // follows a link given as input
	if err != nil {
		return s.fail(p, err)
	}
	w := &walk{root: p, visited: map[fileKey]string{}}
	if !st.IsDir() {
		w.root = filepath.Dir(p)
		return s.entry(ctx, w, p, st, watching)
	}
	w.first(p, st)
	return s.dir(ctx, w, p, watching)
}

func (s *Source) dir(ctx context.Context, w *walk, dir string, watching bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return s.fail(dir, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		path := filepath.Join(dir, name)
		if strings.HasPrefix(name, ".") {
			s.skip(path, SkipHidden)
			continue
		}
		st, err := os.Stat(path) // follows symbolic links; a loop of links is ELOOP
		if err != nil {
			if err := s.failOnce(path, fileStamp{}, err); err != nil {
				return err
			}
			continue
		}
		if err := s.entry(ctx, w, path, st, watching); err != nil {
			return err
		}
	}
	return nil
}

func (s *Source) entry(ctx context.Context, w *walk, path string, st os.FileInfo, watching bool) error {
	switch {
	case st.IsDir():
		if _, ok := w.first(path, st); !ok || w.depth >= maxDepth {
			s.skip(path, SkipLoop)
			return nil
		}
		w.depth++
		defer func() { w.depth-- }()
		return s.dir(ctx, w, path, watching)
	case !st.Mode().IsRegular():
		s.skip(path, SkipNotRegular)
		return nil
	}
	if _, ok := w.first(path, st); !ok {
		s.skip(path, SkipSameFile)
		return nil
	}
	return s.file(ctx, w, path, st, watching)
}

func (s *Source) file(ctx context.Context, w *walk, path string, st os.FileInfo, watching bool) error {
	stamp := fileStamp{size: st.Size(), mod: st.ModTime()}
	if s.seen == nil {
		s.seen = map[string]fileStamp{}
		s.pending = map[string]pendingFile{}
	}
	if watching {
		if old, ok := s.seen[path]; ok && old == stamp {
			return nil
		}
		now := time.Now()
		if s.now != nil {
			now = s.now()
		}
		old := 2 * time.Second
		if s.Settle > 0 {
			old = s.Settle
		}
		if now.Sub(stamp.mod) < old {
			prev, ok := s.pending[path]
			if !ok || prev.stamp != stamp {
				s.pending[path] = pendingFile{stamp: stamp, since: now} // still being written, perhaps
				return nil
			}
			if now.Sub(prev.since) < s.Settle {
				return nil // unchanged, but not for long enough yet
			}
		}
		delete(s.pending, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return s.failOnce(path, stamp, err)
	}
	defer f.Close()
	rel, err := filepath.Rel(w.root, path)
	if err != nil {
		rel = filepath.Base(path)
	}
	if err := s.read(ctx, f, intake.Origin{Name: s.Name, Path: path, File: rel}); err != nil {
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

func (s *Source) read(ctx context.Context, r io.Reader, o intake.Origin) error {
	err := s.Reader.Read(ctx, r, o, func(it intake.Item) error {
		return s.Emit(ctx, it)
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("ingest %s: %w", o.Path, err)
	}
	return err
}

// skip tells OnSkip once per path and reason.
func (s *Source) skip(path, reason string) {
	if s.OnSkip == nil {
		return
	}
	if s.skipped == nil {
		s.skipped = map[string]string{}
	}
	if s.skipped[path] == reason {
		return
	}
	s.skipped[path] = reason
	s.OnSkip(path, reason)
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
