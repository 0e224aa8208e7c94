// The page: camera, states, drawing. Inference runs in worker.js so that the
// page never waits on it; at most one frame is in flight and newer frames are
// simply not sent while the worker is busy (the view stays live, results
// arrive at the rate the device can analyse).
//
// URL options (for tests and curious users): ?build=plain|simd forces a
// WebAssembly build; ?debug=1 keeps the last analysed frame in
// window.ferApp.lastFrame (tests compare it with the native runtime).
'use strict';

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const ui = {
  video: $('video'), overlay: $('overlay'), fps: $('fps'), build: $('build'),
  message: $('message'), messageTitle: $('message-title'), messageText: $('message-text'),
  progress: $('message-progress'),
  emotion: $('label-emotion'), confidence: $('label-confidence'),
  camSwitch: $('cam-switch'), photoButton: $('photo-button'), cameraButton: $('camera-button'),
  photoInput: $('photo-input'), switchButton: $('switch-button'), retryButton: $('retry-button'),
  stage: $('stage'), topbar: $('topbar'), bottom: $('bottom'), faceList: $('face-list'),
};

// Longest side of what is analysed: enough for faces of 60+ px in a selfie,
// and it bounds the detector's memory and time on large camera modes/photos.
const LIVE_MAX_SIDE = 640;
const PHOTO_MAX_SIDE = 1280;
const MAX_FACES = 8;

// What tests and the curious can read (window.ferApp); the page's own state.
const app = window.ferApp = {
  state: 'loading', mode: 'camera', build: null, labels: null, faces: [], frames: 0,
  lastMs: 0, fps: 0, lastFrame: null, params: null, error: null, paused: false, screenKeptOn: false,
  download: null,  // {loaded, total} bytes of the first download, while loading
  facing: 'user',  // the camera asked for: 'user' (front, shown mirrored) or 'environment' (rear)
  queuedPhoto: false,  // a photo picked while the model loads: analysed as soon as it is ready
  // What draw() put on screen, in CSS pixels of the view (tests read them):
  // where the photo is, each face's box, each label or numbered badge.
  photoRect: null, faceRects: [], labelRects: [], freeArea: null,
};

const MESSAGES = {
  loading: ['Loading the model…', 'Everything runs on this device; no picture leaves it.'],
  insecure: ['This page needs HTTPS',
    'Browsers only give the camera to secure pages. Open it through https:// (or on localhost). ' +
    'You can still analyse a photo.'],
  denied: ['Camera permission denied',
    'Allow the camera for this site (the camera or lock icon by the address, or the browser\'s site settings), ' +
    'then try again. You can still analyse a photo.'],
  nocamera: ['No camera found', 'This device shows no camera to the browser. Plug one in and try again, ' +
    'or analyse a photo.'],
  busy: ['The camera is in use', 'Another app holds the camera. Close it, then try again.'],
  error: ['Something went wrong', ''],
};

const CAMERA_RETRY_STATES = ['denied', 'busy', 'nocamera'];

// The loading message's second sentence: what happens next.
function loadingText() {
  return app.queuedPhoto ? 'Your photo will be analysed as soon as the model is ready.' : MESSAGES.loading[1];
}

function setState(state, detail) {
  app.state = state;
  document.body.dataset.state = state;
  const m = MESSAGES[state];
  ui.message.hidden = !m;
  if (m) {
    ui.messageTitle.textContent = m[0];
    ui.messageText.textContent = detail || m[1];
  }
  ui.progress.hidden = state !== 'loading' || !(app.download && app.download.total > 0);
  // A refused or missing camera may come back (permission given, the other
  // app closed, a camera plugged in): one button asks again, no reload.
  ui.retryButton.hidden = !CAMERA_RETRY_STATES.includes(state);
  if (state === 'loading' && app.queuedPhoto) ui.messageText.textContent = loadingText();
  if (state === 'noface') showLabel('No face in view', '');
  if (state === 'loading') showLabel('', '');
  if (m && state !== 'loading') showLabel('', '');
}

