// The processor of each queue: the one map the worker and the api's local mode
// both run. A queue without an entry here is not consumed (its jobs wait,
// queued, for a version that has one).
import { processAiReply } from './ai/ai-reply-processor.ts'
import { processAiTriage } from './ai/triage-processor.ts'
import { processEmail } from './email/email-processor.ts'
import type { Processors } from './run-job.ts'
import { processWebhook } from './webhooks/webhook-processor.ts'

export const processors: Processors = {
  email: processEmail,
  'ai-reply': processAiReply,
  'ai-triage': processAiTriage,
  webhook: processWebhook,
}
