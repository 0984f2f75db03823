/**
 * PostgresSession: the OpenAI Agents SDK's Session (getSessionId, getItems,
 * addItems, popItem, clearSession) over one conversation of one user. Every
 * call runs in withUser of that user (joining an open withUser of the same
 * user and store), so another user's conversation is a NotFoundError, never
 * an empty history that later writes into it. Items are stored exactly as the
 * SDK gives them (format 'openai-agents'), with the tool-call audit derived
 * from them. Only the SDK's types are used here: nothing of the SDK runs.
 */
import type { AgentInputItem, Session } from '@openai/agents-core';
import { UsageError, ValidationError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { Id, UserId, parseInput } from '../schemas.js';
import type { Store } from '../store.js';
import type { Transaction } from '../transaction.js';
import type { Message } from '../repositories/messages.js';
import { MAX_TURN_BYTES, MAX_TURN_MESSAGES } from '../repositories/messages.js';
import type { UsageRecord } from '../repositories/usage.js';
import { chunksOf, withoutUndefinedFields } from '../integrations/json-item.js';
import { z } from 'zod';

export interface PostgresSessionOptions {
  store: Store;
  /** The authenticated user the conversation belongs to. */
  userId: string;
  /** The conversation that holds this session's items (its id is the session id). */
  conversationId: string;
  /**
   * How many of the newest items the runner gets when it asks for the whole
   * history (getItems() without a limit), starting at a turn's start, never
   * with an orphaned tool result; 1..500. Unset: the whole history, up to
   * LIMITS.wholeConversation (then a TooLargeError).
   */
  historyLimit?: number;
}

export interface CreatePostgresSessionOptions {
  store: Store;
  userId: string;
  /** The new conversation's title (null or absent: none). */
  title?: string | null;
  historyLimit?: number;
}

/** Usage as the Agents SDK reports it (`result.state.usage`, a `Usage`). */
export interface AgentsUsageLike {
  requests?: number;
  inputTokens: number;
  outputTokens: number;
}

/** What recordUsage reads of a run result (`RunResult`, `StreamedRunResult` once completed). */
export interface AgentsRunLike {
  state: { usage: AgentsUsageLike };
  lastAgent?: { model?: unknown } | undefined;
}

export interface RecordAgentsUsageOptions {
  /** The model's id; by default the agent's model when it is a name (a Model object has none). */
  model?: string;
  /** The run's id, to make recording it again a no-op (a retry) rather than a second run. */
  id?: string;
  /** The last message of the turn; by default the last item this session added. */
  messageId?: string;
}

const HistoryLimit = z.number().int().min(1).max(LIMITS.historyPage.maxLimit);
const ItemLimit = z.number().int();

/** JSON text bytes of an item; what cannot be serialised is refused later, by the validation. */
function jsonBytes(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  } catch {
    return 0;
  }
}

/** The item of a stored message, which must be one of the Agents SDK. */
function itemOf(message: Message): AgentInputItem {
  if (message.format !== 'openai-agents') {
    throw new UsageError(
      `conversation ${message.conversationId} holds a message of format '${message.format}' at position ${message.position}: ` +
        'a PostgresSession reads and removes Agents SDK items only; keep other formats in other conversations',
    );
  }
  return message.item as unknown as AgentInputItem;
}

export class PostgresSession implements Session {
  readonly userId: string;
  readonly conversationId: string;
  readonly #store: Store;
  readonly #historyLimit: number | undefined;
  /** The id of the last message this session appended: the turn a run's usage is recorded against. */
  #lastMessageId: string | undefined;

  constructor(options: PostgresSessionOptions) {
    if (typeof options?.store?.withUser !== 'function') throw new UsageError('PostgresSession needs { store, userId, conversationId }: store is not a todo-chat-db store');
    this.#store = options.store;
    this.userId = parseInput(UserId, options.userId, 'user id');
    this.conversationId = parseInput(Id, options.conversationId, 'conversation id');
    this.#historyLimit = options.historyLimit === undefined ? undefined : parseInput(HistoryLimit, options.historyLimit, 'history limit');
  }

  /** Creates a conversation for the user (and the user's row if missing) and returns a session over it. */
  static async create(options: CreatePostgresSessionOptions): Promise<PostgresSession> {
    if (typeof options?.store?.withUser !== 'function') throw new UsageError('PostgresSession.create needs { store, userId }: store is not a todo-chat-db store');
    const conversation = await options.store.withUser(options.userId, async (tx) => {
      await tx.users.ensure();
      return tx.conversations.create({ title: options.title ?? null });
    });
    return new PostgresSession({
      store: options.store,
      userId: options.userId,
      conversationId: conversation.id,
      ...(options.historyLimit === undefined ? {} : { historyLimit: options.historyLimit }),
    });
  }

