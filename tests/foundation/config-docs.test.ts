// The settings are written down in three places: src/config.ts (the truth),
// .env.example and the README's configuration table. This keeps them equal.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { SETTING_NAMES } from '../../src/config.ts'

function envExampleNames(): string[] {
  const text = readFileSync('.env.example', 'utf8')
  return [...text.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] as string)
}

function readmeTableNames(): string[] {
  const text = readFileSync('README.md', 'utf8')
  const start = text.indexOf('\n## Configuration')
  const end = text.indexOf('\n## ', start + 1)
  expect(start, 'README has a "## Configuration" section').toBeGreaterThan(0)
  const section = text.slice(start, end)
  return [...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)` /gm)].map((m) => m[1] as string)
}

describe('settings documentation', () => {
  it('.env.example lists every setting of src/config.ts once, and nothing else', () => {
    const names = envExampleNames()
    expect(new Set(names).size, 'no variable twice').toBe(names.length)
    expect([...names].sort()).toEqual([...SETTING_NAMES].sort())
  })

  it("the README's configuration table lists every setting once, and nothing else", () => {
    const names = readmeTableNames()
    expect(new Set(names).size, 'no variable twice').toBe(names.length)
    expect([...names].sort()).toEqual([...SETTING_NAMES].sort())
  })
})
