// V8 flags and allocator settings every bus service runs with, wherever it is started (npm
// start, the bench, the container image — test/deploy-manifests.test.ts keeps the Dockerfile
// equal).
//
// Node 24 lets the young generation grow to 64 MB per semi-space on a machine with plenty of
// memory. Under the bench that young generation (128 MB) was most of the gateway's and the
// runner's resident memory (old space stayed near 40 MB): short-lived request and record
// garbage filled it before each scavenge. A scavenge costs what survives, not what died, so
// 16 MB semi-spaces (V8's long-standing default) keep memory bounded for a small CPU cost.
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16'];

// glibc raises its mmap threshold each time a large block is freed, so after the first large
// produce request or body the next megabyte-sized buffers come from the heap arenas and their
// memory stays with the process after they are freed; one arena per thread multiplies that.
// A fixed threshold (blocks of 128 KiB and more are mapped and unmapped) and two arenas: in
// the bench's 100 KiB phase the memory outside the V8 heap and Buffers fell from ~90 to ~50 MB
// in the gateway (one run each on a loaded machine).
export const SERVICE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' };
