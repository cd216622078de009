// What waking a process costs on this machine, apart from any work: CPU per tick of an empty
// timer and per loopback round trip (both ends in this process). On the product's 2-vCPU VM
// kind an empty tick read 0.18 ms and a round trip 0.37 ms (2026-12-02) — ten to twenty times a
// bare-metal figure, and the reason every request, fetch, statement and delivery costs the bus
// far more per message at moderate rates (one of each per message) than at full load (one per
// batch). Run: `npm run build && node dist/test/bench/wakeup-cost.js`.
import net from 'node:net';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

async function timerTicks(periodMs: number, measureMs: number): Promise<number> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, periodMs);
  await sleep(1000);
  const [before, ticksBefore] = [cpuMs(), ticks];
  await sleep(measureMs);
  clearInterval(timer);
  return (cpuMs() - before) / Math.max(1, ticks - ticksBefore);
}

async function loopbackRoundTrips(periodMs: number, measureMs: number): Promise<number> {
  const server = net.createServer((socket) => socket.on('data', (data) => socket.write(data)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let answers = 0;
  socket.on('data', () => answers++);
  const payload = Buffer.alloc(200, 1);
  const timer = setInterval(() => socket.write(payload), periodMs);
  await sleep(1000);
  const [before, answersBefore] = [cpuMs(), answers];
  await sleep(measureMs);
  clearInterval(timer);
  const perRoundTrip = (cpuMs() - before) / Math.max(1, answers - answersBefore);
  socket.destroy();
  server.close();
  return perRoundTrip;
}

const tick = await timerTicks(5, 5000);
const roundTrip = await loopbackRoundTrips(5, 5000);
console.log(`empty timer tick every 5 ms: ${tick.toFixed(3)} ms CPU per tick`);
console.log(`loopback round trip every 5 ms (both ends here): ${roundTrip.toFixed(3)} ms CPU per round trip`);
