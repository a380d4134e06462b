// ThreatKG: small enhancements of server-rendered pages. Everything works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  enhanceThreatTools();
  enhanceConsole();
});

// Component page: filter the inherited threats, expand or collapse all of them.
function enhanceThreatTools() {
  const tools = document.querySelector("[data-enhance=threat-tools]");
  if (!tools) return;
  tools.hidden = false;
  const threats = Array.from(document.querySelectorAll(".threat"));
  const expandable = threats.filter((t) => t.tagName === "DETAILS");
  const groups = Array.from(document.querySelectorAll(".stride-group"));
  document.getElementById("threat-filter").addEventListener("input", (event) => {
    const words = event.target.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const t of threats) {
      const text = (t.dataset.search || "").toLowerCase();
      t.classList.toggle("hidden-by-filter", !words.every((w) => text.includes(w)));
    }
    for (const g of groups) {
      const visible = g.querySelectorAll(".threat:not(.hidden-by-filter)").length;
      g.classList.toggle("hidden-by-filter", visible === 0);
    }
  });
  document.getElementById("expand-all").addEventListener("click", () => expandable.forEach((t) => { t.open = true; }));
  document.getElementById("collapse-all").addEventListener("click", () => expandable.forEach((t) => { t.open = false; }));
}

// SPARQL console: Ctrl+Enter (Cmd+Enter) runs the query.
function enhanceConsole() {
  const query = document.getElementById("query");
  const run = document.getElementById("run");
  if (!query || !run) return;
  query.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run.click();
    }
  });
}
