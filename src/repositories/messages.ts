/**
 * tx.messages: chat history with the agent's tool calls and their results.
 * Messages are numbered 1, 2, 3, ... within their conversation; a call's
 * messages are contiguous; the newest may be popped and any replaced in
 * place. A message may be a plain chat message or an SDK item kept exactly
 * (src/history/); either way it feeds the tool-call audit (tx.toolCalls).
 */
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { ConflictError, InternalError, NotFoundError, TooLargeError, ValidationError } from '../errors.js';
import { LIMITS, MESSAGE_FORMATS, MESSAGE_ROLES } from '../limits.js';
import { Id, parseInput, storableSearchText, type JsonValue, type ToolCall } from '../schemas.js';
import type { QueryRunner } from '../query-runner.js';
import type { IAppendMessagesResult } from '../queries/messages.queries.js';
import { MessageId, type DerivedMessage, type MessageFormat, type MessageRole } from '../history/derived.js';
import { NewMessage, deriveMessage } from '../history/new-message.js';
import { conversationQueries, messageQueries as q } from './queries.js';
import { HistoryCursor, decodeCursor, encodeCursor } from './pagination.js';

export { NewMessage } from '../history/new-message.js';

/** A stored message. */
export interface Message {
  conversationId: string;
  /** Unique within the conversation: the caller's (its SDK's) id, or a UUID made when it gave none. */
  id: string;
  /** 1, 2, 3, ... within the conversation, without gaps. */
  position: number;
  role: MessageRole;
  format: MessageFormat;
  /** Plain chat: the content as given. SDK formats: the item's text, for search. */
  content: string;
  /** Plain chat assistant messages: the calls as given. */
  toolCalls: ToolCall[] | null;
  /** Plain chat tool messages: the call they answer. */
  toolCallId: string | null;
  /** SDK formats: the item exactly as given. */
  item: JsonValue | null;
  createdAt: Date;
}

/** The columns every message query returns (the generated row type of AppendMessages). */
type MessageRow = IAppendMessagesResult;

/**
 * A row of any query returning a message's columns, as a Message. Assumes
 * what the table's constraints guarantee: messages_role_known,
 * messages_format_known, and messages_tool_calls_shape (tool_calls is null or
 * an array of {id, name, arguments}, the shape of ToolCalls).
 */
export function toMessage(row: MessageRow, conversationId: string): Message {
  const { role, format } = row;
  if (!(MESSAGE_ROLES as readonly string[]).includes(role) || !(MESSAGE_FORMATS as readonly string[]).includes(format)) {
    throw new InternalError(`message ${row.id} has role ${JSON.stringify(role)} and format ${JSON.stringify(format)}, which the table refuses`);
  }
  return {
    conversationId,
    id: row.id,
    position: row.position,
    role: role as MessageRole,
    format: format as MessageFormat,
    content: row.content,
    toolCalls: row.toolCalls as ToolCall[] | null,
    toolCallId: row.toolCallId,
    item: row.item as JsonValue | null,
    createdAt: row.createdAt,
  };
}

/** ListHistory and ListAllMessages left-join the messages: one row with a null id when there is none. */
function messagesOf(rows: (MessageRow & { id: string | null })[], conversationId: string): Message[] {
  return rows.filter((row): row is MessageRow => row.id !== null).map((row) => toMessage(row, conversationId));
}

/**
 * Messages in position order without sorting: positions run 1..n without
 * gaps, so each goes to index position - 1 (ListAllMessages returns them in
 * no particular order, so that the server never sorts a whole conversation).
 */
function inPositionOrder(messages: Message[]): Message[] {
  const ordered = new Array<Message>(messages.length);
  for (const message of messages) {
    const at = message.position - 1;
    if (at < 0 || at >= ordered.length || ordered[at] !== undefined) throw new InternalError(`message positions are not 1..${messages.length} without gaps`);
    ordered[at] = message;
  }
  return ordered;
}

export const MAX_TURN_MESSAGES = 100;
/** All the messages of one append, as JSON: at most this many bytes. */
export const MAX_TURN_BYTES = LIMITS.input.maxBytes;

const Turn = z.array(NewMessage).min(1, 'a turn needs at least one message').max(MAX_TURN_MESSAGES);

