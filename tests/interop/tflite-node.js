// TensorFlow Lite's C++ interpreter (@tensorflow/tfjs-tflite, compiled to
// WebAssembly) in plain Node, for run-tflite.js and bench/tflite-latency.js.
// The shims follow ../shared/docs/interop-recipes.md 1c: tfjs-tflite supports
// browsers only; without `window` it takes the Web Worker path, which needs
// self/location/importScripts and a fetch that serves the .wasm from node_modules.
'use strict';
const fs = require('fs'), vm = require('vm'), path = require('path');
const WASM = path.join(path.dirname(require.resolve('@tensorflow/tfjs-tflite/package.json')), 'wasm') + '/';
globalThis.self = globalThis;
globalThis.location = { href: 'http://local.invalid/', origin: 'http://local.invalid' };
globalThis.importScripts = (url) => vm.runInThisContext(fs.readFileSync(WASM + path.basename(url), 'utf8'));
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, o) => String(url).startsWith('http://local.invalid/')
  ? new Response(fs.readFileSync(WASM + path.basename(String(url))), { headers: { 'content-type': 'application/wasm' } })
  : realFetch(url, o);
delete globalThis.SharedArrayBuffer;  // the non-threaded wasm (the threaded one needs workers)
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const tflite = require('@tensorflow/tfjs-tflite');
tflite.setWasmPath('http://local.invalid/');

module.exports = { tf, tflite };
