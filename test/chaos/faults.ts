// The faults of the proof. Each one injects its failure under the steady load, keeps it for its
// window, lifts it, and says when it was lifted (recovery is measured from there). What the
// window is and what "lifted" means is written next to each, since the recovery figures depend
// on it.
import { BusClient } from '../../services/platform/bus-client.js';
import type { ChaosStack } from './chaos-stack.js';
import { sleep } from './chaos-stack.js';
import type { ChaosReceiver } from './receiver.js';
import type { SteadyLoad } from './steady-load.js';
import { mapLimit } from './accounting.js';

export interface FaultContext {
  stack: ChaosStack;
  receiver: ChaosReceiver;
  load: SteadyLoad;
  operator: BusClient;
  quick: boolean;
  log: (line: string) => void;
}

/** Dossiers the portal fault sent: message id → dossier code, accounted at the portal. */
export interface PortalDossiers {
  portalUrl: string;
  byMessage: Map<string, string>;
}

export interface FaultOutcome {
  injectedAt: number;
  /** When the failure was lifted: recovery times count from here. */
  liftedAt: number;
  /** Ids the fault submitted itself (outside the steady load), accounted like the others. */
  extraIds?: string[];
  /** Ids that must end delivered, not dead-lettered (e.g. replayed dead letters). */
  mustDeliver?: string[];
  /** Every message of the phase must end delivered: none may be dead-lettered (an outage within the retry budget). */
  allMustDeliver?: boolean;
  /** Messages whose receipt is the mock portal's record, not the chaos receiver. */
  portal?: PortalDossiers;
  notes: Record<string, unknown>;
}

export interface Fault {
  name: string;
  what: string;
  run(ctx: FaultContext): Promise<FaultOutcome>;
}

const window = (ctx: FaultContext, full: number, quick: number) => (ctx.quick ? quick : full);

const brokerKill: Fault = {
  name: 'broker-kill',
  what: 'kill -9 one of the 3 brokers, restart it on its data after the window',
  async run(ctx) {
    if (!ctx.stack.kafka) throw new Error('broker-kill needs the stack\'s own 3-broker cluster');
    const injectedAt = Date.now();
    const pid = await ctx.stack.killBroker(1);
    ctx.log(`  broker node 2 (pid ${pid}) killed with SIGKILL`);
    await sleep(window(ctx, 15_000, 5_000));
    await ctx.stack.restartBroker(1);
    return { injectedAt, liftedAt: Date.now(), notes: { pid, downMs: Date.now() - injectedAt } };
  },
};

const runnerKill: Fault = {
  name: 'runner-kill',
  what: 'kill -9 a runner while deliveries are in flight; the supervisor restarts it',
  async run(ctx) {
    // Mid-batch: wait until the receiver is handling deliveries right now.
    const deadline = Date.now() + 10_000;
    while (ctx.receiver.inFlight === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    const inFlightAtKill = ctx.receiver.inFlight;
    const injectedAt = Date.now();
    const pid = ctx.stack.signal('runner-1', 'SIGKILL');
    ctx.log(`  runner-1 (pid ${pid}) killed with SIGKILL, ${inFlightAtKill} deliveries in flight at the receiver`);
    await sleep(1000);
    await ctx.stack.waitHealthy('runner-1');
    return { injectedAt, liftedAt: Date.now(), notes: { pid, inFlightAtKill, newPid: ctx.stack.service('runner-1').child.pid } };
  },
};

const gatewayRestart: Fault = {
  name: 'gateway-restart',
  what: 'restart one of the two gateways (SIGTERM, the supervisor starts it again)',
  async run(ctx) {
    const injectedAt = Date.now();
    const pid = ctx.stack.signal('gateway-2', 'SIGTERM');
    ctx.log(`  gateway-2 (pid ${pid}) stopped with SIGTERM`);
    await sleep(1000);
    await ctx.stack.waitHealthy('gateway-2', '/readyz');
    return { injectedAt, liftedAt: Date.now(), notes: { pid } };
  },
};

/** Dead letters the proof makes on purpose: the receiver refuses this prefix with a 422. */
const DLQ_PREFIX = 'DLQ';

async function deadLetterIds(ctx: FaultContext, count: number): Promise<string[]> {
  ctx.receiver.refusePrefix = DLQ_PREFIX;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = await ctx.load.sendOne(i, `${DLQ_PREFIX}-${Date.now().toString(36)}-${i}`);
    if (id) ids.push(id);
  }
  // Wait until each is dead-lettered (a 4xx is a permanent refusal: no retries).
  const deadline = Date.now() + 60_000;
  let waiting = ids;
  while (waiting.length > 0 && Date.now() < deadline) {
    const states = await mapLimit(waiting, 8, async (id) => ((await ctx.operator.status(id).catch(() => null))?.body as { status?: string } | undefined)?.status);
    waiting = waiting.filter((_, i) => states[i] !== 'dead_lettered');
    if (waiting.length > 0) await sleep(500);
  }
  if (waiting.length > 0) throw new Error(`${waiting.length} refused messages not dead-lettered within 60 s`);
  return ids;
}

