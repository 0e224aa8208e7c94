// Latency per face (batch 1, one thread) of TensorFlow Lite's interpreter
// (tfjs-tflite: TFLite's C++ runtime compiled to WebAssembly, in Node) on
// .tflite files. Usage: node bench/tflite-latency.js [--reps N] M.tflite ...
// Prints one line per file: "<file> <ms per face>" (median of 5 rounds).
'use strict';
const fs = require('fs'), path = require('path');
const { tf, tflite } = require(path.join(__dirname, '..', 'tests', 'interop', 'tflite-node'));

(async () => {
  const argv = process.argv.slice(2);
  let reps = 50;
  const files = [];
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--reps') reps = Number(argv[++i]);
    else files.push(argv[i]);
  }
  await tf.setBackend('cpu');
  const face = new Float32Array(2304);
  for (let i = 0; i < face.length; ++i) face[i] = ((i * 7919) % 256 - 127.5) / 63.75;
  for (const file of files) {
    const model = await tflite.loadTFLiteModel(new Uint8Array(fs.readFileSync(file)).buffer, { numThreads: 1 });
    const input = tf.tensor(face, [1, 48, 48, 1], 'float32');
    const once = () => {
      const out = model.predict(input);
      const outs = out instanceof tf.Tensor ? [out] : Object.values(out);
      outs[0].dataSync();
      outs.forEach(t => t.dispose());
    };
    for (let i = 0; i < 5; ++i) once();
    const rounds = [];
    for (let r = 0; r < 5; ++r) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < reps; ++i) once();
      rounds.push(Number(process.hrtime.bigint() - t0) / 1e6 / reps);
    }
    rounds.sort((a, b) => a - b);
    console.log(`${file} ${rounds[2].toFixed(3)}`);
    input.dispose();
  }
})().catch(e => { console.error('tflite-latency:', e && e.message ? e.message : e); process.exit(2); });
