// Where a read model reads on from when its partitions are assigned (restore-catch-up.ts): back
// to the database's offset only where the database is behind the group (restored from an older
// dump; a partition without a row, once the group has rows, is one nothing of was applied before
// the dump), never before the start of the log; the group's offset where the database is level or
// ahead (a periodic commit not yet made) or the group has none. (A group without any row keeps its
// offsets and stores them: the restore test sees that.)
import t from 'tap';
import { catchUpsFor } from '../services/platform/restore-catch-up.js';
import { batchOffsets, mergeOffsets } from '../services/platform/read-model-offsets.js';

const k = (topic: string, partition: number) => `${topic}\u0000${partition}`;

t.test('only a partition the database is behind on is read again, from the database\'s offset', async (t) => {
  const assigned = { events: [0, 1, 2, 3, 4], inbox: [0] };
  const stored = [
    { topic: 'events', partition: 0, nextOffset: '40' }, // behind the group: restored
    { topic: 'events', partition: 1, nextOffset: '75' }, // level
    { topic: 'events', partition: 2, nextOffset: '90' }, // ahead: a commit not made before a stop
    // partition 3: no row (nothing of it applied when the dump was taken)
    { topic: 'events', partition: 4, nextOffset: '10' }, // the group has no offset
    { topic: 'inbox', partition: 0, nextOffset: '5' }, // level
    { topic: 'inbox', partition: 7, nextOffset: '0' }, // not assigned to this member
  ];
  const committed = new Map([
    [k('events', 0), '100'],
    [k('events', 1), '75'],
    [k('events', 2), '80'],
    [k('events', 3), '60'],
    [k('events', 4), '-1'],
    [k('inbox', 0), '5'],
    [k('inbox', 7), '9'],
  ]);
  t.same(catchUpsFor(assigned, stored, committed), [
    { topic: 'events', partition: 0, from: '40', committed: '100', records: 60, lostToRetention: 0 },
    { topic: 'events', partition: 3, from: '0', committed: '60', records: 60, lostToRetention: 0 },
  ]);
});

t.test('never before the start of the log: what retention deleted is counted as lost', async (t) => {
  const assigned = { events: [0, 1] };
  const stored = [
    { topic: 'events', partition: 0, nextOffset: '40' },
    { topic: 'events', partition: 1, nextOffset: '40' },
  ];
  const committed = new Map([
    [k('events', 0), '100'],
    [k('events', 1), '100'],
  ]);
  const logStart = new Map([
    [k('events', 0), '55'],
    [k('events', 1), '100'], // everything the database lacks is gone: nothing to read again
  ]);
  t.same(catchUpsFor(assigned, stored, committed, logStart), [{ topic: 'events', partition: 0, from: '55', committed: '100', records: 45, lostToRetention: 15 }]);
});

t.test('a batch stores the offset after its last record; batches written together keep each partition\'s furthest', async (t) => {
  t.same(batchOffsets([]), []);
  t.same(batchOffsets([{ topic: 'events', partition: 3, offset: '7' }, { topic: 'events', partition: 3, offset: '9' }]), [{ topic: 'events', partition: 3, nextOffset: '10' }]);
  t.same(
    mergeOffsets([
      { topic: 'events', partition: 0, nextOffset: '10' },
      { topic: 'inbox', partition: 0, nextOffset: '4' },
      { topic: 'events', partition: 0, nextOffset: '25' },
      { topic: 'events', partition: 1, nextOffset: '3' },
    ]),
    [
      { topic: 'events', partition: 0, nextOffset: '25' },
      { topic: 'inbox', partition: 0, nextOffset: '4' },
      { topic: 'events', partition: 1, nextOffset: '3' },
    ],
  );
});
