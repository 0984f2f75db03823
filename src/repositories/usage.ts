/**
 * tx.usage: what the agent's runs cost. A run's usage (the model, its
 * requests, its input and output tokens) is recorded against the
 * conversation and the message of the turn it produced, and summed per
 * conversation or per user, per model, over a time window. Records outlive
 * their conversation (its id becomes null) but not their user.
 */
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { ConflictError, InternalError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { Id, parseInput, storableText } from '../schemas.js';
import type { QueryRunner } from '../query-runner.js';
import type { IGetUsageRecordResult, ISumUserUsageResult } from '../queries/usage.queries.js';
import { MessageId } from '../history/derived.js';
import { conversationQueries, usageQueries as q } from './queries.js';

/** One run's usage, as recorded. */
export interface UsageRecord {
  /** The caller's id of the run (a response id, say), or a UUID made when it gave none. */
  id: string;
  /** The conversation of the turn; null once that conversation was deleted. */
  conversationId: string | null;
  /** The last message of the turn the run produced (it may since have been popped or replaced), or null. */
  messageId: string | null;
  model: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  createdAt: Date;
}

/** Sums over a set of runs. */
export interface UsageCounts {
  runs: number;
  requests: number;
  inputTokens: number;
  outputTokens: number;
}

/** What a conversation's or a user's runs cost: in all, and per model (sorted by model). */
export interface UsageTotals extends UsageCounts {
  byModel: (UsageCounts & { model: string })[];
}

/** A count of requests or tokens: a whole number from 0 to 2^53 - 1. */
const Count = z.number().int().min(0).max(LIMITS.usage.maxCount);

export const RecordUsageInput = z.strictObject({
  /** The caller's id of the run; recording the same id again is a retry (the same values) or a ConflictError. */
  id: storableText(LIMITS.usage.id).optional(),
  /** The last message of the turn the run produced. */
  messageId: MessageId.nullable().optional(),
  model: storableText(LIMITS.usage.model),
  requests: Count,
  inputTokens: Count,
  outputTokens: Count,
});
export type RecordUsageInput = z.input<typeof RecordUsageInput>;

/** PostgreSQL's timestamps reach further than these, JavaScript's dates as far: a window outside them is a mistake. */
const EARLIEST = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');
const WindowEdge = z
  .date()
  .refine((date) => date.getTime() >= EARLIEST && date.getTime() <= LATEST, 'must be a date between the years 1 and 9999');

export const UsageTotalsOptions = z.strictObject({
  /** Only this conversation's runs (a NotFoundError when it is not the user's); all of the user's otherwise. */
  conversationId: Id.optional(),
  /** Runs recorded at or after this instant. */
  since: WindowEdge.optional(),
  /** Runs recorded before this instant. */
  until: WindowEdge.optional(),
});
export type UsageTotalsOptions = z.input<typeof UsageTotalsOptions>;

/** The columns of GetUsageRecord, RecordUsage and ExportUsage. */
type Row = IGetUsageRecordResult;

/** bigint and numeric columns arrive as text: as numbers, exact up to 2^53 - 1. */
export function toUsageRecord(row: Row): UsageRecord {
  return {
    id: row.id,
    conversationId: row.conversationId,
    messageId: row.messageId,
    model: row.model,
    requests: Number(row.requests),
    inputTokens: Number(row.inputTokens),
    outputTokens: Number(row.outputTokens),
    createdAt: row.createdAt,
  };
}

/**
 * The sums arrive as numeric text, exact; each becomes the nearest number
 * (exact up to 2^53 - 1), and the totals over models are added exactly before
 * they do.
 */
function totalsOf(rows: ISumUserUsageResult[]): UsageTotals {
  const exact = (value: string | null) => BigInt(value ?? 0);
  const totals = { runs: 0n, requests: 0n, inputTokens: 0n, outputTokens: 0n };
  const byModel = rows.map((row) => {
    const counts = { runs: exact(row.runs), requests: exact(row.requests), inputTokens: exact(row.inputTokens), outputTokens: exact(row.outputTokens) };
    for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += counts[key];
    return {
      model: row.model,
      runs: Number(counts.runs),
      requests: Number(counts.requests),
      inputTokens: Number(counts.inputTokens),
      outputTokens: Number(counts.outputTokens),
    };
  });
  return { runs: Number(totals.runs), requests: Number(totals.requests), inputTokens: Number(totals.inputTokens), outputTokens: Number(totals.outputTokens), byModel };
}

export function usageRepository(db: QueryRunner) {
  const { userId } = db;

  async function requireConversation(conversationId: string): Promise<void> {
    await db.one(conversationQueries.getConversation, { id: conversationId }, { notFound: ['conversation', conversationId] });
  }

  return {
    /**
     * Records one run's usage against a conversation of the user. Recording a
     * record of the same id again returns the stored one when the values are
     * the same (a safe retry) and is a ConflictError when they differ.
     */
    async record(rawConversationId: string, rawInput: RecordUsageInput): Promise<UsageRecord> {
      const conversationId = parseInput(Id, rawConversationId, 'conversation id');
      const input = parseInput(RecordUsageInput, rawInput, 'usage');
      const messageId = input.messageId ?? null;
      const row = await db.maybeOne(q.recordUsage, {
        userId,
        conversationId,
        id: input.id ?? null,
        messageId,
        model: input.model,
        requests: input.requests,
        inputTokens: input.inputTokens,
        outputTokens: input.outputTokens,
      });
      if (row) return toUsageRecord(row);
      // Nothing inserted: the conversation is not the user's, or the id is taken.
      const stored = input.id === undefined ? undefined : await db.maybeOne(q.getUsageRecord, { userId, id: input.id });
      const wanted = { conversationId, messageId, model: input.model, requests: input.requests, inputTokens: input.inputTokens, outputTokens: input.outputTokens };
      if (stored) {
        const record = toUsageRecord(stored);
        const { id: _id, createdAt: _createdAt, ...values } = record;
        if (isDeepStrictEqual(values, wanted)) return record;
      }
      await requireConversation(conversationId);
      if (stored) throw new ConflictError(`usage record ${input.id} already exists with different values`);
      throw new InternalError('RecordUsage inserted nothing for a conversation of the user and an id not taken');
    },

    /** What the user's runs (or one conversation's) recorded in [since, until) cost, in all and per model. */
    async total(rawOptions: UsageTotalsOptions = {}): Promise<UsageTotals> {
      const options = parseInput(UsageTotalsOptions, rawOptions, 'usage totals options', { dates: true });
      const window = { since: options.since ?? '-infinity', until: options.until ?? 'infinity' };
      const { conversationId } = options;
      if (conversationId === undefined) return totalsOf(await db.many(q.sumUserUsage, { userId, ...window }));
      const rows = await db.many(q.sumConversationUsage, { userId, conversationId, ...window });
      // Another user's (or a deleted) conversation is a NotFoundError, never zero.
      if (rows.length === 0) await requireConversation(conversationId);
      return totalsOf(rows);
    },
  };
}

export type UsageRepository = ReturnType<typeof usageRepository>;

/** Used by the export: the user's records after (cursorAt, cursorId), in that order. */
export async function exportUsagePage(db: QueryRunner, after: { cursorAt: Date | string; cursorId: string }, limit: number): Promise<UsageRecord[]> {
  const rows = await db.many(q.exportUsage, { userId: db.userId, ...after, limit });
  return rows.map(toUsageRecord);
}
