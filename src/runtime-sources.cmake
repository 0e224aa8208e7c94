# The runtime's model sources (reader, verifier, op table, one file per
# operator, planner, CPU detection, interpreter, C API), listed once for
# src/CMakeLists.txt and for the builds that compile the runtime themselves
# (tests/fuzz, the WebAssembly test, the cascade fuzzer).
set(FER_MODEL_SOURCES
  model/read-tflite.cpp model/verify.cpp model/verify-graph.cpp model/op-table.cpp model/plan.cpp
  model/cpu.cpp model/interpreter.cpp model/c-api.cpp
  ops/op-add.cpp ops/op-average-pool-2d.cpp ops/op-conv-2d.cpp ops/op-depthwise-conv-2d.cpp
  ops/op-dequantize.cpp ops/op-fully-connected.cpp ops/op-logistic.cpp ops/op-max-pool-2d.cpp ops/op-mean.cpp
  ops/op-pad.cpp ops/op-quantize.cpp ops/op-reshape.cpp ops/op-resize-nearest-neighbor.cpp ops/op-softmax.cpp)
list(TRANSFORM FER_MODEL_SOURCES PREPEND ${CMAKE_CURRENT_LIST_DIR}/)
