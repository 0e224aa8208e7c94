// `fer serve --phone` (tools/fer/serve/phone-setup.cpp, qr-code.cpp) end to end:
//
//   node serve-phone-test.js --fer EXE --site DIR --work DIR
//
// 1. First start with an empty --cert-dir: a certificate and a key (owner
//    only) are made; the server answers HTTPS with that very certificate
//    (SHA-256 as printed), whose names hold the printed LAN address.
// 2. The terminal's QR code, drawn as a picture module by module, decodes
//    (Debian's zbarimg, zbar-tools) to the printed address, and that address
//    serves the web app's page.
// 3. Second start: the certificate is reused (same fingerprint, file untouched).
// 4. A --cert-dir that cannot be made: a clear error naming it, exit non-zero.
//
// Exit 0 pass, 1 fail, 77 skipped (zbarimg missing).
'use strict';
const fs = require('fs');
const https = require('https');
const path = require('path');
const { spawn, execFileSync, spawnSync } = require('child_process');
const { encodePng } = require('../../web/tools/png');

const argv = process.argv.slice(2);
const opt = (name, fallback) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : fallback; };
const ferExe = opt('fer', null);
const site = path.resolve(opt('site', path.join(__dirname, '../../build/web/site')));
const work = path.resolve(opt('work', path.join(require('os').tmpdir(), 'fer-web-test')));

let failures = 0;
function check(ok, what, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
  if (!ok) failures += 1;
}
function skip(why) { console.log(`SKIPPED: ${why}`); process.exit(77); }

// Starts fer serve --phone and resolves once it has printed everything it
// prints at start (the line after the QR code, or the no-address line).
function startPhoneServer(certDir, more = []) {
  const child = spawn(ferExe, ['serve', '--phone', '--port', '0', '--quiet', '--cert-dir', certDir, '--site', site, ...more],
                      { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { child.kill(); reject(new Error(`fer serve --phone printed no address in 60 s:\n${out}`)); }, 60000);
    const onData = (d) => {
      out += d;
      if (/warns about the self-signed certificate|no network address found/.test(out)) {
        clearTimeout(timer);
        resolve({ child, out });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`fer serve --phone exited (${code}):\n${out}`)); });
  });
}

const stop = (child) => new Promise((resolve) => { child.removeAllListeners('exit'); child.on('exit', resolve); child.kill('SIGTERM'); });