export const HistoryOptions = z.strictObject({
  limit: z.number().int().min(1).max(LIMITS.historyPage.maxLimit).default(LIMITS.historyPage.defaultLimit),
  before: HistoryCursor.optional(),
});
export type HistoryOptions = z.input<typeof HistoryOptions>;

export const BatchOptions = z.strictObject({
  batchSize: z.number().int().min(1).max(LIMITS.batch.maxSize).default(LIMITS.batch.defaultSize),
});
export type BatchOptions = z.input<typeof BatchOptions>;

const PopCount = z.number().int().min(1).max(LIMITS.pop.max);

export const SearchOptions = z.strictObject({
  conversationId: Id.optional(),
  limit: z.number().int().min(1).max(LIMITS.page.maxLimit).default(20),
});
export type SearchOptions = z.input<typeof SearchOptions>;

export interface HistoryPage {
  /**
   * Oldest first, at most LIMITS.historyPage.maxLimit. A page that would start
   * with a tool result reaches back to the start of its turn, within that
   * bound; a turn longer than the bound is entered in the middle.
   */
  items: Message[];
  /** Pass as `before` for the page of older messages; null when there are none. */
  before: string | null;
  /** True when the page starts with a tool result whose call is on an earlier page (its turn is longer than a page). */
  startsMidTurn: boolean;
}

export interface SearchHit {
  message: Message;
  rank: number;
}

