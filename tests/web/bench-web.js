// Times the web app's per-frame analysis in headless Chromium (SIMD and plain
// builds, through the app's own worker) and the native runtime on the same
// 640x480 RGBA frame with one face; prints medians, ratios and download sizes.
//
//   node bench-web.js --site DIR --native EXE [--reps N] [--min-face PX] [--work DIR] [--json FILE]
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { execFileSync } = require('child_process');
const h = require('./harness');

const argv = process.argv.slice(2);
const opt = (name, fallback) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : fallback; };
const site = path.resolve(opt('site', path.join(h.SOURCE_DIR, 'build/web/site')));
const nativeExe = opt('native');
const reps = Number(opt('reps', 30));
const minFace = Number(opt('min-face', 60));  // 60: the page's setting with the Haar cascade (short side / 8), kept
// for comparison across sessions; the page's live view uses short side / 16 (30 px) since YuNet
const work = path.resolve(opt('work', path.join(require('os').tmpdir(), 'fer-web-bench')));
const W = 640, H = 480;

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

async function main() {
  const playwright = h.requireTools();
  const frame = h.makeRgbaFrame(work, 'happy');
  const runNative = (kernels, n) => JSON.parse(execFileSync(nativeExe, [path.join(site, 'model/fernet-int8.tflite'),
    path.join(site, 'model/yunet-int8.tflite'), frame, String(W), String(H), String(minFace), '0',
    String(n), kernels].filter((a) => a !== ''), { encoding: 'utf8' }));
  const names = { native: 'native', ref: 'native ref', simd: 'wasm simd', plain: 'wasm plain' };
  const kernels = { native: runNative('', 1).kernels, ref: runNative('reference', 1).kernels };
  const ms = { native: [], ref: [], simd: [], plain: [] };
  const ratios = { ref: [], simd: [], plain: [] };
  let faces = {};
  const srv = await h.startServer(site, { extra: { '/__bench.html': path.join(__dirname, 'bench.html'), '/__frame.rgba': frame } });
  const browser = await h.launch(playwright);
  let info;
  try {
    const page = await browser.newPage();
    await page.goto(`http://localhost:${srv.port}/__bench.html?width=${W}&height=${H}&minFace=${minFace}`);
    await page.waitForFunction(() => window.bench.status !== 'loading', null, { timeout: 120000 });
    info = await page.evaluate(() => window.bench);
    if (info.status !== 'ready') throw new Error(info.error);
    // Warm-up: compilation tiers and caches, not measured.
    for (const build of ['simd', 'plain']) await page.evaluate(([b]) => window.benchRound(b, 2), [build]);
    // Rounds of a few passes each, the four contenders interleaved, so that a
    // load change on this shared machine hits all of them alike; the ratios
    // are taken within each round, then their median.
    const rounds = Math.max(3, Math.ceil(reps / 5));
    for (let r = 0; r < rounds; r++) {
      const round = {};
      round.native = median(runNative('', 6).ms.slice(1));
      round.ref = median(runNative('reference', 6).ms.slice(1));
      for (const build of ['simd', 'plain']) {
        const b = await page.evaluate(([bb]) => window.benchRound(bb, 5), [build]);
        round[build] = median(b.ms);
        faces[build] = b.faces;
      }
      for (const k of Object.keys(ms)) ms[k].push(round[k]);
      for (const k of Object.keys(ratios)) ratios[k].push(round[k] / round.native);
    }
  } finally {
    await browser.close();
    await srv.close();
  }
  faces = { native: runNative('', 1).faces.length, ref: runNative('reference', 1).faces.length, ...faces };
  console.log(`per frame, 640x480, one face, min face ${minFace} px: ${ms.native.length} interleaved rounds of 5 passes;`);
  console.log('median over rounds of the per-round median, min-max, and median of the per-round ratios to native:');
  for (const k of Object.keys(ms)) {
    const loadMs = info.info[k] ? `  (load ${info.info[k].loadMs.toFixed(0)} ms)` : '';
    console.log(`  ${names[k].padEnd(11)} ${median(ms[k]).toFixed(2).padStart(8)} ms (${Math.min(...ms[k]).toFixed(1)}-${Math.max(...ms[k]).toFixed(1)})` +
                `  x${k === 'native' ? '1.00' : median(ratios[k]).toFixed(2)}  faces ${faces[k]}${loadMs}` +
                `  [${k in kernels ? kernels[k] : info.info[k].kernels}]`);
  }
  // What a first visit downloads (worker.js fetches the .gz copies; the
  // service worker precaches no install icon: Web.loading counts the requests).
  const first = ['index.html', 'app.js', 'worker.js', 'style.css', 'manifest.webmanifest', 'sw.js', 'icons/icon.svg',
    'fer-simd.js', 'fer-simd.wasm.gz', 'model/fernet-int8.tflite.gz', 'model/yunet-int8.tflite.gz'];
  const size = (f) => fs.statSync(path.join(site, f)).size;
  const gz = (f) => (f.endsWith('.gz') ? size(f) : zlib.gzipSync(fs.readFileSync(path.join(site, f)), { level: 9 }).length);
  console.log('download sizes (bytes):');
  for (const f of ['fer-simd.wasm', 'fer-plain.wasm', 'model/fernet-int8.tflite', 'model/yunet-int8.tflite']) {
    console.log(`  ${f.padEnd(36)} ${String(size(f)).padStart(8)}  gzip ${String(size(`${f}.gz`)).padStart(8)}`);
  }
  const total = first.reduce((s, f) => s + size(f), 0);
  const totalGz = first.reduce((s, f) => s + gz(f), 0);
  console.log(`  first load, host without compression  ${String(total).padStart(8)}`);
  console.log(`  first load, host gzips text too       ${String(totalGz).padStart(8)}`);
  if (opt('json')) fs.writeFileSync(opt('json'), JSON.stringify({ ms, ratios, total, totalGz }, null, 1));
}

main().catch((e) => { console.error(`bench-web: ${e.message}`); process.exit(1); });
