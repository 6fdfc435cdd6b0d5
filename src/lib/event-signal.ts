// "Tenant T has new events": said after a commit that may have written event
// rows, so that whoever waits on them (the live streams in every api copy, the
// webhook relay in the worker) reads the events table at once instead of at
// its next poll. A signal carries the tenant id and nothing else: the table is
// the truth, so a signal lost (Redis away) only delays, and a signal for a
// commit that wrote no event costs one read that finds nothing.
// Across processes it goes over Redis pub/sub (ARCHITECTURE.md); in local mode
// (no Redis) within the process.
import { EventEmitter } from 'node:events'
import type { Redis } from 'ioredis'

export type EventSignal = {
  /** Says the tenant has new events; never throws, never waits on Redis. */
  publish(tenantId: string): void
  /** Calls `listener` on every signal, this process's own included; returns the unsubscribe. */
  subscribe(listener: (tenantId: string) => void): () => void
  close(): Promise<void>
}

export function createEventSignal(opts: {
  redis: Redis | null
  channelPrefix: string
}): EventSignal {
  const local = new EventEmitter()
  local.setMaxListeners(0)
  const { redis } = opts
  if (!redis) {
    return {
      publish: (tenantId) => {
        setImmediate(() => local.emit('signal', tenantId))
      },
      subscribe(listener) {
        local.on('signal', listener)
        return () => local.off('signal', listener)
      },
      async close() {
        local.removeAllListeners()
      },
    }
  }
  const channel = `${opts.channelPrefix}:events`
  // A connection of its own, made on the first subscribe: one in subscriber
  // mode can do nothing else, and a process that only publishes (mail-in)
  // needs none. It queues its SUBSCRIBE while offline and ioredis subscribes
  // again on reconnect.
  let subscriber: Redis | null = null
  const listen = () => {
    if (subscriber) return
    const connection = redis.duplicate({ enableOfflineQueue: true, lazyConnect: true })
    subscriber = connection
    connection.on('error', () => {})
    connection.on('message', (_channel: string, tenantId: string) => local.emit('signal', tenantId))
    connection.connect().catch(() => {})
    // Not awaited: a Redis down at start must not hold the process's start up.
    connection.subscribe(channel).catch(() => {})
  }
  return {
    publish(tenantId) {
      redis.publish(channel, tenantId).catch(() => {})
    },
    subscribe(listener) {
      listen()
      local.on('signal', listener)
      return () => local.off('signal', listener)
    },
    async close() {
      local.removeAllListeners()
      const connection = subscriber
      if (connection) await connection.quit().catch(() => connection.disconnect())
    },
  }
}
