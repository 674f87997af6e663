// Live list: new articles arrive as server-sent events and are put at the
// top of the first, unfiltered page. Text is set with textContent only.
(function () {
  var table = document.getElementById("articles");
  if (!table || !table.dataset.live || !window.EventSource) return;
  var body = table.tBodies[0];
  var es = new EventSource("/events");
  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  es.addEventListener("article", function (ev) {
    var a;
    try { a = JSON.parse(ev.data); } catch (e) { return; }
    var old = body.querySelector('tr[data-id="' + CSS.escape(a.id) + '"]');
    if (old) old.remove();
    var tr = document.createElement("tr");
    tr.dataset.id = a.id;
    tr.className = "fresh";
    cell(tr, new Date(a.time).toISOString().slice(0, 16).replace("T", " ") + " UTC");
    cell(tr, a.source);
    var td = cell(tr, "");
    var link = document.createElement("a");
    link.href = "/article/" + encodeURIComponent(a.id);
    link.textContent = a.title_de;
    td.appendChild(link);
    cell(tr, a.title_en);
    cell(tr, String(a.rev));
    cell(tr, String(a.edits));
    cell(tr, String(a.open_flags), a.open_flags ? "open" : "");
    body.insertBefore(tr, body.firstChild);
  });
  var live = document.getElementById("live");
  es.onerror = function () { if (live) live.textContent = "reconnecting"; };
  es.onopen = function () { if (live) live.textContent = "live"; };
})();
