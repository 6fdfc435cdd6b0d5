// The default provider: no network, no model. It answers only from the
// knowledge base: the articles the processor retrieved (full-text search over
// the tenant's published articles, kept only when they share enough of the
// customer's terms) are quoted, the passages around those terms, and cited.
// With no such article it says a human agent will follow up, never a guess.
import { type AiProvider, articleSource, type ReplyInput } from './provider.ts'

/** How many articles one reply quotes: more reads as a search result, not an answer. */
const MAX_QUOTED = 2

const HANDOFF_LINE =
  'I could not find an answer to this in our help articles, so I have passed your request ' +
  'on to our support team: a human agent will follow up here as soon as possible.'

export const builtinProvider: AiProvider = {
  name: 'builtin',
  model: 'builtin',
  // It cannot judge relevance, so it gets only what passed the threshold.
  articles: 'vetted',
  async generateReply(input: ReplyInput) {
    const greeting = `Hello ${input.requesterName},`
    const quoted = input.articles.slice(0, MAX_QUOTED)
    if (quoted.length === 0) {
      return {
        body: [greeting, '', `Thank you for your message. ${HANDOFF_LINE}`].join('\n'),
        sources: [],
      }
    }
    const [first, ...more] = quoted
    const lines = [
      greeting,
      '',
      'Thank you for your message. This article from our help centre should answer it:',
      '',
      ...quote(first!),
    ]
    for (const article of more) lines.push('', 'This one may help as well:', '', ...quote(article))
    lines.push(
      '',
      'If this does not solve it, reply here and a member of our support team will take it from there.',
    )
    return { body: lines.join('\n'), sources: quoted.map(articleSource) }
  },
}

function quote(article: { title: string; excerpt: string }): string[] {
  const text = article.excerpt.trim().replace(/\s+/g, ' ')
  return [`“${article.title}”`, ...(text ? [`> ${text}`] : [])]
}