async function replayThroughConsole(ctx: FaultContext, ids: string[]): Promise<number> {
  const consoleUrl = ctx.stack.url('console');
  const token = await ctx.operator.accessToken();
  const headers = { authorization: `Bearer ${token}` };
  let replayed = 0;
  for (const messageId of ids) {
    // The console indexes dead letters from the bus; after a restart it may need a moment.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const list = await fetch(`${consoleUrl}/v1/console/dead-letters?messageId=${messageId}`, { headers }).then((r) => r.json() as Promise<{ items?: { id: number; replayedAt: string | null }[] }>).catch(() => ({ items: [] }));
      const dl = (list.items ?? []).find((d) => !d.replayedAt);
      if (dl) {
        const r = await fetch(`${consoleUrl}/v1/console/dead-letters/${dl.id}/replay`, { method: 'POST', headers });
        if (r.status === 202) {
          replayed++;
          break;
        }
      }
      if (Date.now() > deadline) throw new Error(`dead letter of ${messageId} could not be replayed through the console`);
      await sleep(1000);
    }
  }
  return replayed;
}

const stackRestart: Fault = {
  name: 'stack-restart',
  what: 'stop and start the whole stack (brokers, PostgreSQL, every service) with deliveries pending and dead letters waiting; then replay the dead letters through the console',
  async run(ctx) {
    const dlqIds = await deadLetterIds(ctx, ctx.quick ? 5 : 20);
    ctx.log(`  ${dlqIds.length} messages refused by the receiver and dead-lettered`);
    // Pending deliveries: the receiver goes away for a moment, so retries are parked and new
    // messages queue up when the stack stops.
    await ctx.receiver.down();
    await sleep(3000);
    const pendingAtStop = ctx.load.accepted.filter((a) => !ctx.receiver.receipts.has(a.id)).length;
    const injectedAt = Date.now();
    ctx.log(`  stopping the whole stack with ${pendingAtStop} accepted messages not yet delivered`);
    await ctx.stack.stop();
    await ctx.receiver.up();
    ctx.receiver.refusePrefix = null;
    await sleep(window(ctx, 5_000, 2_000));
    await ctx.stack.start();
    const liftedAt = Date.now();
    ctx.log(`  stack started again in ${Math.round((liftedAt - injectedAt) / 1000)} s; replaying the dead letters through the console`);
    const replayed = await replayThroughConsole(ctx, dlqIds);
    return { injectedAt, liftedAt, extraIds: dlqIds, mustDeliver: dlqIds, notes: { pendingAtStop, deadLetters: dlqIds.length, replayed } };
  },
};

const auditStop: Fault = {
  name: 'audit-stop',
  what: 'stop the audit service (leader and standby) for the window, then start both again',
  async run(ctx) {
    const audits = [...ctx.stack.services.keys()].filter((n) => n.startsWith('audit-'));
    const injectedAt = Date.now();
    await Promise.all(audits.map((a) => ctx.stack.hold(a)));
    ctx.log(`  ${audits.join(', ')} stopped`);
    await sleep(window(ctx, 30_000, 10_000));
    await Promise.all(audits.map((a) => ctx.stack.release(a)));
    return { injectedAt, liftedAt: Date.now(), notes: { stopped: audits } };
  },
};

