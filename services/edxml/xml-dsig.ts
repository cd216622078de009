// XML-DSig on edXML packages: verifying what QLVB systems sign, and signing (for the dev
// example, the simulators and tests). Canonicalisation, transforms and digests are xml-crypto's
// (a maintained implementation); this file decides what a result means for the bus:
//   valid      the signature value and every reference digest check out, a reference covers the
//              whole package, and the signer's certificate chains to a CA on the trust list and
//              is within its validity period;
//   invalid    the package says it is signed but the signature or a digest does not check out
//              (a byte changed after signing), or it covers only part of the package;
//   untrusted  the signature checks out against the certificate it carries, but that
//              certificate does not chain to a trusted CA (or is expired); or it carries no
//              certificate. Its digests are still checked, so a package changed by accident or
//              naively is invalid — but anyone can recompute a digest: only `valid` (a policy
//              refusing `untrusted` too) shows who signed and that nothing changed since;
//   unsigned   no XML-DSig Signature at all.
// Callers pass XML that safe-xml.ts has already accepted (no DTD, bounded size and depth):
// xmldom parses it again here only because xml-crypto works on a DOM.
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DOMParser } from '@xmldom/xmldom';
import xpath from 'xpath';
import { SignedXml } from 'xml-crypto';
import { XMLDSIG_NS } from './edxml-fields.js';

export const SIGNATURE_RESULTS = ['valid', 'invalid', 'untrusted', 'unsigned'] as const;
export type SignatureResult = (typeof SIGNATURE_RESULTS)[number];

export interface SignatureVerification {
  result: SignatureResult;
  /** The signing certificate's subject (one line, RFC 4514-like order as OpenSSL prints it). */
  signer?: string;
  issuer?: string;
  serialNumber?: string;
  /** Why the result is not `valid` (never personal data beyond the certificate subject). */
  reason?: string;
  /**
   * Algorithms the signature uses that are no longer fit for signatures (SHA-1: NIST SP
   * 800-131A; JDK 17+ refuses to check them by default), for a signature that checks out. The
   * bus still takes it — QLVB systems in service sign so — but a receiver learns why its own
   * library may refuse the package, and the sender what to change.
   */
  weakAlgorithms?: string[];
  checkedAt: string;
}

/** SHA-1 signature and digest methods xml-crypto checks (the ones the bus takes). */
const WEAK_ALGORITHMS = new Set(['http://www.w3.org/2000/09/xmldsig#rsa-sha1', 'http://www.w3.org/2000/09/xmldsig#sha1']);

/** The weak algorithms among the signature's SignatureMethod and DigestMethods, each once. */
function weakAlgorithmsOf(signature: Node): string[] {
  const used = (select('./ds:SignedInfo/ds:SignatureMethod/@Algorithm | ./ds:SignedInfo/ds:Reference/ds:DigestMethod/@Algorithm', signature) as Attr[]).map((a) => a.value);
  return [...new Set(used.filter((uri) => WEAK_ALGORITHMS.has(uri)))];
}

/** The CA certificates a deployment trusts for document signatures. */
export class TrustList {
  constructor(readonly authorities: X509Certificate[]) {}

  static fromPem(pem: string): TrustList {
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    return new TrustList(blocks.map((b) => new X509Certificate(b)));
  }

  /** Reads PEM bundles (one or more certificates each); a missing or empty file is an error. */
  static load(files: string[]): TrustList {
    const authorities: X509Certificate[] = [];
    for (const file of files) {
      const list = TrustList.fromPem(readFileSync(file, 'utf8'));
      if (list.authorities.length === 0) throw new Error(`${file} holds no PEM certificate`);
      authorities.push(...list.authorities);
    }
    return new TrustList(authorities);
  }
}

const oneLine = (name: string) => name.split('\n').filter(Boolean).join(', ');
const ns = { ds: XMLDSIG_NS };
const select = xpath.useNamespaces(ns);

function parse(xml: string): Document {
  const errors: string[] = [];
  const doc = new DOMParser({ errorHandler: { warning: () => undefined, error: (m: string) => errors.push(m), fatalError: (m: string) => errors.push(m) } }).parseFromString(xml, 'text/xml');
  if (errors.length > 0 || !doc.documentElement) throw new Error(`not well-formed: ${errors[0] ?? 'no document element'}`);
  return doc as unknown as Document;
}

function certificatesIn(signature: Node): X509Certificate[] {
  return (select('.//ds:KeyInfo//ds:X509Certificate', signature) as Node[]).flatMap((n) => {
    const der = (n.textContent ?? '').replace(/\s+/g, '');
    try {
      return [new X509Certificate(Buffer.from(der, 'base64'))];
    } catch {
      return [];
    }
  });
}

/** Does a Reference cover the whole document (URI="" or the document element's Id)? */
function coversWholeDocument(doc: Document, signature: Node): boolean {
  const root = doc.documentElement;
  return (select('./ds:SignedInfo/ds:Reference', signature) as Element[]).some((ref) => {
    if (!ref.hasAttribute('URI') || ref.getAttribute('URI') === '') return true;
    const uri = ref.getAttribute('URI')!;
    if (!uri.startsWith('#')) return false;
    const id = uri.slice(1);
    return ['Id', 'ID', 'id'].some((attr) => root.getAttribute(attr) === id);
  });
}

