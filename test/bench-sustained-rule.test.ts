// The bench's rule for "sustained" (test/bench/sustained-rule.ts): a relay that keeps up while
// committing once a second passes; a backlog that grows, messages not delivered, a rate not
// kept or a slow drain each fail it, with the reason named.
import t from 'tap';
import { nextSustainedRate, sustainedRateFound, sustainedVerdict, type SustainedPhase } from './bench/sustained-rule.js';

const keptUp: SustainedPhase = {
  rate: 1052, acceptedPerSecond: 1051, ok2xx: 73_640, completed: 73_640, errors: 0,
  accepted: 73_640, delivered: 73_640, drainMs: 1,
  // The 2026-12-04 21:03 run's samples at 1,052/s: one commit interval's records uncommitted.
  relayLagSamples: [151, 160, 140, 120, 1120, 1132, 1130, 1125, 1132, 1131, 1129, 1132],
  commitIntervalMs: 1000,
};

t.test('a relay that keeps up, read through once-a-second commits, is sustained', async (t) => {
  t.same(sustainedVerdict(keptUp), { sustained: true, reasons: [] });
});

t.test('without the commit interval in the rule, the same samples would read as a backlog', async (t) => {
  const verdict = sustainedVerdict({ ...keptUp, commitIntervalMs: 0 });
  t.equal(verdict.sustained, false);
  t.match(verdict.reasons.join(), /relay lag grew from 160 to 1132/);
});

t.test('a backlog that grows through the phase is not sustained', async (t) => {
  const verdict = sustainedVerdict({ ...keptUp, relayLagSamples: [100, 900, 2_000, 3_500, 5_000, 7_000], drainMs: 6_500 });
  t.equal(verdict.sustained, false);
  t.match(verdict.reasons.join('; '), /relay lag grew from 900 to 7000.*drained 6500 ms/);
});

t.test('messages accepted and not delivered, errors, or a rate not kept are each named', async (t) => {
  t.match(sustainedVerdict({ ...keptUp, delivered: 73_600 }).reasons.join(), /40 of 73640 accepted not delivered/);
  t.match(sustainedVerdict({ ...keptUp, ok2xx: 73_630 }).reasons.join(), /10 answers not 2xx/);
  t.match(sustainedVerdict({ ...keptUp, errors: 3 }).reasons.join(), /3 transport errors/);
  t.match(sustainedVerdict({ ...keptUp, acceptedPerSecond: 1000 }).reasons.join(), /accepted 1000\/s of 1052\/s offered/);
  t.equal(sustainedVerdict({ ...keptUp, drainMs: 5000 }).sustained, false);
});

t.test('the sustained search steps down, then offers the midpoint below the refused step once', async (t) => {
  t.equal(nextSustainedRate(2000, []), 1500, 'starts at 75% of max');
  t.equal(nextSustainedRate(2000, [{ rate: 1500, sustained: false }]), 1200);
  t.equal(nextSustainedRate(2000, [{ rate: 1500, sustained: false }, { rate: 1200, sustained: false }]), 900);
  const found = [{ rate: 1500, sustained: false }, { rate: 1200, sustained: false }, { rate: 900, sustained: true }];
  t.equal(nextSustainedRate(2000, found), 1050, 'midpoint of 900 (sustained) and 1,200 (refused)');
  t.equal(nextSustainedRate(2000, [...found, { rate: 1050, sustained: true }]), null, 'one refinement only');
  t.equal(nextSustainedRate(2000, [...found, { rate: 1050, sustained: false }]), null);
  t.equal(sustainedRateFound([...found, { rate: 1050, sustained: true }]), 1050, 'the refinement counts when sustained');
  t.equal(sustainedRateFound([...found, { rate: 1050, sustained: false }]), 900, 'else the step below stands');
  t.equal(nextSustainedRate(2000, [{ rate: 1500, sustained: true }]), 1750, 'a first step that holds: midpoint of it and the max accepted rate');
  t.equal(nextSustainedRate(2000, [{ rate: 1500, sustained: true }, { rate: 1750, sustained: true }]), null, 'one refinement above the first step too');
  t.equal(sustainedRateFound([{ rate: 1500, sustained: true }, { rate: 1750, sustained: false }]), 1500, 'a refused refinement leaves the first step');
  t.equal(nextSustainedRate(3, [{ rate: 2, sustained: true }]), null, 'no rate strictly between the first step and the max');
  const none = [1500, 1200, 900, 600, 400].map((rate) => ({ rate, sustained: false }));
  t.equal(nextSustainedRate(2000, none), null, 'gives up after the last step');
  t.equal(sustainedRateFound(none), null);
});
