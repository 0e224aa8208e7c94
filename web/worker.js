// Inference off the page's thread: loads one of the two WebAssembly builds of
// the runtime (fer-simd or fer-plain, from web/wasm/fer-web.cpp), the model and
// the face detector, then analyses the frames app.js posts, one at a time.
//
// In:  {type: 'init', build: 'auto'|'simd'|'plain', detector: 'yunet'|'haar'}
//      {type: 'frame', id, width, height, pixels (RGBA ArrayBuffer), minFace, maxFaces, cam, track, tta}
//      {type: 'reset'}                         forget the tracks
//      {type: 'bench', width, height, pixels, minFace, reps}
// Out: {type: 'progress', loaded, total}            bytes downloaded so far (total 0: unknown)
//      {type: 'ready', build, simd, kernels, labels, loadMs}
//      {type: 'error', stage: 'wasm'|'model'|'analyze', message}
//      {type: 'result', id, width, height, faces, ms, pixels}   pixels handed back for reuse
//      {type: 'bench', ms: [...]}
'use strict';

const MODEL_URL = 'model/fernet-int8.tflite';
// The face detector: YuNet (int8, landmarks) unless the page asks for the Haar cascade.
const DETECTOR_URLS = { yunet: 'model/yunet-int8.tflite', haar: 'model/frontalface-alt2.fercascade' };

// Offsets of one face's float32 record; must match fer_web_record in web/wasm/fer-web.cpp.
const REC = { box: 0, neighbors: 4, crop: 5, probs: 8, top: 15, confidence: 16, uncertain: 17,
              track: 18, smoothed: 19, smoothedTop: 26, camH: 27, camW: 28, cam: 29 };
const N_CLASSES = 7;

// The smallest module using a SIMD128 instruction (i8x16.splat): a browser
// that validates it runs the SIMD build. Bytes: header; type () -> v128;
// one function of that type; its body: i32.const 0, i8x16.splat, end.
const SIMD_PROBE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00,
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x0b]);
const simdSupported = () => { try { return WebAssembly.validate(SIMD_PROBE); } catch (e) { return false; } };

let fer = null;  // the Emscripten module
let recordSize = 0;

// Files come gzip-compressed (URL + '.gz') where the browser can inflate them,
// whatever the host does. A host that adds Content-Encoding: gzip to a .gz
// file gets it inflated by the browser already: the gzip magic says which.
const canInflate = typeof DecompressionStream === 'function';

// Bytes of every file of the site as built: web/build.sh writes them here, so
// the loading message can say how much of the first download is left.
const FILE_BYTES = {};
const download = { loaded: 0, total: 0, reportedAt: 0 };

function reportDownload(force) {
  const now = performance.now();
  if (!force && now - download.reportedAt < 100) return;
  download.reportedAt = now;
  postMessage({ type: 'progress', loaded: download.loaded, total: download.total });
}

// The response's bytes, counted into the download progress as they arrive.
async function readCounting(response) {
  if (!response.body || !response.body.getReader) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    download.loaded += bytes.length;
    return bytes;
  }
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    download.loaded += value.length;
    reportDownload(false);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) { bytes.set(c, at); at += c.length; }
  return bytes;
}

const fetchedName = (url) => (canInflate ? `${url}.gz` : url);

async function fetchBytes(url) {
  const response = await fetch(fetchedName(url));
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const bytes = await readCounting(response);
  reportDownload(true);
  if (!canInflate || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const inflated = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(inflated).arrayBuffer());
}

// Copies bytes into the module's heap; the caller frees the pointer.
function toHeap(bytes) {
  const ptr = fer._malloc(bytes.length);
  fer.HEAPU8.set(bytes, ptr);
  return ptr;
}

