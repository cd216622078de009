// Merkle tree over record values, RFC 6962 style: leaves and inner nodes are hashed with
// distinct prefixes so a leaf can never be passed off as an inner node (second-preimage
// attack). One signature over the root covers a whole produced batch; each record carries
// the sibling path that proves it belongs to that root (X-Road's batch signatures).
import { createHash } from 'node:crypto';

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

export function leafHash(value: Buffer): Buffer {
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

/** Recomputes the root from a leaf, its index, the batch size and its sibling path. */
export function rootFromPath(leaf: Buffer, index: number, size: number, path: Buffer[]): Buffer | null {
  if (!Number.isInteger(index) || index < 0 || index >= size) return null;
  let hash = leaf;
  let pos = index;
  let levelSize = size;
  let used = 0;
  while (levelSize > 1) {
    const sibling = pos ^ 1;
    if (sibling < levelSize) {
      const s = path[used++];
      if (!s) return null;
      hash = pos & 1 ? nodeHash(s, hash) : nodeHash(hash, s);
    }
    pos >>= 1;
    levelSize = Math.ceil(levelSize / 2);
  }
  return used === path.length ? hash : null;
}
