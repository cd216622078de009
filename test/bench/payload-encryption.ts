// Micro-bench of payload encryption (services/platform/payload-jwe.ts): CPU time per 1 KiB
// payload to seal (gateway) and to open (runner), with a CEK session covering 1 record (one
// ECDH and key wrap per message, the worst case) and 100 records (a busy producer). In-process,
// single-threaded, no I/O: `node dist/test/bench/payload-encryption.js` (also part of `npm run
// bench`). Figures on a loaded machine are indicative.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { PayloadOpener, PayloadSealer } from '../../services/platform/payload-jwe.js';

export interface EncryptionCost {
  sessionRecords: number;
  /** Microseconds of CPU per 1 KiB payload. */
  sealUs: number;
  openUs: number;
}

function cpuUs(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

export function measureEncryptionCost(messages = 20_000): EncryptionCost[] {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const payload = JSON.stringify({ text: randomBytes(380).toString('base64'), subject: 'Quyết định phê duyệt hồ sơ' }).slice(0, 1024);
  return [1, 100].map((sessionRecords) => {
    const n = sessionRecords === 1 ? Math.min(messages, 2000) : messages;
    const sealer = new PayloadSealer(() => ({ kid: 'bench', key: publicKey }), { maxRecords: sessionRecords });
    // A fresh opener per run, caching as many CEKs as a runner would.
    const opener = new PayloadOpener(() => privateKey);
    for (let i = 0; i < 200; i++) opener.open(sealer.seal(payload)); // warm-up (JIT, OpenSSL tables)
    const sealed: string[] = new Array(n);
    const sealUs = cpuUs(() => {
      for (let i = 0; i < n; i++) sealed[i] = sealer.seal(payload);
    });
    const fresh = new PayloadOpener(() => privateKey);
    const openUs = cpuUs(() => {
      for (let i = 0; i < n; i++) fresh.open(sealed[i]);
    });
    return { sessionRecords, sealUs: sealUs / n, openUs: openUs / n };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of measureEncryptionCost()) {
    console.log(`CEK per ${String(r.sessionRecords).padStart(3)} record(s): seal ${r.sealUs.toFixed(1)} µs, open ${r.openUs.toFixed(1)} µs per 1 KiB payload`);
  }
}
