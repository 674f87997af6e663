package main

import (
	"errors"

	"github.com/dewire/dewire/workers/sink"
)

type closingWriter interface {
	sink.Writer
	Close() error
}

func openTMX(out string) (closingWriter, error) {
	return nil, errors.New("TMX output is not available in this build")
}
