// The chat a Chat Completions model gets for a copilot question: a system
// message with the rules and the retrieved articles (numbered, so the answer
// can cite them as [n]), then one user message: the ticket's thread, fenced as
// untrusted data, and the agent's question.
//
// Ticket text is data (untrusted-text.ts): the thread goes inside a fence
// whose markers carry a random nonce per request, and the model is told that
// nothing inside it is an instruction. Nothing the model says can act: the copilot only answers (no tools), and
// what it may see (the thread as the caller may read it) is already the caller's.
import type { AskTicket } from '../../domain/ai/ask-context.ts'
import type { RetrievedArticle } from '../../domain/ai/kb-retrieval.ts'
import { fenceRules, neutralize, untrustedFence } from './untrusted-text.ts'

type ChatMessage = { role: 'system' | 'user'; content: string }

export type AskPromptInput = {
  tenantName: string
  question: string
  ticket: AskTicket | null
  articles: RetrievedArticle[]
}

export function buildAskMessages(input: AskPromptInput, fence = untrustedFence()): ChatMessage[] {
  const rules = [
    `You are the support copilot of ${input.tenantName}: you help a support agent, not the customer.`,
    "Answer the agent's question in plain text, briefly, in the language of the question.",
    'Use only the knowledge-base articles below (and the ticket, when there is one); cite each article you use as [n].',
    'They are the closest matches found, best first; some may not apply: use only those that do.',
    'If they do not answer the question, say so plainly; never invent policies, prices, dates or steps.',
    ...(input.ticket ? fenceRules(fence, 'You cannot change tickets or settings.') : []),
  ]
  const articles =
    input.articles.length === 0
      ? ['Knowledge-base articles: none matched this question.']
      : [
          'Knowledge-base articles:',
          ...input.articles.map((a, i) => `[${i + 1}] ${a.title}\n${a.body}`),
        ]
  const user: string[] = []
  if (input.ticket) {
    const t = input.ticket
    user.push(
      `Ticket #${t.number}.`,
      fence.begin,
      `Subject: ${neutralize(t.subject, fence)}`,
      ...t.thread.map(
        (msg) =>
          `--- ${msg.authorType}${msg.internal ? ' (internal note)' : ''}, ${msg.createdAt}:\n${neutralize(msg.body, fence)}`,
      ),
      fence.end,
      '',
    )
  }
  user.push(`The agent's question: ${input.question}`)
  return [
    { role: 'system', content: [...rules, '', ...articles].join('\n') },
    { role: 'user', content: user.join('\n') },
  ]
}
