/** Types generated for queries found in "sql/tasks.sql" */
import { PreparedQuery } from '@pgtyped/runtime';

export type DateOrString = Date | string;

export type NumberOrString = number | string;

/** 'CreateTask' parameters type */
export interface ICreateTaskParams {
  completed: boolean;
  description: string;
  id?: string | null | void;
  title: string;
}

/** 'CreateTask' return type */
export interface ICreateTaskResult {
  completed: boolean;
  /** set when completed turns true, cleared when it turns false (todo_chat.tasks_track_completion). */
  completedAt: Date | null;
  createdAt: Date;
  description: string;
  id: string;
  title: string;
  updatedAt: Date;
  /** starts at 1, bumped by every update (todo_chat.touch_row); update/delete may require an expected version. */
  version: number;
}

/** 'CreateTask' query type */
export interface ICreateTaskQuery {
  params: ICreateTaskParams;
  result: ICreateTaskResult;
}

const createTaskIR: any = {"usedParamSet":{"id":true,"title":true,"description":true,"completed":true},"params":[{"name":"id","required":false,"transform":{"type":"scalar"},"locs":[{"a":81,"b":83}]},{"name":"title","required":true,"transform":{"type":"scalar"},"locs":[{"a":112,"b":118}]},{"name":"description","required":true,"transform":{"type":"scalar"},"locs":[{"a":121,"b":133}]},{"name":"completed","required":true,"transform":{"type":"scalar"},"locs":[{"a":136,"b":146}]}],"statement":"insert into todo_chat.tasks (id, title, description, completed)\nvalues (coalesce(:id::uuid, gen_random_uuid()), :title!, :description!, :completed!)\non conflict (user_id, id) do nothing\nreturning id, title, description, completed, completed_at as \"completedAt\", version,\n  created_at as \"createdAt\", updated_at as \"updatedAt\"                                                                                            "};

/**
 * Query generated from SQL:
 * ```
 * insert into todo_chat.tasks (id, title, description, completed)
 * values (coalesce(:id::uuid, gen_random_uuid()), :title!, :description!, :completed!)
 * on conflict (user_id, id) do nothing
 * returning id, title, description, completed, completed_at as "completedAt", version,
 *   created_at as "createdAt", updated_at as "updatedAt"                                                                                            
 * ```
 */
export const createTask = new PreparedQuery<ICreateTaskParams,ICreateTaskResult>(createTaskIR);


/** 'GetTask' parameters type */
export interface IGetTaskParams {
  id: string;
}

/** 'GetTask' return type */
export interface IGetTaskResult {
  completed: boolean;
  /** set when completed turns true, cleared when it turns false (todo_chat.tasks_track_completion). */
  completedAt: Date | null;
  createdAt: Date;
  description: string;
  id: string;
  title: string;
  updatedAt: Date;
  /** starts at 1, bumped by every update (todo_chat.touch_row); update/delete may require an expected version. */
  version: number;
}

/** 'GetTask' query type */
export interface IGetTaskQuery {
  params: IGetTaskParams;
  result: IGetTaskResult;
}