// GET over HTTPS without trusting the certificate: the status, the body and
// the certificate the server presented.
function get(url) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { rejectUnauthorized: false, timeout: 30000 }, (res) => {
      const cert = res.socket.getPeerCertificate();
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body, cert }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer in 30 s`)));
  });
}

// The QR code as printed (half blocks, a block dark) back into modules, then
// a PNG of 6 pixels a module that zbarimg reads.
function decodeTerminalQr(out, file) {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => /^fer serve: QR code of /.test(l));
  if (start < 0) return null;
  const rows = [];
  for (let i = start + 1; i < lines.length && /^[ \u2580\u2584\u2588]+$/.test(lines[i]); i++) rows.push([...lines[i]]);
  if (!rows.length) return null;
  const width = rows[0].length, height = 2 * rows.length, S = 6;
  const px = Buffer.alloc(width * S * height * S, 255);
  rows.forEach((row, i) => row.forEach((c, x) => {
    const halves = [c === '\u2588' || c === '\u2580', c === '\u2588' || c === '\u2584'];
    halves.forEach((dark, k) => {
      if (!dark) return;
      for (let a = 0; a < S; a++) px.fill(0, ((2 * i + k) * S + a) * width * S + x * S, ((2 * i + k) * S + a) * width * S + (x + 1) * S);
    });
  }));
  fs.writeFileSync(file, encodePng(width * S, height * S, 1, px));
  const r = spawnSync('zbarimg', ['--raw', '-q', file], { encoding: 'utf8' });
  return { text: r.status === 0 ? r.stdout.trim() : null, modules: height, status: r.status };
}

async function main() {
  if (!ferExe) skip('--fer not given (the fer command is not built)');
  try { execFileSync('zbarimg', ['--version'], { stdio: 'ignore' }); } catch (e) { skip('zbarimg is missing (Debian package zbar-tools)'); }
  fs.mkdirSync(work, { recursive: true });
  const certDir = path.join(work, 'phone-tls');
  fs.rmSync(certDir, { recursive: true, force: true });

  // 1. First start: made.
  let { child, out } = await startPhoneServer(certDir);
  let fingerprint, certTime;
  try {
    console.log(out.split('\n').filter((l) => !/^[ \u2580\u2584\u2588]+$/.test(l)).join('\n'));
    const cert = path.join(certDir, 'cert.pem'), key = path.join(certDir, 'key.pem');
    check(/made a self-signed certificate/.test(out) && fs.existsSync(cert) && fs.existsSync(key),
          'first start: a certificate and its key are made in --cert-dir');
    check((fs.statSync(key).mode & 0o077) === 0, 'the key is readable by its owner only', (fs.statSync(key).mode & 0o777).toString(8));
    certTime = fs.statSync(cert).mtimeMs;
    fingerprint = (/SHA-256 ([0-9A-F:]{95})/.exec(out) || [])[1];
    const port = Number((/listening on https:\/\/[^:]+:(\d+)/.exec(out) || [])[1]);
    check(fingerprint && port > 0, 'it prints the fingerprint and listens over HTTPS', `${fingerprint} port ${port}`);
    const urls = [...out.matchAll(/^ {2}(https:\/\/\S+)$/gm)].map((m) => m[1]);
    let url = urls[0];
    if (!url) {
      // No network interface besides loopback (a bare container): the same over 127.0.0.1.
      console.log('no LAN address on this machine: --host 127.0.0.1');
      await stop(child);
      ({ child, out } = await startPhoneServer(certDir, ['--host', '127.0.0.1']));
      url = [...out.matchAll(/^ {2}(https:\/\/\S+)$/gm)].map((m) => m[1])[0];
    }
    check(/^https:\/\/\d+\.\d+\.\d+\.\d+:\d+\/$/.test(url || ''), 'a LAN address of the page is printed', String(url));
    // 2. The QR code.
    const qr = decodeTerminalQr(out, path.join(work, 'phone-qr.png'));
    check(qr && qr.text === url, 'the terminal QR code decodes (zbarimg) to the printed address',
          qr ? `"${qr.text}" (${qr.modules} rows of modules, zbarimg status ${qr.status})` : 'no QR code printed');
    const res = await get(qr && qr.text ? qr.text : url);
    check(res.status === 200 && /<title>fer/.test(res.body), 'that address serves the web app over HTTPS', `HTTP ${res.status}`);
    check(res.cert.fingerprint256 === fingerprint, 'with the certificate whose fingerprint was printed', res.cert.fingerprint256);
    const ip = new URL(url).hostname;
    check(new RegExp(`IP Address:${ip.replace(/\./g, '\\.')}(,|$)`).test(res.cert.subjectaltname || ''),
          'the certificate names the printed address', res.cert.subjectaltname);
  } finally {
    await stop(child);
  }

  // 3. Second start: reused.
  ({ child, out } = await startPhoneServer(certDir));
  try {
    check(/reusing the certificate/.test(out) && out.includes(fingerprint), 'second start: the same certificate is reused');
    check(fs.statSync(path.join(certDir, 'cert.pem')).mtimeMs === certTime, 'the certificate file is not rewritten');
    const port = Number(/listening on https:\/\/[^:]+:(\d+)/.exec(out)[1]);
    const res = await get(`https://127.0.0.1:${port}/`);
    check(res.status === 200 && res.cert.fingerprint256 === fingerprint, 'and served', `HTTP ${res.status}`);
  } finally {
    await stop(child);
  }

  // 4. A --cert-dir that cannot be made (under a regular file).
  const blocker = path.join(work, 'phone-tls-blocker');
  fs.writeFileSync(blocker, 'not a directory');
  const bad = spawnSync(ferExe, ['serve', '--phone', '--port', '0', '--cert-dir', path.join(blocker, 'tls'), '--site', 'none'],
                        { encoding: 'utf8', timeout: 60000 });
  check(bad.status !== 0 && bad.status !== null && /cert-dir .*phone-tls-blocker\/tls/.test(bad.stderr),
        'an unusable --cert-dir: an error naming it, non-zero exit', `exit ${bad.status}: ${bad.stderr.trim().split('\n').pop()}`);
}

main().then(() => {
  console.log(failures ? `serve --phone: ${failures} check(s) failed` : 'serve --phone: passed');
  process.exit(failures ? 1 : 0);
}).catch((e) => {
  console.log(`FAIL serve --phone: ${e.message}`);
  process.exit(1);
});