// Written only when the text changes: the emotion is a live region, and an
// unchanged label must not be announced again every frame.
function showLabel(main, side) {
  if (ui.emotion.textContent !== main) ui.emotion.textContent = main;
  if (ui.confidence.textContent !== side) ui.confidence.textContent = side;
}

// ---------------------------------------------------------------------------
// Worker

const worker = new Worker('worker.js');
let workerReady = false;
let inFlight = false;
let frameId = 0;
let spare = null;  // a returned pixel buffer, reused for the next frame
// Results of frames with a smaller id were sent before the camera stopped or
// the mode changed (camera <-> photo): they are dropped, not shown over the
// new view.
let acceptFrom = 1;
const debugFrames = new Map();  // ?debug: frame id -> a copy of its pixels and parameters

function discardFramesInFlight() {
  acceptFrom = frameId + 1;
  debugFrames.clear();
}

worker.onmessage = (event) => {
  const m = event.data;
  if (m.type === 'ready') {
    workerReady = true;
    app.build = m.build;
    app.labels = m.labels;
    app.kernels = m.kernels;
    app.loadMs = m.loadMs;
    // The fallback is worth saying: it is several times slower. ?build=plain
    // shows what a browser without SIMD shows.
    ui.build.textContent = m.build === 'simd' ? 'SIMD' : 'no SIMD: slower';
    if (m.build === 'plain') {
      ui.build.classList.add('fallback');
      ui.build.title = 'This browser has no WebAssembly SIMD: a plain build runs, several times slower.';
    }
    app.simdSupported = m.simdSupported;
    if (pendingPhoto) {  // picked while the model loaded: the user asked for that photo, not the camera
      const file = pendingPhoto;
      pendingPhoto = null;
      openPhoto(file);
    } else if (app.state === 'loading') {
      startCamera();
    }
  } else if (m.type === 'progress') {
    if (app.state !== 'loading') return;
    // The first visit's download (later visits come from the service worker's cache).
    const mb = (n) => (n / 1e6).toFixed(2);
    app.download = { loaded: m.loaded, total: m.total };
    if (m.total > 0) {
      ui.progress.max = m.total;
      ui.progress.value = Math.min(m.loaded, m.total);
      ui.progress.hidden = false;
    }
    ui.messageText.textContent = (m.total > 0 ? `${mb(Math.min(m.loaded, m.total))} of ${mb(m.total)} MB. ` :
      `${mb(m.loaded)} MB. `) + loadingText();
  } else if (m.type === 'result') {
    inFlight = false;
    spare = m.pixels;
    onResult(m);
  } else if (m.type === 'error') {
    inFlight = false;
    app.error = `${m.stage}: ${m.message}`;
    const what = m.stage === 'wasm' ? 'The WebAssembly module did not load.' :
                 m.stage === 'model' ? 'The model did not load.' : 'Analysis failed.';
    setState('error', `${what} ${m.message}`);
  }
};
worker.postMessage({ type: 'init', build: params.get('build') || 'auto', detector: params.get('detector') || 'yunet' });

// ---------------------------------------------------------------------------
// Camera

async function openCamera() {
  const size = { width: { ideal: 640 }, height: { ideal: 480 } };
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: false, video: { facingMode: app.facing, ...size } });
  } catch (e) {
    // A device without a front camera, or one that cannot honour the
    // constraints: any camera is better than none.
    if (e.name !== 'OverconstrainedError' && e.name !== 'NotFoundError') throw e;
    return navigator.mediaDevices.getUserMedia({ audio: false, video: true });
  }
}

