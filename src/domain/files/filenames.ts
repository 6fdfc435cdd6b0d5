// The name a file is offered under. It comes from a client (a multipart part,
// an email's attachment) and is only ever shown and offered back in a
// Content-Disposition: never a path, never part of a storage key. So it is cut
// to its last path segment and cleaned of what could mislead a reader or a
// browser: control characters, bidirectional overrides ("invoice‮fdp.exe"
// reads as "invoiceexe.pdf"), leading dots (hidden files, "..").

const MAX_CHARACTERS = 200

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

export function safeFilename(name: string | undefined, fallback = 'file'): string {
  const base = (name ?? '').split(/[/\\]/).pop() ?? ''
  const cleaned = base.normalize('NFC').replace(CONTROL, '').replace(BIDI, '').trim()
  const visible = cleaned.replace(/^\.+/, '').trim()
  if (!visible) return fallback
  const characters = Array.from(visible)
  if (characters.length <= MAX_CHARACTERS) return visible
  // Too long: keep the extension, which is what tells a reader what the file is.
  const dot = visible.lastIndexOf('.')
  const extension = dot > 0 ? Array.from(visible.slice(dot)).slice(0, 16).join('') : ''
  const stem = Array.from(extension ? visible.slice(0, dot) : visible)
  return stem.slice(0, MAX_CHARACTERS - extension.length).join('') + extension
}
