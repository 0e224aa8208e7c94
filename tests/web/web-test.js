// End-to-end tests of the web app (web/, built by web/build.sh) in Debian's
// headless Chromium with a fake front camera fed from videos made of the
// project's sample faces. One scenario per run (CTest runs each as a test):
//
//   node web-test.js SCENARIO --site DIR --native EXE --work DIR [--fer EXE] [--screenshot FILE]
//
//   face       the happy face video: a box, and "happy" in the bottom label
//   noface     a scene without a face: the no-face state
//   denied     camera permission refused: its message
//   nocamera   no camera device at all: its message
//   install    Chromium's installability check passes (manifest, icons, service worker)
//   serve      the site served by `fer serve --site` (needs --fer): box and label
//   https      the same over HTTPS (fer serve --tls-cert, a certificate made
//              here by openssl) on a non-local name: a secure context, box and label
//   busy       the camera held by another app (NotReadableError): its message
//   broken     a truncated model file: the error state names the model and why
//   switch     a device with two cameras: the switch button asks for the rear one
//              (shown unmirrored) and back for the front one (mirrored)
//   nosimd     a browser without WebAssembly SIMD (its validate() rejects the
//              worker's SIMD probe): the plain build loads by itself, its badge,
//              box and label
//   insecure   the page over plain http on a non-local name: the HTTPS message
//   loading    the model held back by the server: the loading state first,
//              with the download's progress (bytes of the whole, a bar)
//   offline    after a first visit, a reload with the server gone still analyses
//   parity     the page's boxes and probabilities (SIMD and plain builds) equal
//              the native runtime's on the very frame the page analysed (and,
//              with --fer EXE, `fer predict --json` on that frame as a PNG)
//   screenshot the page at a phone's viewport (390x844) with a face, saved to FILE
//   layouts    small phone portrait (320x568), phone landscape (844x390), tablet
//              (820x1180) and desktop (1280x800): the label, its emotion and the
//              controls inside the view, nothing overlapping or overflowing
//   photo      a picture from the "gallery" (file input): box and label, and
//              the camera released
//   group      samples/group-photo.jpg in photo mode: every face, each box and
//              probabilities equal to the native runtime's on the same pixels
//   hidden     the page hidden (another app or tab): the camera is released and
//              analysis stops; shown again: the camera and the label come back;
//              then the camera's track ends by itself: the busy state
//
// Exit 0 pass, 1 fail, 77 skipped (Chromium, playwright-core or ffmpeg missing).
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const h = require('./harness');

const { scenario, opt, site, work } = h.parseArgs();
const nativeExe = opt('native', null);
const ferExe = opt('fer', null);  // optional: also compare with `fer predict --json`
const { encodePng } = require('../../web/tools/png');

const FACE_CLASS = 'happy';  // the fixture's face: samples/happy-*.jpg, labelled by FER2013
const TIMEOUT = 60000;       // a loaded 2-core machine compiles the module slowly

let failures = 0;
function check(ok, what, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
  if (!ok) failures += 1;
}

const state = (page) => page.evaluate(() => window.ferApp && window.ferApp.state);
const label = (page) => page.evaluate(() => [document.getElementById('label-emotion').textContent,
  document.getElementById('label-confidence').textContent]);
const messageTitle = (page) => page.evaluate(() => !document.getElementById('message').hidden &&
  document.getElementById('message-title').textContent);

// Waits until the page analysed `count` more frames, each holding a face.
async function waitForFaces(page, count = 3) {
  const start = await page.evaluate(() => (window.ferApp ? window.ferApp.frames : 0));
  await page.waitForFunction(([n, from]) => {
    const a = window.ferApp;
    if (!a || a.frames < from) return false;  // a reload restarts the count
    if (a.state !== 'running' || !a.faces.length) { a.testStreak = 0; return false; }
    if (a.testSeenAt !== a.frames) { a.testStreak = (a.testStreak || 0) + 1; a.testSeenAt = a.frames; }
    return a.frames >= from + n && a.testStreak >= n;
  }, [count, start], { timeout: TIMEOUT, polling: 50 });
}

// Waits until the page has given up on the camera (a state other than loading or running).
const cameraRefused = (page) => page.waitForFunction(
  () => window.ferApp && !['loading', 'running'].includes(window.ferApp.state), null, { timeout: TIMEOUT });

