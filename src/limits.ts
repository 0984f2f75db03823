/**
 * Every limit of the data model, once for TypeScript. The same numbers live in
 * the CHECK constraints of migrations/ (once for SQL); test/schema/limits.test.ts
 * proves the two agree at each boundary. Lengths count Unicode code points,
 * as PostgreSQL's char_length does.
 */
export const LIMITS = {
  taskTitle: { min: 1, max: 500 },
  taskDescription: { max: 5000 },
  conversationTitle: { min: 1, max: 500 },
  messageContent: { max: 10_000 },
  toolCalls: { maxCount: 64, maxJsonBytes: 64 * 1024, maxDepth: 32 },
  toolCallId: { min: 1, max: 128 },
  /** Characters as a regular-expression class body, the same in the CHECK of messages.tool_calls. */
  toolName: { min: 1, max: 128, characters: 'A-Za-z0-9_.:-' },
  /** A message id: the caller's (its SDK's) or a generated UUID; unique within its conversation. */
  messageId: { min: 1, max: 255 },
  /** An SDK item (openai-agents, ai-sdk): its JSON text, refused beyond, never truncated; the text derived from it likewise. */
  item: { maxJsonBytes: 1_048_576, maxDepth: 64 },
  /** The tool-call audit: call ids and tool names as SDKs give them. */
  auditCallId: { min: 1, max: 255 },
  auditToolName: { min: 1, max: 255 },
  /** Search indexes the first this many characters of a message's text. */
  searchIndexedCharacters: 100_000,
  page: { defaultLimit: 50, maxLimit: 200 },
  /** A history page holds at most maxLimit messages, the turn-start extension included. */
  historyPage: { defaultLimit: 50, maxLimit: 500 },
  /** One-shot reads of a whole conversation (messages.all) and of a user's data (users.export); beyond, read in batches (messages.batches, users.exportBatches). */
  wholeConversation: { maxMessages: 20_000, maxBytes: 16 * 1024 * 1024 },
  userExport: { maxRows: 100_000, maxHistoryBytes: 32 * 1024 * 1024 },
  /** The batches of messages.batches and users.exportBatches. */
  batch: { defaultSize: 200, maxSize: 1000 },
  /** How many newest messages one pop may remove. */
  pop: { max: 500 },
  searchQuery: { min: 1, max: 500 },
  /**
   * The most any one input of an API call may amount to as JSON (a turn of
   * messages is the largest), a shared sub-object counted every time it
   * appears: beyond, it is refused before validation walks it (src/plain-data.ts).
   */
  input: { maxValues: 500_000, maxBytes: 16 * 1024 * 1024 },
  /** A run's usage record (tx.usage): its id and model 1..255 characters; requests and tokens whole numbers up to 2^53 - 1. */
  usage: { id: { min: 1, max: 255 }, model: { min: 1, max: 255 }, maxCount: Number.MAX_SAFE_INTEGER },
} as const;

export const CONVERSATION_STATUSES = ['active', 'archived'] as const;
export const MESSAGE_ROLES = ['user', 'assistant', 'system', 'tool'] as const;
/** chat: role, content, toolCalls, toolCallId as given; openai-agents: an AgentInputItem; ai-sdk: a UIMessage. */
export const MESSAGE_FORMATS = ['chat', 'openai-agents', 'ai-sdk'] as const;

/**
 * The white space that titles may not start or end with: exactly the set that
 * String.prototype.trim removes, spelled out again in the CHECK constraints
 * (btrim with these characters).
 */
export const TRIMMED_WHITESPACE =
  ' \t\n\u000b\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';
