// The peer of bench-face-detectors' "network alone" rows: the same YuNet ONNX
// file in onnxruntime-node (CPU, one thread, all graph optimisations), median
// time of one forward pass at the same input sizes.
//
// Usage: node bench/yunet-onnxruntime.js MODEL.onnx [REPS]   (NODE_PATH=tests/interop/node_modules)
'use strict';
const ort = require('onnxruntime-node');

(async () => {
  const [model, repsText] = process.argv.slice(2);
  const reps = Number(repsText || 15);
  if (!model || !(reps > 0)) {
    console.error('usage: node bench/yunet-onnxruntime.js MODEL.onnx [REPS]');
    process.exit(2);
  }
  const session = await ort.InferenceSession.create(model,
    { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  for (const [h, w] of [[480, 640], [192, 256]]) {
    const x = new Float32Array(3 * h * w);
    for (let i = 0; i < x.length; i++) x[i] = (i * 7) % 251;
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x, [1, 3, h, w]) };
    await session.run(feeds);  // warm-up
    const ms = [];
    for (let r = 0; r < reps; r++) {
      const t0 = process.hrtime.bigint();
      await session.run(feeds);
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    ms.sort((a, b) => a - b);
    console.log(`| ${w}x${h} | onnxruntime-node 1.30 (float32, 1 thread) | ${ms[ms.length >> 1].toFixed(2)} |`);
  }
})().catch((e) => { console.error(String(e && e.message || e)); process.exit(2); });
