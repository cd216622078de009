// The sockets kafkajs talks to brokers over: its own factory's, plus TCP_NODELAY.
// kafkajs leaves Nagle's algorithm on. A client writes several requests on one connection
// (produce, fetch, heartbeat, offset commit); with Nagle a small write waits until the previous
// one is acknowledged, and the broker's delayed ACK can hold that for up to 40 ms — a stall
// that lands in the tail of every hop's latency. Kafka's own Java client and the broker set
// TCP_NODELAY on every connection; so do we.
import net from 'node:net';
import tls from 'node:tls';
import type { ISocketFactory } from 'kafkajs';

const KEEP_ALIVE_DELAY_MS = 60_000; // as kafkajs's default factory

export const noDelaySocketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl
    ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
    : net.connect({ host, port }, onConnect);
  socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
  socket.setNoDelay(true);
  return socket;
};
