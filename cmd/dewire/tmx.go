package main

import (
	"github.com/dewire/dewire/pipeline/record"
	"github.com/dewire/dewire/workers/sink"
)

type closingWriter interface {
	sink.Writer
	Close() error
}

func openTMX(out string) (closingWriter, error) {
	return sink.OpenTMX(out, record.TMXHeader{CreationToolVersion: version})
}
