package chaos

import (
	"fmt"
	"math/rand"
	"strings"
	"time"
)

// doc is one article as the chaos load posts or writes it: the JSON format
// of pipeline/intake (guid, title, paragraphs, published_at).
type doc struct {
	GUID        string   `json:"guid"`
	Title       string   `json:"title"`
	Paragraphs  []string `json:"paragraphs"`
	PublishedAt string   `json:"published_at"`
}

var (
	cities   = []string{"Berlin", "Hamburg", "München", "Köln", "Leipzig", "Dresden", "Stuttgart", "Düsseldorf", "Nürnberg", "Hannover", "Bremen", "Freiburg", "Münster", "Rostock", "Erfurt", "Mainz"}
	topics   = []string{"der Ausbau der Straßenbahn", "die Sanierung der Schulen", "der neue Haushalt", "die Erhöhung der Grundsteuer", "der Mangel an Wohnungen", "die Schließung des Krankenhauses", "das Verbot von Feuerwerk", "die Zukunft des Flughafens", "der Bau eines Windparks", "die Reform der Müllabfuhr"}
	actors   = []string{"Die Bürgermeisterin", "Der Stadtrat", "Die Landesregierung", "Der Verkehrsminister", "Die Opposition im Landtag", "Ein Sprecher der Polizei", "Die Gewerkschaft", "Der Verband der Handwerker", "Die Kirchengemeinde", "Eine Bürgerinitiative"}
	verbs    = []string{"hat am Montag erklärt", "betonte am Dienstag", "kritisierte am Mittwoch", "teilte am Donnerstag mit", "forderte am Freitag", "warnte am Wochenende"}
	claims   = []string{"dass die Kosten deutlich höher ausfallen werden als bisher geplant", "dass man die Pläne noch einmal gründlich prüfen müsse", "dass die Bürger früher hätten beteiligt werden sollen", "dass es für die Entscheidung keine Mehrheit gebe", "dass die Arbeiten noch in diesem Jahr beginnen sollen", "dass die Verwaltung zu langsam arbeite"}
	details  = []string{"Nach Angaben der Stadt beteiligten sich rund %d Menschen an der Versammlung im Rathaus.", "Die Kosten werden inzwischen auf etwa %d Millionen Euro geschätzt.", "Bis zum Ende der Frist gingen mehr als %d Stellungnahmen bei der Behörde ein.", "Im vergangenen Jahr wurden dafür bereits %d Anträge gestellt.", "Die Polizei zählte am Abend ungefähr %d Teilnehmer auf dem Marktplatz.", "Seit dem Frühjahr haben sich %d Familien auf die Warteliste setzen lassen."}
	closings = []string{"Eine endgültige Entscheidung wird für den Herbst erwartet.", "Die Gespräche sollen in der kommenden Woche fortgesetzt werden.", "Der Ausschuss will sich nach der Sommerpause erneut mit dem Thema befassen.", "Viele Anwohner zeigten sich über den Verlauf der Debatte enttäuscht.", "Die Zeitung konnte die Angaben zunächst nicht unabhängig überprüfen.", "Ob das Vorhaben wie geplant umgesetzt wird, ist weiterhin unklar."}
	updates  = []string{"Nachtrag: Inzwischen hat sich auch der Landrat zu Wort gemeldet und eine rasche Klärung verlangt.", "Aktualisierung: Die Sitzung wurde kurzfristig um eine Woche verschoben, weil wichtige Unterlagen fehlten.", "Korrektur: In einer früheren Fassung dieses Artikels war die Zahl der Teilnehmer falsch angegeben.", "Ergänzung: Nach Redaktionsschluss teilte die Verwaltung mit, dass weitere Gutachten in Auftrag gegeben wurden."}
)

func pick(r *rand.Rand, list []string) string { return list[r.Intn(len(list))] }

// newDoc writes a clearly German article of three paragraphs; n makes its
// text (and so its content hash) unique.
func newDoc(r *rand.Rand, guid string, n int, published time.Time) doc {
	city, topic := pick(r, cities), pick(r, topics)
	title := fmt.Sprintf("%s: Streit über %s geht weiter (Meldung %d)", city, strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(topic, "der "), "die "), "das "), n)
	p1 := fmt.Sprintf("In %s sorgt %s weiterhin für heftige Diskussionen. %s %s, %s.", city, topic, pick(r, actors), pick(r, verbs), pick(r, claims))
	p2 := fmt.Sprintf(pick(r, details), 100+r.Intn(9000)+n) + " " + fmt.Sprintf("%s %s, %s.", pick(r, actors), pick(r, verbs), pick(r, claims))
	p3 := pick(r, closings) + fmt.Sprintf(" Die Meldung trägt die interne Nummer %d.", n)
	return doc{GUID: guid, Title: title, Paragraphs: []string{p1, p2, p3}, PublishedAt: published.UTC().Format(time.RFC3339)}
}

// revise returns a later revision of d: one changed sentence and an update
// paragraph, published later.
func revise(r *rand.Rand, d doc, version int) doc {
	out := d
	out.Paragraphs = append([]string(nil), d.Paragraphs...)
	out.Paragraphs[1] = fmt.Sprintf(pick(r, details), 100+r.Intn(9000)+version) + fmt.Sprintf(" Das teilte die Pressestelle in ihrer %d. Mitteilung zu diesem Thema mit.", version+1)
	out.Paragraphs = append(out.Paragraphs, pick(r, updates))
	if t, err := time.Parse(time.RFC3339, d.PublishedAt); err == nil {
		out.PublishedAt = t.Add(time.Duration(1+r.Intn(90)) * time.Minute).UTC().Format(time.RFC3339)
	}
	return out
}
