#include "allocator.h"

#include <cstdlib>  // defines __GLIBC__ (through <features.h>) on glibc systems

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace fer {

void tune_allocator() {
#if defined(__GLIBC__)
    // glibc refuses an mmap threshold above 32 MB (half its heap size), and
    // activations of batch 128 are larger, so only turning mmap off keeps them.
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

}  // namespace fer
