// Message and event ids: UUIDv7 from a pooled random buffer, still version 7, variant 10,
// unique, and in creation order within a process (the console pages by id on equal times).
import t from 'tap';
import { validate, version } from 'uuid';
import { uuidv7 } from '../services/platform/uuid7.js';

t.test('pooled UUIDv7 ids are valid, unique and ordered', async (t) => {
  const started = Date.now();
  // More than one pool refill (256 ids per refill) and many ids per millisecond.
  const ids = Array.from({ length: 5000 }, () => uuidv7());
  t.ok(ids.every((id) => validate(id) && version(id) === 7), 'valid version-7 UUIDs');
  t.ok(ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)), 'RFC 9562 variant bits');
  t.equal(new Set(ids).size, ids.length, 'unique');
  t.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]), 'each id sorts after the one before');
  const msecs = parseInt(ids[0].replace(/-/g, '').slice(0, 12), 16);
  t.ok(Math.abs(msecs - started) < 5000, 'the first 48 bits are the creation time in ms');
});
