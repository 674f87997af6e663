package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/workers/bus"
)

// stored is one record as a reader of the sink or a stream sees it.
type stored struct {
	ID       string `json:"id"`
	Rev      int    `json:"rev"`
	Hash     string `json:"hash"`
	Segments []struct {
		Para int `json:"para"`
	} `json:"segments"`
	Where string `json:"-"` // file:line or stream:seq
}

func (s stored) idRev() string { return s.ID + "@" + strconv.Itoa(s.Rev) }

// sinkFiles is what the sink wrote under its --out folder.
type sinkFiles struct {
	records  []stored
	tmxUnits map[string]int // tuid → how many times
	problems []string
}

// readSink reads every articles-*.jsonl and articles-*.tmx under dir.
func readSink(dir string) (sinkFiles, error) {
	out := sinkFiles{tmxUnits: map[string]int{}}
	jsonl, err := filepath.Glob(filepath.Join(dir, "articles-*.jsonl"))
	if err != nil {
		return out, fmt.Errorf("sink files: %w", err)
	}
	sort.Strings(jsonl)
	for _, name := range jsonl {
		if err := readJSONL(name, &out); err != nil {
			return out, err
		}
	}
	tmx, err := filepath.Glob(filepath.Join(dir, "articles-*.tmx"))
	if err != nil {
		return out, fmt.Errorf("sink files: %w", err)
	}
	for _, name := range tmx {
		if err := readTMX(name, &out); err != nil {
			return out, err
		}
	}
	return out, nil
}

func readJSONL(name string, out *sinkFiles) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("sink jsonl: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			var s stored
			if jerr := json.Unmarshal(b, &s); jerr != nil || s.ID == "" {
				out.problems = append(out.problems, fmt.Sprintf("%s:%d: not a record: %v", filepath.Base(name), line, jerr))
			} else {
				s.Where = fmt.Sprintf("%s:%d", filepath.Base(name), line)
				out.records = append(out.records, s)
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("sink jsonl %s: %w", name, err)
		}
	}
}

func readTMX(name string, out *sinkFiles) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("sink tmx: %w", err)
	}
	defer f.Close()
	dec := xml.NewDecoder(bufio.NewReader(f))
	dec.Strict = true
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			out.problems = append(out.problems, fmt.Sprintf("%s: invalid XML: %v", filepath.Base(name), err))
			return nil
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "tu" {
			for _, a := range se.Attr {
				if a.Name.Local == "tuid" {
					out.tmxUnits[a.Value]++
				}
			}
		}
	}
}

// streamMsg is one message read back from a stream.
type streamMsg struct {
	seq     uint64
	subject string
	header  map[string][]string
	rec     stored
}

// readStream reads every message of a stream by sequence.
func readStream(ctx context.Context, js jetstream.JetStream, name string) ([]streamMsg, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	s, err := js.Stream(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", name, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", name, err)
	}
	var out []streamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("stream %s seq %d: %w", name, seq, err)
		}
		sm := streamMsg{seq: seq, subject: m.Subject, header: m.Header}
		_ = json.Unmarshal(m.Data, &sm.rec)
		if sm.rec.ID == "" {
			sm.rec.ID = m.Header.Get(bus.HeaderID)
			sm.rec.Rev, _ = strconv.Atoi(m.Header.Get(bus.HeaderRev))
		}
		sm.rec.Where = fmt.Sprintf("%s:%d", name, seq)
		out = append(out, sm)
	}
	return out, nil
}

// Audit is the outcome of comparing what was ingested with what was stored.
type Audit struct {
	Expected     int      // distinct (id, content) accepted
	Written      int      // distinct (id, rev) in the sink's JSONL
	Lost         []string // expected, in neither the sink, the DLQ nor the rejects
	Duplicated   []string // stored more than once, with how
	DeadLettered []string // expected records found in ARTICLES_DLQ
	Rejected     []string // expected-looking records found in ARTICLES_REJECTED
	TMXMissing   []string // JSONL records whose TMX units are missing
	Unexpected   int      // records in the sink the load did not count on
	Clean        int      // messages in ARTICLES_CLEAN
	DLQ          int      // messages in ARTICLES_DLQ
	RejectedMsgs int      // messages in ARTICLES_REJECTED
	Unconfirmed  int      // folder contents the revisions KV never showed as published
	Ambiguous    int      // posts that never got an answer
	Problems     []string
}

// audit compares the ledger with the sink files and the streams.
func audit(ctx context.Context, led *ledger, out string, js jetstream.JetStream) Audit {
	var a Audit
	sf, err := readSink(out)
	if err != nil {
		a.Problems = append(a.Problems, err.Error())
	}
	a.Problems = append(a.Problems, sf.problems...)
	clean, err := readStream(ctx, js, bus.StreamClean)
	if err != nil {
		a.Problems = append(a.Problems, err.Error())
	}
	dlq, err := readStream(ctx, js, bus.StreamDLQ)
	if err != nil {
		a.Problems = append(a.Problems, err.Error())
	}
	rej, err := readStream(ctx, js, bus.StreamRejected)
	if err != nil {
		a.Problems = append(a.Problems, err.Error())
	}
	a.Clean, a.DLQ, a.RejectedMsgs = len(clean), len(dlq), len(rej)
	led.mu.Lock()
	defer led.mu.Unlock()
	compare(&a, led, sf, clean, dlq, rej)
	return a
}

