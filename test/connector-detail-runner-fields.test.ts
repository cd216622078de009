// A connector's returned detail naming the runner's own fields (connector, attempt, acceptedAt):
// they are the runner's facts about the attempt, which the console's read model takes the
// acceptance time from. The connector's detail overrode them; the runner's now win.
import t from 'tap';
import { SDK, startInlineConnector } from './helpers/inline-connector.js';

const SOURCE = `import { defineConnector } from '${SDK}';
export default defineConnector({
  name: 'detail-fields',
  async handle() {
    return { detail: { receipt: 'R-9', connector: 'somebody-else', attempt: 99, acceptedAt: 'yesterday' } };
  },
});
`;

t.test("a connector's detail cannot override the runner's fields of the delivered event", async (t) => {
  const { send, final } = await startInlineConnector(t, 'detail-fields', SOURCE);
  const view = await final(await send('ok'));
  const delivered = view.events.find((e) => e.event === 'delivered')!;
  t.match(delivered.detail, { receipt: 'R-9', connector: 'detail-fields', attempt: 1 });
  t.ok(Number.isFinite(Date.parse(delivered.detail.acceptedAt as string)), 'acceptedAt is the acceptance time');
});
