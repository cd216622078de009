// XML-DSig verification off the event loop. xml-crypto works on an xmldom DOM, and parsing plus
// canonicalising a package with megabytes of base64 attachments takes seconds (measured: ~5 s
// for a 5 MB attachment on a loaded 2-core machine), which would stall every other request of a
// gateway. Small packages are verified inline (tens of milliseconds); larger ones in a worker
// thread, one at a time per worker, so a big signed package costs its sender latency only.
import { Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { TrustList, verifyXmlSignature, type SignatureVerification } from './xml-dsig.js';

/** Above this many bytes a package is verified in the worker. */
export const INLINE_LIMIT_BYTES = 256 * 1024;

export class SignatureVerifier {
  readonly trust: TrustList;
  private readonly trustPem: string;
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (v: SignatureVerification) => void; reject: (e: Error) => void }>();

  constructor(trustFiles: string[]) {
    this.trustPem = trustFiles.map((f) => readFileSync(f, 'utf8')).join('\n');
    this.trust = TrustList.load(trustFiles);
  }

  async verify(xml: string): Promise<SignatureVerification> {
    if (Buffer.byteLength(xml) <= INLINE_LIMIT_BYTES) return verifyXmlSignature(xml, this.trust);
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, xml });
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    // Next to this module: compiled .js in dist/, .ts when run from source (the tests' loader).
    const file = new URL(`./signature-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
    const worker = new Worker(file, { workerData: { trustPem: this.trustPem } });
    worker.unref();
    worker.on('message', ({ id, result, error }: { id: number; result?: SignatureVerification; error?: string }) => {
      const pending = this.waiting.get(id);
      this.waiting.delete(id);
      if (error !== undefined) pending?.reject(new Error(error));
      else pending?.resolve(result!);
    });
    const fail = (err: Error) => {
      for (const p of this.waiting.values()) p.reject(err);
      this.waiting.clear();
      this.worker = null;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`signature worker exited (${code})`)));
    this.worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}
