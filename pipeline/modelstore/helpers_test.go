package modelstore_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"

	"github.com/dewire/dewire/pipeline/modelstore"
)

// zipFile is one entry of a hand-built zip; raw entries declare size
// without carrying the data.
type zipFile struct {
	name string
	body string
	size uint64 // declared uncompressed size for a raw entry; 0: real body
}

func buildZip(files []zipFile) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		if f.size > 0 {
			w, err := zw.CreateRaw(&zip.FileHeader{Name: f.name, Method: zip.Store, UncompressedSize64: f.size, CompressedSize64: uint64(len(f.body))})
			if err != nil {
				panic(err)
			}
			w.Write([]byte(f.body))
			continue
		}
		w, err := zw.Create(f.name)
		if err != nil {
			panic(err)
		}
		w.Write([]byte(f.body))
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// buildPackage returns an .argosmodel with the usual layout under root and
// dummy model bytes.
func buildPackage(root, from, to, version string) []byte {
	meta, err := json.Marshal(modelstore.Metadata{
		PackageVersion: version, ArgosVersion: "1.9.0",
		FromCode: from, FromName: "German", ToCode: to, ToName: "English",
	})
	if err != nil {
		panic(err)
	}
	return buildZip([]zipFile{
		{name: root + "/"},
		{name: root + "/metadata.json", body: string(meta)},
		{name: root + "/model/"},
		{name: root + "/model/model.bin", body: "not really a CTranslate2 model"},
		{name: root + "/model/config.json", body: `{"unk_token": "<unk>"}`},
		{name: root + "/model/shared_vocabulary.txt", body: "<unk>\n<s>\n</s>\n"},
		{name: root + "/sentencepiece.model", body: "spm bytes"},
		{name: root + "/README.md", body: "# de-en"},
	})
}
