/**
 * tx.conversations: the current user's chat threads.
 */
import { z } from 'zod';
import { ConflictError, InternalError } from '../errors.js';
import { CONVERSATION_STATUSES, LIMITS } from '../limits.js';
import { ConversationStatus, ConversationTitle, Id, parseInput } from '../schemas.js';
import type { QueryRunner } from '../query-runner.js';
import type { IGetConversationResult } from '../queries/conversations.queries.js';
import { conversationQueries as q } from './queries.js';
import { PageCursor, byTimestampAndId, keysetPage, pageLimit, type Page } from './pagination.js';

/** A conversation as stored (the generated row type of GetConversation, status narrowed). */
export type Conversation = Omit<IGetConversationResult, 'status'> & { status: z.infer<typeof ConversationStatus> };

export const CreateConversationInput = z.strictObject({
  id: Id.optional(),
  title: ConversationTitle.nullable().optional(),
});
export type CreateConversationInput = z.input<typeof CreateConversationInput>;

export const ListConversationsOptions = z.strictObject({
  status: ConversationStatus.optional(),
  limit: pageLimit(LIMITS.page),
  cursor: PageCursor.optional(),
});
export type ListConversationsOptions = z.input<typeof ListConversationsOptions>;

/**
 * A row of any query returning a conversation's columns, as a Conversation.
 * Assumes what conversations_status_known guarantees: status is one of
 * CONVERSATION_STATUSES.
 */
export function toConversation(row: IGetConversationResult): Conversation {
  const { status } = row;
  if (!(CONVERSATION_STATUSES as readonly string[]).includes(status)) {
    throw new InternalError(`conversation ${row.id} has status ${JSON.stringify(status)}, which conversations_status_known refuses`);
  }
  return row as Conversation;
}

export function conversationsRepository(db: QueryRunner) {
  async function setStatus(rawId: string, status: Conversation['status']): Promise<Conversation> {
    const id = parseInput(Id, rawId, 'conversation id');
    return toConversation(await db.one(q.setConversationStatus, { id, status }, { notFound: ['conversation', id] }));
  }

  return {
    /** Starts a conversation, optionally titled and with a caller-chosen id (created again with the same title: the stored one, written once; another title: ConflictError). */
    async create(input: CreateConversationInput = {}): Promise<Conversation> {
      const conversation = parseInput(CreateConversationInput, input, 'conversation');
      const title = conversation.title ?? null;
      const created = await db.maybeOne(q.createConversation, { id: conversation.id ?? null, title }, { notFound: ['user'] });
      if (created) return toConversation(created);
      const id = conversation.id!;
      const stored = await db.maybeOne(q.getConversation, { id });
      if (stored && stored.title === title) return toConversation(stored);
      throw new ConflictError(`conversation ${id} already exists with another title`);
    },

    /** One conversation; NotFoundError when it does not exist or belongs to another user. */
    async get(rawId: string): Promise<Conversation> {
      const id = parseInput(Id, rawId, 'conversation id');
      return toConversation(await db.one(q.getConversation, { id }, { notFound: ['conversation', id] }));
    },

    /** A page of conversations, most recently updated first, optionally by status; keyset-paginated. */
    async list(rawOptions: ListConversationsOptions = {}): Promise<Page<Conversation>> {
      const options = parseInput(ListConversationsOptions, rawOptions, 'list options');
      const { status } = options;
      const list = byTimestampAndId<Conversation>(`conversations:${status ?? 'all'}`, 'newest', (conversation) => conversation.updatedAt);
      return keysetPage(list, options, async (keyset) =>
        (status === undefined
          ? await db.many(q.listConversations, { userId: db.userId, ...keyset })
          : await db.many(q.listConversationsByStatus, { userId: db.userId, status, ...keyset })
        ).map(toConversation),
      );
    },

    /** Sets the title; null removes it. */
    async rename(rawId: string, rawTitle: string | null): Promise<Conversation> {
      const id = parseInput(Id, rawId, 'conversation id');
      const title = parseInput(ConversationTitle.nullable(), rawTitle, 'conversation title');
      return toConversation(await db.one(q.renameConversation, { id, title }, { notFound: ['conversation', id] }));
    },

    /** Archives a conversation (it stays readable). */
    async archive(id: string): Promise<Conversation> {
      return setStatus(id, 'archived');
    },

    /** Makes an archived conversation active again. */
    async unarchive(id: string): Promise<Conversation> {
      return setStatus(id, 'active');
    },

    /** Deletes a conversation and all of its messages. */
    async delete(rawId: string): Promise<void> {
      const id = parseInput(Id, rawId, 'conversation id');
      await db.one(q.deleteConversation, { id }, { notFound: ['conversation', id] });
    },
  };
}

export type ConversationsRepository = ReturnType<typeof conversationsRepository>;
