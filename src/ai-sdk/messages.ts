/**
 * Persistence of the Vercel AI SDK's UIMessages in one conversation:
 * saveUIMessages makes the stored conversation equal to the array the chat
 * holds (as the AI SDK's persistence guide saves the whole chat after every
 * response), writing only what changed; loadUIMessages reads it back. Both
 * run in the caller's transaction (`tx` of withUser), so that saving the
 * messages and recording the run's usage commit together or not at all.
 */
import { isDeepStrictEqual } from 'node:util';
import type { UIMessage } from 'ai';
import { ConflictError, NotFoundError, UsageError, ValidationError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { Id, parseInput } from '../schemas.js';
import type { Transaction } from '../transaction.js';
import { MAX_TURN_BYTES, MAX_TURN_MESSAGES, type Message } from '../repositories/messages.js';
import type { RecordUsageInput, UsageRecord } from '../repositories/usage.js';
import { chunksOf, withoutUndefinedFields } from '../integrations/json-item.js';
import { z } from 'zod';

/** What saveUIMessages needs of a UIMessage; any UIMessage<metadata, data parts, tools> is one. */
export interface UIMessageLike {
  id: string;
  role: 'system' | 'user' | 'assistant';
  parts: readonly unknown[];
  metadata?: unknown;
}

/** A run's usage, as recorded against the turn it produced (the last message saved). */
export type RunUsage = Omit<RecordUsageInput, 'messageId'>;

export interface SaveUIMessagesOptions {
  /** What the run that produced the last message cost; recorded when the save wrote something. */
  usage?: RunUsage;
}

export interface SaveUIMessagesResult {
  /** Messages new to the conversation, appended in order. */
  appended: number;
  /** Messages stored under the same id with other content, replaced in place. */
  replaced: number;
  /** Stored messages that the array no longer holds at their place, removed from the end. */
  removed: number;
  /** Stored messages equal to the array's: not written. */
  unchanged: number;
  /** The usage recorded, or null (none given, or nothing written). */
  usage: UsageRecord | null;
}

export interface LoadUIMessagesOptions {
  /** Only the newest `limit` messages (1..500); without it, the whole conversation up to LIMITS.wholeConversation. */
  limit?: number;
}

const LoadLimit = z.number().int().min(1).max(LIMITS.historyPage.maxLimit);
const SCAN_BATCH = 500;

function refuse(index: number, message: string): never {
  throw new ValidationError(`invalid messages at ${index}: ${message}`, [{ path: [index], message, code: 'custom' }]);
}

function bytesOf(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  } catch {
    return 0;
  }
}

/** The UIMessage of a stored message, which must be one of the AI SDK. */
function uiMessageOf(message: Message): UIMessage {
  if (message.format !== 'ai-sdk') {
    throw new UsageError(
      `conversation ${message.conversationId} holds a message of format '${message.format}' at position ${message.position}: ` +
        'the AI SDK helpers read and write UIMessages only; keep other formats in other conversations',
    );
  }
  return message.item as unknown as UIMessage;
}

/**
 * Makes the conversation hold exactly `messages`, in order: stored messages
 * equal to the array's are not written, one stored under the same id at the
 * same place with other content is replaced in place, stored messages from
 * the first place where the ids differ are removed, and the array's messages
 * from there are appended. Saving the same array again writes nothing.
 *
 * Every message needs its id (with `toUIMessageStreamResponse`, pass
 * `generateMessageId` so that the response's id is set on the server). A
 * concurrent save of the same conversation that added or removed messages
 * makes this one a ConflictError: run the whole withUser again.
 */
