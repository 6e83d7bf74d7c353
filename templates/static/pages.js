// Small improvements for the recipient pages: times in the visitor's own
// time zone, the wait before a new code may be sent, codes that sign in
// once all their digits are typed. Every page works without them.
(function () {
  "use strict";

  function each(selector, fn) { Array.prototype.forEach.call(document.querySelectorAll(selector), fn); }

  // <time data-local datetime="…Z">: shown in the visitor's time zone; the
  // UTC text the server wrote stays as the tooltip.
  var fmt = null;
  try {
    fmt = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
      { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
  } catch (e) { fmt = null; }
  each("time[data-local]", function (t) {
    var d = new Date(t.getAttribute("datetime"));
    if (!fmt || isNaN(d.getTime())) { return; }
    t.title = t.textContent;
    t.textContent = fmt.format(d);
  });

  // countdown shows n seconds as the server does: "45 s", or "54:25".
  function countdown(n) {
    if (n <= 60) { return n + " s"; }
    var s = n % 60;
    return Math.floor(n / 60) + ":" + (s < 10 ? "0" : "") + s;
  }

  // button[data-wait]: disabled for that many seconds, counting down.
  each("button[data-wait]", function (b) {
    var wait = parseInt(b.getAttribute("data-wait"), 10) || 0;
    if (wait <= 0) { return; }
    var until = Date.now() + wait * 1000;
    var counting = b.getAttribute("data-counting") || "{n}";
    var tick = function () {
      var left = Math.ceil((until - Date.now()) / 1000);
      if (left <= 0) {
        b.disabled = false;
        b.textContent = b.getAttribute("data-ready") || b.textContent;
        return;
      }
      b.disabled = true;
      b.textContent = counting.replace("{n}", countdown(left));
      setTimeout(tick, 1000 - ((until - Date.now()) % 1000 || 0));
    };
    tick();
  });

  // input[data-autosubmit]: a code field sends its form once it holds six
  // digits (spaces and dashes aside), once.
  each("input[data-autosubmit]", function (input) {
    input.addEventListener("input", function () {
      var form = input.form;
      if (!form || form.getAttribute("data-sending")) { return; }
      if (input.value.replace(/[^0-9]/g, "").length === 6 && input.checkValidity()) {
        form.setAttribute("data-sending", "1");
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      }
    });
  });

  // The file table: a select-all box, and "Download selected" that counts
  // the ticks and waits for one.
  var all = document.getElementById("pick-all");
  var picked = document.getElementById("zip-selected");
  var boxes = document.querySelectorAll("#select-form td.pick input[type=checkbox]");
  function update() {
    var n = 0;
    Array.prototype.forEach.call(boxes, function (b) { if (b.checked) { n++; } });
    if (all) {
      all.checked = n > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    }
    if (picked) {
      picked.disabled = n === 0;
      picked.textContent = n === 0 ? picked.getAttribute("data-label") : picked.getAttribute("data-counting").replace("{n}", String(n));
    }
  }
  if (boxes.length) {
    if (all) {
      all.hidden = false;
      all.addEventListener("change", function () {
        Array.prototype.forEach.call(boxes, function (b) { b.checked = all.checked; });
        update();
      });
    }
    Array.prototype.forEach.call(boxes, function (b) { b.addEventListener("change", update); });
    update();
  }
})();