async function init(requested, detector) {
  const DETECTOR_URL = DETECTOR_URLS[detector] || DETECTOR_URLS.yunet;
  const t0 = performance.now();
  const build = requested === 'plain' || (requested !== 'simd' && !simdSupported()) ? 'plain' : 'simd';
  let stage = 'wasm';
  try {
    const files = [MODEL_URL, DETECTOR_URL, `fer-${build}.wasm`].map(fetchedName);
    download.total = files.every((f) => FILE_BYTES[f] > 0) ? files.reduce((sum, f) => sum + FILE_BYTES[f], 0) : 0;
    importScripts(`fer-${build}.js`);
    // The three downloads run together.
    const data = Promise.all([fetchBytes(MODEL_URL), fetchBytes(DETECTOR_URL)]);
    fer = await createFerModule({ wasm: await fetchBytes(`fer-${build}.wasm`) });  // the minimal runtime's name for the bytes
    stage = 'model';
    const [model, cascade] = await data;
    const m = toHeap(model), c = toHeap(cascade);
    const failed = fer._fer_web_init(m, model.length, c, cascade.length);
    fer._free(m);
    fer._free(c);
    if (failed) throw new Error(fer.UTF8ToString(fer._fer_web_error()));
    recordSize = fer._fer_web_record_size();
    const labels = [];
    for (let k = 0; k < N_CLASSES; k++) labels.push(fer.UTF8ToString(fer._fer_web_label(k)));
    postMessage({ type: 'ready', build, simd: fer._fer_web_simd() === 1, simdSupported: simdSupported(),
                  kernels: fer.UTF8ToString(fer._fer_web_kernels()), labels, loadMs: performance.now() - t0 });
  } catch (e) {
    postMessage({ type: 'error', stage, message: String(e && e.message || e) });
  }
}

function readFace(records, i) {
  const r = records.subarray(i * recordSize, (i + 1) * recordSize);
  const camH = r[REC.camH], camW = r[REC.camW];
  return {
    box: { x: r[REC.box], y: r[REC.box + 1], width: r[REC.box + 2], height: r[REC.box + 3] },
    neighbors: r[REC.neighbors],
    crop: { x: r[REC.crop], y: r[REC.crop + 1], size: r[REC.crop + 2] },
    probabilities: Array.from(r.subarray(REC.probs, REC.probs + N_CLASSES)),
    top: r[REC.top],
    confidence: r[REC.confidence],
    uncertain: r[REC.uncertain] === 1,
    track: r[REC.track],
    smoothed: Array.from(r.subarray(REC.smoothed, REC.smoothed + N_CLASSES)),
    smoothedTop: r[REC.smoothedTop],
    cam: camH * camW > 0 ? { h: camH, w: camW, values: Array.from(r.subarray(REC.cam, REC.cam + camH * camW)) } : null,
  };
}

// Runs the pipeline on RGBA pixels; returns the faces (or throws).
function analyze(width, height, pixels, minFace, maxFaces, cam, track, tta) {
  const frame = fer._fer_web_frame(width, height);
  if (!frame) throw new Error(`frame ${width}x${height}: too large or out of memory`);
  fer.HEAPU8.set(new Uint8Array(pixels), frame);   // HEAPU8 is re-read: memory may have grown
  const n = fer._fer_web_analyze(width, height, minFace, maxFaces, cam ? 1 : 0, track ? 1 : 0, tta ? 1 : 0);
  if (n < 0) throw new Error(fer.UTF8ToString(fer._fer_web_error()));
  const records = new Float32Array(fer.HEAPF32.buffer, fer._fer_web_results(), n * recordSize);
  const faces = [];
  for (let i = 0; i < n; i++) faces.push(readFace(records, i));
  return faces;
}

onmessage = (event) => {
  const m = event.data;
  if (m.type === 'init') {
    init(m.build);
  } else if (m.type === 'frame') {
    try {
      const t0 = performance.now();
      const faces = analyze(m.width, m.height, m.pixels, m.minFace, m.maxFaces, m.cam, m.track, m.tta);
      const ms = performance.now() - t0;
      postMessage({ type: 'result', id: m.id, width: m.width, height: m.height, faces, ms, pixels: m.pixels },
                  [m.pixels]);
    } catch (e) {
      postMessage({ type: 'error', stage: 'analyze', message: String(e && e.message || e), id: m.id });
    }
  } else if (m.type === 'reset') {
    if (fer) fer._fer_web_tracker_reset();
  } else if (m.type === 'bench') {
    // Per-frame time of the whole pipeline (grey conversion, detection,
    // crop, classification), as the page's live loop runs it.
    const ms = [];
    try {
      for (let i = 0; i < m.reps; i++) {
        const t0 = performance.now();
        analyze(m.width, m.height, m.pixels, m.minFace, 0, false, false, false);
        ms.push(performance.now() - t0);
      }
      postMessage({ type: 'bench', ms, faces: analyze(m.width, m.height, m.pixels, m.minFace, 0, false, false, false) });
    } catch (e) {
      postMessage({ type: 'error', stage: 'analyze', message: String(e && e.message || e) });
    }
  }
};
