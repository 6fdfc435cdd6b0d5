// Files on the local disk, under one folder: local mode's default, and enough
// for a single machine. A body is written to a temporary name beside its final
// one and renamed when complete, so a reader never sees half a file and a
// failed upload leaves nothing behind.
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { uuidv7 } from 'uuidv7'
import { assertStorageKey, type Storage } from './storage.ts'

export function localStorage(root: string): Storage {
  const pathOf = (key: string) => join(root, assertStorageKey(key))
  return {
    driver: 'local',
    async put(key, body) {
      const path = pathOf(key)
      await mkdir(dirname(path), { recursive: true })
      const partial = `${path}.${uuidv7()}.part`
      try {
        await pipeline(body, createWriteStream(partial, { flags: 'wx' }))
        await rename(partial, path)
      } catch (err) {
        await rm(partial, { force: true })
        throw err
      }
    },
    async get(key) {
      const stream = createReadStream(pathOf(key))
      // Opening is asynchronous: wait for it, so a missing file answers null
      // instead of an error in the middle of a response.
      return new Promise<Readable | null>((resolve, reject) => {
        stream.once('open', () => resolve(stream))
        stream.once('error', (err: NodeJS.ErrnoException) =>
          err.code === 'ENOENT' ? resolve(null) : reject(err),
        )
      })
    },
    async signedUrl() {
      return null
    },
    async delete(key) {
      await rm(pathOf(key), { force: true })
    },
    async close() {},
  }
}
