package chaos

import (
	"encoding/json"
	"math/rand"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// FakeEngine speaks LibreTranslate's wire format (GET /languages, POST
// /translate with q as a string or an array) and answers with a
// deterministic pseudo-translation. A seeded RNG adds delays and, at
// FailRate, 429 (with Retry-After) or 5xx answers; /languages never fails,
// so a translate worker always passes its start check.
type FakeEngine struct {
	FailRate float64       // share of /translate requests answered 429 or 5xx
	MaxDelay time.Duration // upper bound of the random delay per request

	mu  sync.Mutex
	rng *rand.Rand

	Requests, Failures atomic.Int64
}

// NewFakeEngine returns an engine fake with its own RNG.
func NewFakeEngine(seed int64, failRate float64, maxDelay time.Duration) *FakeEngine {
	return &FakeEngine{FailRate: failRate, MaxDelay: maxDelay, rng: rand.New(rand.NewSource(seed))}
}

type fakeLanguage struct {
	Code    string   `json:"code"`
	Name    string   `json:"name"`
	Targets []string `json:"targets"`
}

// ServeHTTP implements http.Handler.
func (e *FakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/languages" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, []fakeLanguage{
			{Code: "de", Name: "German", Targets: []string{"de", "en"}},
			{Code: "en", Name: "English", Targets: []string{"de", "en"}},
		})
	case r.URL.Path == "/translate" && r.Method == http.MethodPost:
		e.translate(w, r)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Not Found"})
	}
}

func (e *FakeEngine) translate(w http.ResponseWriter, r *http.Request) {
	e.Requests.Add(1)
	delay, fail := e.roll()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	var req struct {
		Q      json.RawMessage `json:"q"`
		Source string          `json:"source"`
		Target string          `json:"target"`
		Format string          `json:"format"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Invalid request: " + err.Error()})
		return
	}
	if req.Source != "de" && req.Source != "auto" || req.Target != "en" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": req.Source + " to " + req.Target + " is not supported"})
		return
	}
	if fail != 0 {
		e.Failures.Add(1)
		if fail == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, fail, map[string]string{"error": "Slowdown: 30 per 1 minute"})
			return
		}
		writeJSON(w, fail, map[string]string{"error": "Internal Server Error"})
		return
	}
	var many []string
	if err := json.Unmarshal(req.Q, &many); err == nil {
		out := make([]string, len(many))
		for i, q := range many {
			out[i] = pseudoTranslate(q)
		}
		writeJSON(w, http.StatusOK, map[string]any{"translatedText": out})
		return
	}
	var one string
	if err := json.Unmarshal(req.Q, &one); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Invalid request: missing q parameter"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"translatedText": pseudoTranslate(one)})
}

// roll draws the delay and the failure status (0: none) of one request.
func (e *FakeEngine) roll() (time.Duration, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var delay time.Duration
	if e.MaxDelay > 0 {
		delay = time.Duration(e.rng.Int63n(int64(e.MaxDelay)))
	}
	if e.rng.Float64() >= e.FailRate {
		return delay, 0
	}
	statuses := []int{http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}
	return delay, statuses[e.rng.Intn(len(statuses))]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// glossary maps the German words the load uses most to English; other
// words pass through, so placeholders and names survive.
var glossary = map[string]string{
	"der": "the", "die": "the", "das": "the", "den": "the", "dem": "the", "des": "of the",
	"und": "and", "in": "in", "im": "in the", "am": "on", "an": "at", "auf": "on", "für": "for",
	"mit": "with", "von": "of", "zu": "to", "über": "about", "nach": "after", "bei": "at",
	"hat": "has", "ist": "is", "sind": "are", "wird": "will", "werden": "be", "sollen": "are to",
	"dass": "that", "nicht": "not", "noch": "still", "weiterhin": "still", "geht": "goes", "weiter": "on",
	"Streit": "dispute", "Meldung": "report", "sorgt": "causes", "heftige": "heated", "Diskussionen": "debates",
	"Montag": "Monday", "Dienstag": "Tuesday", "Mittwoch": "Wednesday", "Donnerstag": "Thursday", "Freitag": "Friday",
	"Wochenende": "weekend", "Stadt": "city", "Menschen": "people", "rund": "about", "etwa": "about",
	"Millionen": "million", "Euro": "euros", "Kosten": "costs", "Jahr": "year", "Woche": "week",
	"Bürgermeisterin": "mayor", "Stadtrat": "city council", "Landesregierung": "state government",
	"Polizei": "police", "Gewerkschaft": "union", "Entscheidung": "decision", "Nachtrag:": "Update:",
	"Korrektur:": "Correction:", "Ergänzung:": "Addendum:", "Aktualisierung:": "Update:",
}

// pseudoTranslate maps each word through glossary, keeping punctuation.
func pseudoTranslate(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		core := strings.TrimRight(w, ".,;:!?")
		tail := w[len(core):]
		if en, ok := glossary[core]; ok {
			words[i] = en + tail
		} else if en, ok := glossary[strings.ToLower(core)]; ok && i == 0 {
			words[i] = capitalize(en) + tail
		}
	}
	if len(words) > 0 {
		words[0] = capitalize(words[0])
	}
	return strings.Join(words, " ")
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