export async function saveUIMessages(
  tx: Transaction,
  rawConversationId: string,
  rawMessages: readonly UIMessageLike[],
  options: SaveUIMessagesOptions = {},
): Promise<SaveUIMessagesResult> {
  const conversationId = parseInput(Id, rawConversationId, 'conversation id');
  if (!Array.isArray(rawMessages)) {
    throw new ValidationError('invalid messages: must be an array of UIMessages', [{ path: [], message: 'must be an array', code: 'invalid_type' }]);
  }
  const messages = rawMessages.map((message, index) => {
    const copy = withoutUndefinedFields(message) as UIMessageLike;
    if (typeof copy !== 'object' || copy === null || Array.isArray(copy)) refuse(index, 'must be a UIMessage object');
    if (typeof copy.id !== 'string' || copy.id.length === 0) {
      refuse(index, 'a message needs its id to be saved: with toUIMessageStreamResponse, pass generateMessageId (createIdGenerator) so the response gets one');
    }
    return copy;
  });
  const seen = new Map<string, number>();
  messages.forEach((message, index) => {
    const first = seen.get(message.id);
    if (first !== undefined) refuse(index, `the id ${JSON.stringify(message.id)} is also the id of message ${first}`);
    seen.set(message.id, index);
  });

  // How many messages are stored (the newest one's position; a NotFoundError when the conversation is not the user's).
  const stored = (await tx.messages.history(conversationId, { limit: 1 })).items.at(-1)?.position ?? 0;
  // The stored messages compared place by place (position = index + 1), in batches, up to the first difference of id.
  const replace: number[] = [];
  let unchanged = 0;
  let keep = Math.min(stored, messages.length);
  scan: for await (const batch of tx.messages.batches(conversationId, { batchSize: SCAN_BATCH })) {
    for (const message of batch) {
      const index = message.position - 1;
      if (index >= keep) break scan;
      const wanted = messages[index]!;
      if (message.id !== wanted.id) {
        keep = index;
        break scan;
      }
      if (isDeepStrictEqual(uiMessageOf(message), wanted)) unchanged++;
      else replace.push(index);
    }
  }

  for (const index of replace) {
    const message = messages[index]!;
    await tx.messages.replace(conversationId, message.id, { format: 'ai-sdk', item: message }).catch((error: unknown) => {
      // The message was there when read: something removed it since.
      throw error instanceof NotFoundError ? new ConflictError(`conversation ${conversationId} changed while its messages were saved: save again`) : error;
    });
  }

  let removed = 0;
  while (stored - removed > keep) {
    const count = Math.min(stored - removed - keep, LIMITS.pop.max);
    const popped = await tx.messages.pop(conversationId, count);
    // pop removes the newest messages: they must be the ones counted, ending where the count ended.
    if (popped.length !== count || popped.at(-1)!.position !== stored - removed) {
      throw new ConflictError(`conversation ${conversationId} changed while its messages were saved: save again`);
    }
    // Only UIMessages are removed: another format refuses, and the caller's transaction rolls the removal back.
    popped.forEach(uiMessageOf);
    removed += count;
  }

  const fresh = messages.slice(keep).map((item) => ({ format: 'ai-sdk' as const, item: item as object }));
  for (const chunk of chunksOf(fresh, MAX_TURN_MESSAGES, MAX_TURN_BYTES / 4, (message) => bytesOf(message.item))) {
    const appended = await tx.messages.appendTurn(conversationId, chunk);
    const expected = keep + fresh.indexOf(chunk[0]!) + 1;
    if (appended[0]!.position !== expected) {
      throw new ConflictError(`conversation ${conversationId} changed while its messages were saved: save again`);
    }
  }

  const written = fresh.length + replace.length + removed > 0;
  const last = messages.at(-1);
  const usage =
    options.usage && written && last ? await tx.usage.record(conversationId, { ...options.usage, messageId: last.id }) : null;
  return { appended: fresh.length, replaced: replace.length, removed, unchanged, usage };
}

/**
 * The conversation's UIMessages, oldest first, exactly as saved: what
 * validateUIMessages accepts and convertToModelMessages reads. Pass the type
 * of your UIMessages (with metadata, data parts, tools) as M.
 */
export async function loadUIMessages<M extends UIMessageLike = UIMessage>(
  tx: Transaction,
  conversationId: string,
  options: LoadUIMessagesOptions = {},
): Promise<M[]> {
  if (options.limit !== undefined) {
    const limit = parseInput(LoadLimit, options.limit, 'limit');
    const page = await tx.messages.history(conversationId, { limit });
    return page.items.slice(-limit).map((message) => uiMessageOf(message) as unknown as M);
  }
  return (await tx.messages.all(conversationId)).map((message) => uiMessageOf(message) as unknown as M);
}
