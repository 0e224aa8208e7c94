// The web app as a new user meets it on a phone (issue 15): headless Chromium
// at 390x844, 360x640 and a landscape 844x390 viewport, a fake camera fed
// from the project's sample faces, photos through the file input. One
// scenario per run (CTest runs each as Web.phone-SCENARIO):
//
//   node phone-test.js SCENARIO --site DIR --work DIR [--screenshots DIR]
//
//   labels     group photo: every face has a label or a numbered badge (with
//              a list under the picture), no two of them overlap, all inside
//              the part of the view no bar covers
//   recheck    "Where it looks" switched on after a photo was analysed: the
//              photo is analysed again and its maps drawn
//   queued     a photo picked while the model loads: kept, said so, analysed
//              when the model is ready; the camera is never asked for
//   contrast   every text over a white and a black camera scene: contrast
//              4.5:1 or more (WCAG AA), measured on screenshots
//   landscape  photo mode: the photo and its face boxes lie between the bars,
//              nothing covers them
//   fps        the rate readout: no "0.0 fps" with the first result, the photo's
//              time in photo mode, no stale rate back in the camera view
//   closeface  a face closer than the screen is wide: its box never runs
//              through the label panel (overlay pixels under it are empty)
//   retry      camera refused, then allowed / freed: a "Try again" button
//              brings the live view back without a reload
//
// With --screenshots DIR, writes the pictures docs/web-app.md shows.
// Exit 0 pass, 1 fail, 77 skipped (Chromium, playwright-core or ffmpeg missing).
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const h = require('./harness');

const { scenario, opt, site, work } = h.parseArgs();
const shots = opt('screenshots', null);

const FACE_CLASS = 'happy';
const TIMEOUT = 60000;  // a loaded 2-core machine: ~400 ms a frame, seconds to compile the module
const VIEWS = [['390x844', 390, 844], ['360x640', 360, 640], ['landscape 844x390', 844, 390]];
const GROUP = path.join(h.SOURCE_DIR, 'samples/group-photo.jpg');

let failures = 0;
function check(ok, what, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
  if (!ok) failures += 1;
}

const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const inside = (r, o, slack = 0.5) => r.x >= o.x - slack && r.y >= o.y - slack && r.x + r.w <= o.x + o.w + slack &&
  r.y + r.h <= o.y + o.h + slack;
const fmt = (r) => r && `${Math.round(r.x)},${Math.round(r.y)} ${Math.round(r.w)}x${Math.round(r.h)}`;

const rectOf = (page, selector) => page.evaluate((sel) => {
  const el = document.querySelector(sel);
  if (!el) return null;
  const r = el.getBoundingClientRect();
  return { x: r.left, y: r.top, w: r.width, h: r.height };
}, selector);

async function openPhone(browser, port, [, width, height], initScript = null, query = '') {
  return h.openPage(browser, `http://localhost:${port}/${query}`, { viewport: { width, height }, isMobile: true,
    hasTouch: true, deviceScaleFactor: width === 390 && shots ? 2 : 1 }, initScript);
}

// Waits for `count` more results from the worker (any content).
async function waitForResults(page, count, more = () => true) {
  const from = await page.evaluate(() => (window.ferApp ? window.ferApp.frames : 0));
  await page.waitForFunction(([n, start]) => window.ferApp && window.ferApp.frames >= start + n, [count, from],
                             { timeout: TIMEOUT, polling: 50 });
  return more();
}

const waitForLiveFace = (page, frames = 2) => page.waitForFunction((n) => {
  const a = window.ferApp;
  return a && a.mode === 'camera' && a.state === 'running' && a.faces.length > 0 && a.frames >= n;
}, frames, { timeout: TIMEOUT, polling: 50 });

// Picks a photo and waits until its result is drawn.
async function showPhoto(page, file, minFaces = 1) {
  const before = await page.evaluate(() => (window.ferApp ? window.ferApp.frames : 0));
  await page.setInputFiles('#photo-input', file);
  await page.waitForFunction(([n, from]) => {
    const a = window.ferApp;
    return a.mode === 'photo' && a.frames > from && a.faces.length >= n && a.photoRect;
  }, [minFaces, before], { timeout: TIMEOUT, polling: 50 });
}

