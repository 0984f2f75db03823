/** Types generated for queries found in "sql/usage.sql" */
import { PreparedQuery } from '@pgtyped/runtime';

export type DateOrString = Date | string;

export type NumberOrString = number | string;

/** 'RecordUsage' parameters type */
export interface IRecordUsageParams {
  conversationId: string;
  id?: string | null | void;
  inputTokens: NumberOrString;
  messageId?: string | null | void;
  model: string;
  outputTokens: NumberOrString;
  requests: NumberOrString;
  userId: string;
}

/** 'RecordUsage' return type */
export interface IRecordUsageResult {
  /** the conversation of the turn; null once that conversation was deleted. */
  conversationId: string | null;
  createdAt: Date;
  /** the caller's id of the run (a response id) or a uuid; recording the same id again is a retry, not a second run. */
  id: string;
  inputTokens: string;
  /** the last message of the turn the run produced (it may since have been popped or replaced). */
  messageId: string | null;
  model: string;
  outputTokens: string;
  requests: string;
}

/** 'RecordUsage' query type */
export interface IRecordUsageQuery {
  params: IRecordUsageParams;
  result: IRecordUsageResult;
}

const recordUsageIR: any = {"usedParamSet":{"id":true,"messageId":true,"model":true,"requests":true,"inputTokens":true,"outputTokens":true,"userId":true,"conversationId":true},"params":[{"name":"id","required":false,"transform":{"type":"scalar"},"locs":[{"a":129,"b":131}]},{"name":"messageId","required":false,"transform":{"type":"scalar"},"locs":[{"a":168,"b":177}]},{"name":"model","required":true,"transform":{"type":"scalar"},"locs":[{"a":180,"b":186}]},{"name":"requests","required":true,"transform":{"type":"scalar"},"locs":[{"a":189,"b":198}]},{"name":"inputTokens","required":true,"transform":{"type":"scalar"},"locs":[{"a":201,"b":213}]},{"name":"outputTokens","required":true,"transform":{"type":"scalar"},"locs":[{"a":216,"b":229}]},{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":280,"b":287}]},{"name":"conversationId","required":true,"transform":{"type":"scalar"},"locs":[{"a":302,"b":317}]}],"statement":"insert into todo_chat.turn_usage (id, conversation_id, message_id, model, requests, input_tokens, output_tokens)\nselect coalesce(:id, (gen_random_uuid())::text), c.id, :messageId, :model!, :requests!, :inputTokens!, :outputTokens!\nfrom todo_chat.conversations c\nwhere c.user_id = :userId!\n  and c.id = :conversationId!\non conflict (user_id, id) do nothing\nreturning id, conversation_id as \"conversationId\", message_id as \"messageId\", model, requests, input_tokens as \"inputTokens\",\n  output_tokens as \"outputTokens\", created_at as \"createdAt\"                                                                                                    "};

/**
 * Query generated from SQL:
 * ```
 * insert into todo_chat.turn_usage (id, conversation_id, message_id, model, requests, input_tokens, output_tokens)
 * select coalesce(:id, (gen_random_uuid())::text), c.id, :messageId, :model!, :requests!, :inputTokens!, :outputTokens!
 * from todo_chat.conversations c
 * where c.user_id = :userId!
 *   and c.id = :conversationId!
 * on conflict (user_id, id) do nothing
 * returning id, conversation_id as "conversationId", message_id as "messageId", model, requests, input_tokens as "inputTokens",
 *   output_tokens as "outputTokens", created_at as "createdAt"                                                                                                    
 * ```
 */
export const recordUsage = new PreparedQuery<IRecordUsageParams,IRecordUsageResult>(recordUsageIR);


/** 'GetUsageRecord' parameters type */
export interface IGetUsageRecordParams {
  id: string;
  userId: string;
}

/** 'GetUsageRecord' return type */
export interface IGetUsageRecordResult {
  /** the conversation of the turn; null once that conversation was deleted. */
  conversationId: string | null;
  createdAt: Date;
  /** the caller's id of the run (a response id) or a uuid; recording the same id again is a retry, not a second run. */
  id: string;
  inputTokens: string;
  /** the last message of the turn the run produced (it may since have been popped or replaced). */
  messageId: string | null;
  model: string;
  outputTokens: string;
  requests: string;
}

/** 'GetUsageRecord' query type */
export interface IGetUsageRecordQuery {
  params: IGetUsageRecordParams;
  result: IGetUsageRecordResult;
}

const getUsageRecordIR: any = {"usedParamSet":{"userId":true,"id":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":226,"b":233}]},{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":246,"b":249}]}],"statement":"select id, conversation_id as \"conversationId\", message_id as \"messageId\", model, requests, input_tokens as \"inputTokens\",\n  output_tokens as \"outputTokens\", created_at as \"createdAt\"\nfrom todo_chat.turn_usage\nwhere user_id = :userId!\n  and id = :id!                                                                                                                                                                                                                              "};

