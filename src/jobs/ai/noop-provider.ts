// A provider that does no work: a fixed hand-off text, citing nothing. It
// exists for the job throughput benchmark (bench/jobs.ts, AI_PROVIDER=noop),
// which measures our queue and database bookkeeping without an LLM's latency.
import type { AiProvider } from './provider.ts'

export const noopProvider: AiProvider = {
  name: 'noop',
  model: 'noop',
  articles: 'vetted',
  async generateReply() {
    return { body: 'Thank you for your message: a member of our team will follow up.', sources: [] }
  },
}
