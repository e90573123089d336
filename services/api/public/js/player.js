// A draft's player: the audio is fetched with the bearer key and played from a Blob URL (the
// audio route needs auth and the API offers no signed link to the browser), and its waveform comes
// from GET /v1/jobs/{id}/waveform, or, on a server without that route, is decoded from the audio
// once it has been loaded.
import { isMissingRoute } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { clock } from "./format.js";

const LOCAL_COLUMNS = 600;

/** Run at most `n` of the queued tasks at once. */
function limiter(n) {
  let active = 0;
  const queue = [];
  const next = () => {
    if (active >= n || queue.length === 0) return;
    active++;
    const { task, resolve, reject } = queue.shift();
    task()
      .then(resolve, reject)
      .finally(() => {
        active--;
        next();
      });
  };
  return (task) =>
    new Promise((resolve, reject) => {
      queue.push({ task, resolve, reject });
      next();
    });
}

/** min/max peaks of the first channel in `columns` buckets. */
function peaksOf(buffer, columns) {
  const data = buffer.getChannelData(0);
  const size = Math.max(1, Math.floor(data.length / columns));
  const peaks = [];
  for (let c = 0; c < columns; c++) {
    let min = 0;
    let max = 0;
    const end = Math.min(data.length, (c + 1) * size);
    for (let i = c * size; i < end; i++) {
      const v = data[i];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    peaks.push([min, max]);
  }
  return peaks;
}

/** Shared caches of audio Blob URLs and waveform peaks, by job id. */
export function createDraftStore({ api, features }) {
  const audio = new Map();
  const peaks = new Map();
  const fetchLimit = limiter(4);
  const probeLimit = limiter(1);

  function audioUrl(jobId) {
    if (!audio.has(jobId)) {
      const pending = api.blob(`/v1/jobs/${encodeURIComponent(jobId)}/audio`).then((blob) => ({ blob, url: URL.createObjectURL(blob) }));
      pending.catch(() => audio.delete(jobId));
      audio.set(jobId, pending);
    }
    return audio.get(jobId);
  }

  /**
   * Peaks from the API; null when there are none (yet), or when the route is missing. A job that
   * says `output.waveform_url: null` has none yet (asking would be a 409); a job without that
   * field comes from a server that may lack the route, so it is probed once.
   */
  function serverPeaks(job) {
    const jobId = job.id;
    if (features.waveform === false) return Promise.resolve(null);
    if (job.output && "waveform_url" in job.output && !job.output.waveform_url) return Promise.resolve(null);
    if (!peaks.has(jobId)) {
      // Until one answer tells whether the route exists, ask one at a time (one 404, not fifty).
      const ask = () => (features.waveform === false ? Promise.resolve(null) : api.get(`/v1/jobs/${encodeURIComponent(jobId)}/waveform`));
      const pending = (features.waveform === undefined ? probeLimit(ask) : fetchLimit(ask))
        .then((body) => {
          if (body === null) return null;
          features.waveform = true;
          return Array.isArray(body?.peaks) ? body.peaks : null;
        })
        .catch((err) => {
          if (isMissingRoute(err)) features.waveform = false;
          // Not ready yet (409) or a passing failure: ask again later; gone (404/410): never.
          else if (err.status === 409 || err.status >= 500 || !err.status) peaks.delete(jobId);
          return null;
        });
      peaks.set(jobId, pending);
    }
    return peaks.get(jobId);
  }

  /** Decode the loaded audio in the browser (no AudioContext needs starting: offline). */
  async function localPeaks(jobId, blob) {
    const context = new OfflineAudioContext(1, 1, 22050);
    const buffer = await context.decodeAudioData(await blob.arrayBuffer());
    const result = peaksOf(buffer, LOCAL_COLUMNS);
    peaks.set(jobId, Promise.resolve(result));
    return result;
  }

  function dispose() {
    for (const pending of audio.values()) pending.then(({ url }) => URL.revokeObjectURL(url), () => undefined);
    audio.clear();
    peaks.clear();
  }

  return { audioUrl, serverPeaks, localPeaks, dispose };
}

function drawWave(canvas, peaks, progress) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const ctx = canvas.getContext("2d");
  const style = getComputedStyle(canvas);
  const played = style.getPropertyValue("--wave-played").trim() || "#4338ca";
  const rest = style.getPropertyValue("--wave-rest").trim() || "#a5b4fc";
  ctx.clearRect(0, 0, width, height);
  const mid = height / 2;
  if (!peaks || peaks.length === 0) {
    ctx.fillStyle = rest;
    ctx.fillRect(0, mid - ratio / 2, width, ratio);
    return;
  }
  // Scale to the loudest column so quiet drafts stay readable.
  let loudest = 0.05;
  for (const [min, max] of peaks) loudest = Math.max(loudest, Math.abs(min), Math.abs(max));
  const bar = Math.max(1, Math.round(2 * ratio));
  const gap = Math.max(1, Math.round(ratio));
  const bars = Math.max(1, Math.floor(width / (bar + gap)));
  for (let b = 0; b < bars; b++) {
    const from = Math.floor((b / bars) * peaks.length);
    const to = Math.max(from + 1, Math.floor(((b + 1) / bars) * peaks.length));
    let min = 0;
    let max = 0;
    for (let i = from; i < to && i < peaks.length; i++) {
      min = Math.min(min, peaks[i][0]);
      max = Math.max(max, peaks[i][1]);
    }
    const top = mid - (max / loudest) * (mid - 1);
    const bottom = mid - (min / loudest) * (mid - 1);
    const x = b * (bar + gap);
    ctx.fillStyle = x / width < progress ? played : rest;
    ctx.fillRect(x, top, bar, Math.max(ratio, bottom - top));
  }
}

