// Runs an ONNX model in a real ONNX runtime (onnxruntime-node, CPU, one
// thread) on raw float32 inputs and writes every output, so that fer's own
// runtime can be compared with it (tests/test-yunet-parity.cpp).
//
// Usage: node run-onnx.js [--optimization all|disabled] MODEL.onnx IN.f32:NxCxHxW:OUT.f32 ...
//   IN.f32   the input tensor, float32 little-endian, in the given (NCHW) shape
//   OUT.f32  written: the model's outputs, in session.outputNames order, concatenated
// Prints one JSON line per input: {"input": IN, "outputs": [{"name", "dims"}, ...]}.
// Exit status: 0 ok, 2 an error (message on stderr).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function floats(file) {
  const b = fs.readFileSync(file);
  if (b.length % 4) throw new Error(`${file}: ${b.length} bytes is not a whole number of float32 values`);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

(async () => {
  // --optimization LEVEL: onnxruntime's graph optimisation ('all' by default;
  // 'disabled' runs QuantizeLinear/DequantizeLinear as written, unfused).
  const args = process.argv.slice(2);
  let level = 'all';
  if (args[0] === '--optimization') { level = args[1]; args.splice(0, 2); }
  const [model, ...jobs] = args;
  if (!model || !jobs.length) {
    console.error('usage: node run-onnx.js MODEL.onnx IN.f32:NxCxHxW:OUT.f32 ...');
    process.exit(2);
  }
  const session = await ort.InferenceSession.create(model,
    { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: level });
  const inputName = session.inputNames[0];
  for (const job of jobs) {
    const [inFile, shapeText, outFile] = job.split(':');
    const dims = (shapeText || '').split('x').map(Number);
    if (!outFile || dims.length !== 4 || dims.some(d => !(d > 0))) throw new Error(`bad job '${job}': IN.f32:NxCxHxW:OUT.f32 expected`);
    const x = floats(inFile);
    if (x.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`${inFile}: ${x.length} values, shape ${shapeText} needs ${dims.reduce((a, b) => a * b, 1)}`);
    const out = await session.run({ [inputName]: new ort.Tensor('float32', x, dims) });
    const parts = [], info = [];
    for (const name of session.outputNames) {
      const t = out[name];
      if (t.type !== 'float32') throw new Error(`output ${name} is ${t.type}, float32 expected`);
      parts.push(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      info.push({ name, dims: t.dims });
    }
    const tmp = outFile + '.tmp';
    fs.writeFileSync(tmp, Buffer.concat(parts));
    fs.renameSync(tmp, outFile);  // whole or absent
    console.log(JSON.stringify({ input: inFile, outputs: info }));
  }
})().catch(e => { console.error('run-onnx.js: ' + (e && e.message ? e.message : e)); process.exit(2); });
