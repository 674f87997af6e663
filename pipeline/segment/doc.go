// Package segment splits German and English text into sentences, returning
// byte spans so that the text between spans is only whitespace and a caller
// can rebuild a paragraph from per-sentence translations.
//
// It knows abbreviations, German ordinals and dates, decimals, ellipses and
// quotations with attribution; it never changes the text it splits.
package segment