/**
 * The draft cell of a completed job: waveform canvas (click to seek) and a "Listen" button that
 * loads the audio into an `<audio controls>` element.
 */
export function createDraftPlayer(job, store) {
  let peaks = null;
  let audioEl = null;
  const canvas = h("canvas", {
    class: "wave",
    role: "img",
    "aria-label": `Waveform of draft ${job.id}`,
    title: "Click to play from here",
  });
  const slot = h("div", { class: "player-slot" });
  const status = h("span", { class: "muted small", "aria-live": "polite" });
  const root = h("div", { class: "draft", dataset: { jobId: job.id } }, canvas, slot);

  const redraw = () => drawWave(canvas, peaks, audioEl && audioEl.duration ? audioEl.currentTime / audioEl.duration : 0);
  new ResizeObserver(redraw).observe(canvas);

  let asking = false;
  /** Ask for the server's peaks (again, when a refreshed job now has them). */
  function update(fresh) {
    if (peaks || asking) return;
    asking = true;
    store.serverPeaks(fresh).then((p) => {
      asking = false;
      if (p && !peaks) {
        peaks = p;
        redraw();
      }
    });
  }
  update(job);

  async function load(seekFraction = null) {
    if (audioEl) {
      if (seekFraction !== null && audioEl.duration) audioEl.currentTime = seekFraction * audioEl.duration;
      return audioEl.play().catch(() => undefined);
    }
    listen.disabled = true;
    replaceChildren(status, "Loading…");
    try {
      const { url, blob } = await store.audioUrl(job.id);
      audioEl = h("audio", { controls: true, preload: "auto", src: url, "aria-label": `Draft ${job.id}` });
      audioEl.addEventListener("timeupdate", redraw);
      audioEl.addEventListener("seeked", redraw);
      audioEl.addEventListener("loadedmetadata", () => {
        if (seekFraction !== null) audioEl.currentTime = seekFraction * audioEl.duration;
        redraw();
      });
      replaceChildren(slot, audioEl);
      root.classList.add("loaded");
      if (!peaks) {
        store
          .localPeaks(job.id, blob)
          .then((p) => {
            peaks = p;
            redraw();
          })
          .catch(() => undefined);
      }
      await audioEl.play().catch(() => undefined);
    } catch (err) {
      listen.disabled = false;
      replaceChildren(status, `Could not load the audio: ${err.message}`);
    }
  }

  const length = job.output?.duration_seconds;
  const listen = h("button", { type: "button", class: "listen", onclick: () => load() }, "▶ Listen", length ? h("span", { class: "muted" }, ` ${clock(length)}`) : null);
  replaceChildren(slot, listen, status);
  canvas.addEventListener("click", (event) => {
    const rect = canvas.getBoundingClientRect();
    load(Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width)));
  });

  return { root, update, currentTime: () => (audioEl ? audioEl.currentTime : 0) };
}

/** Only one draft plays at a time. */
export function installExclusivePlayback() {
  document.addEventListener(
    "play",
    (event) => {
      for (const other of document.querySelectorAll("audio")) if (other !== event.target && !other.paused) other.pause();
    },
    true,
  );
}
