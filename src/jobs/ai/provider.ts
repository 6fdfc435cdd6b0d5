// The AI reply provider interface and the choice of provider (AI_PROVIDER).
// The processor gathers the context once (the public thread, newest last, and
// the knowledge-base articles its policy picks: domain/ai/kb-retrieval.ts); a provider
// turns it into a reply and names the articles it cites.
import type { Config } from '../../config.ts'
import type { MessageSource } from '../../db/schema/helpdesk.ts'
import type { ArticlePolicy, RetrievedArticle } from '../../domain/ai/kb-retrieval.ts'
import type { ThreadMessage } from '../../domain/ai/reply-context.ts'
import type { ResolvedAiSettings } from '../../domain/ai/settings.ts'
import { builtinProvider } from './builtin-provider.ts'
import { noopProvider } from './noop-provider.ts'
import { openaiProvider } from './openai-provider.ts'

export type ReplyInput = {
  tenantName: string
  ticket: { id: string; number: number; subject: string }
  requesterName: string
  /** public customer, agent and AI messages, oldest first, bounded in count and size */
  thread: ThreadMessage[]
  /** published articles matching the customer's words, best first, as the provider's policy picks */
  articles: RetrievedArticle[]
}

export type Reply = {
  body: string
  sources: MessageSource[]
  /** what the call cost, as the provider counted it (none for the builtin provider) */
  usage?: { promptTokens: number; completionTokens: number }
}

export type AiProvider = {
  name: string
  /** the model the generations record names */
  model: string
  /** `vetted`: only articles past the relevance threshold; `ranked`: the best few, for a model */
  articles: ArticlePolicy
  generateReply(input: ReplyInput): Promise<Reply>
}

/** The provider of the tenant's resolved settings (domain/ai/settings.ts). */
export function providerFor(config: Config, settings: ResolvedAiSettings): AiProvider {
  switch (settings.provider) {
    case 'openai':
      return openaiProvider(config, settings)
    case 'noop':
      return noopProvider
    default:
      return builtinProvider
  }
}

export function articleSource(article: RetrievedArticle): MessageSource {
  return { kind: 'kb_article', id: article.id, title: article.title }
}