// compare is the pure part of audit.
func compare(a *Audit, led *ledger, sf sinkFiles, clean, dlq, rej []streamMsg) {
	a.Ambiguous = len(led.ambiguous)
	a.Problems = append(a.Problems, led.anomalies...)

	inSink := map[key][]stored{}
	byIDRev := map[string][]stored{}
	for _, s := range sf.records {
		inSink[key{s.ID, s.Hash}] = append(inSink[key{s.ID, s.Hash}], s)
		byIDRev[s.idRev()] = append(byIDRev[s.idRev()], s)
	}
	a.Written = len(byIDRev)
	inClean := map[key]bool{}
	cleanByIDRev := map[string][]uint64{}
	for _, m := range clean {
		inClean[key{m.rec.ID, m.rec.Hash}] = true
		cleanByIDRev[m.rec.idRev()] = append(cleanByIDRev[m.rec.idRev()], m.seq)
	}
	dead := map[key]streamMsg{}
	for _, m := range dlq {
		dead[key{m.rec.ID, m.rec.Hash}] = m
	}
	rejected := map[key]streamMsg{}
	for _, m := range rej {
		rejected[key{m.rec.ID, m.rec.Hash}] = m
	}

	keys := make([]key, 0, len(led.expected))
	for k := range led.expected {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].ID != keys[j].ID {
			return keys[i].ID < keys[j].ID
		}
		return keys[i].Hash < keys[j].Hash
	})
	for _, k := range keys {
		e := led.expected[k]
		if !e.Confirmed && e.Channel == viaFolder {
			a.Unconfirmed++
		}
		if m, ok := rejected[k]; ok {
			a.Rejected = append(a.Rejected, fmt.Sprintf("%s (%s v%d): %s", k.ID, e.GUID, e.Version, strings.Join(m.header[bus.HeaderReason], ",")))
			continue
		}
		a.Expected++
		if len(inSink[k]) > 0 {
			continue
		}
		if m, ok := dead[k]; ok {
			a.DeadLettered = append(a.DeadLettered, describeDead(k.ID, e, m))
			continue
		}
		where := "not in ARTICLES_CLEAN either"
		if inClean[k] {
			where = "in ARTICLES_CLEAN, not in the sink files"
		}
		confirmed := "confirmed by ingest"
		if !e.Confirmed {
			confirmed = "never confirmed by the revisions KV"
		}
		a.Lost = append(a.Lost, fmt.Sprintf("%s (%s v%d via %s, %s): %s", k.ID, e.GUID, e.Version, e.Channel, confirmed, where))
	}
	for _, m := range dlq {
		// A body without a content hash cannot be matched to a key: list it as it is.
		if m.rec.Hash == "" {
			a.DeadLettered = append(a.DeadLettered, fmt.Sprintf("%s@%d (unreadable body): stage %s: %s", m.rec.ID, m.rec.Rev,
				strings.Join(m.header[bus.HeaderStage], ","), strings.Join(m.header[bus.HeaderReason], ",")))
		}
	}

	// Duplicates: the same (id, rev) twice in the JSONL, the same content
	// under two revisions, a TMX unit twice, a clean message twice.
	for _, idRev := range sortedKeys(byIDRev) {
		if recs := byIDRev[idRev]; len(recs) > 1 {
			a.Duplicated = append(a.Duplicated, fmt.Sprintf("%s: %d times in the JSONL (%s)", idRev, len(recs), wheres(recs)))
		}
	}
	for k, recs := range inSink {
		revs := map[int]bool{}
		for _, r := range recs {
			revs[r.Rev] = true
		}
		if len(revs) > 1 {
			a.Duplicated = append(a.Duplicated, fmt.Sprintf("%s: the same content stored as %d revisions (%s)", k.ID, len(revs), wheres(recs)))
		}
	}
	for _, tuid := range sortedKeys(sf.tmxUnits) {
		if n := sf.tmxUnits[tuid]; n > 1 {
			a.Duplicated = append(a.Duplicated, fmt.Sprintf("TMX unit %s: %d times", tuid, n))
		}
	}
	for _, idRev := range sortedKeys(cleanByIDRev) {
		if seqs := cleanByIDRev[idRev]; len(seqs) > 1 {
			a.Duplicated = append(a.Duplicated, fmt.Sprintf("%s: %d times in ARTICLES_CLEAN (seqs %v)", idRev, len(seqs), seqs))
		}
	}
	sort.Strings(a.Duplicated)

	for _, idRev := range sortedKeys(byIDRev) {
		r := byIDRev[idRev][0]
		if _, ok := led.expected[key{r.ID, r.Hash}]; !ok && !led.ambiguous[key{r.ID, r.Hash}] {
			a.Unexpected++
		}
		for i := range r.Segments {
			tuid := fmt.Sprintf("%s#%d", idRev, i+1)
			if sf.tmxUnits[tuid] == 0 {
				a.TMXMissing = append(a.TMXMissing, fmt.Sprintf("%s: %d of %d TMX units missing, first %s", idRev, missingUnits(sf.tmxUnits, idRev, len(r.Segments)), len(r.Segments), tuid))
				break
			}
		}
	}
}

func describeDead(id string, e *expectation, m streamMsg) string {
	return fmt.Sprintf("%s@%d (%s v%d): stage %s after %s deliveries: %s", id, m.rec.Rev, e.GUID, e.Version,
		strings.Join(m.header[bus.HeaderStage], ","), strings.Join(m.header[bus.HeaderDeliveries], ","), strings.Join(m.header[bus.HeaderReason], ","))
}

func missingUnits(units map[string]int, idRev string, n int) int {
	missing := 0
	for i := 1; i <= n; i++ {
		if units[fmt.Sprintf("%s#%d", idRev, i)] == 0 {
			missing++
		}
	}
	return missing
}

func wheres(recs []stored) string {
	var w []string
	for _, r := range recs {
		w = append(w, r.idRev()+" at "+r.Where)
	}
	return strings.Join(w, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
