// The worker thread of signature-verifier.ts: verifies one package at a time with the trust
// list it was started with, and answers with the result (never throws across the boundary).
import { parentPort, workerData } from 'node:worker_threads';
import { TrustList, verifyXmlSignature } from './xml-dsig.js';

const trust = TrustList.fromPem((workerData as { trustPem: string }).trustPem);

parentPort!.on('message', ({ id, xml }: { id: number; xml: string }) => {
  try {
    parentPort!.postMessage({ id, result: verifyXmlSignature(xml, trust) });
  } catch (err) {
    parentPort!.postMessage({ id, error: (err as Error).message });
  }
});
