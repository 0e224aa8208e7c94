// Appended to the module's glue (em++ --post-js, web/build.sh). The glue is
// Emscripten's MINIMAL_RUNTIME (4 KB against 12 KB for the full runtime, on
// every first visit), which keeps the exports and heap views in its own
// scope; worker.js reads them from the module object. Here `ready`, which
// the glue calls once the module is instantiated, is replaced by one that
// puts them there first. The heaps are getters: memory growth replaces the
// views. A missing name fails the first page load (the web tests see it).
/* global ready:writable, readyPromiseResolve, Module, HEAPU8, HEAPF32, _malloc, _free, _fer_web_simd,
   _fer_web_record_size, _fer_web_max_faces, _fer_web_error, _fer_web_kernels, _fer_web_init, _fer_web_frame,
   _fer_web_analyze, _fer_web_results, _fer_web_tracker_reset, _fer_web_label */
ready = function () {
  Object.assign(Module, {
    _malloc, _free, _fer_web_simd, _fer_web_record_size, _fer_web_max_faces, _fer_web_error, _fer_web_kernels,
    _fer_web_init, _fer_web_frame, _fer_web_analyze, _fer_web_results, _fer_web_tracker_reset, _fer_web_label,
  });
  Object.defineProperty(Module, 'HEAPU8', { get: () => HEAPU8 });
  Object.defineProperty(Module, 'HEAPF32', { get: () => HEAPF32 });
  readyPromiseResolve(Module);
};
