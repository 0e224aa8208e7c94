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
  photoInput: $('photo-input'), switchButton: $('switch-button'),
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
};

const MESSAGES = {
  loading: ['Loading the model…', 'Everything runs on this device; no picture leaves it.'],
  insecure: ['This page needs HTTPS',
    'Browsers only give the camera to secure pages. Open it through https:// (or on localhost). ' +
    'You can still analyse a photo.'],
  denied: ['Camera permission denied',
    'Allow the camera for this site in the browser settings, then reload. You can still analyse a photo.'],
  nocamera: ['No camera found', 'This device shows no camera to the browser. You can still analyse a photo.'],
  busy: ['The camera is in use', 'Another app holds the camera. Close it, then reload.'],
  error: ['Something went wrong', ''],
};

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
    if (app.state === 'loading') startCamera();
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
      `${mb(m.loaded)} MB. `) + MESSAGES.loading[1];
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
    // side (30 px at 480): YuNet then runs at about half the frame's size.
    sendFrame(frame, Math.round(Math.min(frame.width, frame.height) / 16), true, false);
  }
  scheduleFrame();
}

// ---------------------------------------------------------------------------
// Photo mode

let photo = null;

ui.photoButton.onclick = () => ui.photoInput.click();
ui.cameraButton.onclick = () => { photo = null; startCamera(); };

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
ui.photoInput.onchange = async () => {
  const file = ui.photoInput.files[0];
  ui.photoInput.value = '';
  if (!file || !workerReady) return;
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
  const frame = grabPixels(photo, photo.width, photo.height, PHOTO_MAX_SIDE);
  photo.frame = { width: frame.width, height: frame.height };
  // Group photos hold small faces; below ~24 px nothing useful is left to classify.
  sendFrame(frame, Math.max(24, Math.round(Math.min(frame.width, frame.height) / 20)), false, true);
};

ui.camSwitch.onchange = () => { if (app.mode === 'photo' && app.lastResult) draw(app.lastResult); };

// ---------------------------------------------------------------------------
// Results

let fpsWindow = [];

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
  const now = performance.now();
  fpsWindow.push(now);
  while (fpsWindow.length && now - fpsWindow[0] > 2000) fpsWindow.shift();
  if (fpsWindow.length > 1) app.fps = (fpsWindow.length - 1) * 1000 / (now - fpsWindow[0]);
  ui.fps.textContent = `${app.fps.toFixed(1)} fps · ${result.ms.toFixed(0)} ms`;
  if (app.state === 'running' || app.state === 'noface') setState(result.faces.length ? 'running' : 'noface');
  if (result.faces.length) {
    const main = result.faces[0];  // the largest face
    showLabel(app.labels[main.smoothedTop], `${Math.round(100 * main.smoothed[main.smoothedTop])}%`);
  }
  draw(result);
}

// The transform from frame pixels to overlay pixels: the video is shown with
// object-fit: cover and mirrored; a photo is shown whole (contain), unmirrored.
function frameToView(frameWidth, frameHeight, viewWidth, viewHeight, mirror, cover) {
  const pick = cover ? Math.max : Math.min;
  const s = pick(viewWidth / frameWidth, viewHeight / frameHeight);
  const dx = (viewWidth - frameWidth * s) / 2, dy = (viewHeight - frameHeight * s) / 2;
  return mirror ? [-s, 0, 0, s, viewWidth - dx, dy] : [s, 0, 0, s, dx, dy];
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

function draw(result) {
  const o = ui.overlay, dpr = window.devicePixelRatio || 1;
  const w = Math.round(o.clientWidth * dpr), h = Math.round(o.clientHeight * dpr);
  if (o.width !== w || o.height !== h) { o.width = w; o.height = h; }
  const g = o.getContext('2d');
  g.setTransform(1, 0, 0, 1, 0, 0);
  g.clearRect(0, 0, w, h);
  const isPhoto = app.mode === 'photo';
  const mirrored = !isPhoto && document.body.dataset.facing !== 'environment';
  const t = frameToView(result.width, result.height, w, h, mirrored, !isPhoto);
  if (isPhoto) {
    g.setTransform(...t);
    g.drawImage(photo, 0, 0, result.width, result.height);
  }
  const toView = (x, y) => [t[0] * x + t[4], t[3] * y + t[5]];
  result.faces.forEach((f, i) => {
    g.setTransform(...t);
    if (ui.camSwitch.checked && f.cam) {
      g.imageSmoothingEnabled = true;
      g.drawImage(camImage(f.cam), f.crop.x, f.crop.y, f.crop.size, f.crop.size);
    }
    g.lineWidth = (i === 0 ? 4 : 2.5) * dpr / Math.abs(t[0]);
    g.strokeStyle = i === 0 ? '#5ee6a8' : '#ffd166';
    g.strokeRect(f.box.x, f.box.y, f.box.width, f.box.height);
    if (i > 0 || isPhoto) {  // the main face's label is the big one at the bottom
      g.setTransform(1, 0, 0, 1, 0, 0);
      const [ax, ay] = toView(f.box.x, f.box.y), [bx] = toView(f.box.x + f.box.width, f.box.y);
      const text = `${app.labels[f.smoothedTop]} ${Math.round(100 * f.smoothed[f.smoothedTop])}%`;
      g.font = `600 ${Math.round(15 * dpr)}px system-ui, sans-serif`;
      g.fillStyle = 'rgba(10,14,22,0.7)';
      const x = Math.min(ax, bx), tw = g.measureText(text).width;
      g.fillRect(x, ay - 22 * dpr, tw + 10 * dpr, 20 * dpr);
      g.fillStyle = '#fff';
      g.fillText(text, x + 5 * dpr, ay - 7 * dpr);
    }
  });
}

window.addEventListener('resize', () => { if (app.lastResult) draw(app.lastResult); });

// ---------------------------------------------------------------------------
// Offline: the service worker caches the app, the WebAssembly and the model.

if ('serviceWorker' in navigator && window.isSecureContext) {
  navigator.serviceWorker.register('sw.js').then(() => navigator.serviceWorker.ready)
    .then(() => { app.offlineReady = true; })
    .catch((e) => { app.offlineError = String(e); });
}
