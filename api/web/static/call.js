// The call page: the recording in wavesurfer.js; clicking a transcript line or a finding seeks to it, and the
// line being played is highlighted. The audio comes from the API's audio route (the session cookie authenticates it).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("player");
  const regions = WaveSurfer.Regions.create();
  const player = WaveSurfer.create({
    container: box, url: box.dataset.audio, height: 80, waveColor: "#8aa", progressColor: "#256", plugins: [regions],
  });
  window.callqaPlayer = player; // the browser tests read the position through it
  const lines = [...document.querySelectorAll("#transcript .line")];
  const seek = (el) => {
    const start = parseFloat(el.dataset.start);
    if (!Number.isNaN(start)) { player.setTime(start); highlight(start); }
  };
  const highlight = (now) => {
    for (const line of lines) {
      const playing = now >= parseFloat(line.dataset.start) && now < parseFloat(line.dataset.end);
      line.classList.toggle("playing", playing);
      if (playing) line.setAttribute("aria-current", "true"); else line.removeAttribute("aria-current");
    }
    document.getElementById("time").textContent = now.toFixed(1);
  };
  for (const el of [...lines, ...document.querySelectorAll("#findings .finding")]) {
    el.addEventListener("click", () => seek(el));
    el.addEventListener("keydown", (e) => { if (e.key === "Enter") seek(el); });
  }
  player.on("timeupdate", highlight);
  player.on("decode", () => {
    for (const f of document.querySelectorAll("#findings .finding")) {
      const start = parseFloat(f.dataset.start), end = parseFloat(f.dataset.end);
      if (!Number.isNaN(start)) regions.addRegion({ start, end: Number.isNaN(end) ? start + 0.5 : end, color: "rgba(200,60,60,0.25)", drag: false, resize: false });
    }
  });
  document.getElementById("play").addEventListener("click", () => player.playPause());
});
