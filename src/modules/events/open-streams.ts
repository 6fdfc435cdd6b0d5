// The live event streams this api process holds open (GET /v1/events/stream):
// at most EVENT_STREAM_MAX_PER_PROCESS of them, so a crowd of idle clients
// cannot take every socket and file descriptor of the process; each woken when
// a signal for its tenant arrives (one subscription to app.eventSignal for
// all of them, dispatched by tenant); every one ended when the app closes, so
// open sockets never hold a shutdown up.
import type { EventSignal } from '../../lib/event-signal.ts'

export type OpenStream = {
  tenantId: string
  /** the tenant has new events: read them */
  wake(): void
  /** the app is closing: end the response now */
  end(): void
}

export type OpenStreams = {
  readonly size: number
  /** holds a place for the stream; false when all are taken or the app is closing */
  add(stream: OpenStream): boolean
  remove(stream: OpenStream): void
  /** ends every stream and takes no more */
  closeAll(): void
}

export function createOpenStreams(opts: { max: number; signal: EventSignal }): OpenStreams {
  const byTenant = new Map<string, Set<OpenStream>>()
  let size = 0
  let closing = false
  const unsubscribe = opts.signal.subscribe((tenantId) => {
    const streams = byTenant.get(tenantId)
    if (streams) for (const stream of streams) stream.wake()
  })

  return {
    get size() {
      return size
    },
    add(stream) {
      if (closing || size >= opts.max) return false
      let streams = byTenant.get(stream.tenantId)
      if (!streams) {
        streams = new Set()
        byTenant.set(stream.tenantId, streams)
      }
      streams.add(stream)
      size++
      return true
    },
    remove(stream) {
      const streams = byTenant.get(stream.tenantId)
      if (!streams?.delete(stream)) return
      size--
      if (streams.size === 0) byTenant.delete(stream.tenantId)
    },
    closeAll() {
      closing = true
      unsubscribe()
      for (const streams of [...byTenant.values()]) {
        for (const stream of [...streams]) stream.end()
      }
    },
  }
}
