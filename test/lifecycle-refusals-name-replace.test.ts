// A QLVB told why its status packet was refused is told every change that could come: after 06 a
// replacement by the sender is accepted like a revoke or an update (docs/qlvb-vendor-guide.md
// §6, "after 06 only a change by the sender"), and 15/16 answer a pending replacement too. The
// refusals named only "a revoke or update", so a vendor read that a replaced document could not
// be answered, or that a completed one could not be replaced.
import t from 'tap';
import { applyChange, applyStatus, INITIAL_STATE, type RecipientState } from '../services/document-exchange/status-lifecycle.js';

const state = (code: RecipientState['code']): RecipientState => ({ ...INITIAL_STATE, code });

t.test('the refusals after 06 and of an unasked 15/16 name the replacement', async (t) => {
  t.match(applyChange(state('06'), 'replace'), { ok: true }, 'a completed document may be replaced');
  t.match(applyStatus(state('06'), '05'), { ok: false, reason: 'the document is completed (06); only a revoke, update or replace by the sender can follow' });
  for (const code of ['15', '16']) {
    t.match(applyStatus(state('04'), code), { ok: false, reason: `${code} answers a revoke, update or replace, and none is pending for this document` });
  }
  const replacing = applyChange(state('04'), 'replace');
  t.match(replacing, { ok: true });
  if (replacing.ok) t.match(applyStatus(replacing.state, '15'), { ok: true, recorded: '15' }, 'which 15 answers');
});
