/**
 * What code in the same process can reach from a value by following
 * properties: own and inherited, string- and symbol-keyed, enumerable or not
 * (getters are not called), and the entries of Maps and Sets. An attacker's
 * walk, used to prove that nothing the library hands out (tx, events, errors
 * and their causes, a callback's `this`, the async context) leads to a way
 * to run SQL.
 */
import pg from 'pg';

/** A way to run SQL or reach a connection: a pg client or pool, or anything with a query, connect or release method. */
export function isSqlHandle(value: unknown): boolean {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  if (value instanceof pg.Client || value instanceof pg.Pool) return true;
  for (const name of ['query', 'connect', 'release', 'submit']) {
    let method: unknown;
    try {
      method = findData(value, name);
    } catch {
      continue;
    }
    if (typeof method === 'function') return true;
  }
  return false;
}

/** A data property of value or its prototype chain, without calling getters. */
function findData(value: object, key: PropertyKey): unknown {
  for (let o: object | null = value; o !== null; o = Object.getPrototypeOf(o)) {
    const descriptor = Object.getOwnPropertyDescriptor(o, key);
    if (descriptor) return 'value' in descriptor ? descriptor.value : undefined;
  }
  return undefined;
}

/** Built-ins shared by every value: walking them finds nothing of the library, only noise. */
const SHARED = new Set<unknown>([
  Object.prototype,
  Function.prototype,
  Array.prototype,
  Map.prototype,
  Set.prototype,
  Promise.prototype,
  Error.prototype,
  globalThis,
]);

export interface SqlHandle {
  /** How it was reached from the root, e.g. `this.connection`. */
  path: string;
  value: unknown;
}

/**
 * Every SQL handle reachable from root (paths from `name`), at most
 * `maxNodes` objects walked. Empty: nothing reachable can run SQL.
 */
export function findSqlHandles(root: unknown, name = 'root', maxNodes = 200_000): SqlHandle[] {
  const found: SqlHandle[] = [];
  const seen = new Set<unknown>();
  const queue: { value: unknown; path: string }[] = [{ value: root, path: name }];
  while (queue.length > 0 && seen.size < maxNodes) {
    const { value, path } = queue.shift()!;
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) continue;
    if (seen.has(value) || SHARED.has(value)) continue;
    seen.add(value);
    if (isSqlHandle(value)) found.push({ path, value });
    if (value instanceof Map) {
      for (const [k, v] of value) queue.push({ value: k, path: `${path}<key>` }, { value: v, path: `${path}<${String(k)}>` });
    } else if (value instanceof Set) {
      for (const v of value) queue.push({ value: v, path: `${path}<entry>` });
    }
    let keys: PropertyKey[];
    try {
      keys = Reflect.ownKeys(value);
    } catch {
      continue;
    }
    for (const key of keys) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (descriptor && 'value' in descriptor) queue.push({ value: descriptor.value, path: `${path}.${String(key)}` });
    }
    queue.push({ value: Object.getPrototypeOf(value), path: `${path}.__proto__` });
  }
  return found;
}
