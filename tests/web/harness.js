// Shared pieces of the web app's browser tests and benchmark: fixtures made
// from the project's own sample faces (ffmpeg), a static server for the built
// site, and Debian's headless Chromium with a fake camera (playwright-core).
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const { execFileSync } = require('child_process');

const SOURCE_DIR = path.resolve(__dirname, '../..');
const CHROMIUM = process.env.FER_CHROMIUM || '/usr/bin/chromium';
const SKIP = 77;  // CTest's SKIP_RETURN_CODE for these tests

function skip(why) {
  console.log(`SKIPPED: ${why}`);
  process.exit(SKIP);
}

// Skips (exit 77) when what the browser tests need is not installed.
function requireTools() {
  if (!fs.existsSync(CHROMIUM)) skip(`${CHROMIUM} is missing (Debian package chromium)`);
  if (!fs.existsSync(path.join(__dirname, 'node_modules/playwright-core'))) {
    skip('tests/web/node_modules is missing (scripts/setup.sh runs npm ci there)');
  }
  try { execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' }); } catch (e) { skip('ffmpeg is missing'); }
  return require('playwright-core');
}

// The sample face of a class (samples/<class>-*.jpg, a 48x48 FER2013 crop).
function sampleFace(cls) {
  const name = fs.readdirSync(path.join(SOURCE_DIR, 'samples')).find((f) => f.startsWith(`${cls}-`));
  if (!name) throw new Error(`no samples/${cls}-*.jpg`);
  return path.join(SOURCE_DIR, 'samples', name);
}

// A 640x480 camera video: the sample face upscaled to `side` px (the Haar
// detector needs faces far above 48 px) on a grey background, drifting a few
// pixels per frame so the tracker has to follow it; or, without a face, a
// noisy grey scene. 10 frames per second, 2 s; the fake camera loops it.
// x, y: the face's top left corner; color: the scene's (white and black
// scenes test the contrast of the page's text).
function makeVideo(outDir, name, { face = null, side = 200, frames = 20, x = 220, y = 120, color = '0x7f7f7f' } = {}) {
  const out = path.join(outDir, `${name}.y4m`);
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(outDir, { recursive: true });
  const background = ['-f', 'lavfi', '-i', `color=c=${color}:s=640x480:r=10:d=${frames / 10}`];
  const args = face
    ? [...background, '-i', sampleFace(face), '-filter_complex',
       `[1:v]scale=${side}:${side}:flags=bicubic[f];[0:v][f]overlay=x='${x}+3*mod(n\\,8)':y='${y}+2*mod(n\\,5)',format=yuv420p`]
    : [...background, '-vf', 'noise=alls=30:allf=t,format=yuv420p'];
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args, '-frames:v', String(frames), '-f', 'yuv4mpegpipe', out]);
  return out;
}

// 640x480 RGBA bytes of the same composition (one frame, no drift), for the benchmark.
function makeRgbaFrame(outDir, face, side = 200) {
  const out = path.join(outDir, `${face}-640x480.rgba`);
  if (!fs.existsSync(out)) {
    fs.mkdirSync(outDir, { recursive: true });
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=0x7f7f7f:s=640x480', '-i', sampleFace(face),
      '-filter_complex', `[1:v]scale=${side}:${side}:flags=bicubic[f];[0:v][f]overlay=x=220:y=120,format=rgba`,
      '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgba', out]);
  }
  return out;
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json' };

// Serves `root` (the built site) on 127.0.0.1 like a plain static host, no
// compression. extra: {'/path': file} served besides; delayMs: {suffix: ms}
// holds matching responses back (e.g. the model, to see the loading state);
// gates: {suffix: () => promise} holds them until the test resolves that promise.
async function startServer(root, { extra = {}, delayMs = {}, gates = {} } = {}) {
  const log = [];
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    log.push(urlPath);
    const file = extra[urlPath] || path.join(root, path.normalize(urlPath.endsWith('/') ? `${urlPath}index.html` : urlPath));
    if (!extra[urlPath] && !file.startsWith(root)) { res.writeHead(403); res.end(); return; }
    fs.readFile(file, (err, data) => {
      if (err) { res.writeHead(404); res.end(); return; }
      const wait = Object.entries(delayMs).find(([suffix]) => urlPath.endsWith(suffix));
      const gate = Object.entries(gates).find(([suffix]) => urlPath.endsWith(suffix));
      const send = () => setTimeout(() => {
        res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
                             'Cache-Control': 'no-cache' });
        res.end(data);
      }, wait ? wait[1] : 0);
      if (gate) gate[1]().then(send); else send();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, log, port: server.address().port,
           close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }) };
}

// Headless Chromium; with `video`, a fake camera plays it. `grant`: allow the
// camera without a prompt (false: the prompt is refused, as a user would).
async function launch(playwright, { video = null, grant = true, args = [] } = {}) {
  const flags = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--no-first-run', '--disable-sync', ...args];
  if (video) flags.push('--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${path.resolve(video)}`);
  flags.push(grant ? '--use-fake-ui-for-media-stream' : '--deny-permission-prompts');
  return playwright.chromium.launch({ executablePath: CHROMIUM, headless: true, args: flags, timeout: 60000 });
}

// Opens a page that records console messages and page errors (printed on failure).
// initScript, when given, runs in the page before any of its own scripts.
async function openPage(browser, url, contextOptions = {}, initScript = null) {
  const context = await browser.newContext(contextOptions);
  if (initScript) await context.addInitScript(initScript);
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e}`));
  await page.goto(url);
  return { context, page, logs };
}

// A test file's command line: SCENARIO [--site DIR] [--work DIR] [--NAME VALUE...];
// opt(name, fallback) reads the others.
function parseArgs() {
  const argv = process.argv.slice(2);
  const opt = (name, fallback) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : fallback; };
  return {
    scenario: argv[0],
    opt,
    site: path.resolve(opt('site', path.join(SOURCE_DIR, 'build/web/site'))),
    work: path.resolve(opt('work', path.join(require('os').tmpdir(), 'fer-web-test'))),
  };
}

// A test file's entry point: skips without the tools or the built site, runs
// its scenario (run(playwright)), then exits 1 when failedChecks() says any
// check failed or the scenario threw, else 0.
function runScenario(scenario, site, work, run, failedChecks) {
  const playwright = requireTools();
  if (!fs.existsSync(path.join(site, 'index.html'))) skip(`no site in ${site} (web/build.sh builds it)`);
  fs.mkdirSync(work, { recursive: true });
  run(playwright).then(() => {
    const failures = failedChecks();
    console.log(failures ? `${scenario}: ${failures} check(s) failed` : `${scenario}: passed`);
    process.exit(failures ? 1 : 0);
  }).catch((e) => {
    console.log(`FAIL ${scenario}: ${e.message}`);
    process.exit(1);
  });
}

module.exports = { SOURCE_DIR, CHROMIUM, SKIP, skip, requireTools, parseArgs, runScenario, sampleFace, makeVideo, makeRgbaFrame,
                   startServer, launch, openPage };
