// V8 flags and allocator settings every bus service runs with, wherever it is started (npm
// start, the bench, the container image — test/deploy-manifests.test.ts keeps the Dockerfile
// equal).
//
// What is alive in a busy gateway is small (a heap snapshot under full 1 KiB load: 33–40 MB,
// half of it code and source text); its resident memory was mostly garbage V8 had not yet
// collected. Two settings bound that garbage:
//  - The young generation: Node 24 lets each semi-space grow to 64 MB on a machine with plenty
//    of memory (128 MB of young generation, filled with request garbage between scavenges). A
//    scavenge costs what survives, not what died, so small semi-spaces are cheap: 8 MB measured
//    no more garbage-collection time per message than 16 (bench, 1 and 100 KiB phases).
//  - The old space: with no limit V8 sizes its heap for the machine's memory (24 GiB here) and
//    lets the old space grow up to several times what is alive before a full collection —
//    75–107 MB of old space around 35 MB of live objects. A limit of 1 GiB makes V8 grow it
//    in smaller steps (peaks of 30–37 MB) and stays far above anything a service keeps alive;
//    the gateway's request bodies, the one thing that grows with clients, are bounded apart
//    (LGSP_MAX_INFLIGHT_BODY_BYTES). Bench, gateway peak RSS through the 100 KiB phase: 271–339 MB
//    with 16 MB semi-spaces and no limit, 266 MB with 8 MB alone, 189 MB with both (docs/measurements-log.md).
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--max-old-space-size=1024'];

// glibc raises its mmap threshold each time a large block is freed, so after the first large
// produce request or body the next megabyte-sized buffers come from the heap arenas and their
// memory stays with the process after they are freed; one arena per thread multiplies that.
// A fixed threshold (blocks of 64 KiB and more are mapped and unmapped) and two arenas: in
// the bench's 100 KiB phase the memory outside the V8 heap and Buffers fell from ~90 to ~50 MB
// in the gateway (one run each on a loaded machine) with a 128 KiB threshold. 64 KiB since: a
// 100 KiB body, its payload's UTF-8 and its ciphertext are each just under 128 KiB, so they came
// from the arenas; gateway peak RSS 207.7 / 211.7 → 202.9 / 200.5 MB in two quick 100 KiB pairs
// on a quiet machine, CPU per message unchanged (docs/measurements-log.md). Buffers of 1 KiB
// messages are far below either threshold.
export const SERVICE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '65536' };