async function shot(page, name) {
  if (!shots) return;
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, name) });
  console.log(`screenshot ${path.join(shots, name)}`);
}

// A still of the happy fixture face, for photo mode.
function happyStill() {
  const still = path.join(work, `${FACE_CLASS}-still.png`);
  if (!fs.existsSync(still)) {
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', h.makeVideo(work, `${FACE_CLASS}-face`, { face: FACE_CLASS }),
      '-frames:v', '1', still]);
  }
  return still;
}

// WCAG 2 relative luminance and contrast ratio.
const lin = (c) => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
const luminance = ([r, g, b]) => 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
const ratio = (a, b) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);

// Every visible text of the page: its colour, and the boxes of its glyph lines.
const visibleTexts = (page) => page.evaluate(() => {
  const out = [];
  const walk = document.createTreeWalker(document.getElementById('stage'), NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    if (!n.textContent.trim()) continue;
    const el = n.parentElement, style = getComputedStyle(el);
    if (style.visibility === 'hidden' || el.closest('[hidden]')) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    const rects = [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0)
      .map((r) => ({ x: r.left, y: r.top, w: r.width, h: r.height }));
    if (rects.length) out.push({ text: n.textContent.trim().slice(0, 40), color: style.color, rects });
  }
  return out;
});

// The page's pixels inside `rects` of a PNG screenshot, decoded by the page's
// own canvas: [r, g, b] of the lightest and the darkest (by luminance).
async function extremes(page, png, rects, scale) {
  return page.evaluate(async ([b64, rs, s]) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const lum = (r, gr, b) => 0.2126 * r * r + 0.7152 * gr * gr + 0.0722 * b * b;  // order only
    let hi = null, lo = null;
    for (const r of rs) {
      const x0 = Math.max(0, Math.floor(r.x * s)), y0 = Math.max(0, Math.floor(r.y * s));
      const x1 = Math.min(c.width, Math.ceil((r.x + r.w) * s)), y1 = Math.min(c.height, Math.ceil((r.y + r.h) * s));
      if (x1 <= x0 || y1 <= y0) continue;
      const d = g.getImageData(x0, y0, x1 - x0, y1 - y0).data;
      for (let i = 0; i < d.length; i += 4) {
        const v = lum(d[i], d[i + 1], d[i + 2]);
        if (!hi || v > hi[3]) hi = [d[i], d[i + 1], d[i + 2], v];
        if (!lo || v < lo[3]) lo = [d[i], d[i + 1], d[i + 2], v];
      }
    }
    return { hi, lo };
  }, [png.toString('base64'), rects, scale]);
}

// The worst contrast of each text against what is behind it: the page is
// screenshotted with every text made transparent (the backdrop alone), and
// the text's colour is compared with the lightest and darkest backdrop pixel
// under its glyph boxes.
async function measureContrast(page) {
  const texts = await visibleTexts(page);
  const scale = await page.evaluate(() => window.devicePixelRatio);
  await page.evaluate(() => {
    document.querySelector('video').pause();  // the same frame for both screenshots
    const s = document.createElement('style');
    s.id = 'test-no-text';
    s.textContent = '#stage, #stage * { color: transparent !important; text-shadow: none !important; }';
    document.head.append(s);
  });
  const backdrop = await page.screenshot();
  await page.evaluate(() => { document.getElementById('test-no-text').remove(); document.querySelector('video').play(); });
  const results = [];
  for (const t of texts) {
    const rgba = /rgba?\(([^)]+)\)/.exec(t.color)[1].split(',').map(Number);
    const { hi, lo } = await extremes(page, backdrop, t.rects, scale);
    if (!hi) continue;
    const lt = luminance(rgba);
    const worst = Math.min(ratio(lt, luminance(hi)), ratio(lt, luminance(lo)));
    results.push({ text: t.text, color: t.color, worst, alpha: rgba.length > 3 ? rgba[3] : 1 });
  }
  return results;
}