function chainsToTrust(leaf: X509Certificate, carried: X509Certificate[], trust: TrustList, now: Date): string | null {
  const within = (c: X509Certificate) => new Date(c.validFrom) <= now && now <= new Date(c.validTo);
  if (!within(leaf)) return `the signing certificate is not valid now (valid ${leaf.validFrom} to ${leaf.validTo})`;
  let current = leaf;
  for (let depth = 0; depth < 6; depth++) {
    if (trust.authorities.some((ca) => ca.fingerprint256 === current.fingerprint256 && within(ca))) return null;
    const issuer = trust.authorities.find((ca) => within(ca) && current.checkIssued(ca) && current.verify(ca.publicKey));
    if (issuer) return null;
    const intermediate = carried.find((c) => c !== current && c.ca && within(c) && current.checkIssued(c) && current.verify(c.publicKey));
    if (!intermediate) break;
    current = intermediate;
  }
  return trust.authorities.length === 0 ? 'no trusted CA is configured for document signatures' : `the signing certificate (issuer ${oneLine(current.issuer)}) does not chain to a trusted CA`;
}

/** A public key that signed nothing, made once on the first package without a certificate (one key generation, ~50 ms). */
let placeholderKey: string | undefined;

/**
 * Why the signature's reference digests do not match the package, or null when they do,
 * checked without the signer's key: xml-crypto checks every reference before the signature
 * value, so against a key that signed nothing, a package whose references hold fails only at
 * the signature value ("invalid signature").
 */
function referencesBroken(signature: Node, xml: string): string | null {
  placeholderKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const verifier = new SignedXml({ publicCert: placeholderKey });
  try {
    verifier.loadSignature(signature);
    if (!verifier.checkSignature(xml)) return 'a reference digest does not match: the package changed after it was signed';
    return null;
  } catch (err) {
    const message = (err as Error).message;
    return /invalid signature/i.test(message) ? null : `the signature cannot be checked: ${message.slice(0, 200)}`;
  }
}

/** Verifies the package's XML-DSig signature over the exact bytes received. */
export function verifyXmlSignature(xml: string, trust: TrustList, now = new Date()): SignatureVerification {
  const checkedAt = now.toISOString();
  let doc: Document;
  try {
    doc = parse(xml);
  } catch (err) {
    return { result: 'invalid', reason: (err as Error).message, checkedAt };
  }
  const signatures = select('//ds:Signature', doc) as Node[];
  if (signatures.length === 0) return { result: 'unsigned', checkedAt };
  if (signatures.length > 1) return { result: 'invalid', reason: 'more than one XML-DSig Signature', checkedAt };
  const [signature] = signatures;
  const certificates = certificatesIn(signature);
  const leaf = certificates.find((c) => !c.ca) ?? certificates[0];
  if (!leaf) {
    // Who signed cannot be checked, but whether the digests still match can: a package changed
    // after signing without recomputing them is invalid, not merely untrusted. (Recomputed
    // digests pass: without a certificate nothing proves who signed, hence untrusted.)
    const changed = referencesBroken(signature, xml);
    if (changed) return { result: 'invalid', reason: changed, checkedAt };
    if (!coversWholeDocument(doc, signature)) return { result: 'invalid', reason: 'the signature covers only part of the package (no Reference with URI="")', checkedAt };
    return { result: 'untrusted', reason: 'the signature carries no X509Certificate in KeyInfo, so its signer cannot be checked', checkedAt };
  }
  const who = { signer: oneLine(leaf.subject), issuer: oneLine(leaf.issuer), serialNumber: leaf.serialNumber };
  const verifier = new SignedXml({ publicCert: leaf.toString() });
  try {
    verifier.loadSignature(signature);
    if (!verifier.checkSignature(xml)) return { result: 'invalid', ...who, reason: 'a reference digest does not match: the package changed after it was signed', checkedAt };
  } catch (err) {
    const message = (err as Error).message;
    return { result: 'invalid', ...who, reason: /invalid signature/i.test(message) ? 'the signature value does not match the signed information' : `the signature cannot be checked: ${message.slice(0, 200)}`, checkedAt };
  }
  if (!coversWholeDocument(doc, signature)) return { result: 'invalid', ...who, reason: 'the signature covers only part of the package (no Reference with URI="")', checkedAt };
  const weak = weakAlgorithmsOf(signature);
  const weakness = weak.length > 0 ? { weakAlgorithms: weak } : {};
  const distrust = chainsToTrust(leaf, certificates, trust, now);
  if (distrust) return { result: 'untrusted', ...who, reason: distrust, ...weakness, checkedAt };
  return { result: 'valid', ...who, ...weakness, checkedAt };
}

export interface SigningKey {
  /** PEM private key (RSA). */
  privateKey: string;
  /** PEM certificate of that key, carried in KeyInfo. */
  certificate: string;
}

/** The signature and digest methods signEdxml uses: RSA-SHA256 and SHA-256 unless a test asks for others (SHA-1, as older QLVB products sign). */
export interface SigningAlgorithms {
  signature: string;
  digest: string;
}

/**
 * Signs an edXML package the way QLVB systems do: one enveloped signature over the whole
 * document (Reference URI=""), exclusive canonicalisation, RSA-SHA256, the certificate in
 * KeyInfo, placed in edXMLHeader (in place of the SDK's empty DigitalSignature placeholder).
 */
export function signEdxml(
  xml: string,
  key: SigningKey,
  algorithms: SigningAlgorithms = { signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', digest: 'http://www.w3.org/2001/04/xmlenc#sha256' },
): string {
  const placeholder = /<(?:[A-Za-z_][\w.-]*:)?DigitalSignature\s*\/>/;
  const unsigned = xml.replace(placeholder, '');
  const signer = new SignedXml({
    privateKey: key.privateKey,
    publicCert: key.certificate,
    signatureAlgorithm: algorithms.signature,
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  signer.addReference({
    xpath: '/*',
    isEmptyUri: true,
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: algorithms.digest,
  });
  signer.computeSignature(unsigned, { location: { reference: "//*[local-name(.)='edXMLHeader']", action: 'append' } });
  return signer.getSignedXml();
}
