package translate_test

import (
	"context"
	"testing"

	"github.com/dewire/dewire/internal/testenv"
	"github.com/dewire/dewire/pipeline/mt/ct2"
	"github.com/dewire/dewire/pipeline/mt/engines"
	"github.com/dewire/dewire/workers/translate"
)

func TestEngineConfigComputeTypeReachesTheEmbeddedEngine(t *testing.T) {
	model := testenv.SharedFile(t, "fixtures", "ct2", "v2", "aren-transliteration-i8")
	for _, c := range []struct{ set, want ct2.ComputeType }{
		{ct2.ComputeDefault, ct2.DefaultComputeType},
		{ct2.ComputeInt8, ct2.ComputeInt8},
		{ct2.ComputeInt8Float32, ct2.ComputeInt8Float32},
		{ct2.ComputeFloat32, ct2.ComputeFloat32},
	} {
		t.Run(c.set.String(), func(t *testing.T) {
			eng, err := translate.OpenEngine(context.Background(), translate.EngineConfig{Config: engines.Config{Name: "ct2"}, Model: model, ComputeType: c.set}, nil)
			if err != nil {
				t.Fatal(err)
			}
			e, ok := eng.(*ct2.Engine)
			if !ok {
				t.Fatalf("engine is %T", eng)
			}
			if got := e.Runtime().Compute; got != c.want {
				t.Fatalf("model computes in %v, want %v", got, c.want)
			}
		})
	}
}
