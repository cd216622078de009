// A consumer that goes on fetching after its group dropped it is noticed and handed to its
// restart (group-membership-watch.ts): what kafkajs's own instrumentation events show of a
// member id lost in a failed rejoin (heartbeats skipped, Fetch requests answered). The events
// here are what kafkajs emits (names and payloads as in kafkajs 2.2.4); the clock is the test's.
// test/broker-outage.test.ts has a paused consumer through a real broker's outage: not lost.
import t, { type Test } from 'tap';
import { EventEmitter } from 'node:events';
import { watchGroupMembership } from '../services/platform/group-membership-watch.js';

const events = { HEARTBEAT: 'consumer.heartbeat', GROUP_JOIN: 'consumer.group_join', REQUEST: 'consumer.network.request' };

function watched(t: Test) {
  const emitter = Object.assign(new EventEmitter(), { events });
  let clock = 0;
  const lost: number[] = [];
  const stop = watchGroupMembership(emitter, { sessionTimeoutMs: 30_000, checkEveryMs: 5, now: () => clock, onLost: (ms) => lost.push(ms) });
  t.teardown(stop);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
  /** `seconds` of the consumer's life, one fetch (and heartbeat, when `heartbeats`) a second. */
  const live = async (seconds: number, { fetches = true, heartbeats = true } = {}) => {
    for (let i = 0; i < seconds; i++) {
      clock += 1000;
      if (fetches) emitter.emit(events.REQUEST, { payload: { apiName: 'Fetch' } });
      // Other requests answered (metadata, offset commits) say nothing of a fetch going on.
      emitter.emit(events.REQUEST, { payload: { apiName: 'Metadata' } });
      if (heartbeats) emitter.emit(events.HEARTBEAT);
      await settle();
    }
  };
  return { emitter, lost, live };
}

t.test('a member that heartbeats is never taken for lost', async (t) => {
  const { lost, live } = watched(t);
  await live(100);
  t.same(lost, []);
});

t.test('fetching on without a heartbeat for a whole session: lost, once, and again only a session after the restart', async (t) => {
  const { lost, live, emitter } = watched(t);
  await live(10);
  await live(29, { heartbeats: false });
  t.same(lost, [], 'within the session: not yet');
  await live(3, { heartbeats: false });
  t.equal(lost.length, 1, 'past it, while fetching: lost');
  t.ok(lost[0] > 30_000 && lost[0] <= 33_000, `silent ${lost[0]} ms`);
  await live(20, { heartbeats: false });
  t.equal(lost.length, 1, 'the restart has a session of its own to rejoin');
  emitter.emit(events.GROUP_JOIN);
  await live(60);
  t.equal(lost.length, 1, 'rejoined: heartbeating again');
});

t.test('a broker frozen longer than a session: its first Fetch answered comes before the heartbeat — not lost, kafkajs rejoins by itself', async (t) => {
  const { lost, live } = watched(t);
  await live(10);
  await live(40, { fetches: false, heartbeats: false });
  await live(2, { heartbeats: false });
  await live(30);
  t.same(lost, []);
});

t.test('a broker that is down, or every partition paused: no Fetch answered — not a lost member (kafkajs restarts that itself)', async (t) => {
  const { lost, live } = watched(t);
  await live(5);
  await live(120, { fetches: false, heartbeats: false });
  t.same(lost, []);
});