async function expectFaceAndLabel(page, where) {
  await waitForFaces(page, 5);
  const faces = await page.evaluate(() => window.ferApp.faces);
  const [emotion, confidence] = await label(page);
  const b = faces[0].box;
  // The drifting face is drawn at x 220..241, y 120..128, 200 px wide (a
  // YuNet box is tighter across than the picture: about 135 px).
  check(faces.length === 1 && b.x > 200 && b.x < 280 && b.y > 100 && b.y < 170 && b.width > 110 && b.width < 240,
        `${where}: one face box on the face`, JSON.stringify(faces.map((f) => f.box)));
  check(emotion === FACE_CLASS, `${where}: bottom label shows ${FACE_CLASS}`, `"${emotion} ${confidence}"`);
  check(/^\d+%$/.test(confidence), `${where}: confidence shown`, confidence);
  check(faces[0].track >= 1, `${where}: the face has a track id`, String(faces[0].track));
}

// The same frame through `fer predict --json` (the native command): written
// as a PNG, whose RGB OpenCV reads back exactly (the alpha channel is dropped).
// fer predict prints 6 decimals, hence 1e-6 of rounding within the 1e-4 bar.
function compareWithFerPredict(f, build, frameFile) {
  const png = frameFile.replace(/\.rgba$/, '.png');
  fs.writeFileSync(png, encodePng(f.width, f.height, 4, fs.readFileSync(frameFile)));
  const out = JSON.parse(execFileSync(ferExe, ['predict', '--json', '--model', path.join(site, 'model/fernet-int8.tflite'),
    '--detector', path.join(site, 'model/yunet-int8.tflite'), '--min-face', String(f.params.minFace),
    '--max-faces', String(f.params.maxFaces), ...(f.params.tta ? ['--tta', 'flip'] : []), png], { encoding: 'utf8' }));
  const faces = out[0].faces;
  check(faces.length === f.faces.length, `${build}: same number of faces as fer predict`, `${f.faces.length} vs ${faces.length}`);
  faces.forEach((n, i) => {
    const w = f.faces[i];
    if (!w) return;
    const mine = [w.box.x, w.box.y, w.box.width, w.box.height];
    const boxDiff = Math.max(...n.box.map((v, k) => Math.abs(v - mine[k])));
    check(boxDiff <= 1, `${build}: face ${i} box within a pixel of fer predict`, `max diff ${boxDiff} px`);
    const probDiff = Math.max(...f.labels.map((name, k) => Math.abs(n.probabilities[name] - w.probabilities[k])));
    check(probDiff <= 1e-4, `${build}: face ${i} probabilities within 1e-4 of fer predict`, `max diff ${probDiff.toExponential(2)}`);
  });
}

// Starts `fer serve --port 0 --site SITE ...more` and resolves to { child, port }.
async function startFerServe(more = []) {
  const child = require('child_process').spawn(ferExe, ['serve', '--port', '0', '--site', site, ...more],
                                               { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`fer serve did not start: ${text}`)), 30000);
    const onData = (d) => {
      text += d;
      const m = /listening on https?:\/\/[^:]+:(\d+)/.exec(text);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`fer serve exited (${code}): ${text}`)));
  }).catch((e) => { child.kill(); throw e; });
  return { child, port };
}

// The frame the page analysed last (?debug=1) and what it found in it.
function lastFrame(page) {
  return page.evaluate(() => {
    const l = window.ferApp.lastFrame;
    let s = '';
    for (let i = 0; i < l.rgba.length; i += 0x8000) s += String.fromCharCode(...l.rgba.subarray(i, i + 0x8000));
    return { width: l.width, height: l.height, rgba: btoa(s), faces: l.faces, params: l.params, build: l.build,
             labels: window.ferApp.labels, badge: document.getElementById('build').textContent };
  });
}

