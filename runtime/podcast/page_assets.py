"""The transcript page's inline style and script (no CDN: the page works offline, from a file or a bucket)."""

STYLE = """
:root { color-scheme: light dark; --accent: #2563eb; --current: rgba(37, 99, 235, .14); --muted: #6b7280; }
* { box-sizing: border-box; }
body { margin: 0; font: 17px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { position: sticky; top: 0; z-index: 1; padding: .75rem 1rem; background: Canvas;
         border-bottom: 1px solid color-mix(in srgb, CanvasText 15%, transparent); }
h1 { font-size: 1.25rem; margin: 0 0 .5rem; }
audio { width: 100%; }
.tools { display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; margin-top: .5rem; }
.tools input[type=search] { flex: 1; min-width: 12rem; padding: .35rem .5rem; font: inherit; }
.tools label, #match-count { color: var(--muted); font-size: .9rem; }
.layout { display: flex; gap: 1.5rem; max-width: 72rem; margin: 0 auto; padding: 1rem; }
nav { flex: 0 0 16rem; position: sticky; top: 10rem; align-self: flex-start; }
nav h2 { font-size: 1rem; margin: 0 0 .5rem; }
nav ol { list-style: none; margin: 0; padding: 0; }
nav button { all: unset; cursor: pointer; display: block; padding: .2rem .4rem; border-radius: .3rem; width: 100%; }
nav button:hover, nav button:focus-visible { background: var(--current); }
nav button.current { font-weight: 600; color: var(--accent); }
nav .stamp { color: var(--muted); font-variant-numeric: tabular-nums; margin-right: .4rem; }
main { flex: 1; min-width: 0; }
.turn { margin: 0 0 1.25rem; }
.turn-head { display: flex; gap: .6rem; align-items: baseline; }
cite { font-style: normal; font-weight: 600; }
time button { all: unset; cursor: pointer; color: var(--accent); font-variant-numeric: tabular-nums; font-size: .9rem; }
.turn p { margin: .2rem 0 0; }
.line { cursor: pointer; border-radius: .25rem; padding: .05rem .1rem; }
.line:hover { background: color-mix(in srgb, var(--current) 60%, transparent); }
.line.current { background: var(--current); box-shadow: inset 0 -2px var(--accent); }
.line.match { background: rgba(250, 204, 21, .35); }
.line.hidden-by-search { opacity: .35; }
@media (max-width: 48rem) { .layout { display: block; } nav { position: static; margin-bottom: 1rem; } }
"""

SCRIPT = """
(function () {
  "use strict";
  var audio = document.getElementById("player");
  var lines = Array.prototype.slice.call(document.querySelectorAll(".line"));
  var starts = lines.map(function (line) { return parseFloat(line.dataset.start); });
  var chapterButtons = Array.prototype.slice.call(document.querySelectorAll("nav button[data-start]"));
  var follow = document.getElementById("follow");
  var search = document.getElementById("search");
  var matchCount = document.getElementById("match-count");
  var current = -1, currentChapter = -1, matches = [], matchIndex = -1;

  function seek(seconds) {
    audio.currentTime = seconds;
    var playing = audio.play();
    if (playing && playing.catch) { playing.catch(function () { /* autoplay blocked: the seek still holds */ }); }
  }

  function indexAt(seconds, times) {
    var low = 0, high = times.length - 1, found = -1;
    while (low <= high) {
      var middle = (low + high) >> 1;
      if (times[middle] <= seconds + 0.05) { found = middle; low = middle + 1; } else { high = middle - 1; }
    }
    return found;
  }

  function highlight() {
    var index = indexAt(audio.currentTime, starts);
    if (index !== current) {
      if (current >= 0) { lines[current].classList.remove("current"); lines[current].removeAttribute("aria-current"); }
      current = index;
      if (current >= 0) {
        lines[current].classList.add("current");
        lines[current].setAttribute("aria-current", "true");
        if (follow.checked && !audio.paused) { lines[current].scrollIntoView({block: "center", behavior: "smooth"}); }
      }
    }
    var chapterStarts = chapterButtons.map(function (b) { return parseFloat(b.dataset.start); });
    var chapter = indexAt(audio.currentTime, chapterStarts);
    if (chapter !== currentChapter) {
      if (currentChapter >= 0) { chapterButtons[currentChapter].classList.remove("current"); }
      currentChapter = chapter;
      if (currentChapter >= 0) { chapterButtons[currentChapter].classList.add("current"); }
    }
  }

  function runSearch() {
    var query = search.value.trim().toLowerCase();
    matches = [];
    matchIndex = -1;
    lines.forEach(function (line, index) {
      var hit = query !== "" && line.textContent.toLowerCase().indexOf(query) >= 0;
      line.classList.toggle("match", hit);
      line.classList.toggle("hidden-by-search", query !== "" && !hit);
      if (hit) { matches.push(index); }
    });
    matchCount.textContent = query === "" ? "" : matches.length + (matches.length === 1 ? " match" : " matches");
  }

  function nextMatch(backwards) {
    if (!matches.length) { return; }
    matchIndex = (matchIndex + (backwards ? matches.length - 1 : 1)) % matches.length;
    lines[matches[matchIndex]].scrollIntoView({block: "center"});
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-start]");
    if (target && target !== audio) { event.preventDefault(); seek(parseFloat(target.dataset.start)); }
  });
  lines.forEach(function (line) {
    line.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); seek(parseFloat(line.dataset.start)); }
    });
  });
  search.addEventListener("input", runSearch);
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); nextMatch(event.shiftKey); }
  });
  audio.addEventListener("timeupdate", highlight);
  audio.addEventListener("seeked", highlight);
  highlight();
})();
"""
