// Tags of tickets and articles: what one may be (the schema the routes
// validate), and how it is stored: normalised, so `Billing ` and `billing` are
// one tag of the tenant and a tag filter is an exact match.
import { Type } from 'typebox'

/** One tag as sent: not empty, no comma, at most 50 characters. */
export const Tag = Type.String({ minLength: 1, maxLength: 50, pattern: '^\\s*[^\\s,][^,]*$' })

/** Trimmed, lowercase, inner whitespace collapsed, unique, sorted. */
export function normaliseTags(tags: readonly string[]): string[] {
  const clean = tags.map((t) => t.trim().toLowerCase().replace(/\s+/g, ' ')).filter(Boolean)
  return [...new Set(clean)].sort()
}
