// Progressive enhancement for the recipient pages: uploads with one
// progress bar per file and drag-and-drop. The plain form works without it.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var input = document.getElementById("files");
  var list = document.getElementById("progress");
  var drop = document.getElementById("drop");
  var csrf = form.querySelector("input[name=csrf]").value;
  var folder = form.querySelector("input[name=folder]").value;

  function row(name) {
    var li = document.createElement("li");
    var label = document.createElement("span");
    label.textContent = name;
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", "Uploading " + name);
    li.appendChild(label); li.appendChild(bar);
    list.appendChild(li);
    return { li: li, bar: bar, label: label };
  }

  function send(file) {
    return new Promise(function (resolve) {
      var r = row(file.name);
      var data = new FormData();
      data.append("csrf", csrf);
      data.append("folder", folder);
      data.append("file", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) { r.bar.value = Math.round(100 * e.loaded / e.total); } };
      xhr.onload = function () {
        var msg = "";
        try { msg = JSON.parse(xhr.responseText).message || ""; } catch (err) { msg = ""; }
        if (xhr.status >= 200 && xhr.status < 300) {
          r.bar.value = 100; r.li.className = "done"; r.label.textContent = msg || (file.name + " uploaded");
        } else {
          r.li.className = "failed"; r.label.textContent = file.name + ": " + (msg || "upload failed");
        }
        resolve();
      };
      xhr.onerror = function () { r.li.className = "failed"; r.label.textContent = file.name + ": the connection failed"; resolve(); };
      xhr.send(data);
    });
  }

  function upload(files) {
    var queue = Array.prototype.slice.call(files);
    var chain = Promise.resolve();
    queue.forEach(function (f) { chain = chain.then(function () { return send(f); }); });
    chain.then(function () { form.setAttribute("data-done", String(queue.length)); setTimeout(function () { location.reload(); }, 800); });
  }

  form.addEventListener("submit", function (e) {
    if (!input.files || input.files.length === 0) { return; }
    e.preventDefault();
    upload(input.files);
  });
  ["dragenter", "dragover"].forEach(function (t) {
    form.addEventListener(t, function (e) { e.preventDefault(); form.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (t) {
    form.addEventListener(t, function (e) { e.preventDefault(); form.classList.remove("over"); });
  });
  form.addEventListener("drop", function (e) { if (e.dataTransfer && e.dataTransfer.files.length) { upload(e.dataTransfer.files); } });
  if (drop) {
    // The label is focusable for keyboards; Enter or Space opens the file
    // chooser, as they would on a button.
    drop.setAttribute("tabindex", "0");
    drop.setAttribute("role", "button");
    drop.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); }
    });
  }
})();
