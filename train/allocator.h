// Process-wide memory allocator settings for training and inference with libtorch.
#pragma once

namespace fer {

// Keeps freed tensor memory in the process instead of returning it to the OS.
// glibc serves blocks above its mmap threshold (128 KB to 32 MB, adapting) with
// fresh mmap calls; a training step frees and re-allocates activations of
// tens of MB, so every step pays page faults and zeroing for them. Raising
// the mmap threshold cannot help (glibc caps it at 32 MB, below batch 128's
// activations), so mmap is turned off and the trim threshold raised to 1 GB:
// those blocks then come back from the heap. Measured on fernet, batch 128,
// one thread, 2,560 faces, on the 2-core AMD EPYC (Zen 3) machine: one epoch
// 51 -> 34 s, identical result; a third of the time had been the kernel
// zeroing fresh pages. Only fer-torch calls it: the runtime commands (serve)
// should hand a huge image's memory back. No-op off glibc.
void tune_allocator();

}  // namespace fer
