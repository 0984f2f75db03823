/**
 * The results of a run: every figure per (workload, clients, contender), the
 * ratios of the library to pgbench, raw named node-postgres and Drizzle
 * (over the whole run, and per round to show the noise), and the targets of
 * the performance issue, each marked met or not. Written as JSON and as a
 * Markdown table.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FillParameters } from './fill.js';
import { percentile, type Sample } from './measure.js';

export interface CellResult {
  workload: string;
  kind: 'read' | 'write';
  clients: number;
  contender: string;
  samples: Sample[];
}

export interface RunInfo {
  date: string;
  durationSeconds: number;
  quick: boolean;
  rounds: number;
  warmupSeconds: number;
  measureSeconds: number;
  fill: FillParameters;
  machine: Record<string, unknown>;
  commit: string;
  note: string;
  workloads: { name: string; title: string; kind: string; statements: number }[];
}

export interface Figures {
  workload: string;
  kind: 'read' | 'write';
  clients: number;
  contender: string;
  transactions: number;
  errors: number;
  tps: number;
  /** tx/s of each round. */
  roundTps: number[];
  p50: number;
  p95: number;
  p99: number;
  clientCpuUsPerTx: number;
  serverCpuUsPerTx: number | null;
}

export interface Ratio {
  workload: string;
  kind: 'read' | 'write';
  clients: number;
  against: string;
  ratio: number;
  /** Lowest and highest ratio of a single round. */
  roundMin: number;
  roundMax: number;
}

export interface Results {
  figures: Figures[];
  ratios: Ratio[];
}

