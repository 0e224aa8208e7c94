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
const minFace = Number(opt('min-face', 60));  // what the page uses for 640x480: short side / 8
const work = path.resolve(opt('work', path.join(require('os').tmpdir(), 'fer-web-bench')));
const W = 640, H = 480;

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

async function main() {
  const playwright = h.requireTools();
  const frame = h.makeRgbaFrame(work, 'happy');
  const rows = [];
  for (const kernels of ['', 'reference']) {
    const native = JSON.parse(execFileSync(nativeExe, [path.join(site, 'model/fernet-int8.tflite'),
      path.join(site, 'model/frontalface-alt2.fercascade'), frame, String(W), String(H), String(minFace), '0',
      String(reps + 3), kernels].filter((a) => a !== ''), { encoding: 'utf8' }));
    rows.push({ name: kernels ? 'native ref' : 'native', kernels: native.kernels, faces: native.faces.length,
                ms: median(native.ms.slice(3)) });
  }
  const srv = await h.startServer(site, { extra: { '/__bench.html': path.join(__dirname, 'bench.html'), '/__frame.rgba': frame } });
  const browser = await h.launch(playwright);
  try {
    for (const build of ['simd', 'plain']) {
      const page = await browser.newPage();
      // Three passes more than asked: the first ones include compiling and warming up.
      await page.goto(`http://localhost:${srv.port}/__bench.html?build=${build}&width=${W}&height=${H}&minFace=${minFace}&reps=${reps + 3}`);
      await page.waitForFunction(() => window.bench.status !== 'running', null, { timeout: 600000 });
      const b = await page.evaluate(() => window.bench);
      if (b.status !== 'done') throw new Error(`${build}: ${b.error}`);
      rows.push({ name: `wasm ${build}`, kernels: b.kernels, faces: b.faces, ms: median(b.ms.slice(3)), loadMs: b.loadMs });
      await page.close();
    }
  } finally {
    await browser.close();
    await srv.close();
  }
  const nativeMs = rows[0].ms;
  console.log(`per frame, 640x480, one face, min face ${minFace} px, median of ${reps}:`);
  for (const r of rows) {
    console.log(`  ${r.name.padEnd(11)} ${r.ms.toFixed(2).padStart(8)} ms  x${(r.ms / nativeMs).toFixed(2)} native` +
                `  faces ${r.faces}${r.loadMs ? `  (load ${r.loadMs.toFixed(0)} ms)` : ''}  [${r.kernels}]`);
  }
  // What a first visit downloads (worker.js fetches the .gz copies).
  const first = ['index.html', 'app.js', 'worker.js', 'style.css', 'manifest.webmanifest', 'sw.js', 'icons/icon.svg',
    'icons/icon-180.png', 'icons/icon-192.png', 'icons/icon-512.png', 'fer-simd.js', 'fer-simd.wasm.gz',
    'model/fernet-int8.tflite.gz', 'model/frontalface-alt2.fercascade.gz'];
  const size = (f) => fs.statSync(path.join(site, f)).size;
  const gz = (f) => (f.endsWith('.gz') ? size(f) : zlib.gzipSync(fs.readFileSync(path.join(site, f)), { level: 9 }).length);
  console.log('download sizes (bytes):');
  for (const f of ['fer-simd.wasm', 'fer-plain.wasm', 'model/fernet-int8.tflite', 'model/frontalface-alt2.fercascade']) {
    console.log(`  ${f.padEnd(36)} ${String(size(f)).padStart(8)}  gzip ${String(size(`${f}.gz`)).padStart(8)}`);
  }
  const total = first.reduce((s, f) => s + size(f), 0);
  const totalGz = first.reduce((s, f) => s + gz(f), 0);
  console.log(`  first load, host without compression  ${String(total).padStart(8)}`);
  console.log(`  first load, host gzips text too       ${String(totalGz).padStart(8)}`);
  if (opt('json')) fs.writeFileSync(opt('json'), JSON.stringify({ rows, total, totalGz }, null, 1));
}

main().catch((e) => { console.error(`bench-web: ${e.message}`); process.exit(1); });
