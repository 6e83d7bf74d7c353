// The in-page viewer. The page works without this script for images,
// text, audio and video; the script adds keys (← and → move between the
// folder's files, Escape closes), a message when the browser cannot show a
// file, and draws PDFs with the PDF.js build served from /static/.
const pdfjsBase = new URL("./vendor/pdfjs/", import.meta.url);

// pageText says "Page 2 of 5" in the page's language (the server writes
// the sentence into a JSON block).
function pageText(n, count) {
  let s = "Page {{.N}} of {{.Count}}";
  try { s = JSON.parse(document.getElementById("page-strings").textContent)[s] || s; } catch (e) { /* English */ }
  const lang = document.documentElement.lang || "en";
  return s.replace("{{.N}}", n.toLocaleString(lang)).replace("{{.Count}}", count.toLocaleString(lang));
}

function follow(id) {
  const a = document.getElementById(id);
  if (a) { location.assign(a.href); }
}

document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) { return; }
  // Players, fields and the scrolling text keep their own arrow keys.
  const own = e.target instanceof Element && e.target.closest("input, textarea, select, video, audio, pre, [contenteditable]");
  if (e.key === "Escape") {
    follow("view-close");
  } else if (!own && e.key === "ArrowLeft") {
    follow("view-prev");
  } else if (!own && e.key === "ArrowRight") {
    follow("view-next");
  }
});

function showError() {
  const p = document.getElementById("view-error");
  if (p) { p.hidden = false; }
}

// A file the browser cannot decode (a codec it lacks, or a refused
// download) says so instead of showing an empty player. The error may
// have happened before this module ran.
for (const m of document.querySelectorAll(".view-stage img, .view-stage video, .view-stage audio")) {
  if ((m instanceof HTMLMediaElement && m.error) || (m instanceof HTMLImageElement && m.complete && m.naturalWidth === 0)) {
    showError();
  }
  m.addEventListener("error", showError);
}

const box = document.getElementById("pdf");
if (box) {
  showPDF(box).catch((err) => {
    box.dataset.state = "error";
    box.hidden = true;
    showError();
    console.warn("pdf:", err && err.message);
  });
}

// showPDF loads the document and draws one page at a time, fitted to the
// width of the page (and sharp on high-density screens).
async function showPDF(box) {
  const pdfjs = await import(new URL("build/pdf.min.mjs", pdfjsBase).href);
  pdfjs.GlobalWorkerOptions.workerSrc = new URL("build/pdf.worker.min.mjs", pdfjsBase).href;
  const doc = await pdfjs.getDocument({
    url: box.dataset.src,
    cMapUrl: new URL("cmaps/", pdfjsBase).href,
    cMapPacked: true,
    standardFontDataUrl: new URL("standard_fonts/", pdfjsBase).href,
    wasmUrl: new URL("wasm/", pdfjsBase).href,
    enableXfa: false,
  }).promise;
  const canvas = document.getElementById("pdf-canvas");
  const status = document.getElementById("pdf-status");
  const prev = document.getElementById("pdf-prev");
  const next = document.getElementById("pdf-next");
  let num = 1;
  let task = null;
  let drawn = 0; // the width the current page was drawn at
  box.hidden = false;
  box.dataset.pages = String(doc.numPages);

  async function draw() {
    const page = await doc.getPage(num);
    const width = box.clientWidth;
    const ratio = window.devicePixelRatio || 1;
    const viewport = page.getViewport({ scale: (width / page.getViewport({ scale: 1 }).width) * ratio });
    if (task) { task.cancel(); }
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    task = page.render({ canvasContext: canvas.getContext("2d"), viewport: viewport });
    const mine = task;
    try {
      await mine.promise;
    } catch (err) {
      if (err && err.name === "RenderingCancelledException") { return; }
      throw err;
    }
    drawn = width;
    status.textContent = pageText(num, doc.numPages);
    prev.disabled = num <= 1;
    next.disabled = num >= doc.numPages;
    box.dataset.page = String(num);
    box.dataset.state = "drawn";
  }
  function go(n) {
    if (n < 1 || n > doc.numPages || n === num) { return; }
    num = n;
    box.dataset.state = "drawing";
    draw().catch(showError);
  }
  prev.addEventListener("click", () => go(num - 1));
  next.addEventListener("click", () => go(num + 1));
  let pending = 0;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(() => { if (box.clientWidth !== drawn) { draw().catch(showError); } }, 150);
  });
  await draw();
}
