// What a tenant may read about a failed job. A job's `error` column is shown to
// the tenant (GET /v1/jobs/{id}) and copied into audit events, so an error that
// carries outside detail (a provider's response body, an upstream address, a
// key fragment) declares a public form, a stable code and a short safe message;
// runJob stores only that, and the detail goes to the log. Errors of our own
// making without one keep their message, which is written for the tenant.
export type PublicFailure = { code: string; message: string }

/** An error with a public form: `publicFailure` is all the tenant ever sees of it. */
type PubliclyDescribed = Error & { publicFailure: PublicFailure }

export function publicFailureOf(error: unknown): PublicFailure | undefined {
  const failure = (error as Partial<PubliclyDescribed> | null)?.publicFailure
  return failure && typeof failure.code === 'string' && typeof failure.message === 'string'
    ? failure
    : undefined
}

/** How a public failure is stored in the row's text `error` column. */
export function storedFailure(failure: PublicFailure): string {
  return `[${failure.code}] ${failure.message}`
}

/** A stored `error` read back: the code when it was stored with one, and the message. */
export function readStoredError(text: string): { code?: string; message: string } {
  const match = /^\[([a-z][a-z0-9_]*)\] (.+)$/s.exec(text)
  return match ? { code: match[1]!, message: match[2]! } : { message: text }
}
