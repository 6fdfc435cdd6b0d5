// A Server-Sent Events client for tests: a real HTTP request (fetch) to a
// listening app, its body read as it arrives and split into messages and
// comments the way a browser's EventSource does, without reconnecting (a test
// reconnects by opening again, with Last-Event-ID).
export type SseMessage = { id?: string; event?: string; data: string; retry?: number }

export type EventStreamClient = {
  status: number
  headers: Headers
  /** the body, when the answer is not a stream (a problem) */
  body: string
  messages: SseMessage[]
  comments: string[]
  /** resolves when the server ends the stream (or the connection drops) */
  ended: Promise<void>
  /** the first message (from the start) that matches, waiting up to timeoutMs for it */
  next(match: (m: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage>
  /** waits until at least `count` comments arrived */
  comment(count: number, timeoutMs?: number): Promise<unknown>
  close(): void
}

export async function openEventStream(
  url: string,
  headers: Record<string, string>,
): Promise<EventStreamClient> {
  const abort = new AbortController()
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  })
  const messages: SseMessage[] = []
  const comments: string[] = []
  const waiters = new Set<() => void>()
  const notify = () => {
    for (const w of waiters) w()
  }
  let done = false

  const isStream =
    res.status === 200 && res.headers.get('content-type')?.startsWith('text/event-stream')
  const body = isStream ? '' : await res.text()

  const ended = (async () => {
    if (!isStream || !res.body) return
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true })
        let end = buffer.indexOf('\n\n')
        while (end !== -1) {
          parseBlock(buffer.slice(0, end), messages, comments)
          buffer = buffer.slice(end + 2)
          end = buffer.indexOf('\n\n')
        }
        notify()
      }
    } catch {
      // aborted by close(), or the connection dropped
    } finally {
      done = true
      notify()
    }
  })()

  function waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = () => {
        const found = check()
        if (found !== undefined) {
          cleanup()
          resolve(found)
        } else if (done) {
          cleanup()
          reject(new Error(`stream ended before ${what}`))
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`timed out waiting for ${what}`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        waiters.delete(attempt)
      }
      waiters.add(attempt)
      attempt()
    })
  }

  return {
    status: res.status,
    headers: res.headers,
    body,
    messages,
    comments,
    ended,
    next: (match, timeoutMs = 5000) =>
      waitFor(() => messages.find(match), timeoutMs, 'a matching message'),
    comment: (count, timeoutMs = 5000) =>
      waitFor(() => (comments.length >= count ? true : undefined), timeoutMs, `${count} comments`),
    close: () => abort.abort(),
  }
}

function parseBlock(block: string, messages: SseMessage[], comments: string[]) {
  const message: SseMessage = { data: '' }
  const data: string[] = []
  let isMessage = false
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      comments.push(line.slice(1).trim())
      continue
    }
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'data') data.push(value)
    else if (field === 'id') message.id = value
    else if (field === 'event') message.event = value
    else if (field === 'retry') message.retry = Number(value)
    else continue
    isMessage = true
  }
  if (!isMessage) return
  message.data = data.join('\n')
  messages.push(message)
}
