package desk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	"github.com/nats-io/nuid"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/names"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
)

// Audit is one desk action as the audit log keeps it (bucket dewire_desk,
// key audit.<unix-nanos>.<unique>).
type Audit struct {
	Who    string    `json:"who"`
	At     time.Time `json:"at"`
	Action string    `json:"action"` // flag.reviewed, name.put, article.reprocess
	ID     string    `json:"id,omitempty"`
	Rev    int       `json:"rev,omitempty"`
	Detail any       `json:"detail,omitempty"`
}

// Actions.
const (
	ActionReviewed  = "flag.reviewed"
	ActionName      = "name.put"
	ActionReprocess = "article.reprocess"
)

// FlagReprocessed marks a revision the desk sent through the pipeline again.
const FlagReprocessed = "desk.reprocessed"

func (d *Desk) audit(ctx context.Context, a Audit) error {
	kv, err := d.js.KeyValue(ctx, bus.BucketDesk)
	if err != nil {
		return fmt.Errorf("desk: audit: %w", err)
	}
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("desk: audit: %w", err)
	}
	key := fmt.Sprintf("audit.%020d.%s", a.At.UnixNano(), nuid.Next())
	if _, err := kv.Put(ctx, key, b); err != nil {
		return fmt.Errorf("desk: audit: %w", err)
	}
	return nil
}

// Review marks flag n of id@rev reviewed by who.
func (d *Desk) Review(ctx context.Context, who, id string, rev, n int) error {
	a, _, err := d.Record(ctx, id, rev)
	if err != nil {
		return err
	}
	if n < 0 || n >= len(a.Flags) {
		return fmt.Errorf("flag %d of %s: %w", n, a.Key(), ErrNotFound)
	}
	kv, err := d.js.KeyValue(ctx, bus.BucketDesk)
	if err != nil {
		return fmt.Errorf("desk: review: %w", err)
	}
	entry := Audit{Who: who, At: d.opt.Now().UTC(), Action: ActionReviewed, ID: id, Rev: a.Rev,
		Detail: map[string]any{"flag": n, "code": a.Flags[n].Code}}
	b, _ := json.Marshal(entry)
	key := reviewKey(id, a.Rev, n)
	if _, err := kv.Put(ctx, key, b); err != nil {
		return fmt.Errorf("desk: review: %w", err)
	}
	d.idx.setReviewed(key, true)
	return d.audit(ctx, entry)
}

// Name is a name the desk adds or corrects: German and English press form,
// kind and other spellings (rewritten to the canonical forms).
type Name struct {
	DE       string   `json:"de"`
	EN       string   `json:"en"`
	Kind     string   `json:"kind,omitempty"`
	Variants []string `json:"aliases,omitempty"`
}

// PutName stores a name in the desk's names bucket, which every normalize
// worker watches; the next articles use it.
func (d *Desk) PutName(ctx context.Context, who string, n Name) (string, error) {
	n.DE, n.EN = strings.TrimSpace(n.DE), strings.TrimSpace(n.EN)
	switch n.Kind {
	case "":
		n.Kind = names.KindPerson
	case names.KindPerson, names.KindPlace, names.KindOrg:
	default:
		return "", fmt.Errorf("%w: kind %q (want person, place or org)", ErrInput, n.Kind)
	}
	if n.DE == "" || n.EN == "" || len(n.DE) > 200 || len(n.EN) > 200 {
		return "", fmt.Errorf("%w: a name needs a German and an English form (at most 200 bytes each)", ErrInput)
	}
	var vs []string
	for _, v := range n.Variants {
		if v = strings.TrimSpace(v); v != "" && v != n.DE && v != n.EN {
			vs = append(vs, v)
		}
	}
	n.Variants = vs
	if _, err := names.New(&names.File{Entities: []names.Entity{{Kind: n.Kind, DE: n.DE, EN: n.EN, Aliases: n.Variants}}}); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInput, err)
	}
	kv, err := d.js.KeyValue(ctx, bus.BucketDeskNames)
	if err != nil {
		return "", fmt.Errorf("desk: names: %w", err)
	}
	key := "name." + slug(n.EN)
	b, _ := json.Marshal(n)
	if _, err := kv.Put(ctx, key, b); err != nil {
		return "", fmt.Errorf("desk: names: %w", err)
	}
	return key, d.audit(ctx, Audit{Who: who, At: d.opt.Now().UTC(), Action: ActionName, Detail: n})
}

