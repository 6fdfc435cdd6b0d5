// Tags of tickets and articles are stored normalised, so `Billing ` and
// `billing` are one tag of the tenant and a tag filter is an exact match.

/** Trimmed, lowercase, inner whitespace collapsed, unique, sorted. */
export function normaliseTags(tags: readonly string[]): string[] {
  const clean = tags.map((t) => t.trim().toLowerCase().replace(/\s+/g, ' ')).filter(Boolean)
  return [...new Set(clean)].sort()
}
