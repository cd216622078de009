// Merkle tree over record values, RFC 6962 style: leaves and inner nodes are hashed with
// distinct prefixes so a leaf can never be passed off as an inner node (second-preimage
// attack). One signature over the root covers a whole produced batch; each record carries
// the sibling path that proves it belongs to that root (X-Road's batch signatures).
import { createHash } from 'node:crypto';

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

/** A string is hashed as its UTF-8 bytes, the bytes Kafka stores for it: no copy needed first. */
export function leafHash(value: Buffer | string): Buffer {
  return createHash('sha256').update(LEAF).update(value).digest();
}

function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest();
}

/** Root and, for each leaf, the sibling hashes from the leaf up to the root. */
export function buildTree(leaves: Buffer[]): { root: Buffer; paths: Buffer[][] } {
  if (leaves.length === 0) throw new Error('empty Merkle tree');
  const paths: Buffer[][] = leaves.map(() => []);
  // positions[i] = index of leaf i's ancestor in the current level
  const positions = leaves.map((_, i) => i);
  let level = leaves;
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      // An odd node out is promoted unchanged; it then has no sibling at this level.
      next.push(i + 1 < level.length ? nodeHash(level[i], level[i + 1]) : level[i]);
    }
    for (let leaf = 0; leaf < leaves.length; leaf++) {
      const pos = positions[leaf];
      const sibling = pos ^ 1;
      if (sibling < level.length) paths[leaf].push(level[sibling]);
      positions[leaf] = pos >> 1;
    }
    level = next;
  }
  return { root: level[0], paths };
}

/** Sibling hashes a leaf's path holds from (pos, levelSize) up to the root. */
function siblingsAbove(pos: number, levelSize: number): number {
  let n = 0;
  while (levelSize > 1) {
    if ((pos ^ 1) < levelSize) n++;
    pos >>= 1;
    levelSize = Math.ceil(levelSize / 2);
  }
  return n;
}

/**
 * Whether a leaf at `index` of a tree of `size` leaves belongs to `root`, given its sibling
 * path (recomputing the root from them), remembering proven nodes in `proven` (keyed by level and
 * position). Records of one produced batch share the upper part of their paths, so after the
 * first record of a batch each next one stops hashing where its path meets a proven node
 * instead of climbing to the root: a consumed batch costs about one hash per record.
 */
export function provenIncluded(root: Buffer, leaf: Buffer, index: number, size: number, path: readonly (Buffer | string)[], proven: Map<string, Buffer>): boolean {
  if (!Number.isInteger(index) || index < 0 || index >= size) return false;
  const climbed: [string, Buffer][] = [];
  let hash = leaf;
  let pos = index;
  let levelSize = size;
  let used = 0;
  for (let level = 0; levelSize > 1; level++) {
    const key = `${level}/${pos}`;
    const known = proven.get(key);
    // The tree has one node per position: a different hash there cannot lead to the root.
    if (known) return known.equals(hash) && used + siblingsAbove(pos, levelSize) === path.length && remember(proven, climbed);
    climbed.push([key, hash]);
    const sibling = pos ^ 1;
    if (sibling < levelSize) {
      const given = path[used++];
      if (given === undefined) return false;
      // Siblings may come as base64url text (a record's proof header): decoded only when used.
      const s = typeof given === 'string' ? Buffer.from(given, 'base64url') : given;
      hash = pos & 1 ? nodeHash(s, hash) : nodeHash(hash, s);
    }
    pos >>= 1;
    levelSize = Math.ceil(levelSize / 2);
  }
  return used === path.length && hash.equals(root) && remember(proven, climbed);
}

function remember(proven: Map<string, Buffer>, nodes: [string, Buffer][]): true {
  for (const [key, hash] of nodes) proven.set(key, hash);
  return true;
}
