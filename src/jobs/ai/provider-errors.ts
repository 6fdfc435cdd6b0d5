// The ways an AI provider call fails, each with the stable code and the short
// safe message a tenant sees (in the job's error and the ai.reply_failed,
// ai.triage_failed or ai.summary_failed audit event). The message of the error
// itself keeps the detail (status, the provider's body, the address it could
// not reach) for the log only: a provider's body may quote part of the API
// key, an org id or an internal host.
import { UnrecoverableError } from 'bullmq'
import type { PublicFailure } from '../../domain/jobs/failures.ts'

export const AI_FAILURES = {
  ai_provider_unreachable: 'The AI provider could not be reached.',
  ai_timeout: 'The AI provider did not answer in time.',
  ai_provider_rejected:
    'The AI provider refused the request; check the AI settings (API key, model, address).',
  ai_provider_error: 'The AI provider answered with an error.',
  ai_budget_exceeded:
    'This tenant has used its monthly AI token budget; AI work resumes on the 1st (UTC) or with a larger budget.',
} as const

type AiFailureCode = keyof typeof AI_FAILURES

function failure(code: AiFailureCode): PublicFailure {
  return { code, message: AI_FAILURES[code] }
}

/** A failure the job may retry; `retryable` ones are also retried within the call. */
export class AiProviderError extends Error {
  readonly publicFailure: PublicFailure
  readonly retryable: boolean
  readonly retryAfterMs: number | undefined

  constructor(
    code: AiFailureCode,
    detail: string,
    opts: { retryable?: boolean; retryAfterMs?: number } = {},
  ) {
    super(detail)
    this.name = 'AiProviderError'
    this.publicFailure = failure(code)
    this.retryable = opts.retryable ?? false
    this.retryAfterMs = opts.retryAfterMs
  }
}

/** The provider refused our request (a 4xx other than 429): no retry, here or by the job. */
export class AiProviderRejected extends UnrecoverableError {
  readonly publicFailure: PublicFailure = failure('ai_provider_rejected')
}

/** The tenant's monthly token budget is spent: no call is made, and no retry would help. */
export class AiBudgetExceeded extends UnrecoverableError {
  readonly publicFailure: PublicFailure = failure('ai_budget_exceeded')
}
