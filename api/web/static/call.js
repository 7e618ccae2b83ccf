// The call page: the recording as one lane per channel (agent, client) in wavesurfer.js, drawn from precomputed
// peaks while the audio itself streams by byte ranges as it plays; findings as regions on their speaker's lane.
// Clicking a transcript line or a finding seeks to it; the line being played is highlighted. Keyboard: space,
// j/k, c/x, m (the legend is in the page). Labels live in the template; this file only moves things.
"use strict";

const REGION_COLOURS = { fatal: "rgba(200,30,30,0.35)", fail: "rgba(220,90,40,0.28)", uncertain: "rgba(220,170,0,0.3)" };
const LANE_HEIGHT = 64;

function decodePeaks(encoded) {
  const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
  return out;
}

async function loadPeaks(url) {
  // A call's waveform before any audio: without it the player would download and decode the whole recording.
  try {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return null;
    const body = await response.json();
    return { duration: body.duration, peaks: body.peaks.map(decodePeaks) };
  } catch (error) {
    return null;
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  const box = document.getElementById("player");
  const lanes = parseInt(box.dataset.channels, 10) || 1;
  const regions = WaveSurfer.Regions.create();
  const loaded = await loadPeaks(box.dataset.peaks);
  if (!loaded) document.getElementById("player-error").hidden = false;
  const channelCount = loaded ? loaded.peaks.length : lanes;
  const split = channelCount > 1
    ? [{ waveColor: "#7a9cc6", progressColor: "#2a5a8a" }, { waveColor: "#9bbf8a", progressColor: "#4a7a3a" }]
    : undefined;
  const player = WaveSurfer.create({
    container: box,
    url: box.dataset.audio,
    peaks: loaded ? loaded.peaks : undefined,
    duration: loaded ? loaded.duration : undefined,
    height: LANE_HEIGHT,
    splitChannels: split,
    normalize: false,
    waveColor: "#8aa",
    progressColor: "#256",
    plugins: [regions],
  });
  window.callqaPlayer = player; // the browser tests read the position through it

  const lines = [...document.querySelectorAll("#transcript .line")];
  const findings = [...document.querySelectorAll("#findings .finding")];
  let selected = -1;

  const transcript = document.getElementById("transcript");
  const keepInView = (line) => {
    // Scrolls the transcript box only, never the page: the reviewer may be typing a reason elsewhere.
    const top = line.offsetTop, bottom = top + line.offsetHeight;
    if (top < transcript.scrollTop || bottom > transcript.scrollTop + transcript.clientHeight) {
      transcript.scrollTop = top - transcript.clientHeight / 3;
    }
  };
  const highlight = (now) => {
    for (const line of lines) {
      const playing = now >= parseFloat(line.dataset.start) && now < parseFloat(line.dataset.end);
      if (playing && !line.classList.contains("playing")) keepInView(line);
      line.classList.toggle("playing", playing);
      if (playing) line.setAttribute("aria-current", "true"); else line.removeAttribute("aria-current");
    }
    document.getElementById("time").textContent = now.toFixed(1);
  };
  const seek = (el) => {
    const start = parseFloat(el.dataset.start);
    if (!Number.isNaN(start)) { player.setTime(start); highlight(start); }
  };
  const select = (index) => {
    if (!findings.length) return;
    selected = (index + findings.length) % findings.length;
    findings.forEach((f, i) => f.classList.toggle("selected", i === selected));
    const finding = findings[selected];
    finding.scrollIntoView({ block: "nearest" });
    seek(finding);
  };

  for (const el of lines) {
    el.addEventListener("click", () => seek(el));
    el.addEventListener("keydown", (e) => { if (e.key === "Enter") seek(el); });
  }
  findings.forEach((el, i) => {
    el.addEventListener("click", (e) => {
      if (e.target.closest("select, input, label")) return; // deciding, not seeking
      select(i);
    });
    el.addEventListener("keydown", (e) => { if (e.key === "Enter" && e.target === el) select(i); });
  });

  player.on("timeupdate", highlight);
  player.on("decode", () => {
    for (const f of findings) {
      const start = parseFloat(f.dataset.start), end = parseFloat(f.dataset.end);
      if (Number.isNaN(start)) continue;
      const colour = f.dataset.severity === "fatal" ? REGION_COLOURS.fatal
        : f.classList.contains("verdict-uncertain") ? REGION_COLOURS.uncertain : REGION_COLOURS.fail;
      const region = regions.addRegion({
        start, end: Number.isNaN(end) || end <= start ? start + 0.5 : end, color: colour, drag: false, resize: false,
        channelIdx: channelCount > 1 ? parseInt(f.dataset.channel, 10) : -1,
      });
      region.element.dataset.finding = f.dataset.id;
      region.on("click", () => select(findings.indexOf(f)));
    }
  });
  document.getElementById("play").addEventListener("click", () => player.playPause());

  const addAtTime = document.getElementById("add-at-time");
  const addMissed = () => {
    const rows = document.querySelectorAll("#added .added-row");
    const blank = rows[rows.length - 1];
    const row = blank.querySelector("select").value ? blank.cloneNode(true) : blank;
    if (row !== blank) {
      row.querySelectorAll("input").forEach((input) => { input.value = ""; });
      row.querySelector("select").value = "";
      blank.after(row);
    }
    const now = player.getCurrentTime();
    row.querySelector(".added-start").value = now.toFixed(1);
    row.querySelector(".added-end").value = Math.min(now + 3, player.getDuration() || now + 3).toFixed(1);
    row.querySelector("select").focus();
  };
  if (addAtTime) { addAtTime.hidden = false; addAtTime.addEventListener("click", addMissed); }

  const decide = (verdict) => {
    if (selected < 0) return;
    const choice = findings[selected].querySelector("select.verdict");
    if (!choice) return;
    choice.value = verdict;
    if (verdict === "reject") findings[selected].querySelector("input.reason").focus();
  };
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest("input, textarea, select, [contenteditable]")) return; // typing, not commanding
    if (e.key === " " && e.target.closest("button, a")) return; // the focused control's own space
    const actions = {
      " ": () => player.playPause(), j: () => select(selected + 1), k: () => select(selected - 1),
      c: () => decide("confirm"), x: () => decide("reject"), m: () => addAtTime && addMissed(),
    };
    const action = actions[e.key];
    if (action) { e.preventDefault(); action(); }
  });

  // The lease countdown starts from the server's figure; a renewal (htmx) swaps in a box with a fresh one.
  const countdown = () => {
    const el = document.getElementById("lease-left");
    if (!el) return;
    if (!el.dataset.ends) el.dataset.ends = String(Date.now() + parseInt(el.dataset.seconds, 10) * 1000);
    const s = Math.max(0, Math.round((parseInt(el.dataset.ends, 10) - Date.now()) / 1000));
    el.querySelector(".min").textContent = Math.floor(s / 60);
    el.querySelector(".sec").textContent = s % 60;
    document.getElementById("lease-expired").hidden = s > 0;
  };
  countdown();
  setInterval(countdown, 1000);
});