const postgresStop: Fault = {
  name: 'postgres-stop',
  what: 'stop PostgreSQL for 10 s, then start it on the same port and data',
  async run(ctx) {
    const injectedAt = Date.now();
    await ctx.stack.postgres!.stopServer();
    ctx.log('  PostgreSQL stopped');
    await sleep(10_000);
    await ctx.stack.postgres!.startServer();
    return { injectedAt, liftedAt: Date.now(), notes: {} };
  },
};

const receiverDown: Fault = {
  name: 'receiver-down',
  what: 'the destination system down (port closed, connections cut) for the window; its retries held behind one probe, all delivered when it is back (the retry budget is 24 h)',
  async run(ctx) {
    const injectedAt = Date.now();
    await ctx.receiver.down();
    ctx.log('  receiver down');
    await sleep(window(ctx, 60_000, 20_000));
    await ctx.receiver.up();
    // An outage far shorter than the retry budget (24 h): nothing may be dead-lettered for it.
    return { injectedAt, liftedAt: Date.now(), allMustDeliver: true, notes: {} };
  },
};

const PORTAL_MEMBER = '000.00.00.G22';

function dossierSync(code: string): Record<string, unknown> {
  return {
    dossierCode: code,
    procedureCode: '1.001234',
    procedureName: 'Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam',
    sectorCode: 'LLTP',
    applicant: { name: 'Nguyễn Văn An', kind: 'citizen', idNumber: '049090001234' },
    summary: 'Đề nghị cấp Phiếu lý lịch tư pháp (kiểm thử sự cố)',
    receivedAt: '2026-01-15T08:30:00+07:00',
    dueAt: '2026-01-29T17:00:00+07:00',
    status: 'registered',
    documents: [{ id: 'TL-0001', name: 'Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp', componentCode: 'TP-LLTP-01' }],
  };
}

const portalErrors: Fault = {
  name: 'portal-errors',
  what: 'the mock DVCQG portal fails 30% of its calls (HTTP 500) for the window while dossiers are synced to it; retried until recorded once, or dead-lettered past the retry budget',
  async run(ctx) {
    const portalUrl = ctx.stack.url('mock-portal');
    const setFaults = async (body: unknown) => {
      const r = await fetch(`${portalUrl}/_admin/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (r.status !== 200) throw new Error(`portal faults refused: ${r.status}`);
    };
    const sender = new BusClient(ctx.stack.gatewayUrls[0], ctx.stack.clients.get('so-tp-motcua')!, ctx.stack.issuer);
    const byMessage = new Map<string, string>();
    const run = Date.now().toString(36).toUpperCase();
    let n = 0;
    const injectedAt = Date.now();
    await setFaults({ errorRate: 0.3, errorStatus: 500 });
    ctx.log('  portal failing 30% of calls');
    const until = injectedAt + window(ctx, 60_000, 20_000);
    while (Date.now() < until) {
      const code = `000.00.15.H49-CHAOS${run}-${String(++n).padStart(4, '0')}`;
      const r = await sender.send({ type: 'dossier.sync', to: { member: PORTAL_MEMBER, service: 'dvcqg-dossier' }, correlationId: code, payload: dossierSync(code) }).catch(() => null);
      if (r?.status === 202) byMessage.set((r.body as { id: string }).id, code);
      await sleep(250);
    }
    await setFaults({});
    return { injectedAt, liftedAt: Date.now(), extraIds: [...byMessage.keys()], portal: { portalUrl, byMessage }, notes: { dossiersSent: n, dossiersAccepted: byMessage.size } };
  },
};

export const FAULTS: Fault[] = [brokerKill, runnerKill, gatewayRestart, stackRestart, auditStop, postgresStop, receiverDown, portalErrors];