/**
 * Query generated from SQL:
 * ```
 * select id, conversation_id as "conversationId", message_id as "messageId", model, requests, input_tokens as "inputTokens",
 *   output_tokens as "outputTokens", created_at as "createdAt"
 * from todo_chat.turn_usage
 * where user_id = :userId!
 *   and id = :id!                                                                                                                                                                                                                              
 * ```
 */
export const getUsageRecord = new PreparedQuery<IGetUsageRecordParams,IGetUsageRecordResult>(getUsageRecordIR);


/** 'SumUserUsage' parameters type */
export interface ISumUserUsageParams {
  since: DateOrString;
  until: DateOrString;
  userId: string;
}

/** 'SumUserUsage' return type */
export interface ISumUserUsageResult {
  inputTokens: string | null;
  model: string;
  outputTokens: string | null;
  requests: string | null;
  runs: string | null;
}

/** 'SumUserUsage' query type */
export interface ISumUserUsageQuery {
  params: ISumUserUsageParams;
  result: ISumUserUsageResult;
}

const sumUserUsageIR: any = {"usedParamSet":{"userId":true,"since":true,"until":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":174,"b":181}]},{"name":"since","required":true,"transform":{"type":"scalar"},"locs":[{"a":203,"b":209}]},{"name":"until","required":true,"transform":{"type":"scalar"},"locs":[{"a":243,"b":249}]}],"statement":"select model, count(*) as runs, sum(requests) as requests, sum(input_tokens) as \"inputTokens\", sum(output_tokens) as \"outputTokens\"\nfrom todo_chat.turn_usage\nwhere user_id = :userId!\n  and created_at >= :since!::timestamptz\n  and created_at < :until!::timestamptz\ngroup by model\norder by model                                                                                                                                                            "};

/**
 * Query generated from SQL:
 * ```
 * select model, count(*) as runs, sum(requests) as requests, sum(input_tokens) as "inputTokens", sum(output_tokens) as "outputTokens"
 * from todo_chat.turn_usage
 * where user_id = :userId!
 *   and created_at >= :since!::timestamptz
 *   and created_at < :until!::timestamptz
 * group by model
 * order by model                                                                                                                                                            
 * ```
 */
export const sumUserUsage = new PreparedQuery<ISumUserUsageParams,ISumUserUsageResult>(sumUserUsageIR);


/** 'SumConversationUsage' parameters type */
export interface ISumConversationUsageParams {
  conversationId: string;
  since: DateOrString;
  until: DateOrString;
  userId: string;
}

/** 'SumConversationUsage' return type */
export interface ISumConversationUsageResult {
  inputTokens: string | null;
  model: string;
  outputTokens: string | null;
  requests: string | null;
  runs: string | null;
}

/** 'SumConversationUsage' query type */
export interface ISumConversationUsageQuery {
  params: ISumConversationUsageParams;
  result: ISumConversationUsageResult;
}

const sumConversationUsageIR: any = {"usedParamSet":{"userId":true,"conversationId":true,"since":true,"until":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":174,"b":181}]},{"name":"conversationId","required":true,"transform":{"type":"scalar"},"locs":[{"a":207,"b":222}]},{"name":"since","required":true,"transform":{"type":"scalar"},"locs":[{"a":244,"b":250}]},{"name":"until","required":true,"transform":{"type":"scalar"},"locs":[{"a":284,"b":290}]}],"statement":"select model, count(*) as runs, sum(requests) as requests, sum(input_tokens) as \"inputTokens\", sum(output_tokens) as \"outputTokens\"\nfrom todo_chat.turn_usage\nwhere user_id = :userId!\n  and conversation_id = :conversationId!\n  and created_at >= :since!::timestamptz\n  and created_at < :until!::timestamptz\ngroup by model\norder by model                                                                                                                                                                                                                                                                                        "};

/**
 * Query generated from SQL:
 * ```
 * select model, count(*) as runs, sum(requests) as requests, sum(input_tokens) as "inputTokens", sum(output_tokens) as "outputTokens"
 * from todo_chat.turn_usage
 * where user_id = :userId!
 *   and conversation_id = :conversationId!
 *   and created_at >= :since!::timestamptz
 *   and created_at < :until!::timestamptz
 * group by model
 * order by model                                                                                                                                                                                                                                                                                        
 * ```
 */
export const sumConversationUsage = new PreparedQuery<ISumConversationUsageParams,ISumConversationUsageResult>(sumConversationUsageIR);


/** 'ExportUsage' parameters type */
export interface IExportUsageParams {
  cursorAt: DateOrString;
  cursorId: string;
  limit: NumberOrString;
  userId: string;
}

/** 'ExportUsage' return type */
export interface IExportUsageResult {
  /** the conversation of the turn; null once that conversation was deleted. */
  conversationId: string | null;
  createdAt: Date;
  /** the caller's id of the run (a response id) or a uuid; recording the same id again is a retry, not a second run. */
  id: string;
  inputTokens: string;
  /** the last message of the turn the run produced (it may since have been popped or replaced). */
  messageId: string | null;
  model: string;
  outputTokens: string;
  requests: string;
}

/** 'ExportUsage' query type */
export interface IExportUsageQuery {
  params: IExportUsageParams;
  result: IExportUsageResult;
}

const exportUsageIR: any = {"usedParamSet":{"userId":true,"cursorAt":true,"cursorId":true,"limit":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":226,"b":233}]},{"name":"cursorAt","required":true,"transform":{"type":"scalar"},"locs":[{"a":261,"b":270}]},{"name":"cursorId","required":true,"transform":{"type":"scalar"},"locs":[{"a":286,"b":295}]},{"name":"limit","required":true,"transform":{"type":"scalar"},"locs":[{"a":334,"b":340}]}],"statement":"select id, conversation_id as \"conversationId\", message_id as \"messageId\", model, requests, input_tokens as \"inputTokens\",\n  output_tokens as \"outputTokens\", created_at as \"createdAt\"\nfrom todo_chat.turn_usage\nwhere user_id = :userId!\n  and (created_at, id) > (:cursorAt!::timestamptz, :cursorId!::text)\norder by created_at, id\nlimit :limit!"};

/**
 * Query generated from SQL:
 * ```
 * select id, conversation_id as "conversationId", message_id as "messageId", model, requests, input_tokens as "inputTokens",
 *   output_tokens as "outputTokens", created_at as "createdAt"
 * from todo_chat.turn_usage
 * where user_id = :userId!
 *   and (created_at, id) > (:cursorAt!::timestamptz, :cursorId!::text)
 * order by created_at, id
 * limit :limit!
 * ```
 */
export const exportUsage = new PreparedQuery<IExportUsageParams,IExportUsageResult>(exportUsageIR);