async function startCamera() {
  app.mode = 'camera';
  document.body.dataset.mode = 'camera';
  ui.cameraButton.hidden = true;
  ui.photoButton.hidden = false;
  worker.postMessage({ type: 'reset' });
  discardFramesInFlight();
  resetRate();
  clearOverlay();
  if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    setState(window.isSecureContext ? 'nocamera' : 'insecure');
    return;
  }
  try {
    if (!ui.video.srcObject) {
      const stream = await openCamera();
      // The camera can end under us (another app takes it, a USB camera is
      // unplugged): say so instead of showing the last frame's result as live.
      for (const track of stream.getVideoTracks()) {
        track.addEventListener('ended', () => {
          if (ui.video.srcObject !== stream) return;  // we stopped it ourselves
          stopCamera();
          app.faces = [];
          setState('busy');
        });
      }
      ui.video.srcObject = stream;
      // What the camera says it is (a desktop webcam says nothing: then what was asked).
      const settings = stream.getVideoTracks()[0] ? stream.getVideoTracks()[0].getSettings() : {};
      document.body.dataset.facing = settings.facingMode === 'environment' ? 'environment' :
        settings.facingMode === 'user' ? 'user' : app.facing;
    }
    await ui.video.play();
    setState('running');
    keepScreenOn(true);
    offerCameraSwitch();
    scheduleFrame();
  } catch (e) {
    const state = { NotAllowedError: 'denied', SecurityError: 'denied', NotFoundError: 'nocamera',
                    OverconstrainedError: 'nocamera', NotReadableError: 'busy' }[e.name] || 'error';
    setState(state, state === 'error' ? `${e.name}: ${e.message}` : undefined);
  }
}

// The camera is released whenever nothing is shown from it (photo mode, the
// page hidden behind another app or tab): its light goes off, the battery is
// spared, and nothing is captured that the user cannot see.
function stopCamera() {
  const stream = ui.video.srcObject;
  if (stream) for (const track of stream.getTracks()) track.stop();
  ui.video.srcObject = null;
  keepScreenOn(false);
  discardFramesInFlight();
}

// While the live view runs nobody touches the phone: without a wake lock its
// screen would dim and lock after the idle timeout. Browsers release the lock
// when the page is hidden; refusals (battery saver) leave the default.
let wakeLock = null;
async function keepScreenOn(on) {
  if (!on) {
    const lock = wakeLock;
    wakeLock = null;
    app.screenKeptOn = false;
    if (lock) lock.release().catch(() => {});
    return;
  }
  if (wakeLock || !navigator.wakeLock) return;
  try {
    const lock = await navigator.wakeLock.request('screen');
    if (!ui.video.srcObject || wakeLock) {  // the camera stopped meanwhile, or a second request won
      lock.release().catch(() => {});
      return;
    }
    wakeLock = lock;
    lock.addEventListener('release', () => {
      if (wakeLock === lock) { wakeLock = null; app.screenKeptOn = false; }
    });
    app.screenKeptOn = true;
  } catch (e) {
    // not granted: the screen follows the phone's own timeout
  }
}

document.addEventListener('visibilitychange', () => {
  if (document.hidden) {
    if (app.mode === 'camera' && ['running', 'noface'].includes(app.state)) {
      stopCamera();
      app.paused = true;
    }
  } else if (app.paused) {
    app.paused = false;
    if (app.mode === 'camera') startCamera();
  }
});

function scheduleFrame() {
  if (app.mode !== 'camera') return;
  if ('requestVideoFrameCallback' in HTMLVideoElement.prototype) ui.video.requestVideoFrameCallback(grabFrame);
  else requestAnimationFrame(grabFrame);
}

const grabCanvas = document.createElement('canvas');
const grabContext = grabCanvas.getContext('2d', { willReadFrequently: true });

// Draws `source` (video, photo) at most maxSide long into the grab canvas and
// returns its RGBA pixels.
function grabPixels(source, sourceWidth, sourceHeight, maxSide) {
  const scale = Math.min(1, maxSide / Math.max(sourceWidth, sourceHeight));
  const width = Math.round(sourceWidth * scale), height = Math.round(sourceHeight * scale);
  if (grabCanvas.width !== width || grabCanvas.height !== height) {
    grabCanvas.width = width;
    grabCanvas.height = height;
  }
  grabContext.drawImage(source, 0, 0, width, height);
  return { width, height, data: grabContext.getImageData(0, 0, width, height).data };
}

