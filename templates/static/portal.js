// Progressive enhancement for the recipient pages: resumable uploads with
// a queue that shows every file, and drag-and-drop. The plain form works
// without it.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form) { return; }
  var input = document.getElementById("files");
  var list = document.getElementById("progress");
  var drop = document.getElementById("drop");
  if (drop) {
    // The label is focusable for keyboards; Enter or Space opens the file
    // chooser, as they would on a button.
    drop.setAttribute("tabindex", "0");
    drop.setAttribute("role", "button");
    drop.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); }
    });
  }

  // tus.min.js runs after this script (both are deferred) and before
  // DOMContentLoaded.
  if (window.tus) {
    setup();
  } else {
    document.addEventListener("DOMContentLoaded", setup);
  }

  // The page's sentences in its language (a JSON block the server writes),
  // keyed by their English text; a plural has "one" and "other" forms.
  var strings = {};
  try { strings = JSON.parse((document.getElementById("page-strings") || {}).textContent || "{}"); } catch (e) { strings = {}; }
  var lang = document.documentElement.lang || "en";
  function t(text, data) {
    var v = strings[text] || text;
    if (typeof v === "object") {
      var form = "other";
      try { form = new Intl.PluralRules(lang).select(data.Count); } catch (e) { form = "other"; }
      v = v[form] || v.other;
    }
    return v.replace(/\{\{\.(\w+)\}\}/g, function (m, k) {
      if (!data || !(k in data)) { return m; }
      return typeof data[k] === "number" ? data[k].toLocaleString(lang) : String(data[k]);
    });
  }

  function setup() {
    var tus = window.tus;
    if (!tus || !tus.isSupported || !window.Promise || !form.getAttribute("data-tus")) { return; }
    var endpoint = form.getAttribute("data-tus");
    var csrf = form.querySelector("input[name=csrf]").value;
    var folder = form.querySelector("input[name=folder]").value;
    var parallel = 2;
    var rows = [];
    var waiting = [];
    var running = 0;

    var summary = document.createElement("p");
    summary.id = "upload-summary";
    summary.className = "upload-summary";
    summary.setAttribute("role", "status");
    summary.hidden = true;
    var more = document.createElement("a");
    more.id = "show-new";
    more.className = "button secondary";
    more.href = location.pathname;
    more.textContent = t("Show the new files");
    more.hidden = true;
    list.parentNode.insertBefore(summary, list.nextSibling);
    summary.parentNode.insertBefore(more, summary.nextSibling);

    function human(n) {
      if (n < 1024) { return n.toLocaleString(lang) + " B"; }
      var units = "KMGTPE", i = -1;
      do { n /= 1024; i++; } while (n >= 1024 && i < units.length - 1);
      return n.toLocaleString(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) + " " + units.charAt(i) + "iB";
    }

    function el(tag, cls, text) {
      var e = document.createElement(tag);
      if (cls) { e.className = cls; }
      if (text) { e.textContent = text; }
      return e;
    }

    // add puts a file in the queue, with its row on screen at once.
    function add(file) {
      var li = el("li", "queued");
      var head = el("div", "row-head");
      head.appendChild(el("span", "name", file.name));
      head.appendChild(el("span", "size", human(file.size)));
      var bar = el("progress");
      bar.max = 100; bar.value = 0;
      bar.setAttribute("aria-label", t("Sending {{.Name}}", { Name: file.name }));
      var state = el("span", "state", t("Waiting"));
      var retry = el("button", "secondary retry", t("Retry"));
      retry.type = "button";
      retry.hidden = true;
      retry.setAttribute("aria-label", t("Retry {{.Name}}", { Name: file.name }));
      li.appendChild(head); li.appendChild(bar); li.appendChild(state); li.appendChild(retry);
      list.appendChild(li);
      var r = { file: file, li: li, bar: bar, state: state, retry: retry, status: "queued", upload: null };
      retry.addEventListener("click", function () {
        retry.hidden = true;
        set(r, "queued", t("Waiting"));
        waiting.push(r);
        pump();
      });
      rows.push(r);
      waiting.push(r);
    }

    function set(r, status, text) {
      r.status = status;
      r.li.className = status;
      r.state.textContent = text;
    }

    function pump() {
      while (running < parallel && waiting.length) { send(waiting.shift()); }
      report();
    }

    // reason turns a failure into words: the server's message when it
    // sent one.
    function reason(err) {
      var res = err && err.originalResponse;
      if (res) {
        try {
          var m = JSON.parse(res.getBody() || "{}").message;
          if (m) { return m; }
        } catch (e) { /* not JSON: say what the status says below */ }
        return t("The server refused it ({{.Status}}).", { Status: String(res.getStatus()) });
      }
      return t("The connection failed.");
    }

    function send(r) {
      running++;
      set(r, "sending", t("Starting"));
      var done = function () { running--; pump(); };
      if (!r.upload) {
        r.upload = new tus.Upload(r.file, {
          endpoint: endpoint,
          chunkSize: 8 * 1024 * 1024,
          // A dropped connection is tried again, from where the server
          // says the file got to.
          retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
          metadata: { filename: r.file.name, folder: folder },
          headers: { "X-CSRF-Token": csrf, "Accept": "application/json" },
          removeFingerprintOnSuccess: true,
          onProgress: function (sent, total) {
            var pct = total ? Math.floor(100 * sent / total) : 100;
            r.bar.value = pct;
            r.state.textContent = pct + "%";
          },
          onSuccess: function (payload) {
            var res = payload && payload.lastResponse;
            var saved = res && res.getHeader("Sesame-Saved-As");
            saved = saved ? decodeURIComponent(saved) : r.file.name;
            r.bar.value = 100;
            set(r, "done", saved === r.file.name ? t("Sent") : t("Sent, saved as “{{.Name}}”", { Name: saved }));
            done();
          },
          onError: function (err) {
            set(r, "failed", t("Not sent: {{.Reason}}", { Reason: reason(err) }));
            r.retry.hidden = false;
            done();
          }
        });
        r.upload.findPreviousUploads().then(function (previous) {
          if (previous.length) { r.upload.resumeFromPreviousUpload(previous[0]); }
          r.upload.start();
        }, function () { r.upload.start(); });
        return;
      }
      r.upload.start();
    }

    // report says where the queue stands once nothing is left to send.
    function report() {
      var sent = 0, failed = 0;
      rows.forEach(function (r) {
        if (r.status === "done") { sent++; }
        if (r.status === "failed") { failed++; }
      });
      var busy = running > 0 || waiting.length > 0;
      form.setAttribute("data-state", busy ? "sending" : "idle");
      more.hidden = busy || sent === 0;
      if (busy) { summary.hidden = true; return; }
      summary.hidden = false;
      if (failed === 0) {
        summary.className = "upload-summary done";
        summary.textContent = t("{{.Count}} files sent — you can close this page.", { Count: sent });
      } else {
        summary.className = "upload-summary failed";
        summary.textContent = t("{{.Count}} files sent.", { Count: sent }) + " " +
          t("{{.Count}} files could not be sent. Use Retry to try them again.", { Count: failed });
      }
    }

    function take(files) {
      for (var i = 0; i < files.length; i++) { add(files[i]); }
      pump();
    }

    form.addEventListener("submit", function (e) {
      if (!input.files || input.files.length === 0) { return; }
      e.preventDefault();
      take(input.files);
      input.value = "";
    });
    ["dragenter", "dragover"].forEach(function (t) {
      form.addEventListener(t, function (e) { e.preventDefault(); form.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      form.addEventListener(t, function (e) { e.preventDefault(); form.classList.remove("over"); });
    });
    form.addEventListener("drop", function (e) {
      if (e.dataTransfer && e.dataTransfer.files.length) { take(e.dataTransfer.files); }
    });
  }
})();
