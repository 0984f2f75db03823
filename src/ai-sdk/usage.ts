/**
 * A run's usage as the AI SDK reports it, in the form the library records:
 * the tokens of `totalUsage` (all steps), one request per step, the model id
 * of the response. Reads a `streamText` result (whose fields are promises),
 * a `generateText` result, or the event of `streamText`'s onFinish.
 */
import type { RunUsage } from './messages.js';

/** The token counts of the AI SDK's LanguageModelUsage (undefined when the provider did not report one). */
export interface AiSdkTokenUsage {
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
}

type MaybePromise<T> = T | PromiseLike<T>;

/** What aiSdkUsage reads of a run: a StreamTextResult, a GenerateTextResult or an onFinish event. */
export interface AiSdkRunLike {
  totalUsage?: MaybePromise<AiSdkTokenUsage>;
  usage?: MaybePromise<AiSdkTokenUsage>;
  steps?: MaybePromise<readonly unknown[]>;
  response?: MaybePromise<{ modelId?: string }>;
}

export interface AiSdkUsageOptions {
  /** The model's id, when the response does not name it. */
  model?: string;
  /** The run's id, to make recording it again a no-op (a retry) rather than a second run. */
  id?: string;
}

/** The usage of a finished run, for saveUIMessages({ usage }) or tx.usage.record. Tokens a provider did not report count as 0. */
export async function aiSdkUsage(run: AiSdkRunLike, options: AiSdkUsageOptions = {}): Promise<RunUsage> {
  const [total, steps, response] = await Promise.all([run.totalUsage ?? run.usage, run.steps, run.response]);
  const model = options.model ?? response?.modelId ?? '';
  return {
    model,
    requests: Math.max(steps?.length ?? 1, 1),
    inputTokens: total?.inputTokens ?? 0,
    outputTokens: total?.outputTokens ?? 0,
    ...(options.id === undefined ? {} : { id: options.id }),
  };
}
