// What keeps one live stream in step with the feed: on each wake (a signal
// for its tenant, a heartbeat) it reads the feed after the last sequence it
// sent and sends what it finds, page after page until a page comes short.
// Never two reads at once: a wake during a read asks for one more read after
// it, however many wakes came (a burst of signals costs two reads, not one
// each), and the read after the last event sent can neither skip nor repeat
// one, because a tenant's sequences are committed in order (domain/events/
// record.ts). Sends wait for the socket (back-pressure), so a slow reader
// holds one page in memory at most and the rest waits in the table.
import type { Event } from '../../domain/events/schemas.ts'

export type FeedPump = {
  wake(): void
  /** the last sequence sent */
  readonly last: number
  /** settles when no read is running or asked for */
  idle(): Promise<void>
}

export function createFeedPump(opts: {
  /** the sequence to read after */
  after: number
  pageSize: number
  /** the events after `after`, at most pageSize; null when the stream is over */
  readPage(after: number): Promise<Event[] | null>
  /** false when the stream is over */
  send(event: Event): Promise<boolean>
  /** a read that failed: the next wake tries again */
  onError(err: unknown): void
}): FeedPump {
  let last = opts.after
  let running: Promise<void> | null = null
  let again = false

  async function pass(): Promise<void> {
    for (;;) {
      const page = await opts.readPage(last)
      if (page === null) return
      for (const event of page) {
        if (!(await opts.send(event))) return
        last = event.sequence
      }
      if (page.length < opts.pageSize) return
    }
  }

  function wake(): void {
    if (running) {
      again = true
      return
    }
    again = false
    running = pass()
      .catch(opts.onError)
      .finally(() => {
        running = null
        if (again) wake()
      })
  }

  return {
    wake,
    get last() {
      return last
    },
    async idle() {
      while (running) await running
    },
  }
}
