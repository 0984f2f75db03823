/** Types generated for queries found in "sql/users.sql" */
import { PreparedQuery } from '@pgtyped/runtime';

/** 'EnsureUser' parameters type */
export type IEnsureUserParams = void;

/** 'EnsureUser' return type */
export interface IEnsureUserResult {
  createdAt: Date;
  id: string;
}

/** 'EnsureUser' query type */
export interface IEnsureUserQuery {
  params: IEnsureUserParams;
  result: IEnsureUserResult;
}

const ensureUserIR: any = {"usedParamSet":{},"params":[],"statement":"insert into todo_chat.users (id)\nvalues (todo_chat.current_user_id())\non conflict (id) do nothing\nreturning id, created_at as \"createdAt\"                               "};

/**
 * Query generated from SQL:
 * ```
 * insert into todo_chat.users (id)
 * values (todo_chat.current_user_id())
 * on conflict (id) do nothing
 * returning id, created_at as "createdAt"                               
 * ```
 */
export const ensureUser = new PreparedQuery<IEnsureUserParams,IEnsureUserResult>(ensureUserIR);


/** 'GetUser' parameters type */
export type IGetUserParams = void;

/** 'GetUser' return type */
export interface IGetUserResult {
  createdAt: Date;
  id: string;
}

/** 'GetUser' query type */
export interface IGetUserQuery {
  params: IGetUserParams;
  result: IGetUserResult;
}

const getUserIR: any = {"usedParamSet":{},"params":[],"statement":"select id, created_at as \"createdAt\"\nfrom todo_chat.users\nwhere id = todo_chat.current_user_id()                                                                                                          "};

/**
 * Query generated from SQL:
 * ```
 * select id, created_at as "createdAt"
 * from todo_chat.users
 * where id = todo_chat.current_user_id()                                                                                                          
 * ```
 */
export const getUser = new PreparedQuery<IGetUserParams,IGetUserResult>(getUserIR);


/** 'DeleteUser' parameters type */
export type IDeleteUserParams = void;

/** 'DeleteUser' return type */
export interface IDeleteUserResult {
  id: string;
}

/** 'DeleteUser' query type */
export interface IDeleteUserQuery {
  params: IDeleteUserParams;
  result: IDeleteUserResult;
}

const deleteUserIR: any = {"usedParamSet":{},"params":[],"statement":"delete from todo_chat.users\nwhere id = todo_chat.current_user_id()\nreturning id                                                                                                                                                                                                                                                                                                    "};

/**
 * Query generated from SQL:
 * ```
 * delete from todo_chat.users
 * where id = todo_chat.current_user_id()
 * returning id                                                                                                                                                                                                                                                                                                    
 * ```
 */
export const deleteUser = new PreparedQuery<IDeleteUserParams,IDeleteUserResult>(deleteUserIR);


/** 'GetUserDataSize' parameters type */
export interface IGetUserDataSizeParams {
  userId: string;
}

/** 'GetUserDataSize' return type */
export interface IGetUserDataSizeResult {
  conversations: number | null;
  historyBytes: string | null;
  messages: string | null;
  tasks: number | null;
  toolCalls: string | null;
  usage: string | null;
}

/** 'GetUserDataSize' query type */
export interface IGetUserDataSizeQuery {
  params: IGetUserDataSizeParams;
  result: IGetUserDataSizeResult;
}

const getUserDataSizeIR: any = {"usedParamSet":{"userId":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":63,"b":70},{"a":156,"b":163},{"a":280,"b":287},{"a":398,"b":405},{"a":496,"b":503},{"a":591,"b":598}]}],"statement":"select\n  (select count(*) from todo_chat.tasks where user_id = :userId!)::integer as tasks,\n  (select count(*) from todo_chat.conversations where user_id = :userId!)::integer as conversations,\n  (select coalesce(sum(last_position), 0) from todo_chat.conversations where user_id = :userId!)::bigint as messages,\n  (select coalesce(sum(history_bytes), 0) from todo_chat.conversations where user_id = :userId!)::bigint as \"historyBytes\",\n  (select count(*) from todo_chat.tool_calls where user_id = :userId!)::bigint as \"toolCalls\",\n  (select count(*) from todo_chat.turn_usage where user_id = :userId!)::bigint as usage"};

/**
 * Query generated from SQL:
 * ```
 * select
 *   (select count(*) from todo_chat.tasks where user_id = :userId!)::integer as tasks,
 *   (select count(*) from todo_chat.conversations where user_id = :userId!)::integer as conversations,
 *   (select coalesce(sum(last_position), 0) from todo_chat.conversations where user_id = :userId!)::bigint as messages,
 *   (select coalesce(sum(history_bytes), 0) from todo_chat.conversations where user_id = :userId!)::bigint as "historyBytes",
 *   (select count(*) from todo_chat.tool_calls where user_id = :userId!)::bigint as "toolCalls",
 *   (select count(*) from todo_chat.turn_usage where user_id = :userId!)::bigint as usage
 * ```
 */
export const getUserDataSize = new PreparedQuery<IGetUserDataSizeParams,IGetUserDataSizeResult>(getUserDataSizeIR);


