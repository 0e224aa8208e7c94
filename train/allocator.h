// Process-wide memory allocator settings for training and inference with libtorch.
#pragma once

namespace fer {

// Keeps freed tensor memory in the process instead of returning it to the OS.
// glibc serves blocks above its mmap threshold (128 KB to 32 MB, adapting) with
// fresh mmap calls; a training step frees and re-allocates activations of
// tens of MB, so every step pays page faults and zeroing for them. Raising
// the mmap and trim thresholds to 1 GB makes those blocks come back from the
// heap: measured on fernet, batch 128, 2 threads, forward 199 -> 132 ms and
// backward 192 -> 168 ms per step (bench/README.md). No-op off glibc.
void tune_allocator();

}  // namespace fer
