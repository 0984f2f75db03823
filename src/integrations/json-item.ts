/**
 * SDK objects as the library stores them. The SDKs build their items and
 * messages with optional fields that are present but undefined
 * (`providerMetadata: undefined`); JSON, and so every persistent session of
 * the SDKs themselves, leaves such a field out. Only that is done here:
 * anything else that is not plain JSON (a Date, a Uint8Array, a function, an
 * undefined array element) is left as it is, for the library's validation to
 * refuse with the path where it is.
 */
import { LIMITS } from '../limits.js';

/** A copy of `value` without the object properties whose value is undefined. */
export function withoutUndefinedFields(value: unknown, depth = 1): unknown {
  // Deeper than an item may be: left as is, and refused as too deep by the validation.
  if (depth > LIMITS.item.maxDepth + 1 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((element) => withoutUndefinedFields(element, depth + 1));
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    // Defined, not assigned: a "__proto__" key (JSON.parse makes it an own property) is data to keep, not the copy's prototype.
    if (field !== undefined) Object.defineProperty(copy, key, { value: withoutUndefinedFields(field, depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

/** Splits messages into runs that one appendTurn accepts: at most `maxCount` messages and about `maxBytes` of item JSON each. */
export function chunksOf<T>(items: readonly T[], maxCount: number, maxBytes: number, bytesOf: (item: T) => number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = bytesOf(item);
    if (current.length > 0 && (current.length >= maxCount || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