const round = (x: number, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

export function summarize(cells: CellResult[]): Results {
  const figures: Figures[] = cells.map((cell) => {
    const transactions = cell.samples.reduce((s, x) => s + x.transactions, 0);
    const seconds = cell.samples.reduce((s, x) => s + x.seconds, 0);
    const all = new Float64Array(transactions);
    let at = 0;
    for (const s of cell.samples) {
      all.set(s.latencies, at);
      at += s.latencies.length;
    }
    all.sort();
    const cpuTx = cell.samples.reduce((s, x) => s + x.cpuTransactions, 0);
    const cpu = cell.samples.reduce((s, x) => s + x.clientCpuUs, 0);
    const server = cell.samples.every((x) => x.serverCpuUs !== undefined) ? cell.samples.reduce((s, x) => s + x.serverCpuUs!, 0) : undefined;
    return {
      workload: cell.workload,
      kind: cell.kind,
      clients: cell.clients,
      contender: cell.contender,
      transactions,
      errors: cell.samples.reduce((s, x) => s + x.errors, 0),
      tps: round(transactions / seconds, 1),
      roundTps: cell.samples.map((s) => round(s.transactions / s.seconds, 1)),
      p50: round(percentile(all, 50)),
      p95: round(percentile(all, 95)),
      p99: round(percentile(all, 99)),
      clientCpuUsPerTx: round(cpu / cpuTx, 1),
      serverCpuUsPerTx: server === undefined ? null : round(server / transactions, 1),
    };
  });
  const ratios: Ratio[] = [];
  for (const lib of figures.filter((f) => f.contender === 'library')) {
    for (const against of ['pgbench', 'raw-named', 'raw-unnamed', 'drizzle', 'library-unnamed', 'raw-pipelined', 'raw-pipelined-prologue']) {
      const other = figures.find((f) => f.workload === lib.workload && f.clients === lib.clients && f.contender === against);
      if (!other) continue;
      const perRound = lib.roundTps.map((t, i) => t / other.roundTps[i]!).filter(Number.isFinite);
      ratios.push({
        workload: lib.workload,
        kind: lib.kind,
        clients: lib.clients,
        against,
        ratio: round(lib.tps / other.tps),
        roundMin: round(Math.min(...perRound)),
        roundMax: round(Math.max(...perRound)),
      });
    }
  }
  return { figures, ratios };
}

interface Target {
  what: string;
  met: boolean;
  where: string;
}

function targets(results: Results): Target[] {
  const out: Target[] = [];
  const ratio = (workload: string, clients: number, against: string) =>
    results.ratios.find((r) => r.workload === workload && r.clients === clients && r.against === against);
  const fig = (workload: string, clients: number, contender: string) =>
    results.figures.find((f) => f.workload === workload && f.clients === clients && f.contender === contender);
  const rawNamed = results.ratios.filter((r) => r.against === 'raw-named');
  if (rawNamed.length) {
    const worst = rawNamed.reduce((a, b) => (a.ratio < b.ratio ? a : b));
    out.push({ what: 'every workload >= 0.95x raw node-postgres, named (1 and 16 clients)', met: rawNamed.every((r) => r.ratio >= 0.95), where: `lowest ${worst.ratio}x (${worst.workload}, ${worst.clients} clients)` });
  }
  for (const [kind, bar] of [['read', 1.5], ['write', 1.2]] as const) {
    const vsDrizzle = results.ratios.filter((r) => r.against === 'drizzle' && r.kind === kind);
    if (!vsDrizzle.length) continue;
    const worst = vsDrizzle.reduce((a, b) => (a.ratio < b.ratio ? a : b));
    out.push({ what: `${kind}s >= ${bar}x Drizzle`, met: vsDrizzle.every((r) => r.ratio >= bar), where: `lowest ${worst.ratio}x (${worst.workload}, ${worst.clients} clients)` });
  }
  for (const workload of ['history-user', 'history-tool']) {
    const r = ratio(workload, 1, 'pgbench');
    if (r) out.push({ what: `serial ${workload} >= 0.85x pgbench`, met: r.ratio >= 0.85, where: `${r.ratio}x (rounds ${r.roundMin}-${r.roundMax})` });
  }
  const rebuild = fig('rebuild', 1, 'library');
  if (rebuild) out.push({ what: 'rebuild of the big conversation p50 < 30 ms (serial)', met: rebuild.p50 < 30, where: `p50 ${rebuild.p50} ms` });
  for (const workload of ['history-user', 'history-tool']) {
    const f = fig(workload, 1, 'library');
    if (f) out.push({ what: `${workload} p99 < 2 ms (serial)`, met: f.p99 < 2, where: `p99 ${f.p99} ms` });
  }
  return out;
}

const CONTENDER_TITLES: Record<string, string> = {
  pgbench: 'pgbench -M prepared',
  'raw-named': 'raw pg, named',
  'raw-unnamed': 'raw pg, unnamed',
  library: 'library',
  'library-unnamed': 'library, namedStatements off',
  drizzle: 'Drizzle (RLS pattern)',
  'raw-pipelined': 'raw pg, one round trip (exploration)',
  'raw-pipelined-prologue': 'raw pg, prologue pipelined with the statement, two round trips (exploration)',
};

export function renderMarkdown(info: RunInfo, results: Results): string {
  const lines: string[] = [];
  lines.push(`# Benchmark results${info.quick ? ' (--quick: for development, not for comparison)' : ''}`, '');
  lines.push(`- date: ${info.date}, ${info.durationSeconds}s; commit ${info.commit}`);
  lines.push(`- machine: ${Object.entries(info.machine).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join('/') : String(v)}`).join('; ')}`);
  if (info.note) lines.push(`- note: ${info.note}`);
  if (!info.quick) lines.push('- where each gap comes from, the pipelining exploration, decoding and the 1,000-user run: [FINDINGS.md](FINDINGS.md)');
  lines.push(
    `- fill: ${info.fill.users} users x ${info.fill.conversations} conversations x ${info.fill.messages} messages, ${info.fill.tasks} tasks each, one conversation of ${info.fill.bigMessages}`,
  );
  lines.push(`- ${info.rounds} round(s), each cell ${info.warmupSeconds}s warm-up then ${info.measureSeconds}s measured; the contenders interleaved in every round`, '');
  lines.push('## Workloads', '');
  for (const w of info.workloads) lines.push(`- \`${w.name}\` (${w.kind}, ${w.statements} statement(s) of the library per transaction): ${w.title}`);
  lines.push('', '## Targets', '', '| target | met | where |', '| --- | --- | --- |');
  for (const t of targets(results)) lines.push(`| ${t.what} | ${t.met ? 'yes' : '**no**'} | ${t.where} |`);
  lines.push('', '## Ratios (library tx/s over the other\'s; per-round range in brackets)', '');
  const against = ['pgbench', 'raw-named', 'raw-unnamed', 'drizzle', 'library-unnamed', 'raw-pipelined', 'raw-pipelined-prologue'].filter((a) => results.ratios.some((r) => r.against === a));
  lines.push(`| workload | clients | ${against.map((a) => `/ ${CONTENDER_TITLES[a]}`).join(' | ')} |`);
  lines.push(`| --- | --- | ${against.map(() => '---').join(' | ')} |`);
  const keys = [...new Set(results.figures.map((f) => `${f.workload}|${f.clients}`))];
  for (const key of keys) {
    const [workload, clients] = key.split('|');
    const cells = against.map((a) => {
      const r = results.ratios.find((x) => x.workload === workload && String(x.clients) === clients && x.against === a);
      return r ? `${r.ratio.toFixed(2)}x [${r.roundMin.toFixed(2)}-${r.roundMax.toFixed(2)}]` : '';
    });
    lines.push(`| ${workload} | ${clients} | ${cells.join(' | ')} |`);
  }
  lines.push('', ...renderProfile(results));
  lines.push('', '## Every figure', '', 'Latencies in ms; CPU in µs per transaction (client: this process or pgbench; server: all PostgreSQL processes).', '');
  lines.push('| workload | clients | contender | tx/s | per round | p50 | p95 | p99 | client CPU | server CPU | errors |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const f of results.figures) {
    lines.push(
      `| ${f.workload} | ${f.clients} | ${CONTENDER_TITLES[f.contender] ?? f.contender} | ${f.tps.toFixed(0)} | ${f.roundTps.map((t) => t.toFixed(0)).join(' / ')} | ${f.p50.toFixed(2)} | ${f.p95.toFixed(2)} | ${f.p99.toFixed(2)} | ${f.clientCpuUsPerTx.toFixed(0)} | ${f.serverCpuUsPerTx === null ? '' : f.serverCpuUsPerTx.toFixed(0)} | ${f.errors} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

/**
 * Where a serial transaction's time goes, per workload, in µs: the wall time
 * (1 / tx/s), the server's CPU, the client's CPU, and the rest (round trips,
 * waiting for the CPU on a shared machine, the kernel's network path). For
 * the library, its client CPU splits into the driver's (raw node-postgres,
 * named, sending the same statements) and the library's own (the
 * difference).
 */
export function profileOf(results: Results): { workload: string; contender: string; wallUs: number; serverUs: number | null; clientUs: number; driverUs: number | null; libraryUs: number | null; restUs: number | null }[] {
  const out = [];
  for (const workload of [...new Set(results.figures.map((f) => f.workload))]) {
    const fig = (contender: string) => results.figures.find((f) => f.workload === workload && f.clients === 1 && f.contender === contender);
    const raw = fig('raw-named');
    for (const contender of ['pgbench', 'raw-named', 'library', 'raw-pipelined-prologue', 'raw-pipelined']) {
      const f = fig(contender);
      if (!f) continue;
      const wallUs = 1e6 / f.tps;
      const clientUs = f.clientCpuUsPerTx;
      const driverUs = contender === 'library' && raw ? Math.min(raw.clientCpuUsPerTx, clientUs) : contender === 'pgbench' ? null : clientUs;
      const libraryUs = contender === 'library' && driverUs !== null ? clientUs - driverUs : null;
      out.push({
        workload,
        contender,
        wallUs: round(wallUs, 0),
        serverUs: f.serverCpuUsPerTx,
        clientUs,
        driverUs: driverUs === null ? null : round(driverUs, 0),
        libraryUs: libraryUs === null ? null : round(libraryUs, 0),
        restUs: f.serverCpuUsPerTx === null ? null : round(Math.max(0, wallUs - f.serverCpuUsPerTx - clientUs), 0),
      });
    }
  }
  return out;
}

function renderProfile(results: Results): string[] {
  const rows = profileOf(results);
  if (!rows.length) return [];
  const n = (x: number | null) => (x === null ? '' : x.toFixed(0));
  return [
    '## Where a serial transaction\'s time goes (µs per transaction, 1 client)',
    '',
    'wall = 1 / tx/s; server = CPU of all PostgreSQL processes; client = CPU of the client process (pgbench, or this Node process: driver and library);',
    "for the library, driver = raw node-postgres' client CPU on the same statements and library = the rest of its client CPU;",
    'rest = wall - server - client: round trips through the kernel, and waiting for a CPU on this shared 2-core machine. CPU figures are',
    'measured over whole cells and share the noise of the run; `npm run bench -- --overhead` measures the library\'s own part alone.',
    '',
    '| workload | contender | wall | server CPU | client CPU | of which driver | of which library | rest |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) => `| ${r.workload} | ${CONTENDER_TITLES[r.contender] ?? r.contender} | ${n(r.wallUs)} | ${n(r.serverUs)} | ${n(r.clientUs)} | ${n(r.driverUs)} | ${n(r.libraryUs)} | ${n(r.restUs)} |`,
    ),
  ];
}

export function writeReport(base: string, info: RunInfo, results: Results): { json: string; markdown: string } {
  fs.mkdirSync(path.dirname(base), { recursive: true });
  const json = `${base}.json`;
  const markdown = `${base}.md`;
  fs.writeFileSync(json, `${JSON.stringify({ info, targets: targets(results), profile: profileOf(results), ...results }, null, 2)}\n`);
  fs.writeFileSync(markdown, renderMarkdown(info, results));
  return { json, markdown };
}
