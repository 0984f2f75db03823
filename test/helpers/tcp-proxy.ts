/**
 * A TCP proxy in front of the test server, to make the network fail on
 * purpose: a black hole (accepts connections, never answers), a proxy that
 * goes silent on demand, and one that cuts a connection at the moment its
 * client sends COMMIT (before or after the server has it). Every socket it
 * opens is destroyed by close().
 */
import net from 'node:net';
import { onCleanup } from './db.js';

export interface TcpProxy {
  /** The port on 127.0.0.1 it listens on. */
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  urlThrough(url: string): string;
  /** From now on nothing is forwarded either way on any connection, open or new; sockets stay open. */
  goSilent(): void;
  /** Forwards again (new data only; what was swallowed meanwhile is gone). */
  resume(): void;
  /**
   * The next time a client sends COMMIT, its connection is cut (both sockets
   * destroyed): 'before' the server receives it, or 'after' it was forwarded
   * (the server commits: its answer is swallowed and the connection cut, so
   * the client never hears). Resolves when it happened.
   */
  cutAtNextCommit(when: 'before' | 'after'): Promise<void>;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

/** A simple-query protocol message 'Q' carrying exactly `commit`, as pg sends it. */
const COMMIT_MESSAGE = (() => {
  const text = Buffer.from('commit\0');
  const header = Buffer.alloc(5);
  header.write('Q', 0);
  header.writeInt32BE(text.length + 4, 1);
  return Buffer.concat([header, text]);
})();

/**
 * A proxy to `target` (host:port), or, with `target` null, a black hole:
 * every connection is accepted and never answered.
 */
export async function startTcpProxy(target: { host: string; port: number } | null): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let silent = target === null;
  let cut: { when: 'before' | 'after'; done: () => void } | undefined;
  let accepted = 0;

  const server = net.createServer((client) => {
    accepted++;
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (target === null) return;
    const upstream = net.connect(target.port, target.host);
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => undefined);
    client.on('close', () => upstream.destroy());
    /** Set once COMMIT went through to be cut: the server's answer (sent once it committed) ends the connection instead. */
    let cutOnAnswer: (() => void) | undefined;
    const destroy = (done: () => void) => {
      client.destroy();
      upstream.destroy();
      done();
    };
    client.on('data', (chunk: Buffer) => {
      if (silent) return;
      if (cut && chunk.includes(COMMIT_MESSAGE)) {
        const { when, done } = cut;
        cut = undefined;
        if (when === 'after') {
          cutOnAnswer = () => destroy(done);
          upstream.write(chunk);
        } else {
          destroy(done);
        }
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (cutOnAnswer) cutOnAnswer();
      else if (!silent) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  const proxy: TcpProxy = {
    port,
    urlThrough(url) {
      const through = new URL(url);
      through.hostname = '127.0.0.1';
      through.port = String(port);
      return through.toString();
    },
    goSilent() {
      silent = true;
    },
    resume() {
      silent = target === null;
    },
    cutAtNextCommit(when) {
      return new Promise<void>((resolve) => {
        cut = { when, done: resolve };
      });
    },
    get accepted() {
      return accepted;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  onCleanup(() => proxy.close());
  return proxy;
}

/** Host and port of a connection string, for startTcpProxy. */
export function targetOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || 5432) };
}
