// A small in-process cache for hot per-request lookups (tenant by id or slug, a
// user's membership in a tenant) whose entries every api copy drops at once
// when the underlying row changes: invalidate() deletes locally and publishes
// on a Redis channel that every copy subscribes to. The TTL bounds staleness
// when Redis is unreachable (and is the only bound in local mode).
import type { Redis } from 'ioredis'

export type InvalidatingCache<V> = {
  get(key: string, load: () => Promise<V>): Promise<V>
  /** drops `key`, or every key starting with it when it ends with ':' */
  invalidate(key: string): Promise<void>
  close(): Promise<void>
}

export async function createInvalidatingCache<V>(opts: {
  name: string
  ttlMs: number
  maxEntries: number
  redis: Redis | null
  channelPrefix: string
}): Promise<InvalidatingCache<V>> {
  const entries = new Map<string, { value: V; expires: number }>()
  const channel = `${opts.channelPrefix}:invalidate:${opts.name}`

  const dropLocal = (key: string) => {
    if (!key.endsWith(':')) {
      entries.delete(key)
      return
    }
    for (const k of entries.keys()) if (k.startsWith(key)) entries.delete(k)
  }

  let subscriber: Redis | null = null
  if (opts.redis) {
    subscriber = opts.redis.duplicate({ enableOfflineQueue: true, lazyConnect: true })
    subscriber.on('error', () => {})
    subscriber.on('message', (_channel, key: string) => dropLocal(key))
    try {
      await subscriber.connect()
      await subscriber.subscribe(channel)
    } catch {
      // Redis down at start: the TTL still bounds staleness; ioredis resubscribes on reconnect.
    }
  }

  return {
    async get(key, load) {
      const now = Date.now()
      const hit = entries.get(key)
      if (hit && hit.expires > now) return hit.value
      const value = await load()
      if (entries.size >= opts.maxEntries) entries.clear()
      entries.set(key, { value, expires: now + opts.ttlMs })
      return value
    },
    async invalidate(key) {
      dropLocal(key)
      await opts.redis?.publish(channel, key).catch(() => {})
    },
    async close() {
      entries.clear()
      if (subscriber) await subscriber.quit().catch(() => subscriber?.disconnect())
    },
  }
}