// The same RGBA bytes through the native twin (fer-frame-native): same faces,
// boxes within a pixel, probabilities within 1e-4 (float32 computed by the
// same code: the issue's bar; the int8 model is expected to agree exactly),
// same top class. Returns the frame's file.
function compareWithNative(f, what) {
  if (!nativeExe || !fs.existsSync(nativeExe)) throw new Error(`--native: ${nativeExe} not found`);
  const frameFile = path.join(work, `parity-${what.replace(/\W+/g, '-')}.rgba`);
  fs.writeFileSync(frameFile, Buffer.from(f.rgba, 'base64'));
  const native = JSON.parse(execFileSync(nativeExe, [path.join(site, 'model/fernet-int8.tflite'),
    path.join(site, 'model/yunet-int8.tflite'), frameFile, String(f.width), String(f.height),
    String(f.params.minFace), String(f.params.maxFaces), ...(f.params.tta ? ['1', 'tta'] : [])], { encoding: 'utf8' }));
  check(native.faces.length === f.faces.length && f.faces.length >= 1,
        `${what}: same number of faces as native`, `${f.faces.length} vs ${native.faces.length}`);
  native.faces.forEach((n, i) => {
    const w = f.faces[i];
    if (!w) return;
    const boxDiff = Math.max(...['x', 'y', 'width', 'height'].map((k) => Math.abs(n.box[k] - w.box[k])));
    check(boxDiff <= 1, `${what}: face ${i} box within a pixel of native`, `max diff ${boxDiff} px`);
    const probDiff = Math.max(...n.probabilities.map((p, k) => Math.abs(p - w.probabilities[k])));
    check(probDiff <= 1e-4, `${what}: face ${i} probabilities within 1e-4 of native`, `max diff ${probDiff.toExponential(2)}`);
    check(n.top === w.top, `${what}: face ${i} same top class as native`, `${w.top} vs ${n.top}`);
  });
  return frameFile;
}

