// V8 flags every bus service runs with, wherever it is started (npm start, the bench, the
// container image's NODE_OPTIONS — test/deploy-manifests.test.ts keeps the Dockerfile equal).
//
// Node 24 lets the young generation grow to 64 MB per semi-space on a machine with plenty of
// memory. Under the bench that young generation (128 MB) was most of the gateway's and the
// runner's resident memory (old space stayed near 40 MB): short-lived request and record
// garbage filled it before each scavenge. A scavenge costs what survives, not what died, so
// 16 MB semi-spaces (V8's long-standing default) keep memory bounded for a small CPU cost.
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16'];
