/**
 * Measuring one cell (a contender, a workload, a number of clients): a fixed
 * duration after a warm-up, every transaction's latency, the client's CPU per
 * transaction and the server's.
 */
import fs from 'node:fs';

export interface Sample {
  /** Transactions that started after the warm-up. */
  transactions: number;
  errors: number;
  /** Seconds from the end of the warm-up to the last of those transactions. */
  seconds: number;
  /** Latencies in milliseconds of those transactions. */
  latencies: Float64Array;
  /** Client CPU (user + system), microseconds. */
  clientCpuUs: number;
  /** Transactions the CPU figures cover (pgbench's include its warm-up). */
  cpuTransactions: number;
  /** Server CPU of the run, microseconds (undefined when the server is not on this machine). */
  serverCpuUs: number | undefined;
  firstError?: string;
}

/**
 * CPU of a local PostgreSQL: the postmaster, its live children (backends,
 * background processes) and its children that have exited (cutime/cstime),
 * from /proc. Undefined when the server runs elsewhere.
 */
export class ServerCpu {
  private constructor(private readonly postmaster: number) {}

  static async find(backendPid: number): Promise<ServerCpu | undefined> {
    try {
      const ppid = Number(fs.readFileSync(`/proc/${backendPid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      return Number.isFinite(ppid) && ppid > 1 ? new ServerCpu(ppid) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Microseconds of CPU so far. */
  read(): number {
    const tick = 1e6 / 100; // USER_HZ is 100 on Linux
    let ticks = 0;
    const fields = (pid: string) => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // Fields after the command: state ppid ... utime(12) stime(13) cutime(14) cstime(15), counted from state = 1.
    const own = fields(String(this.postmaster));
    ticks += Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
    for (const pid of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const f = fields(pid);
        if (Number(f[1]) === this.postmaster) ticks += Number(f[11]) + Number(f[12]);
      } catch {
        // exited meanwhile: counted in the postmaster's cutime once reaped
      }
    }
    return ticks * tick;
  }
}

/** Runs `clients` loops of fn for warmMs + measureMs and measures what ran after the warm-up. */
export async function driveNode(
  fn: (i: number) => Promise<unknown>,
  options: { clients: number; warmMs: number; measureMs: number; server: ServerCpu | undefined },
): Promise<Sample> {
  const start = performance.now();
  const warmEnd = start + options.warmMs;
  const end = warmEnd + options.measureMs;
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let counter = 0;
  let lastFinish = warmEnd;
  let cpuAtWarmEnd: NodeJS.CpuUsage | undefined;
  let serverAtWarmEnd: number | undefined;
  const timer = setTimeout(() => {
    cpuAtWarmEnd = process.cpuUsage();
    serverAtWarmEnd = options.server?.read();
  }, options.warmMs);
  const loop = async () => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= end) return;
      try {
        await fn(counter++);
      } catch (error) {
        if (t0 >= warmEnd) errors++;
        firstError ??= String((error as Error)?.message ?? error);
      }
      const t1 = performance.now();
      if (t0 >= warmEnd) {
        latencies.push(t1 - t0);
        lastFinish = Math.max(lastFinish, t1);
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, loop));
  clearTimeout(timer);
  const cpu = process.cpuUsage(cpuAtWarmEnd);
  const serverNow = options.server?.read();
  return {
    transactions: latencies.length,
    errors,
    seconds: (lastFinish - warmEnd) / 1000,
    latencies: Float64Array.from(latencies),
    clientCpuUs: cpuAtWarmEnd ? cpu.user + cpu.system : NaN,
    cpuTransactions: latencies.length,
    serverCpuUs: serverNow !== undefined && serverAtWarmEnd !== undefined ? serverNow - serverAtWarmEnd : undefined,
    ...(firstError !== undefined ? { firstError } : {}),
  };
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