// Names lists the desk's names.
func (d *Desk) Names(ctx context.Context) ([]Name, error) {
	kv, err := d.js.KeyValue(ctx, bus.BucketDeskNames)
	if err != nil {
		return nil, fmt.Errorf("desk: names: %w", err)
	}
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("desk: names: %w", err)
	}
	var out []Name
	for k := range lister.Keys() {
		e, err := kv.Get(ctx, k)
		if err != nil {
			continue
		}
		var n Name
		if json.Unmarshal(e.Value(), &n) == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		sum := sha256.Sum256([]byte(s))
		out = hex.EncodeToString(sum[:8])
	}
	return out
}

// Reprocess sends id's latest revision through the pipeline again as a new
// revision (so the desk's current names apply); the stored record is left
// as it is. The German goes in as it was ingested: the German edits are
// undone, and when that does not give the ingested text back, the current
// German is sent.
func (d *Desk) Reprocess(ctx context.Context, who, id string) (int, error) {
	a, _, err := d.Record(ctx, id, 0)
	if err != nil {
		return 0, err
	}
	pub, err := d.publisher(ctx)
	if err != nil {
		return 0, err
	}
	now := d.opt.Now().UTC()
	de := undoEdits(a, "de")
	src := a.Source
	src.IngestedAt = now
	// A new content hash makes a new revision; it names the one reprocessed.
	sum := sha256.Sum256([]byte(article.ContentHash(&de) + "\x00reprocess\x00" + a.Key() + "\x00" + now.Format(time.RFC3339Nano)))
	next := &article.Article{Schema: article.Schema, ID: a.ID, Hash: hex.EncodeToString(sum[:]), Source: src, Lang: a.Lang, DE: de,
		Flags: []article.Flag{{Stage: article.StageIngest, Code: FlagReprocessed, Message: fmt.Sprintf("rev %d reprocessed at the desk by %s", a.Rev, who)}}}
	if _, err := pub.Article(ctx, next); err != nil {
		return 0, fmt.Errorf("desk: reprocess %s: %w", a.Key(), err)
	}
	return next.Rev, d.audit(ctx, Audit{Who: who, At: now, Action: ActionReprocess, ID: a.ID, Rev: a.Rev, Detail: map[string]int{"new_rev": next.Rev}})
}

// undoEdits returns the text of lang as it was before the record's edits
// of that language, or the current text when the edits do not undo cleanly.
func undoEdits(a *article.Article, lang string) article.Text {
	t := a.Text(lang)
	out := article.Text{Title: t.Title, Lead: t.Lead, Paragraphs: append([]string(nil), t.Paragraphs...)}
	fields := map[string]*string{}
	for _, f := range out.Fields(lang) {
		fields[f.Name] = f.Text
	}
	for i := len(a.Edits) - 1; i >= 0; i-- {
		e := a.Edits[i]
		p, ok := fields[e.Field]
		if !ok {
			continue
		}
		s := *p
		if e.Offset < 0 || e.Offset+len(e.After) > len(s) || s[e.Offset:e.Offset+len(e.After)] != e.After {
			return article.Text{Title: t.Title, Lead: t.Lead, Paragraphs: append([]string(nil), t.Paragraphs...)}
		}
		*p = s[:e.Offset] + e.Before + s[e.Offset+len(e.After):]
	}
	if a.Hash != "" && article.ContentHash(&out) != a.Hash {
		return article.Text{Title: t.Title, Lead: t.Lead, Paragraphs: append([]string(nil), t.Paragraphs...)}
	}
	return out
}

func (d *Desk) publisher(ctx context.Context) (*ingest.Publisher, error) {
	d.pubMu.Lock()
	defer d.pubMu.Unlock()
	if d.pub == nil {
		revs, err := ingest.NewKVRevisions(ctx, d.js, bus.BucketRevisions)
		if err != nil {
			return nil, fmt.Errorf("desk: reprocess: %w", err)
		}
		d.pub = &ingest.Publisher{JS: d.js, Revisions: revs, Now: d.opt.Now}
	}
	return d.pub, nil
}