const getTaskIR: any = {"usedParamSet":{"id":true},"params":[{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":169,"b":172}]}],"statement":"select id, title, description, completed, completed_at as \"completedAt\", version,\n  created_at as \"createdAt\", updated_at as \"updatedAt\"\nfrom todo_chat.tasks\nwhere id = :id!                                                                                                                                                                                                                                                               "};

/**
 * Query generated from SQL:
 * ```
 * select id, title, description, completed, completed_at as "completedAt", version,
 *   created_at as "createdAt", updated_at as "updatedAt"
 * from todo_chat.tasks
 * where id = :id!                                                                                                                                                                                                                                                               
 * ```
 */
export const getTask = new PreparedQuery<IGetTaskParams,IGetTaskResult>(getTaskIR);


/** 'ListTasksNewest' parameters type */
export interface IListTasksNewestParams {
  cursorAt: DateOrString;
  cursorId: string;
  limit: NumberOrString;
  userId: string;
}

/** 'ListTasksNewest' return type */
export interface IListTasksNewestResult {
  completed: boolean;
  /** set when completed turns true, cleared when it turns false (todo_chat.tasks_track_completion). */
  completedAt: Date | null;
  createdAt: Date;
  description: string;
  id: string;
  title: string;
  updatedAt: Date;
  /** starts at 1, bumped by every update (todo_chat.touch_row); update/delete may require an expected version. */
  version: number;
}

/** 'ListTasksNewest' query type */
export interface IListTasksNewestQuery {
  params: IListTasksNewestParams;
  result: IListTasksNewestResult;
}

const listTasksNewestIR: any = {"usedParamSet":{"userId":true,"cursorAt":true,"cursorId":true,"limit":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":174,"b":181}]},{"name":"cursorAt","required":true,"transform":{"type":"scalar"},"locs":[{"a":209,"b":218}]},{"name":"cursorId","required":true,"transform":{"type":"scalar"},"locs":[{"a":234,"b":243}]},{"name":"limit","required":true,"transform":{"type":"scalar"},"locs":[{"a":292,"b":298}]}],"statement":"select id, title, description, completed, completed_at as \"completedAt\", version,\n  created_at as \"createdAt\", updated_at as \"updatedAt\"\nfrom todo_chat.tasks\nwhere user_id = :userId!\n  and (created_at, id) < (:cursorAt!::timestamptz, :cursorId!::uuid)\norder by created_at desc, id desc\nlimit :limit!                                                                                                                                             "};

/**
 * Query generated from SQL:
 * ```
 * select id, title, description, completed, completed_at as "completedAt", version,
 *   created_at as "createdAt", updated_at as "updatedAt"
 * from todo_chat.tasks
 * where user_id = :userId!
 *   and (created_at, id) < (:cursorAt!::timestamptz, :cursorId!::uuid)
 * order by created_at desc, id desc
 * limit :limit!                                                                                                                                             
 * ```
 */
export const listTasksNewest = new PreparedQuery<IListTasksNewestParams,IListTasksNewestResult>(listTasksNewestIR);


/** 'ListTasksNewestByCompleted' parameters type */
export interface IListTasksNewestByCompletedParams {
  completed: boolean;
  cursorAt: DateOrString;
  cursorId: string;
  limit: NumberOrString;
  userId: string;
}

/** 'ListTasksNewestByCompleted' return type */
export interface IListTasksNewestByCompletedResult {
  completed: boolean;
  /** set when completed turns true, cleared when it turns false (todo_chat.tasks_track_completion). */
  completedAt: Date | null;
  createdAt: Date;
  description: string;
  id: string;
  title: string;
  updatedAt: Date;
  /** starts at 1, bumped by every update (todo_chat.touch_row); update/delete may require an expected version. */
  version: number;
}

/** 'ListTasksNewestByCompleted' query type */
export interface IListTasksNewestByCompletedQuery {
  params: IListTasksNewestByCompletedParams;
  result: IListTasksNewestByCompletedResult;
}

const listTasksNewestByCompletedIR: any = {"usedParamSet":{"userId":true,"completed":true,"cursorAt":true,"cursorId":true,"limit":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":174,"b":181}]},{"name":"completed","required":true,"transform":{"type":"scalar"},"locs":[{"a":201,"b":211}]},{"name":"cursorAt","required":true,"transform":{"type":"scalar"},"locs":[{"a":239,"b":248}]},{"name":"cursorId","required":true,"transform":{"type":"scalar"},"locs":[{"a":264,"b":273}]},{"name":"limit","required":true,"transform":{"type":"scalar"},"locs":[{"a":322,"b":328}]}],"statement":"select id, title, description, completed, completed_at as \"completedAt\", version,\n  created_at as \"createdAt\", updated_at as \"updatedAt\"\nfrom todo_chat.tasks\nwhere user_id = :userId!\n  and completed = :completed!\n  and (created_at, id) < (:cursorAt!::timestamptz, :cursorId!::uuid)\norder by created_at desc, id desc\nlimit :limit!                                                                                                                                                                                                                                                           "};

/**
 * Query generated from SQL:
 * ```
 * select id, title, description, completed, completed_at as "completedAt", version,
 *   created_at as "createdAt", updated_at as "updatedAt"
 * from todo_chat.tasks
 * where user_id = :userId!
 *   and completed = :completed!
 *   and (created_at, id) < (:cursorAt!::timestamptz, :cursorId!::uuid)
 * order by created_at desc, id desc
 * limit :limit!                                                                                                                                                                                                                                                           
 * ```
 */
export const listTasksNewestByCompleted = new PreparedQuery<IListTasksNewestByCompletedParams,IListTasksNewestByCompletedResult>(listTasksNewestByCompletedIR);


/** 'ListTasksOldest' parameters type */
export interface IListTasksOldestParams {
  cursorAt: DateOrString;
  cursorId: string;
  limit: NumberOrString;
  userId: string;
}

/** 'ListTasksOldest' return type */
export interface IListTasksOldestResult {
  completed: boolean;
  /** set when completed turns true, cleared when it turns false (todo_chat.tasks_track_completion). */
  completedAt: Date | null;
  createdAt: Date;
  description: string;
  id: string;
  title: string;
  updatedAt: Date;
  /** starts at 1, bumped by every update (todo_chat.touch_row); update/delete may require an expected version. */
  version: number;
}

/** 'ListTasksOldest' query type */
export interface IListTasksOldestQuery {
  params: IListTasksOldestParams;
  result: IListTasksOldestResult;
}

const listTasksOldestIR: any = {"usedParamSet":{"userId":true,"cursorAt":true,"cursorId":true,"limit":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":174,"b":181}]},{"name":"cursorAt","required":true,"transform":{"type":"scalar"},"locs":[{"a":209,"b":218}]},{"name":"cursorId","required":true,"transform":{"type":"scalar"},"locs":[{"a":234,"b":243}]},{"name":"limit","required":true,"transform":{"type":"scalar"},"locs":[{"a":282,"b":288}]}],"statement":"select id, title, description, completed, completed_at as \"completedAt\", version,\n  created_at as \"createdAt\", updated_at as \"updatedAt\"\nfrom todo_chat.tasks\nwhere user_id = :userId!\n  and (created_at, id) > (:cursorAt!::timestamptz, :cursorId!::uuid)\norder by created_at, id\nlimit :limit!                                                                                                  "};

/**
 * Query generated from SQL:
 * ```
 * select id, title, description, completed, completed_at as "completedAt", version,
 *   created_at as "createdAt", updated_at as "updatedAt"
 * from todo_chat.tasks
 * where user_id = :userId!
 *   and (created_at, id) > (:cursorAt!::timestamptz, :cursorId!::uuid)
 * order by created_at, id
 * limit :limit!                                                                                                  
 * ```
 */
export const listTasksOldest = new PreparedQuery<IListTasksOldestParams,IListTasksOldestResult>(listTasksOldestIR);


/** 'ListTasksOldestByCompleted' parameters type */
export interface IListTasksOldestByCompletedParams {
  completed: boolean;
  cursorAt: DateOrString;
  cursorId: string;
  limit: NumberOrString;
  userId: string;
}

/** 'ListTasksOldestByCompleted' return type */
export interface IListTasksOldestByCompletedResult {
  completed: boolean;
  /** set when completed turns true, cleared when it turns false (todo_chat.tasks_track_completion). */
  completedAt: Date | null;
  createdAt: Date;
  description: string;
  id: string;
  title: string;
  updatedAt: Date;
  /** starts at 1, bumped by every update (todo_chat.touch_row); update/delete may require an expected version. */
  version: number;
}

/** 'ListTasksOldestByCompleted' query type */
export interface IListTasksOldestByCompletedQuery {
  params: IListTasksOldestByCompletedParams;
  result: IListTasksOldestByCompletedResult;
}

const listTasksOldestByCompletedIR: any = {"usedParamSet":{"userId":true,"completed":true,"cursorAt":true,"cursorId":true,"limit":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":174,"b":181}]},{"name":"completed","required":true,"transform":{"type":"scalar"},"locs":[{"a":201,"b":211}]},{"name":"cursorAt","required":true,"transform":{"type":"scalar"},"locs":[{"a":239,"b":248}]},{"name":"cursorId","required":true,"transform":{"type":"scalar"},"locs":[{"a":264,"b":273}]},{"name":"limit","required":true,"transform":{"type":"scalar"},"locs":[{"a":312,"b":318}]}],"statement":"select id, title, description, completed, completed_at as \"completedAt\", version,\n  created_at as \"createdAt\", updated_at as \"updatedAt\"\nfrom todo_chat.tasks\nwhere user_id = :userId!\n  and completed = :completed!\n  and (created_at, id) > (:cursorAt!::timestamptz, :cursorId!::uuid)\norder by created_at, id\nlimit :limit!                                                                                                                                                                                                                    "};

/**
 * Query generated from SQL:
 * ```
 * select id, title, description, completed, completed_at as "completedAt", version,
 *   created_at as "createdAt", updated_at as "updatedAt"
 * from todo_chat.tasks
 * where user_id = :userId!
 *   and completed = :completed!
 *   and (created_at, id) > (:cursorAt!::timestamptz, :cursorId!::uuid)
 * order by created_at, id
 * limit :limit!                                                                                                                                                                                                                    
 * ```
 */
export const listTasksOldestByCompleted = new PreparedQuery<IListTasksOldestByCompletedParams,IListTasksOldestByCompletedResult>(listTasksOldestByCompletedIR);


/** 'UpdateTask' parameters type */
export interface IUpdateTaskParams {
  completed?: boolean | null | void;
  description?: string | null | void;
  expectedVersion?: number | null | void;
  id: string;
  title?: string | null | void;
}

/** 'UpdateTask' return type */
export interface IUpdateTaskResult {
  completed: boolean;
  /** set when completed turns true, cleared when it turns false (todo_chat.tasks_track_completion). */
  completedAt: Date | null;
  createdAt: Date;
  description: string;
  id: string;
  title: string;
  updatedAt: Date;
  /** starts at 1, bumped by every update (todo_chat.touch_row); update/delete may require an expected version. */
  version: number;
}

/** 'UpdateTask' query type */
export interface IUpdateTaskQuery {
  params: IUpdateTaskParams;
  result: IUpdateTaskResult;
}

const updateTaskIR: any = {"usedParamSet":{"title":true,"description":true,"completed":true,"id":true,"expectedVersion":true},"params":[{"name":"title","required":false,"transform":{"type":"scalar"},"locs":[{"a":44,"b":49}]},{"name":"description","required":false,"transform":{"type":"scalar"},"locs":[{"a":85,"b":96}]},{"name":"completed","required":false,"transform":{"type":"scalar"},"locs":[{"a":136,"b":145}]},{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":170,"b":173}]},{"name":"expectedVersion","required":false,"transform":{"type":"scalar"},"locs":[{"a":182,"b":197},{"a":229,"b":244}]}],"statement":"update todo_chat.tasks\nset title = coalesce(:title, title),\n  description = coalesce(:description, description),\n  completed = coalesce(:completed, completed)\nwhere id = :id!\n  and (:expectedVersion::integer is null or version = :expectedVersion::integer)\nreturning id, title, description, completed, completed_at as \"completedAt\", version,\n  created_at as \"createdAt\", updated_at as \"updatedAt\"                                                                                                "};

/**
 * Query generated from SQL:
 * ```
 * update todo_chat.tasks
 * set title = coalesce(:title, title),
 *   description = coalesce(:description, description),
 *   completed = coalesce(:completed, completed)
 * where id = :id!
 *   and (:expectedVersion::integer is null or version = :expectedVersion::integer)
 * returning id, title, description, completed, completed_at as "completedAt", version,
 *   created_at as "createdAt", updated_at as "updatedAt"                                                                                                
 * ```
 */
export const updateTask = new PreparedQuery<IUpdateTaskParams,IUpdateTaskResult>(updateTaskIR);


/** 'DeleteTask' parameters type */
export interface IDeleteTaskParams {
  expectedVersion?: number | null | void;
  id: string;
}

/** 'DeleteTask' return type */
export interface IDeleteTaskResult {
  id: string;
}

/** 'DeleteTask' query type */
export interface IDeleteTaskQuery {
  params: IDeleteTaskParams;
  result: IDeleteTaskResult;
}

const deleteTaskIR: any = {"usedParamSet":{"id":true,"expectedVersion":true},"params":[{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":39,"b":42}]},{"name":"expectedVersion","required":false,"transform":{"type":"scalar"},"locs":[{"a":51,"b":66},{"a":98,"b":113}]}],"statement":"delete from todo_chat.tasks\nwhere id = :id!\n  and (:expectedVersion::integer is null or version = :expectedVersion::integer)\nreturning id                                                                                                                                                                                                                                      "};

/**
 * Query generated from SQL:
 * ```
 * delete from todo_chat.tasks
 * where id = :id!
 *   and (:expectedVersion::integer is null or version = :expectedVersion::integer)
 * returning id                                                                                                                                                                                                                                      
 * ```
 */
export const deleteTask = new PreparedQuery<IDeleteTaskParams,IDeleteTaskResult>(deleteTaskIR);


/** 'ExportTasks' parameters type */
export interface IExportTasksParams {
  afterId: string;
  limit: NumberOrString;
  userId: string;
}

/** 'ExportTasks' return type */
export interface IExportTasksResult {
  completed: boolean;
  /** set when completed turns true, cleared when it turns false (todo_chat.tasks_track_completion). */
  completedAt: Date | null;
  createdAt: Date;
  description: string;
  id: string;
  title: string;
  updatedAt: Date;
  /** starts at 1, bumped by every update (todo_chat.touch_row); update/delete may require an expected version. */
  version: number;
}

/** 'ExportTasks' query type */
export interface IExportTasksQuery {
  params: IExportTasksParams;
  result: IExportTasksResult;
}

const exportTasksIR: any = {"usedParamSet":{"userId":true,"afterId":true,"limit":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":174,"b":181}]},{"name":"afterId","required":true,"transform":{"type":"scalar"},"locs":[{"a":194,"b":202}]},{"name":"limit","required":true,"transform":{"type":"scalar"},"locs":[{"a":228,"b":234}]}],"statement":"select id, title, description, completed, completed_at as \"completedAt\", version,\n  created_at as \"createdAt\", updated_at as \"updatedAt\"\nfrom todo_chat.tasks\nwhere user_id = :userId!\n  and id > :afterId!::uuid\norder by id\nlimit :limit!"};

/**
 * Query generated from SQL:
 * ```
 * select id, title, description, completed, completed_at as "completedAt", version,
 *   created_at as "createdAt", updated_at as "updatedAt"
 * from todo_chat.tasks
 * where user_id = :userId!
 *   and id > :afterId!::uuid
 * order by id
 * limit :limit!
 * ```
 */
export const exportTasks = new PreparedQuery<IExportTasksParams,IExportTasksResult>(exportTasksIR);


