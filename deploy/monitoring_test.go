package deploy

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
	"github.com/dewire/dewire/workers/stage"
)

// natsExporterMetrics are the series of prometheus-nats-exporter (-jsz=all,
// -prefix=nats) that the rules and the dashboard use.
var natsExporterMetrics = map[string]bool{"nats_consumer_num_pending": true}

// exportedMetrics are the metric names a worker registers: the stage
// metrics and an ingest worker's own, read from real registries.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	js := natstest.Server(t).JetStream()
	ctx := context.Background()
	if err := bus.DefaultTopology().Ensure(ctx, js); err != nil {
		t.Fatal(err)
	}
	env := stage.Env{JS: js, Registry: reg, Metrics: stage.NewMetrics(reg), Concurrency: 1}
	g, err := ingest.New(ctx, env, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
	descs := make(chan *prometheus.Desc, 64)
	go func() {
		reg.Describe(descs)
		close(descs)
	}()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	names := map[string]bool{}
	for d := range descs {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			names[m[1]] = true
		}
	}
	if !names["dewire_stage_messages_total"] || !names["dewire_ingest_items_total"] {
		t.Fatalf("registered metrics %v lack the stage or ingest series", names)
	}
	return names
}

// checkExpr parses a PromQL expression with Prometheus' parser and checks
// that every series it selects is one the workers or the NATS exporter export.
func checkExpr(t *testing.T, where, expr string, exported map[string]bool) {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		base := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base = strings.TrimSuffix(base, suffix)
		}
		if !exported[name] && !exported[base] && !natsExporterMetrics[name] {
			t.Errorf("%s: %s is not a metric the workers or the NATS exporter export", where, name)
		}
		return nil
	})
}

func TestAlertRulesParseAndUseExportedMetrics(t *testing.T) {
	groups, errs := rulefmt.ParseFile("monitoring/alerts.yaml", false, model.UTF8Validation,
		parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Error(err)
	}
	if groups == nil {
		t.FailNow()
	}
	exported := exportedMetrics(t)
	alerts := map[string]string{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			alerts[r.Alert] = r.Expr
			checkExpr(t, "alert "+r.Alert, r.Expr, exported)
			if r.Annotations["summary"] == "" || r.Labels["severity"] == "" {
				t.Errorf("alert %s lacks a summary or a severity", r.Alert)
			}
		}
	}
	for name, about := range map[string]string{
		"DewireDeadLettersGrowing": `outcome="dead_lettered"`,
		"DewireTranslatePaused":    `dewire_stage_paused{stage="translate"}`,
		"DewireConsumerLag":        "nats_consumer_num_pending",
		"DewireNoProgress":         "dewire_stage_in_flight",
	} {
		if !strings.Contains(alerts[name], about) {
			t.Errorf("alert %s (%q) does not watch %s", name, alerts[name], about)
		}
	}
}

func TestGrafanaDashboardQueriesExportedMetrics(t *testing.T) {
	b, err := os.ReadFile("monitoring/dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string
		UID    string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard.json: %v", err)
	}
	if dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("dashboard %q has no uid or no panels", dash.Title)
	}
	exported := exportedMetrics(t)
	seen := map[string]bool{}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			checkExpr(t, "panel "+p.Title, tg.Expr, exported)
			for name := range exported {
				if strings.Contains(tg.Expr, name) {
					seen[name] = true
				}
			}
		}
	}
	for name := range exported {
		if strings.HasPrefix(name, "dewire_") && !seen[name] {
			t.Errorf("no panel shows %s", name)
		}
	}
}