async function run(playwright) {
  const face = h.makeVideo(work, `${FACE_CLASS}-face`, { face: FACE_CLASS });
  const empty = h.makeVideo(work, 'empty');
  let gateOpen = null;
  let gate = Promise.resolve();
  const serverOptions = scenario === 'queued' ? { gates: { 'fernet-int8.tflite.gz': () => gate, 'fernet-int8.tflite': () => gate } } : {};
  const srv = await h.startServer(site, serverOptions);
  let browser;
  try {
    if (scenario === 'labels') {
      browser = await h.launch(playwright, { video: empty });
      for (const view of VIEWS) {
        const { page, context } = await openPhone(browser, srv.port, view);
        await page.waitForFunction(() => window.ferApp && window.ferApp.frames >= 1, null, { timeout: TIMEOUT });
        await showPhoto(page, GROUP, 4);
        const d = await page.evaluate(() => ({ faces: window.ferApp.faces.length, labels: window.ferApp.labelRects,
          area: window.ferApp.freeArea, list: [...document.querySelectorAll('#face-list li')].map((li) => li.textContent),
          listShown: !document.getElementById('face-list').hidden }));
        const name = view[0];
        check(d.labels.length === d.faces && new Set(d.labels.map((l) => l.face)).size === d.faces,
              `${name}: every one of the ${d.faces} faces has a label or a badge`, `${d.labels.length} drawn`);
        const clashes = [];
        d.labels.forEach((a, i) => d.labels.slice(i + 1).forEach((b) => { if (overlaps(a, b)) clashes.push(`${fmt(a)} & ${fmt(b)}`); }));
        check(clashes.length === 0, `${name}: no two labels overlap`, clashes.join('; '));
        check(d.labels.every((l) => inside(l, d.area)), `${name}: every label lies between the bars`,
              d.labels.filter((l) => !inside(l, d.area)).map(fmt).join('; '));
        // The rectangles are where the overlay drew: each one's corners hold its dark panel.
        const drawnThere = await page.evaluate((labels) => {
          const o = document.getElementById('overlay'), k = o.width / o.clientWidth, g = o.getContext('2d');
          return labels.every((l) => [[l.x + 1, l.y + 1], [l.x + l.w - 2, l.y + 1], [l.x + 1, l.y + l.h - 2], [l.x + l.w - 2, l.y + l.h - 2]]
            .every(([x, y]) => {
              const p = g.getImageData(Math.round(x * k), Math.round(y * k), 1, 1).data;
              return p[3] > 200 && p[0] < 80 && p[1] < 80 && p[2] < 80;
            }));
        }, d.labels);
        check(drawnThere, `${name}: each label's panel is drawn where it is reported`);
        const badges = d.labels.filter((l) => l.kind === 'badge');
        if (badges.length) {
          check(d.listShown && d.list.length === d.faces && d.list.every((t) => /^\d+ [a-z]+ \d+%$/.test(t)),
                `${name}: small faces are numbered, their emotions listed under the picture`, JSON.stringify(d.list));
          check(badges.every((b) => d.list.some((t) => t.startsWith(`${b.text} `))), `${name}: each badge number is in the list`);
        } else {
          check(!d.listShown, `${name}: labels on the picture, no list`);
        }
        const [panel] = [await rectOf(page, '#bottom')];
        const listRect = await rectOf(page, '#face-list');
        check(!d.listShown || inside(listRect, panel), `${name}: the list sits in the label panel`, fmt(listRect));
        if (view[1] === 390) await shot(page, 'web-group.png');
        await context.close();
      }
    } else if (scenario === 'recheck') {
      browser = await h.launch(playwright, { video: empty });
      for (const view of VIEWS) {
        const { page, context } = await openPhone(browser, srv.port, view);
        await page.waitForFunction(() => window.ferApp && window.ferApp.frames >= 1, null, { timeout: TIMEOUT });
        await showPhoto(page, happyStill());
        check(await page.evaluate(() => window.ferApp.faces[0].cam === null), `${view[0]}: analysed without maps first`);
        const overlayBefore = await page.evaluate(() => document.getElementById('overlay').toDataURL());
        const frames = await page.evaluate(() => window.ferApp.frames);
        await page.check('#cam-switch');
        await page.waitForFunction((n) => window.ferApp.frames > n && window.ferApp.faces[0].cam, frames,
                                   { timeout: TIMEOUT, polling: 50 });
        const cam = await page.evaluate(() => window.ferApp.faces[0].cam);
        check(cam && cam.values.length === cam.w * cam.h && cam.values.some((v) => v !== 0),
              `${view[0]}: switched on after the photo: analysed again, with its map`, cam ? `${cam.w}x${cam.h}` : 'none');
        check(await page.evaluate(() => document.getElementById('overlay').toDataURL()) !== overlayBefore,
              `${view[0]}: the map is drawn over the photo`);
        check(await page.evaluate(() => window.ferApp.mode === 'photo' && window.ferApp.faces.length === 1),
              `${view[0]}: still the photo, one face`);
        await context.close();
      }
    } else if (scenario === 'queued') {
      browser = await h.launch(playwright, { video: face });
      for (const view of VIEWS) {
        gate = new Promise((resolve) => { gateOpen = resolve; });
        const { page, context } = await openPhone(browser, srv.port, view, () => {
          window.testCameraAsked = 0;
          const md = navigator.mediaDevices, get = md.getUserMedia.bind(md);
          md.getUserMedia = (c) => { window.testCameraAsked += 1; return get(c); };
        });
        await page.waitForFunction(() => window.ferApp && window.ferApp.state === 'loading', null, { timeout: TIMEOUT });
        await page.setInputFiles('#photo-input', happyStill());
        await page.waitForFunction(() => window.ferApp.queuedPhoto, null, { timeout: TIMEOUT });
        const text = await page.evaluate(() => document.getElementById('message-text').textContent);
        check(/photo will be analysed/.test(text), `${view[0]}: the loading message says the photo waits for the model`, text);
        gateOpen();
        await page.waitForFunction(() => window.ferApp.mode === 'photo' && window.ferApp.faces.length > 0,
                                   null, { timeout: TIMEOUT, polling: 50 });
        const after = await page.evaluate(() => ({ label: document.getElementById('label-emotion').textContent,
          asked: window.testCameraAsked, stream: document.querySelector('video').srcObject, state: window.ferApp.state }));
        check(after.label === FACE_CLASS && after.state === 'running', `${view[0]}: the queued photo is analysed`,
              JSON.stringify(after));
        await waitForResults(page, 0);
        check(after.asked === 0 && after.stream === null, `${view[0]}: the camera was not started over the photo`,
              `getUserMedia called ${after.asked} times`);
        await context.close();
      }
    } else if (scenario === 'contrast') {
      for (const [scene, color] of [['white', '0xffffff'], ['black', '0x000000']]) {
        const video = h.makeVideo(work, `${FACE_CLASS}-on-${scene}`, { face: FACE_CLASS, color });
        browser = await h.launch(playwright, { video });
        for (const view of VIEWS) {
          const { page, context } = await openPhone(browser, srv.port, view);
          await waitForLiveFace(page, 2);
          const emotion = await page.evaluate(() => document.getElementById('label-emotion').textContent);
          const results = await measureContrast(page);
          const names = results.map((r) => r.text);
          check(['fer', emotion, 'Where it looks', 'Photo'].every((t) => names.includes(t)) && emotion.length > 0 &&
                names.some((t) => /^\d+%$/.test(t)) && names.some((t) => /ms/.test(t)),
                `${scene} scene, ${view[0]}: the title, emotion, confidence, rate and controls are measured`, names.join(' | '));
          const weak = results.filter((r) => r.worst < 4.5 || r.alpha < 1);
          check(weak.length === 0, `${scene} scene, ${view[0]}: every text has contrast 4.5:1 or more`,
                weak.length ? weak.map((r) => `"${r.text}" ${r.worst.toFixed(2)}`).join(', ') :
                  `lowest ${Math.min(...results.map((r) => r.worst)).toFixed(2)} ("${results.reduce((a, b) => (a.worst < b.worst ? a : b)).text}")`);
          if (view[1] === 390) await shot(page, `web-${scene}-scene.png`);
          await context.close();
        }
        await browser.close();
        browser = null;
      }
    } else if (scenario === 'landscape') {
      browser = await h.launch(playwright, { video: empty });
      for (const view of VIEWS) {
        const { page, context } = await openPhone(browser, srv.port, view);
        await page.waitForFunction(() => window.ferApp && window.ferApp.frames >= 1, null, { timeout: TIMEOUT });
        for (const [what, file, n] of [['group photo', GROUP, 4], ['portrait photo', happyStill(), 1]]) {
          await showPhoto(page, file, n);
          const d = await page.evaluate(() => ({ photo: window.ferApp.photoRect, faces: window.ferApp.faceRects,
            labels: window.ferApp.labelRects }));
          const bars = [await rectOf(page, '#topbar'), await rectOf(page, '#bottom')];
          check(bars.every((b) => !overlaps(d.photo, b)), `${view[0]}, ${what}: the bars do not cover the photo`,
                `photo ${fmt(d.photo)}, bars ${bars.map(fmt).join(' / ')}`);
          check(d.photo.w > 0.45 * view[1] || d.photo.h > 0.45 * (view[2] - bars[0].h - bars[1].h),
                `${view[0]}, ${what}: the photo uses the free space`, fmt(d.photo));
          check(d.faces.length >= n && d.faces.every((f) => inside(f, d.photo) && bars.every((b) => !overlaps(f, b))),
                `${view[0]}, ${what}: every face box is on the photo, clear of the bars`, d.faces.map(fmt).join('; '));
          check(d.labels.every((l) => bars.every((b) => !overlaps(l, b))), `${view[0]}, ${what}: labels clear of the bars`);
          if (view[1] === 844 && n > 1) await shot(page, 'web-landscape-photo.png');
        }
        await context.close();
      }
    } else if (scenario === 'fps') {
      browser = await h.launch(playwright, { video: face });
      for (const view of VIEWS) {
        // Every text the readout shows, with the number of results at the time.
        const { page, context } = await openPhone(browser, srv.port, view, () => {
          window.testRates = [];
          document.addEventListener('DOMContentLoaded', () => {
            const el = document.getElementById('fps');
            new MutationObserver(() => window.testRates.push({ text: el.textContent, frames: window.ferApp.frames,
              mode: window.ferApp.mode })).observe(el, { childList: true, characterData: true, subtree: true });
          });
        });
        await waitForLiveFace(page, 4);
        let rates = await page.evaluate(() => window.testRates);
        const first = rates.find((r) => r.frames >= 1);
        check(first && !/fps/.test(first.text) && /^\d+ ms$/.test(first.text), `${view[0]}: the first result shows its time, no rate`,
              first && first.text);
        check(!rates.some((r) => /^0\.0 fps/.test(r.text)), `${view[0]}: never "0.0 fps"`);
        check(/^\d+\.\d fps · \d+ ms$/.test(rates[rates.length - 1].text) && !/^0\.0/.test(rates[rates.length - 1].text),
              `${view[0]}: then a rate`, rates[rates.length - 1].text);
        await showPhoto(page, happyStill());
        const photoText = await page.evaluate(() => document.getElementById('fps').textContent);
        check(/^photo · \d+ ms$/.test(photoText), `${view[0]}: a photo shows its analysis time, not a rate`, photoText);
        const mark = await page.evaluate(() => window.testRates.length);
        const photoFrames = await page.evaluate(() => window.ferApp.frames);
        await page.click('#camera-button');
        await waitForResults(page, 3);
        await page.waitForFunction((n) => window.ferApp.mode === 'camera' && window.ferApp.frames >= n + 3, photoFrames,
                                   { timeout: TIMEOUT });
        rates = (await page.evaluate(() => window.testRates)).slice(mark);
        const early = rates.filter((r) => r.frames <= photoFrames + 1);
        check(rates.length > 0 && rates[0].text === '–' && early.every((r) => !/fps/.test(r.text)),
              `${view[0]}: back to the camera, the rate starts afresh (no stale rate)`, JSON.stringify(early.map((r) => r.text)));
        const fpsBox = await rectOf(page, '#fps'), bar = await rectOf(page, '#topbar');
        check(inside(fpsBox, bar), `${view[0]}: the readout fits its bar`, `${fmt(fpsBox)} in ${fmt(bar)}`);
        await context.close();
      }
    } else if (scenario === 'closeface') {
      // A 400 px face in a 640x480 frame: shown with object-fit: cover, wider than a phone's screen.
      const close = h.makeVideo(work, `${FACE_CLASS}-close`, { face: FACE_CLASS, side: 400, x: 110, y: 30 });
      browser = await h.launch(playwright, { video: close });
      for (const view of VIEWS) {
        const { page, context } = await openPhone(browser, srv.port, view);
        await waitForLiveFace(page, 2);
        await waitForResults(page, 1);
        const panel = await rectOf(page, '#bottom');
        const d = await page.evaluate(() => ({ faces: window.ferApp.faceRects, label: document.getElementById('label-emotion').textContent }));
        const box = d.faces[0];
        check(d.label === FACE_CLASS, `${view[0]}: the close face is read`, d.label);
        if (view[2] > view[1]) {
          check(box.w > view[1] && box.y + box.h > panel.y, `${view[0]}: the face box is wider than the screen and reaches the panel`,
                `${fmt(box)}, panel top ${Math.round(panel.y)}`);
        }
        // What the overlay drew under the label panel, and above it.
        const drawn = await page.evaluate(([p]) => {
          const o = document.getElementById('overlay'), s = o.width / o.clientWidth;
          const g = o.getContext('2d');
          const count = (y0, y1) => {
            const y = Math.max(0, Math.floor(y0 * s)), hgt = Math.min(o.height, Math.ceil(y1 * s)) - y;
            if (hgt <= 0) return 0;
            const d = g.getImageData(0, y, o.width, hgt).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
            return n;
          };
          return { under: count(p.y, p.y + p.h), above: count(0, p.y) };
        }, [panel]);
        check(drawn.above > 0, `${view[0]}: the box is drawn above the panel`, `${drawn.above} pixels`);
        check(drawn.under === 0, `${view[0]}: nothing is drawn through the panel and its emotion word`, `${drawn.under} pixels`);
        await context.close();
      }
    } else if (scenario === 'retry') {
      // 390x844: the permission refused, then given (as in the site settings);
      // the others: the camera busy at first, then free.
      for (const view of VIEWS) {
        const denied = view[1] === 390;
        browser = await h.launch(playwright, { video: face, grant: !denied });
        const { page, context } = await openPhone(browser, srv.port, view, denied ? null : () => {
          const md = navigator.mediaDevices, get = md.getUserMedia.bind(md);
          let first = true;
          md.getUserMedia = (c) => {
            if (first) { first = false; return Promise.reject(new DOMException('Could not start video source', 'NotReadableError')); }
            return get(c);
          };
        });
        const expected = denied ? 'denied' : 'busy';
        await page.waitForFunction(() => window.ferApp && !['loading', 'running'].includes(window.ferApp.state), null,
                                   { timeout: TIMEOUT });
        check(await page.evaluate(() => window.ferApp.state) === expected, `${view[0]}: state ${expected}`);
        const button = await rectOf(page, '#retry-button');
        const visible = await page.evaluate(() => !document.getElementById('retry-button').hidden);
        check(visible && button.h >= 44 && inside(button, { x: 0, y: 0, w: view[1], h: view[2] }),
              `${view[0]}: a "Try again" button, a thumb's size, in view`, fmt(button));
        if (denied) await context.grantPermissions(['camera']);
        await page.click('#retry-button');
        await waitForLiveFace(page, 1);
        check(await page.evaluate(() => document.getElementById('label-emotion').textContent) === FACE_CLASS &&
              await page.evaluate(() => document.getElementById('retry-button').hidden),
              `${view[0]}: after "Try again" the live view reads the face, the button is gone`);
        await context.close();
        await browser.close();
        browser = null;
      }
    } else {
      console.error(`unknown scenario ${scenario}`);
      process.exit(1);
    }
  } finally {
    if (gateOpen) gateOpen();
    if (browser) await browser.close();
    await srv.close().catch(() => {});
  }
}

h.runScenario(scenario, site, work, run, () => failures);