// track: a camera frame (faces followed and smoothed); tta: each face and its
// mirror image classified and averaged (about 1 point more accurate, twice the
// classification time: worth it for a still photo, not for the live view).
function sendFrame(frame, minFace, track, tta) {
  let pixels = spare && spare.byteLength === frame.data.byteLength ? new Uint8Array(spare) : null;
  if (pixels) pixels.set(frame.data); else pixels = frame.data.slice();
  spare = null;
  const id = ++frameId;
  app.params = { minFace, maxFaces: MAX_FACES, track, tta };
  if (params.has('debug')) {
    debugFrames.set(id, { width: frame.width, height: frame.height, rgba: pixels.slice(), params: app.params });
  }
  inFlight = true;
  worker.postMessage({ type: 'frame', id, width: frame.width, height: frame.height,
                       pixels: pixels.buffer, minFace, maxFaces: MAX_FACES, cam: ui.camSwitch.checked, track, tta },
                     [pixels.buffer]);
}

function grabFrame() {
  if (app.mode !== 'camera') return;
  const v = ui.video;
  if (workerReady && !inFlight && v.videoWidth > 0) {
    const frame = grabPixels(v, v.videoWidth, v.videoHeight, LIVE_MAX_SIDE);
    // Every face of a group in front of the camera, down to 1/16 of the short
    // side (30 px at 480): YuNet then sees the frame at its own size.
    sendFrame(frame, Math.round(Math.min(frame.width, frame.height) / 16), true, false);
  }
  scheduleFrame();
}

// ---------------------------------------------------------------------------
// Photo mode

let photo = null;
let pendingPhoto = null;  // a File picked before the worker was ready

ui.photoButton.onclick = () => ui.photoInput.click();
ui.cameraButton.onclick = () => { photo = null; startCamera(); };
ui.retryButton.onclick = () => { if (workerReady) startCamera(); };

// Phones have a front and a rear camera: offer to switch when there are two.
async function offerCameraSwitch() {
  try {
    const devices = await navigator.mediaDevices.enumerateDevices();
    ui.switchButton.hidden = app.mode !== 'camera' || devices.filter((d) => d.kind === 'videoinput').length < 2;
  } catch (e) {
    ui.switchButton.hidden = true;
  }
}
ui.switchButton.onclick = () => {
  app.facing = app.facing === 'user' ? 'environment' : 'user';
  stopCamera();
  startCamera();
};
ui.photoInput.onchange = () => {
  const file = ui.photoInput.files[0];
  ui.photoInput.value = '';
  if (!file) return;
  if (!workerReady) {
    // Not dropped: kept until the model is ready, and the loading message says so.
    pendingPhoto = file;
    app.queuedPhoto = true;
    if (app.state === 'loading') ui.messageText.textContent = loadingText();
    return;
  }
  openPhoto(file);
};