/** A JSON value as it comes back from the database: plain objects and arrays, whatever prototypes the caller's had. */
function asStored(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

/** What a stored message must equal for an append of the same id to count as a retry. */
function sameMessage(stored: Message, message: DerivedMessage): boolean {
  return (
    stored.role === message.role &&
    stored.format === message.format &&
    stored.content === message.content &&
    stored.toolCallId === (message.toolCallId ?? null) &&
    isDeepStrictEqual(stored.toolCalls, asStored(message.toolCalls)) &&
    isDeepStrictEqual(stored.item, asStored(message.item))
  );
}

/** A derived message as the append and replace statements read it. */
function wire(message: DerivedMessage) {
  return {
    id: message.id,
    role: message.role,
    format: message.format,
    content: message.content,
    toolCalls: message.toolCalls,
    toolCallId: message.toolCallId,
    item: message.item,
    calls: message.calls,
    results: message.results,
  };
}

export function messagesRepository(db: QueryRunner) {
  const { userId } = db;

  async function requireConversation(conversationId: string): Promise<void> {
    await db.one(conversationQueries.getConversation, { id: conversationId }, { notFound: ['conversation', conversationId] });
  }

  function parseTurn(rawMessages: unknown): DerivedMessage[] {
    const messages = parseInput(Turn, rawMessages, 'messages').map((message, index) => deriveMessage(message, [index]));
    const ids = messages.flatMap((message) => (message.id === undefined ? [] : [message.id]));
    const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
    if (repeated !== undefined) {
      throw new ValidationError(`invalid messages: the id ${JSON.stringify(repeated)} appears twice in one append`, [
        { path: [], message: 'message ids must be distinct', code: 'custom' },
      ]);
    }
    return messages;
  }

  async function appendTurn(rawConversationId: string, rawMessages: NewMessage[]): Promise<Message[]> {
    const conversationId = parseInput(Id, rawConversationId, 'conversation id');
    const messages = parseTurn(rawMessages);
    const payload = messages.map(wire);
    const bytes = Buffer.byteLength(JSON.stringify(payload), 'utf8');
    if (bytes > MAX_TURN_BYTES) {
      throw new ValidationError(`invalid messages: one append may carry at most ${MAX_TURN_BYTES} bytes of JSON (got ${bytes})`, [
        { path: [], message: 'too large', code: 'too_big' },
      ]);
    }
    // Messages named by the caller may be there already (a retry): under the
    // conversation's lock, identical ones are returned as stored, different
    // ones are a conflict, and only the others are appended.
    const stored = new Map<string, Message>();
    const named = messages.flatMap((message) => (message.id === undefined ? [] : [message.id]));
    if (named.length > 0) {
      await lockConversation(conversationId);
      const rows = await db.many(q.getMessagesByIds, { userId, conversationId, ids: named });
      for (const row of rows) stored.set(row.id, toMessage(row, conversationId));
      for (const message of messages) {
        const existing = message.id === undefined ? undefined : stored.get(message.id);
        if (existing && !sameMessage(existing, message)) {
          throw new ConflictError(`message ${message.id} already exists in conversation ${conversationId} with different content`);
        }
      }
    }
    const fresh = payload.filter((message) => message.id === undefined || !stored.has(message.id));
    const appended =
      fresh.length === 0 ? [] : await db.many(q.appendMessages, { userId, conversationId, messages: JSON.stringify(fresh) }, { notFound: ['conversation', conversationId] });
    if (fresh.length > 0 && appended.length === 0) throw new NotFoundError('conversation', conversationId);
    const inserted = appended.map((row) => toMessage(row, conversationId));
    let next = 0;
    return messages.map((message) => (message.id !== undefined && stored.get(message.id)) || inserted[next++]!);
  }

  async function* batches(rawConversationId: string, rawOptions: BatchOptions = {}): AsyncGenerator<Message[], void, undefined> {
    const conversationId = parseInput(Id, rawConversationId, 'conversation id');
    const { batchSize } = parseInput(BatchOptions, rawOptions, 'batch options');
    let after = 0;
    for (;;) {
      const rows = await db.many(q.listMessagesAfter, { userId, conversationId, after, limit: batchSize });
      if (rows.length === 0) {
        if (after === 0) await requireConversation(conversationId);
        return;
      }
      const batch = rows.map((row) => toMessage(row, conversationId));
      yield batch;
      if (rows.length < batchSize) return;
      after = batch[batch.length - 1]!.position;
    }
  }

  /**
   * Takes the conversation's row lock until commit (appends, removals and
   * replacements of its history take turns on it), so that the statements
   * that follow see every write committed before; returns its last position.
   */
  async function lockConversation(conversationId: string): Promise<number> {
    return (await db.one(q.lockConversation, { userId, conversationId }, { notFound: ['conversation', conversationId] })).lastPosition;
  }

  /** Removes the newest messages after position `keep` under the conversation's lock; `keep(last)` says how many remain. */
  async function removeNewest(conversationId: string, keep: (lastPosition: number) => number): Promise<Message[]> {
    const last = await lockConversation(conversationId);
    const rows = await db.many(q.removeNewestMessages, { userId, conversationId, keep: keep(last) });
    return rows.map((row) => toMessage(row, conversationId));
  }

  return {
    /** Appends one message; see appendTurn. */
    async append(conversationId: string, message: NewMessage): Promise<Message> {
      const [row] = await appendTurn(conversationId, [message]);
      return row!;
    },

    /**
     * Appends messages in the order given, atomically and contiguously (other
     * writers of the conversation wait), and records their tool calls and
     * results in the audit. A message whose id is already stored is returned
     * as stored when identical (a safe retry) and is a ConflictError when not.
     * Returns the messages in the order given.
     */
    appendTurn,

    /** One message by id; NotFoundError when the conversation holds none of that id (or is not the user's). */
    async get(rawConversationId: string, rawId: string): Promise<Message> {
      const conversationId = parseInput(Id, rawConversationId, 'conversation id');
      const id = parseInput(MessageId, rawId, 'message id');
      const row = await db.maybeOne(q.getMessagesByIds, { userId, conversationId, ids: [id] });
      if (!row) throw new NotFoundError('message', id);
      return toMessage(row, conversationId);
    },

    /** The latest `limit` messages, oldest first, extended back to a turn's start within the page bound; `before` pages further back. */
    async history(rawConversationId: string, rawOptions: HistoryOptions = {}): Promise<HistoryPage> {
      const conversationId = parseInput(Id, rawConversationId, 'conversation id');
      const options = parseInput(HistoryOptions, rawOptions, 'history options');
      const kind = `history:${conversationId}`;
      const before = options.before ? (decodeCursor(kind, options.before, ['integer'])[0] as number) : null;
      const rows = await db.many(q.listHistory, {
        userId,
        conversationId,
        before,
        limit: options.limit,
        extra: LIMITS.historyPage.maxLimit - options.limit,
      });
      // Also with a cursor: another user's (or a deleted) conversation is a NotFoundError, never an empty page.
      if (rows.length === 0) throw new NotFoundError('conversation', conversationId);
      const items = messagesOf(rows, conversationId);
      const first = rows[0]!.firstPosition ?? 1;
      return {
        items,
        before: first > 1 && items.length > 0 ? encodeCursor(kind, [first]) : null,
        startsMidTurn: items[0]?.role === 'tool',
      };
    },

    /**
     * Every message of the conversation, oldest first; TooLargeError (nothing
     * read) beyond LIMITS.wholeConversation: then read it with batches().
     */
    async all(rawConversationId: string): Promise<Message[]> {
      const conversationId = parseInput(Id, rawConversationId, 'conversation id');
      const { maxMessages, maxBytes } = LIMITS.wholeConversation;
      const rows = await db.many(q.listAllMessages, { userId, conversationId, maxMessages, maxBytes });
      if (rows.length === 0) throw new NotFoundError('conversation', conversationId);
      const { lastPosition, historyBytes } = rows[0]!;
      if (lastPosition > maxMessages || Number(historyBytes) > maxBytes) {
        throw new TooLargeError(
          `conversation ${conversationId} holds ${lastPosition} messages of ${historyBytes} bytes, more than messages.all() reads at once ` +
            `(${maxMessages} messages, ${maxBytes} bytes): read it in batches with messages.batches()`,
        );
      }
      return inPositionOrder(messagesOf(rows, conversationId));
    },

    /** Every message of the conversation, oldest first, in batches of `batchSize` (an async iterator): memory does not grow with the conversation. */
    batches,

    /** Removes the newest `count` messages (default 1) and returns them, oldest first; the tool-call audit keeps their calls and results. */
    async pop(rawConversationId: string, rawCount = 1): Promise<Message[]> {
      const conversationId = parseInput(Id, rawConversationId, 'conversation id');
      const count = parseInput(PopCount, rawCount, 'pop count');
      return removeNewest(conversationId, (last) => Math.max(last - count, 0));
    },

    /** Removes every message of the conversation (it stays, empty) and returns how many went; the tool-call audit keeps them. */
    async clear(rawConversationId: string): Promise<number> {
      const conversationId = parseInput(Id, rawConversationId, 'conversation id');
      return (await removeNewest(conversationId, () => 0)).length;
    },

    /**
     * Replaces a message in place: same id, same position, new content. The
     * tool-call audit keeps the calls and results of the old content and
     * records those of the new.
     */
    async replace(rawConversationId: string, rawId: string, rawMessage: NewMessage): Promise<Message> {
      const conversationId = parseInput(Id, rawConversationId, 'conversation id');
      const id = parseInput(MessageId, rawId, 'message id');
      const message = deriveMessage(parseInput(NewMessage, rawMessage, 'message'), []);
      if (message.id !== undefined && message.id !== id) {
        throw new ValidationError(`invalid message: its id ${JSON.stringify(message.id)} is not the id it replaces (${JSON.stringify(id)})`, [
          { path: ['id'], message: 'must be the id of the message it replaces', code: 'custom' },
        ]);
      }
      await lockConversation(conversationId).catch((error: unknown) => {
        // The same answer as for an unknown message id: which of the two was missing is not told.
        throw error instanceof NotFoundError ? new NotFoundError('message', id) : error;
      });
      const row = await db.maybeOne(q.replaceMessage, { userId, conversationId, id, message: JSON.stringify(wire({ ...message, id })) });
      if (!row) throw new NotFoundError('message', id);
      return toMessage(row, conversationId);
    },

    /** Full-text search over the current user's messages, best match first. */
    async search(rawQuery: string, rawOptions: SearchOptions = {}): Promise<SearchHit[]> {
      const query = parseInput(storableSearchText, rawQuery, 'search query');
      const options = parseInput(SearchOptions, rawOptions, 'search options');
      const rows = await db.many(q.searchMessages, {
        userId,
        query,
        conversationId: options.conversationId ?? null,
        limit: options.limit,
      });
      return rows.map(({ rank, conversationId, ...message }) => ({ message: toMessage(message, conversationId), rank: Number(rank) }));
    },
  };
}

export type MessagesRepository = ReturnType<typeof messagesRepository>;
