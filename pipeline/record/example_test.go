package record_test

import (
	"os"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/record"
)

func ExampleNewTMXEncoder() {
	enc := record.NewTMXEncoder(os.Stdout, record.TMXHeader{CreationToolVersion: "1.0"})
	enc.Encode(&article.Article{ID: "a1", Rev: 1, Segments: []article.Segment{{Para: 0, DE: "Guten Morgen.", EN: "Good morning."}}})
	enc.Close()
	// Output:
	// <?xml version="1.0" encoding="UTF-8"?>
	// <!DOCTYPE tmx SYSTEM "tmx14.dtd">
	// <tmx version="1.4">
	// <header creationtool="dewire" creationtoolversion="1.0" segtype="sentence" o-tmf="dewire" adminlang="en" srclang="de" datatype="plaintext"/>
	// <body>
	// <tu tuid="a1@1#1">
	//   <prop type="x-dewire-id">a1</prop>
	//   <prop type="x-dewire-rev">1</prop>
	//   <prop type="x-dewire-para">0</prop>
	//   <prop type="x-dewire-key">a1@1</prop>
	//   <prop type="x-dewire-units">1</prop>
	//   <tuv xml:lang="de"><seg>Guten Morgen.</seg></tuv>
	//   <tuv xml:lang="en"><seg>Good morning.</seg></tuv>
	// </tu>
	// </body>
	// </tmx>
}
