// Package libretranslate is the mt.Engine for a LibreTranslate server
// (POST /translate with a batch of texts). LibreTranslate has no glossary,
// so entity forms are protected with placeholders; a segment whose
// placeholders do not come back is translated again without them.
//
// The API key travels only in the request body and never appears in errors.
package libretranslate