async function run(playwright) {
  const face = h.makeVideo(work, `${FACE_CLASS}-face`, { face: FACE_CLASS });
  const url = (port, query = '') => `http://localhost:${port}/${query}`;
  let serverOptions = {};
  if (scenario === 'loading') serverOptions = { delayMs: { '.tflite.gz': 3000, '.tflite': 3000 } };
  if (scenario === 'broken') {
    // The first 1,000 bytes of the model, served as both the model and its gzip copy.
    const broken = path.join(work, 'broken-model.tflite');
    fs.writeFileSync(broken, fs.readFileSync(path.join(site, 'model/fernet-int8.tflite')).subarray(0, 1000));
    serverOptions = { extra: { '/model/fernet-int8.tflite': broken, '/model/fernet-int8.tflite.gz': broken } };
  }
  if (scenario === 'nosimd') {
    // The app's own worker, in a world where WebAssembly.validate says no to
    // SIMD modules, as it does in browsers without SIMD (they reject the
    // probe's v128 code; other modules still validate).
    const worker = path.join(work, 'worker-nosimd.js');
    fs.writeFileSync(worker, `{ const validate = WebAssembly.validate;
  WebAssembly.validate = (bytes) => !new Uint8Array(bytes).includes(0x7b) && validate(bytes); }
${fs.readFileSync(path.join(site, 'worker.js'), 'utf8')}`);
    serverOptions = { extra: { '/worker.js': worker } };
  }
  const srv = await h.startServer(site, serverOptions);
  let browser;
  try {
    if (scenario === 'face' || scenario === 'loading') {
      browser = await h.launch(playwright, { video: face });
      const { page, logs } = await h.openPage(browser, url(srv.port));
      if (scenario === 'loading') {
        check(await state(page) === 'loading', 'state while the model downloads is loading', await state(page));
        check(await messageTitle(page) === 'Loading the model…', 'loading message shown', String(await messageTitle(page)));
        // The WebAssembly module and the face detector arrive; the model is still held back.
        await page.waitForFunction(() => /^[\d.]+ of [\d.]+ MB\. /.test(document.getElementById('message-text').textContent),
                                   null, { timeout: TIMEOUT });
        const progress = await page.evaluate(() => {
          const bar = document.getElementById('message-progress');
          return { text: document.getElementById('message-text').textContent, hidden: bar.hidden, value: bar.value,
                   max: bar.max, state: window.ferApp.state };
        });
        const [, loaded, total] = /^([\d.]+) of ([\d.]+) MB/.exec(progress.text).map(Number);
        const files = ['fer-simd.wasm.gz', 'model/fernet-int8.tflite.gz', 'model/yunet-int8.tflite.gz'];
        const expected = files.reduce((sum, f) => sum + fs.statSync(path.join(site, f)).size, 0) / 1e6;
        check(progress.state === 'loading' && Math.abs(total - expected) < 0.006 && loaded > 0 && loaded < total,
              'loading: the message counts the first download', progress.text);
        check(!progress.hidden && progress.value > 0 && progress.value < progress.max, 'loading: a progress bar',
              `${progress.value} of ${progress.max}`);
      }
      try { await expectFaceAndLabel(page, 'live camera'); } catch (e) { console.log(logs.join('\n')); throw e; }
      if (scenario === 'loading') {
        // Everything a first visit downloads (the page's own requests and the
        // service worker's precache, each file once): under 1 MB, on a host
        // that compresses nothing (this server does not).
        await page.waitForFunction(() => window.ferApp.offlineReady, null, { timeout: TIMEOUT });
        const files = [...new Set(srv.log.map((p) => (p.endsWith('/') ? `${p}index.html` : p)))]
          .filter((p) => fs.existsSync(path.join(site, p)));
        const bytes = files.reduce((sum, p) => sum + fs.statSync(path.join(site, p)).size, 0);
        check(bytes < 1000000 && files.includes('/model/fernet-int8.tflite.gz') && files.includes('/sw.js'),
              'first visit: all it downloads is under 1,000,000 bytes', `${bytes} bytes, ${files.length} files: ${files.join(' ')}`);
      }
      const fps = await page.evaluate(() => document.getElementById('fps').textContent);
      check(/fps/.test(fps), 'FPS readout', fps);
      const build = await page.evaluate(() => window.ferApp.build);
      check(build === 'simd', 'Chromium runs the SIMD build', build);
      check(await page.evaluate(() => window.ferApp.screenKeptOn), 'the screen is kept on (wake lock) while live');
      check(await page.evaluate(() => document.getElementById('switch-button').hidden), 'one camera: no switch button');
      // Screen readers: the emotion alone is a live region, rewritten only when it changes.
      const announced = await page.evaluate(async () => {
        const el = document.getElementById('label-emotion');
        let writes = 0;
        const watch = new MutationObserver((list) => { writes += list.length; });
        watch.observe(el, { childList: true, characterData: true, subtree: true });
        const from = window.ferApp.frames, text = el.textContent;
        // Watch a few frames however slow the machine is (CI runs one at ~400 ms a frame).
        const start = performance.now();
        while (window.ferApp.frames - from < 4 && performance.now() - start < 15000) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        watch.disconnect();
        return { writes, frames: window.ferApp.frames - from, same: el.textContent === text,
                 live: el.getAttribute('aria-live'), parentLive: el.parentElement.getAttribute('aria-live') };
      });
      check(announced.live === 'polite' && !announced.parentLive, 'the emotion is the live region', JSON.stringify(announced));
      check(announced.frames >= 3 && (!announced.same || announced.writes === 0),
            'a steady emotion is not rewritten frame after frame', JSON.stringify(announced));
      await page.check('#cam-switch');
      await waitForFaces(page, 2);
      const cam = await page.evaluate(() => window.ferApp.faces[0].cam);
      check(cam && cam.h * cam.w === cam.values.length && cam.values.some((v) => v !== 0),
            'CAM switch: faces carry a class activation map', cam ? `${cam.h}x${cam.w}` : 'none');
    } else if (scenario === 'noface') {
      browser = await h.launch(playwright, { video: h.makeVideo(work, 'empty') });
      const { page } = await h.openPage(browser, url(srv.port));
      await page.waitForFunction(() => window.ferApp && window.ferApp.frames >= 5, null, { timeout: TIMEOUT });
      check(await state(page) === 'noface', 'state is noface', await state(page));
      check((await label(page))[0] === 'No face in view', 'label says no face', (await label(page))[0]);
      check(await page.evaluate(() => window.ferApp.faces.length) === 0, 'no face box');
    } else if (scenario === 'denied') {
      browser = await h.launch(playwright, { video: face, grant: false });
      const { page } = await h.openPage(browser, url(srv.port));
      await cameraRefused(page);
      check(await state(page) === 'denied', 'state is denied', await state(page));
      check(await messageTitle(page) === 'Camera permission denied', 'message says so', String(await messageTitle(page)));
    } else if (scenario === 'nocamera') {
      if (fs.readdirSync('/dev').some((n) => n.startsWith('video'))) h.skip('this machine has a camera device');
      browser = await h.launch(playwright, { video: null });  // no fake device, and no real one
      const { page } = await h.openPage(browser, url(srv.port));
      await cameraRefused(page);
      check(await state(page) === 'nocamera', 'state is nocamera', await state(page));
      check(await messageTitle(page) === 'No camera found', 'message says so', String(await messageTitle(page)));
    } else if (scenario === 'install') {
      // Chromium's own installability verdict (manifest, icons, service
      // worker); it needs a profile on disk: incognito pages are never installable.
      const profile = fs.mkdtempSync(path.join(work, 'profile-'));
      const context = await playwright.chromium.launchPersistentContext(profile, { executablePath: h.CHROMIUM,
        headless: true, args: ['--no-sandbox', '--disable-gpu', '--use-fake-ui-for-media-stream',
          '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${face}`] });
      try {
        const page = await context.newPage();
        await page.goto(url(srv.port));
        await page.waitForFunction(() => window.ferApp && window.ferApp.offlineReady, null, { timeout: TIMEOUT });
        const cdp = await context.newCDPSession(page);
        const manifest = await cdp.send('Page.getAppManifest');
        check(manifest.errors.length === 0 && /manifest\.webmanifest$/.test(manifest.url), 'manifest parsed without error',
              JSON.stringify(manifest.errors));
        const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
        check(installabilityErrors.length === 0, 'Chromium finds the app installable', JSON.stringify(installabilityErrors));
      } finally {
        await context.close();
        fs.rmSync(profile, { recursive: true, force: true });
      }
    } else if (scenario === 'serve') {
      // `fer serve --site` is the project's own server for the site.
      if (!ferExe) h.skip('--fer not given (the fer command is not built)');
      const { child, port } = await startFerServe();
      try {
        browser = await h.launch(playwright, { video: face });
        const { page } = await h.openPage(browser, url(port));
        await expectFaceAndLabel(page, 'served by fer serve');
        await page.waitForFunction(() => window.ferApp.offlineReady, null, { timeout: TIMEOUT });
        const cacheNames = await page.evaluate(() => caches.keys());
        check(cacheNames.some((k) => k.startsWith('fer-')), 'the service worker cached the app from fer serve',
              JSON.stringify(cacheNames));
      } finally {
        child.kill();
      }
    } else if (scenario === 'https') {
      // Phones need HTTPS for the camera: a non-local name is a secure context
      // only over TLS. The certificate is made here and trusted by the context.
      if (!ferExe) h.skip('--fer not given (the fer command is not built)');
      const key = path.join(work, 'tls-key.pem'), cert = path.join(work, 'tls-cert.pem');
      try {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
          '-days', '2', '-subj', '/CN=fer.test', '-addext', 'subjectAltName=DNS:fer.test'], { stdio: 'pipe' });
      } catch (e) {
        h.skip(`openssl could not make a certificate (${e.message.split('\n')[0]})`);
      }
      const { child, port } = await startFerServe(['--tls-cert', cert, '--tls-key', key]);
      try {
        browser = await h.launch(playwright, { video: face, args: ['--host-resolver-rules=MAP fer.test 127.0.0.1'] });
        const { page } = await h.openPage(browser, `https://fer.test:${port}/`, { ignoreHTTPSErrors: true });
        check(await page.evaluate(() => location.protocol) === 'https:', 'the page came over HTTPS');
        check(await page.evaluate(() => window.isSecureContext) === true, 'the page is a secure context');
        await expectFaceAndLabel(page, 'over HTTPS from fer serve');
      } finally {
        child.kill();
      }
    } else if (scenario === 'busy') {
      // Another app holds the camera: browsers reject with NotReadableError.
      browser = await h.launch(playwright, { video: face });
      const { page } = await h.openPage(browser, url(srv.port), {}, () => {
        navigator.mediaDevices.getUserMedia = () =>
          Promise.reject(new DOMException('Could not start video source', 'NotReadableError'));
      });
      await cameraRefused(page);
      check(await state(page) === 'busy', 'state is busy', await state(page));
      check(await messageTitle(page) === 'The camera is in use', 'message says so', String(await messageTitle(page)));
    } else if (scenario === 'broken') {
      browser = await h.launch(playwright, { video: face });
      const { page } = await h.openPage(browser, url(srv.port));
      await page.waitForFunction(() => window.ferApp && window.ferApp.state === 'error', null, { timeout: TIMEOUT });
      const text = await page.evaluate(() => document.getElementById('message-text').textContent);
      check(await messageTitle(page) === 'Something went wrong', 'the error message is shown', String(await messageTitle(page)));
      check(/^The model did not load\. .+/.test(text), 'it says the model did not load, and why', text);
      check(await page.evaluate(() => window.ferApp.faces.length) === 0, 'no face is drawn');
    } else if (scenario === 'switch') {
      browser = await h.launch(playwright, { video: face });
      // A phone's two cameras, as enumerateDevices lists them; getUserMedia
      // records what it was asked for and answers with the fake camera.
      const { page } = await h.openPage(browser, url(srv.port), {}, () => {
        const md = navigator.mediaDevices;
        const enumerate = md.enumerateDevices.bind(md), get = md.getUserMedia.bind(md);
        window.testAsked = [];
        md.enumerateDevices = async () => [...(await enumerate()).filter((d) => d.kind !== 'videoinput'),
          { kind: 'videoinput', deviceId: 'front', label: 'front', groupId: 'a' },
          { kind: 'videoinput', deviceId: 'back', label: 'back', groupId: 'b' }];
        md.getUserMedia = (c) => { window.testAsked.push(c.video && c.video.facingMode); return get(c); };
      });
      await waitForFaces(page, 3);
      const view = () => page.evaluate(() => ({ facing: document.body.dataset.facing,
        transform: getComputedStyle(document.getElementById('video')).transform,
        button: !document.getElementById('switch-button').hidden, asked: window.testAsked.slice(-1)[0] }));
      let v = await view();
      check(v.button && v.asked === 'user' && v.facing === 'user' && v.transform !== 'none',
            'two cameras: a switch button; the front camera, mirrored', JSON.stringify(v));
      await page.click('#switch-button');
      await waitForFaces(page, 3);
      v = await view();
      check(v.asked === 'environment' && v.facing === 'environment' && v.transform === 'none',
            'switched: the rear camera asked for and shown unmirrored', JSON.stringify(v));
      check((await label(page))[0] === FACE_CLASS, 'switched: the label still reads the face', (await label(page))[0]);
      await page.click('#switch-button');
      await waitForFaces(page, 3);
      v = await view();
      check(v.asked === 'user' && v.facing === 'user' && v.transform !== 'none', 'switched back: front and mirrored',
            JSON.stringify(v));
    } else if (scenario === 'nosimd') {
      browser = await h.launch(playwright, { video: face });
      const { page } = await h.openPage(browser, url(srv.port));
      await expectFaceAndLabel(page, 'without SIMD');
      check(await page.evaluate(() => window.ferApp.build) === 'plain', 'the plain build runs by itself',
            await page.evaluate(() => window.ferApp.build));
      check(await page.evaluate(() => window.ferApp.simdSupported) === false, 'the page knows SIMD is missing');
      const badge = await page.evaluate(() => document.getElementById('build').textContent);
      check(badge === 'no SIMD: slower', 'the badge says so', badge);
    } else if (scenario === 'insecure') {
      // A non-local host name over http is not a secure context: no camera API.
      browser = await h.launch(playwright, { video: face, args: ['--host-resolver-rules=MAP fer.test 127.0.0.1'] });
      const { page } = await h.openPage(browser, `http://fer.test:${srv.port}/`);
      await page.waitForFunction(() => window.ferApp && window.ferApp.state !== 'loading', null, { timeout: TIMEOUT });
      check(await page.evaluate(() => window.isSecureContext) === false, 'the page is not a secure context');
      check(await state(page) === 'insecure', 'state is insecure', await state(page));
      check(/HTTPS/.test(String(await messageTitle(page))), 'message asks for HTTPS', String(await messageTitle(page)));
    } else if (scenario === 'offline') {
      browser = await h.launch(playwright, { video: face });
      const { context, page, logs } = await h.openPage(browser, url(srv.port));
      await waitForFaces(page, 2);
      await page.waitForFunction(() => window.ferApp.offlineReady, null, { timeout: TIMEOUT });
      await srv.close();                   // the network is gone for good
      await context.setOffline(true);
      await page.reload();
      try { await expectFaceAndLabel(page, 'offline reload'); } catch (e) { console.log(logs.join('\n')); throw e; }
      check(await page.evaluate(() => !!navigator.serviceWorker.controller), 'the reloaded page is served by the service worker');
    } else if (scenario === 'parity') {
      browser = await h.launch(playwright, { video: face });
      for (const build of ['simd', 'plain']) {
        const { page, context } = await h.openPage(browser, url(srv.port, `?debug=1&build=${build}`));
        await waitForFaces(page, 3);
        const f = await lastFrame(page);
        await context.close();
        check(f.build === build, `${build}: the page ran the ${build} build`, f.build);
        check(f.badge === (build === 'simd' ? 'SIMD' : 'no SIMD: slower'), `${build}: the badge says which build runs`, f.badge);
        const frameFile = compareWithNative(f, build);
        if (ferExe) compareWithFerPredict(f, build, frameFile);
      }
    } else if (scenario === 'screenshot') {
      browser = await h.launch(playwright, { video: face });
      const { page } = await h.openPage(browser, url(srv.port), { viewport: { width: 390, height: 844 },
        deviceScaleFactor: 2, isMobile: true, hasTouch: true });
      await waitForFaces(page, 8);
      const file = path.resolve(opt('screenshot', path.join(work, 'web-app.png')));
      await page.screenshot({ path: file });
      check(fs.statSync(file).size > 10000, 'screenshot written', file);
      const [emotion] = await label(page);
      check(emotion === FACE_CLASS, 'phone viewport: label shows the emotion', emotion);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      check(!overflow, 'phone viewport: nothing overflows sideways');
    } else if (scenario === 'layouts') {
      browser = await h.launch(playwright, { video: face });
      const views = [['small phone, portrait', 320, 568, true], ['phone, landscape', 844, 390, true],
                     ['tablet, portrait', 820, 1180, true], ['desktop', 1280, 800, false]];
      for (const [name, width, height, mobile] of views) {
        const { page, context } = await h.openPage(browser, url(srv.port), { viewport: { width, height },
          isMobile: mobile, hasTouch: mobile });
        await waitForFaces(page, 3);
        const box = (id) => page.evaluate((i) => {
          const r = document.getElementById(i).getBoundingClientRect();
          return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
        }, id);
        const inside = (r) => r.left >= 0 && r.top >= 0 && r.right <= width + 0.5 && r.bottom <= height + 0.5 &&
          r.right > r.left && r.bottom > r.top;
        const apart = (a, b) => a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top;
        const [labelBox, emotionBox, controlsBox, titleBox] =
          [await box('label'), await box('label-emotion'), await box('controls'), await box('title')];
        check(inside(labelBox) && inside(emotionBox) && inside(controlsBox) && inside(titleBox),
              `${name}: label, emotion, controls and title inside the ${width}x${height} view`,
              JSON.stringify({ labelBox, controlsBox }));
        check(apart(emotionBox, controlsBox) && apart(titleBox, emotionBox), `${name}: they do not overlap`);
        check(emotionBox.top > height / 2, `${name}: the emotion is in the lower half`, `top ${Math.round(emotionBox.top)}`);
        check((await label(page))[0] === FACE_CLASS, `${name}: label shows ${FACE_CLASS}`, (await label(page))[0]);
        const overflow = await page.evaluate(() => [document.documentElement.scrollWidth > window.innerWidth,
          document.documentElement.scrollHeight > window.innerHeight]);
        check(!overflow[0] && !overflow[1], `${name}: no scrolling`, JSON.stringify(overflow));
        await context.close();
      }
    } else if (scenario === 'photo') {
      const still = path.join(work, `${FACE_CLASS}-photo.png`);
      execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', face, '-frames:v', '1', still]);
      browser = await h.launch(playwright, { video: h.makeVideo(work, 'empty') });
      const { page } = await h.openPage(browser, url(srv.port));
      await page.waitForFunction(() => window.ferApp && window.ferApp.frames >= 1, null, { timeout: TIMEOUT });
      await page.setInputFiles('#photo-input', still);
      await page.waitForFunction(() => window.ferApp.mode === 'photo' && window.ferApp.faces.length > 0,
                                 null, { timeout: TIMEOUT });
      check((await label(page))[0] === FACE_CLASS, 'photo: label shows the emotion', (await label(page))[0]);
      check(await page.evaluate(() => document.querySelector('video').srcObject === null),
            'photo: the camera is released');
      check(await page.evaluate(() => !window.ferApp.screenKeptOn), 'photo: the screen may sleep again');
    } else if (scenario === 'group') {
      // Every face of a group photo, each classified on its own, as natively.
      browser = await h.launch(playwright, { video: h.makeVideo(work, 'empty') });
      const { page } = await h.openPage(browser, url(srv.port, '?debug=1'));
      await page.waitForFunction(() => window.ferApp && window.ferApp.frames >= 1, null, { timeout: TIMEOUT });
      await page.setInputFiles('#photo-input', path.join(h.SOURCE_DIR, 'samples/group-photo.jpg'));
      await page.waitForFunction(() => window.ferApp.mode === 'photo' && window.ferApp.faces.length > 1,
                                 null, { timeout: TIMEOUT });
      const f = await lastFrame(page);
      check(f.faces.length >= 4, 'group photo: at least four faces found', String(f.faces.length));
      check(f.params.tta === true, 'group photo: photo mode classifies each face and its mirror (flip TTA)');
      check(new Set(f.faces.map((x) => `${x.box.x},${x.box.y}`)).size === f.faces.length, 'group photo: one box per face');
      compareWithNative(f, 'group photo');
      const [emotion] = await label(page);
      check(emotion === f.labels[f.faces[0].top], 'group photo: the bottom label is the largest face\'s class',
            `${emotion} vs ${f.labels[f.faces[0].top]}`);
    } else if (scenario === 'hidden') {
      browser = await h.launch(playwright, { video: face });
      const { page } = await h.openPage(browser, url(srv.port));
      await expectFaceAndLabel(page, 'before hiding');
      // What a browser does when the user switches app or tab.
      const setHidden = (hidden) => page.evaluate((value) => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => value });
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (value ? 'hidden' : 'visible') });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
      await page.evaluate(() => { window.testTrack = document.querySelector('video').srcObject.getVideoTracks()[0]; });
      await setHidden(true);
      check(await page.evaluate(() => window.testTrack.readyState) === 'ended', 'hidden: the camera track is stopped');
      check(await page.evaluate(() => document.querySelector('video').srcObject === null), 'hidden: the view has no stream');
      check(await page.evaluate(() => !window.ferApp.screenKeptOn), 'hidden: the wake lock is released');
      await page.waitForTimeout(300);  // a frame already sent may still come back
      const frames = await page.evaluate(() => window.ferApp.frames);
      await page.waitForTimeout(1000);
      check(await page.evaluate(() => window.ferApp.frames) === frames, 'hidden: no frame is analysed');
      await setHidden(false);
      await expectFaceAndLabel(page, 'shown again');
      check(await page.evaluate(() => document.querySelector('video').srcObject.getVideoTracks()[0].readyState) === 'live',
            'shown again: a live camera track');
      check(await page.evaluate(() => window.ferApp.screenKeptOn), 'shown again: the screen is kept on again');
      // The camera taken by another app: its track ends by itself.
      await page.evaluate(() => document.querySelector('video').srcObject.getVideoTracks()[0].dispatchEvent(new Event('ended')));
      check(await state(page) === 'busy', 'camera ended: state busy', await state(page));
      check(await messageTitle(page) === 'The camera is in use', 'camera ended: message says so', String(await messageTitle(page)));
      check(await page.evaluate(() => document.querySelector('video').srcObject === null && !window.ferApp.screenKeptOn),
            'camera ended: stream and wake lock released');
    } else {
      console.error(`unknown scenario ${scenario}`);
      process.exit(1);
    }
  } finally {
    if (browser) await browser.close();
    await srv.close().catch(() => {});
  }
}

h.runScenario(scenario, site, work, run, () => failures);