  #run<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.#store.withUser(this.userId, fn);
  }

  /** The conversation id; NotFoundError when it is not the user's. */
  async getSessionId(): Promise<string> {
    return this.#run(async (tx) => (await tx.conversations.get(this.conversationId)).id);
  }

  /**
   * With a limit: the newest `limit` items, oldest first (none for 0 or
   * less). Without: the whole history, or the newest historyLimit from a
   * turn's start when the session has one.
   */
  async getItems(limit?: number): Promise<AgentInputItem[]> {
    if (limit !== undefined && parseInput(ItemLimit, limit, 'item limit') <= 0) {
      // Nothing to read, but the conversation must still be the user's.
      await this.getSessionId();
      return [];
    }
    return this.#run(async (tx) => {
      if (limit !== undefined) return (await newest(tx, this.conversationId, limit)).map(itemOf);
      if (this.#historyLimit !== undefined) return (await tx.messages.history(this.conversationId, { limit: this.#historyLimit })).items.map(itemOf);
      return (await tx.messages.all(this.conversationId)).map(itemOf);
    });
  }

  /**
   * Appends the items in the order given, all or none (in one transaction,
   * in appends of at most MAX_TURN_MESSAGES). Fields whose value is
   * undefined are left out, as JSON does; anything else that is not JSON is
   * a ValidationError.
   */
  async addItems(items: AgentInputItem[]): Promise<void> {
    if (!Array.isArray(items)) {
      throw new ValidationError('invalid items: must be an array of Agents SDK items', [{ path: [], message: 'must be an array', code: 'invalid_type' }]);
    }
    if (items.length === 0) return;
    const messages = items.map((item) => ({ format: 'openai-agents' as const, item: withoutUndefinedFields(item) as object }));
    // An append carries each item with its derived text and audit: a quarter of the byte cap in items leaves room for both.
    const chunks = chunksOf(messages, MAX_TURN_MESSAGES, MAX_TURN_BYTES / 4, (message) => jsonBytes(message.item));
    const last = await this.#run(async (tx) => {
      let appended: Message[] = [];
      for (const chunk of chunks) appended = await tx.messages.appendTurn(this.conversationId, chunk);
      return appended.at(-1);
    });
    this.#lastMessageId = last?.id;
  }

  /** Removes the newest item and returns it; undefined when the history is empty. */
  async popItem(): Promise<AgentInputItem | undefined> {
    return this.#run(async (tx) => {
      const [message] = await tx.messages.pop(this.conversationId, 1);
      // A message of another format is refused, and the transaction rolls its removal back.
      return message === undefined ? undefined : itemOf(message);
    });
  }

  /** Removes every item; the conversation stays, and so does its tool-call audit. */
  async clearSession(): Promise<void> {
    await this.#run((tx) => tx.messages.clear(this.conversationId));
  }

  /**
   * Records what a run cost (its requests, input and output tokens, the
   * model) against this conversation and the last item this session added.
   * Pass the run result (`await run(...)`) or its `state.usage`.
   */
  async recordUsage(source: AgentsRunLike | AgentsUsageLike, options: RecordAgentsUsageOptions = {}): Promise<UsageRecord> {
    const run = typeof source === 'object' && source !== null && 'state' in source ? (source as AgentsRunLike) : undefined;
    const usage = run ? run.state?.usage : (source as AgentsUsageLike);
    const agentModel = run?.lastAgent?.model;
    const model = options.model ?? (typeof agentModel === 'string' && agentModel !== '' ? agentModel : undefined);
    if (model === undefined) {
      throw new ValidationError("invalid usage: name the model ({ model: 'gpt-...' }); the run's agent has no model name", [
        { path: ['model'], message: 'required', code: 'invalid_type' },
      ]);
    }
    const messageId = options.messageId ?? this.#lastMessageId;
    return this.#run((tx) =>
      tx.usage.record(this.conversationId, {
        model,
        requests: usage?.requests ?? 1,
        inputTokens: usage?.inputTokens as number,
        outputTokens: usage?.outputTokens as number,
        ...(messageId === undefined ? {} : { messageId }),
        ...(options.id === undefined ? {} : { id: options.id }),
      }),
    );
  }
}

/** The newest `limit` messages, oldest first: history pages read backwards until there are enough. */
async function newest(tx: Transaction, conversationId: string, limit: number): Promise<Message[]> {
  const pages: Message[][] = [];
  let count = 0;
  let before: string | undefined;
  while (count < limit) {
    const page = await tx.messages.history(conversationId, { limit: Math.min(limit - count, LIMITS.historyPage.maxLimit), ...(before ? { before } : {}) });
    pages.unshift(page.items);
    count += page.items.length;
    if (page.before === null) break;
    before = page.before;
  }
  return pages.flat().slice(-limit);
}
