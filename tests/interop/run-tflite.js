// Runs .tflite files in a real TensorFlow Lite interpreter (@tensorflow/tfjs-tflite:
// TFLite's C++ runtime compiled to WebAssembly) inside plain Node, and compares the
// probabilities with what fer's runtime computed for the same faces.
//
// Usage: node run-tflite.js --inputs faces.f32 [--tol 1e-4] [--any-top] M.tflite:expected.f32 ...
//   faces.f32     n normalised 48x48 faces, float32 little-endian (NHWC, n x 2304)
//   expected.f32  fer's probabilities for them (n x 7)
//   --any-top     do not require the same top class (int8: a 1-LSB difference may break a tie)
//   --dump        also write every output of every face to M.tflite.outputs.f32 (debugging)
// Exit status: 0 all within tolerance, 1 a difference above it, 2 an error.
// tflite-node.js sets up the interpreter in plain Node.
'use strict';
const fs = require('fs'), path = require('path');
const { tf, tflite } = require('./tflite-node');

function floats(file) {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

(async () => {
  const argv = process.argv.slice(2);
  let inputs = null, tol = 1e-4, checkTop = true, dump = false;
  const pairs = [];
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--inputs') inputs = argv[++i];
    else if (argv[i] === '--tol') tol = Number(argv[++i]);
    else if (argv[i] === '--any-top') checkTop = false;
    else if (argv[i] === '--dump') dump = true;
    else pairs.push(argv[i]);
  }
  if (!inputs || !pairs.length) { console.error('usage: node run-tflite.js --inputs faces.f32 [--tol T] M.tflite:expected.f32 ...'); process.exit(2); }
  await tf.setBackend('cpu');
  const x = floats(inputs), n = x.length / 2304;
  let fail = 0;
  for (const pair of pairs) {
    const [file, expectedFile] = pair.split(':');
    const want = floats(expectedFile);
    const t0 = Date.now();
    const model = await tflite.loadTFLiteModel(new Uint8Array(fs.readFileSync(file)).buffer, { numThreads: 1 });
    let maxDiff = 0, topDiffers = 0;
    const dumped = [];
    for (let i = 0; i < n; ++i) {
      const input = tf.tensor(x.subarray(i * 2304, (i + 1) * 2304), [1, 48, 48, 1], 'float32');
      const out = model.predict(input);
      const probs = (out instanceof tf.Tensor ? out : out['probabilities']).dataSync();
      if (dump) for (const o of model.outputs) dumped.push(Float32Array.from((out instanceof tf.Tensor ? out : out[o.name]).dataSync()));
      let top = 0, topWant = 0;
      for (let k = 0; k < 7; ++k) {
        maxDiff = Math.max(maxDiff, Math.abs(probs[k] - want[i * 7 + k]));
        if (probs[k] > probs[top]) top = k;
        if (want[i * 7 + k] > want[i * 7 + topWant]) topWant = k;
      }
      if (top !== topWant) topDiffers++;
      tf.dispose(input);
      if (!(out instanceof tf.Tensor)) Object.values(out).forEach(t => t.dispose()); else out.dispose();
    }
    if (dump) fs.writeFileSync(file + '.outputs.f32', Buffer.concat(dumped.map(a => Buffer.from(a.buffer))));
    const ok = maxDiff <= tol && (!checkTop || topDiffers === 0);
    if (!ok) fail = 1;
    console.log(`${path.basename(file)}: ${n} faces, max |tflite - fer| = ${maxDiff.toExponential(2)} (tol ${tol}),` +
      ` top class differs on ${topDiffers}; ${Date.now() - t0} ms; outputs ${model.outputs.map(o => o.name + JSON.stringify(o.shape)).join(' ')}: ${ok ? 'OK' : 'FAIL'}`);
  }
  process.exit(fail);
})().catch(e => { console.error('ERROR', e && e.message ? e.message : e); process.exit(2); });