async function openPhoto(file) {
  app.queuedPhoto = false;
  try {
    photo = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch (e) {
    setState('error', `This file could not be read as a picture (${e.message}).`);
    return;
  }
  app.mode = 'photo';
  app.paused = false;
  stopCamera();
  ui.switchButton.hidden = true;
  document.body.dataset.mode = 'photo';
  ui.cameraButton.hidden = false;
  setState('running');
  resetRate();
  analysePhoto();
}

function analysePhoto() {
  const frame = grabPixels(photo, photo.width, photo.height, PHOTO_MAX_SIDE);
  photo.frame = { width: frame.width, height: frame.height };
  // Group photos hold small faces; below ~24 px nothing useful is left to classify.
  sendFrame(frame, Math.max(24, Math.round(Math.min(frame.width, frame.height) / 20)), false, true);
}

// The maps are computed only when asked for: switched on after a photo was
// analysed, the photo is analysed again (the live view picks it up with its next frame).
ui.camSwitch.onchange = () => {
  if (app.mode !== 'photo' || !photo) return;
  const needsMaps = ui.camSwitch.checked && app.lastResult && app.lastResult.faces.some((f) => !f.cam);
  if (needsMaps || !app.lastResult) analysePhoto();
  else draw(app.lastResult);
};

// ---------------------------------------------------------------------------
// Results

let fpsWindow = [];

// The rate is of the live view only: it restarts with the camera, says
// nothing until two results came (one result is no rate), and a photo shows
// its analysis time alone.
function resetRate() {
  fpsWindow = [];
  app.fps = 0;
  ui.fps.textContent = '–';
}

function showRate(ms) {
  if (app.mode === 'photo') {
    ui.fps.textContent = `photo · ${ms.toFixed(0)} ms`;
    return;
  }
  const now = performance.now();
  fpsWindow.push(now);
  while (fpsWindow.length > 1 && now - fpsWindow[0] > 2000) fpsWindow.shift();
  if (fpsWindow.length > 1) app.fps = (fpsWindow.length - 1) * 1000 / (now - fpsWindow[0]);
  ui.fps.textContent = fpsWindow.length > 1 ? `${app.fps.toFixed(1)} fps · ${ms.toFixed(0)} ms` : `${ms.toFixed(0)} ms`;
}

function onResult(result) {
  if (result.id < acceptFrom) return;
  app.frames += 1;
  app.faces = result.faces;
  app.lastMs = result.ms;
  app.lastResult = result;
  // ?debug: the frame and what was found in it, read together by the tests.
  const sent = debugFrames.get(result.id);
  debugFrames.delete(result.id);
  if (sent) app.lastFrame = { ...sent, faces: result.faces, build: app.build };
  showRate(result.ms);
  if (app.state === 'running' || app.state === 'noface') setState(result.faces.length ? 'running' : 'noface');
  if (result.faces.length) {
    const main = result.faces[0];  // the largest face
    showLabel(app.labels[main.smoothedTop], `${Math.round(100 * main.smoothed[main.smoothedTop])}%`);
  }
  draw(result);
}

// The part of the view no bar covers, in overlay pixels: a photo is fitted
// into it whole, and boxes and labels are clipped to it, so the top bar and
// the label panel never hide a face or get a box line through their text.
function freeArea(dpr) {
  const stage = ui.stage.getBoundingClientRect();
  const top = Math.max(0, ui.topbar.getBoundingClientRect().bottom - stage.top);
  const bottom = Math.min(stage.height, ui.bottom.getBoundingClientRect().top - stage.top);
  // Whole device pixels: a clip edge inside a pixel would let half of it through.
  const y0 = Math.ceil(top * dpr), y1 = Math.floor(bottom * dpr);
  return { x: 0, y: y0, width: Math.round(stage.width * dpr), height: Math.max(1, y1 - y0) };
}

// The transform from frame pixels to overlay pixels: the video fills the view
// (object-fit: cover) and is mirrored; a photo is shown whole (contain) in the
// free area, unmirrored.
function frameToView(frameWidth, frameHeight, area, mirror, cover) {
  const pick = cover ? Math.max : Math.min;
  const s = pick(area.width / frameWidth, area.height / frameHeight);
  const dx = area.x + (area.width - frameWidth * s) / 2, dy = area.y + (area.height - frameHeight * s) / 2;
  return mirror ? [-s, 0, 0, s, 2 * area.x + area.width - dx, dy] : [s, 0, 0, s, dx, dy];
}

// Heat colours for the class activation map: transparent blue to opaque red.
function camImage(cam) {
  const lo = Math.min(...cam.values), hi = Math.max(...cam.values);
  const img = new ImageData(cam.w, cam.h);
  cam.values.forEach((v, i) => {
    const t = hi > lo ? (v - lo) / (hi - lo) : 0;
    img.data.set([Math.round(255 * Math.min(1, 2 * t)), Math.round(255 * (1 - Math.abs(2 * t - 1))),
                  Math.round(255 * Math.max(0, 1 - 2 * t)), Math.round(60 + 120 * t)], 4 * i);
  });
  const c = document.createElement('canvas');
  c.width = cam.w;
  c.height = cam.h;
  c.getContext('2d').putImageData(img, 0, 0);
  return c;
}

const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const within = (r, area) => r.x >= area.x && r.y >= area.y && r.x + r.w <= area.x + area.width &&
  r.y + r.h <= area.y + area.height;

// Places one rectangle of size w x h next to a face box [x0, y0, x1, y1]:
// the first candidate inside the area that meets no rectangle already placed.
function placeNear(box, w, h, gap, area, placed, candidates) {
  const [x0, y0, x1, y1] = box;
  const clampX = (x) => Math.max(area.x, Math.min(x, area.x + area.width - w));
  for (const [cx, cy] of candidates(x0, y0, x1, y1, w, h, gap)) {
    const r = { x: clampX(cx), y: cy, w, h };
    if (within(r, area) && !placed.some((p) => overlaps(r, p))) return r;
  }
  return null;
}

const labelSpots = (x0, y0, x1, y1, w, h, gap) => [[x0, y0 - h - gap], [x1 - w, y0 - h - gap], [x0, y1 + gap],
  [x1 - w, y1 + gap], [x0, y0 + gap]];
// A badge tries around its face, then further out in rings of its own size.
const badgeSpots = (x0, y0, x1, y1, w, h, gap) => {
  const spots = [[x0, y0 - h - gap], [x1 - w, y0 - h - gap], [x0 - w - gap, y0], [x1 + gap, y0], [x0, y1 + gap],
    [x1 - w, y1 + gap]];
  const cx = (x0 + x1 - w) / 2, cy = (y0 + y1 - h) / 2, r0 = Math.max(x1 - x0, y1 - y0) / 2 + h;
  for (let ring = 0; ring < 4; ring++) {
    for (let k = 0; k < 12; k++) {
      const a = (k / 12) * 2 * Math.PI - Math.PI / 2, r = r0 + ring * (h + gap);
      spots.push([cx + r * Math.cos(a), cy + r * Math.sin(a)]);
    }
  }
  return spots;
};

// Labels of the faces that get one on the picture ("happy 87%" next to the
// box) when every one of them fits without touching another; otherwise (small
// faces in a group, labels wider than the faces) every face gets a numbered
// badge instead, and the list under the picture gives each number's emotion.
// Returns [{face, kind: 'label'|'badge', text, rect}] in overlay pixels.
function layoutLabels(g, items, area, dpr) {
  const h = 22 * dpr, gap = 2 * dpr;
  g.font = `600 ${Math.round(15 * dpr)}px system-ui, sans-serif`;
  const boxes = items.map((it) => ({ x: it.box[0], y: it.box[1], w: it.box[2] - it.box[0], h: it.box[3] - it.box[1] }));
  const labels = [];
  for (const it of items) {
    const w = g.measureText(it.text).width + 12 * dpr;
    const r = placeNear(it.box, w, h, gap, area, labels.map((l) => l.rect), labelSpots);
    if (!r) break;
    labels.push({ face: it.face, kind: 'label', text: it.text, rect: r });
  }
  if (labels.length === items.length) return labels;
  // Badges avoid each other and, where they can, the other faces.
  const badges = [];
  for (const it of items) {
    const placed = badges.map((b) => b.rect);
    const others = boxes.filter((b, k) => items[k] !== it);
    const r = placeNear(it.box, h, h, gap, area, [...placed, ...others], badgeSpots) ||
              placeNear(it.box, h, h, gap, area, placed, badgeSpots);
    badges.push({ face: it.face, kind: 'badge', text: String(it.face + 1), rect: r });
  }
  return badges.filter((b) => b.rect);
}

function showFaceList(entries) {
  const text = entries.map((e) => `${e.number}\u2009${e.text}`).join('|');
  if (ui.faceList.dataset.text === text) return;
  ui.faceList.dataset.text = text;
  ui.faceList.replaceChildren(...entries.map((e) => {
    const li = document.createElement('li');
    const b = document.createElement('b');
    b.textContent = e.number;
    li.append(b, ` ${e.text}`);
    return li;
  }));
  ui.faceList.hidden = entries.length === 0;
}

function clearOverlay() {
  const o = ui.overlay;
  o.getContext('2d').clearRect(0, 0, o.width, o.height);
  app.faceRects = [];
  app.labelRects = [];
  app.photoRect = null;
  showFaceList([]);
}

function draw(result, again = false) {
  const o = ui.overlay, dpr = window.devicePixelRatio || 1;
  const w = Math.round(o.clientWidth * dpr), h = Math.round(o.clientHeight * dpr);
  if (o.width !== w || o.height !== h) { o.width = w; o.height = h; }
  const g = o.getContext('2d');
  g.setTransform(1, 0, 0, 1, 0, 0);
  g.clearRect(0, 0, w, h);
  const isPhoto = app.mode === 'photo';
  const mirrored = !isPhoto && document.body.dataset.facing !== 'environment';
  const area = freeArea(dpr);
  const t = frameToView(result.width, result.height, isPhoto ? area : { x: 0, y: 0, width: w, height: h }, mirrored, !isPhoto);
  const toView = (x, y) => [t[0] * x + t[4], t[3] * y + t[5]];
  const css = (r) => ({ x: r.x / dpr, y: r.y / dpr, w: r.w / dpr, h: r.h / dpr });
  g.save();
  g.beginPath();
  g.rect(area.x, area.y, area.width, area.height);
  g.clip();
  if (isPhoto) {
    g.setTransform(...t);
    g.drawImage(photo, 0, 0, result.width, result.height);
    const [px, py] = toView(0, 0), [qx, qy] = toView(result.width, result.height);
    app.photoRect = css({ x: px, y: py, w: qx - px, h: qy - py });
  } else {
    app.photoRect = null;
  }
  const items = [];
  app.faceRects = [];
  result.faces.forEach((f, i) => {
    g.setTransform(...t);
    if (ui.camSwitch.checked && f.cam) {
      g.imageSmoothingEnabled = true;
      g.drawImage(camImage(f.cam), f.crop.x, f.crop.y, f.crop.size, f.crop.size);
    }
    g.lineWidth = (i === 0 ? 4 : 2.5) * dpr / Math.abs(t[0]);
    g.strokeStyle = i === 0 ? '#5ee6a8' : '#ffd166';
    g.strokeRect(f.box.x, f.box.y, f.box.width, f.box.height);
    const [ax, ay] = toView(f.box.x, f.box.y), [bx, by] = toView(f.box.x + f.box.width, f.box.y + f.box.height);
    const box = [Math.min(ax, bx), Math.min(ay, by), Math.max(ax, bx), Math.max(ay, by)];
    app.faceRects.push(css({ x: box[0], y: box[1], w: box[2] - box[0], h: box[3] - box[1] }));
    if (i > 0 || isPhoto) {  // the main face's label is the big one at the bottom
      items.push({ face: i, box, text: `${app.labels[f.smoothedTop]} ${Math.round(100 * f.smoothed[f.smoothedTop])}%` });
    }
  });
  g.restore();
  g.setTransform(1, 0, 0, 1, 0, 0);
  const placed = layoutLabels(g, items, area, dpr);
  const listed = placed.some((p) => p.kind === 'badge') ? items : [];
  const listChanged = listed.length !== (ui.faceList.hidden ? 0 : ui.faceList.children.length);
  showFaceList(listed.map((it) => ({ number: String(it.face + 1), text: it.text })));
  // The list changes the panel's height, hence the free area: lay out once more.
  if (listChanged && !again) { draw(result, true); return; }
  app.labelRects = placed.map((p) => ({ face: p.face, kind: p.kind, text: p.text, ...css(p.rect) }));
  g.font = `600 ${Math.round(15 * dpr)}px system-ui, sans-serif`;
  g.textBaseline = 'middle';
  for (const p of placed) {
    const r = p.rect;
    g.fillStyle = 'rgba(10,14,22,0.86)';
    g.fillRect(r.x, r.y, r.w, r.h);
    g.fillStyle = '#fff';
    g.textAlign = p.kind === 'badge' ? 'center' : 'left';
    g.fillText(p.text, p.kind === 'badge' ? r.x + r.w / 2 : r.x + 6 * dpr, r.y + r.h / 2);
  }
  app.freeArea = css({ x: area.x, y: area.y, w: area.width, h: area.height });
}

window.addEventListener('resize', () => { if (app.lastResult) draw(app.lastResult); });

// ---------------------------------------------------------------------------
// Offline: the service worker caches the app, the WebAssembly and the model.

if ('serviceWorker' in navigator && window.isSecureContext) {
  navigator.serviceWorker.register('sw.js').then(() => navigator.serviceWorker.ready)
    .then(() => { app.offlineReady = true; })
    .catch((e) => { app.offlineError = String(e); });
}
