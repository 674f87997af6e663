// Package desk is the news desk's view of dewire: a web server (net/http,
// html/template, embedded assets) over the clean stream, read with its own
// ordered consumer, with live updates by server-sent events, an Atom feed
// and a JSON API. Desk actions (a flag reviewed, a name added, an article
// reprocessed) are KV entries with an audit record; the desk never changes a
// stored record: a reprocessed article is a new revision through ingest.
// Everything is readable without credentials; actions need an editor token
// and a CSRF token, and article text is always escaped.
package desk
