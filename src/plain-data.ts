/**
 * Inputs are plain data, checked before zod reads them: objects whose
 * prototype is Object.prototype or null, arrays without holes, primitives,
 * and nothing else (no class instances, proxies, getters, functions, symbols,
 * bigints, cycles, own toJSON). So only own enumerable data properties are
 * ever read: a known key on a prototype, a toJSON on an array or its
 * prototype, or a getter that answers differently each time cannot change
 * what is validated or stored.
 *
 * The cost is bounded by a budget, not by what the input expands to: every
 * occurrence of a value counts, so a graph that shares sub-objects
 * (`{ a: o, b: o }` nested n deep) is counted as the JSON it would become,
 * and refused as soon as that passes LIMITS.input (JSON values, bytes), long
 * before anything walks the whole expansion (zod, JSON.stringify, the driver).
 */
import { types } from 'node:util';
import { LIMITS } from './limits.js';

export interface PlainDataProblem {
  /** Where, from the input's root (e.g. ["item", "parts", 3]). */
  path: (string | number)[];
  message: string;
}

export interface PlainDataBudget {
  /** JSON values (objects, arrays and primitives, each occurrence counted). */
  maxValues: number;
  /** Bytes of JSON at least (each UTF-16 unit of a string counts one byte). */
  maxBytes: number;
  /** Accept Date instances (exactly Date, as values, never containers): for inputs whose schema takes dates, such as a time window. */
  dates?: boolean;
}

interface Frame {
  container: object;
  /** The key of this container in the one below it on the stack (unused for the root). */
  key: string | number;
  /** An object's own enumerable keys; null for an array (its indexes). */
  keys: string[] | null;
  length: number;
  next: number;
  /** How many of its values JSON holds so far (an object's undefined properties are left out): each after the first adds a comma. */
  emitted: number;
}

/** The path from the top frame to a value: nothing for the root. */
function tailOf(isRoot: boolean, key: string | number): (string | number)[] {
  return isRoot ? [] : [key];
}

/**
 * Why `root` is not plain data within `budget`, or undefined when it is.
 * Iterative, so hostile nesting cannot overflow the stack; the path of a
 * problem is the stack of keys, built only when there is one. (One loop with
 * no allocation per value but an object's keys and a frame per container:
 * the budget's worst case must cost little.)
 */
export function plainDataProblem(root: unknown, budget: PlainDataBudget = LIMITS.input): PlainDataProblem | undefined {
  const stack: Frame[] = [];
  let values = 0;
  let bytes = 0;
  /** The path to the top frame's value, then `tail`. */
  const problem = (tail: (string | number)[], message: string): PlainDataProblem => ({ path: [...stack.slice(1).map((f) => f.key), ...tail], message });
  /** Over budget: a cycle (named as such) or just too much. (The count is passed in: a closure over the loop's counters would slow it.) */
  const overBudget = (values: number): PlainDataProblem => {
    const containers = new Set<object>();
    for (const [depth, frame] of stack.entries()) {
      if (containers.has(frame.container)) return { path: stack.slice(1, depth + 1).map((f) => f.key), message: 'must not contain itself (a cycle)' };
      containers.add(frame.container);
    }
    return values > budget.maxValues
      ? problem([], `must hold at most ${budget.maxValues} JSON values, shared sub-objects counted each time`)
      : problem([], `must be at most ${budget.maxBytes} bytes of JSON, shared sub-objects counted each time`);
  };

  let value: unknown = root;
  let key: string | number = '';
  let isRoot = true;
  for (;;) {
    // Count and check `value`, met under `key` of the top frame (or as the root); a container gets a frame.
    values++;
    const type = typeof value;
    if (type === 'string') bytes += (value as string).length + 2;
    else if (type === 'number') bytes += 1;
    else if (type === 'boolean' || value === null) bytes += 4;
    else if (type === 'object') {
      const container = value as object;
      if (types.isProxy(container)) return problem(tailOf(isRoot, key), 'must be plain data (got a Proxy)');
      const proto: unknown = Object.getPrototypeOf(container);
      bytes += 2;
      if (budget.dates === true && proto === Date.prototype) {
        // A leaf, not a container: the schema checks the date itself.
      } else if (Array.isArray(container)) {
        if (proto !== Array.prototype) return problem(tailOf(isRoot, key), 'must be a plain array');
        // JSON.stringify would call an own toJSON of an array; any other own property it leaves out.
        if (Object.hasOwn(container, 'toJSON')) return problem([...tailOf(isRoot, key), 'toJSON'], 'an array must not have a toJSON');
        stack.push({ container, key, keys: null, length: container.length, next: 0, emitted: 0 });
      } else {
        if (proto !== Object.prototype && proto !== null) return problem(tailOf(isRoot, key), 'must be a plain object (no class instances)');
        const keys = Object.keys(container);
        stack.push({ container, key, keys, length: keys.length, next: 0, emitted: 0 });
      }
    } else if (!(isRoot && type === 'undefined')) {
      // An omitted argument is fine; inside a container, undefined is handled below.
      return problem(tailOf(isRoot, key), `must be plain data (got a ${type})`);
    }
    isRoot = false;

    // The next value to check: the next property of the innermost container that has one.
    let found = false;
    while (stack.length > 0) {
      if (values > budget.maxValues || bytes > budget.maxBytes) return overBudget(values);
      const frame = stack[stack.length - 1]!;
      if (frame.next >= frame.length) {
        stack.pop();
        continue;
      }
      const index = frame.next++;
      const childKey = frame.keys === null ? index : frame.keys[index]!;
      const descriptor = Object.getOwnPropertyDescriptor(frame.container, childKey);
      if (descriptor === undefined) return problem([childKey], 'an array must not have holes');
      if (!('value' in descriptor)) return problem([childKey], 'must be a data property (no getters or setters)');
      const child: unknown = descriptor.value;
      if (child === undefined) {
        if (frame.keys === null) return problem([childKey], 'an array must not hold undefined');
        continue; // an absent optional property, left out of JSON
      }
      // A comma before every value but the first; an object's key with its quotes and colon.
      if (frame.emitted++ > 0) bytes += 1;
      if (frame.keys !== null) bytes += (childKey as string).length + 3;
      value = child;
      key = childKey;
      found = true;
      break;
    }
    if (!found) break;
  }
  return values > budget.maxValues || bytes > budget.maxBytes ? overBudget(values) : undefined;
}
