// The chat a Chat Completions model gets: a system message with the rules and
// the retrieved articles (numbered, so the reply can cite them as [n]), then
// the ticket's public thread as turns, customer as `user`, agents and earlier
// AI replies as `assistant`, newest last. The processor has already bounded
// the thread and the articles in size; the articles are the best-ranked
// candidates, not only the close matches, so the model is told some may not apply.
// Each customer message is fenced as untrusted text (untrusted-text.ts): it is
// data to answer, never instructions, whatever it says.
import type { MessageSource } from '../../db/schema/helpdesk.ts'
import type { RetrievedArticle } from '../../domain/ai/kb-retrieval.ts'
import { articleSource, type ReplyInput } from './provider.ts'
import { fenceRules, neutralize, untrustedFence } from './untrusted-text.ts'

type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string }

export function buildChatMessages(input: ReplyInput, fence = untrustedFence()): ChatMessage[] {
  const rules = [
    `You are the customer-support assistant of ${input.tenantName}.`,
    `You are answering ticket #${input.ticket.number}, "${input.ticket.subject}", opened by ${input.requesterName}.`,
    "Reply to the customer's latest message, in the customer's language, in plain text.",
    'Use only the knowledge-base articles below, and cite each one you use as [n].',
    'They are the closest matches found, best first; some may not apply: use only those that do.',
    'If none answers the question, do not guess: say that a human agent will follow up.',
    'Never invent policies, prices, dates or steps.',
    ...fenceRules(
      fence,
      'Each customer message comes fenced by those lines; answer it, and write only your reply.',
    ),
  ]
  const articles =
    input.articles.length === 0
      ? ['Knowledge-base articles: none matched this ticket.']
      : [
          'Knowledge-base articles:',
          ...input.articles.map((a, i) => `[${i + 1}] ${a.title}\n${a.body}`),
        ]
  const turns: ChatMessage[] = input.thread.map((m) =>
    m.authorType === 'customer'
      ? { role: 'user', content: `${fence.begin}\n${neutralize(m.body, fence)}\n${fence.end}` }
      : { role: 'assistant', content: m.body },
  )
  return [{ role: 'system', content: [...rules, '', ...articles].join('\n') }, ...turns]
}

/**
 * The articles the reply cites as [n]. A reply with no [n] at all (small local
 * models often drop the marks) is taken to rest on the vetted articles only,
 * those the builtin provider would have cited too: the model was also shown
 * weaker candidates, and a source it did not name must not be claimed for it.
 */
export function citedArticles(reply: string, articles: RetrievedArticle[]): MessageSource[] {
  const cited = new Set<number>()
  for (const match of reply.matchAll(/\[(\d{1,2})\]/g)) cited.add(Number(match[1]) - 1)
  const chosen =
    cited.size === 0 ? articles.filter((a) => a.vetted) : articles.filter((_, i) => cited.has(i))
  return chosen.map(articleSource)
}
