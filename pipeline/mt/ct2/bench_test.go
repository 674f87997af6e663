package ct2

import (
	"context"
	"fmt"
	"math/rand"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// opusConfig has the shapes of an OPUS-MT de→en model, quantized to int8.
var opusConfig = genConfig{
	encLayers: 6, decLayers: 6, d: 512, ff: 2048, heads: 8,
	srcVocab: 58101, tgtVocab: 58101, shared: true, int8: true, seed: 42,
}

// heapPeak samples the live heap until stop is called and returns the peak.
func heapPeak() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	var mu sync.Mutex
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			mu.Lock()
			peak = max(peak, sample[0].Value.Uint64())
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak
	}
}

// BenchmarkTranslateOPUSShape translates 25 sentences with a model of
// OPUS-MT's shapes in each compute type on 1 and 2 goroutines, and reports
// tokens/s and the peak live heap from loading on.
func BenchmarkTranslateOPUSShape(b *testing.B) {
	dir := b.TempDir()
	size, err := generate(opusConfig).save(dir)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	src := make([][]int, 25)
	for i := range src {
		src[i] = make([]int, 22+rng.Intn(7))
		for j := range src[i] {
			src[i][j] = 3 + rng.Intn(opusConfig.srcVocab-3)
		}
	}
	for _, ct := range []ComputeType{ComputeFloat32, ComputeInt8Float32, ComputeInt8} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", ct, threads), func(b *testing.B) {
				runtime.GC()
				stop := heapPeak()
				m, err := LoadDir(dir, WithCompute(ct))
				if err != nil {
					b.Fatal(err)
				}
				m.SetWorkers(threads)
				opts := Options{MaxLength: 30}
				b.ResetTimer()
				tokens := 0
				for i := 0; i < b.N; i++ {
					res, err := m.TranslateIDs(context.Background(), src, opts)
					if err != nil {
						b.Fatal(err)
					}
					for _, r := range res {
						tokens += len(r.IDs)
					}
				}
				b.StopTimer()
				peak := stop()
				b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
				b.ReportMetric(float64(size)/(1<<20), "file-MiB")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(float64(peak)/float64(size), "heap/file")
				runtime.KeepAlive(m)
			})
		}
	}
}
