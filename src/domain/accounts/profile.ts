// A user's own profile: the name, and the avatar image. An avatar is a PNG,
// JPEG, GIF or WebP by its magic bytes (never SVG, which is a document that
// can run scripts), at most 2 MiB, stored as `users/<userId>/<uuid>.<ext>`:
// the extension is the sniffed type, so the key alone says what to serve it
// as, and a new avatar is a new key, so its URL (with ?v=) changes and caches
// never show the old one. Replacing or removing an avatar deletes the old file
// after the row has moved on; if that deletion fails the file is an orphan no
// row names.
import { eq, sql } from 'drizzle-orm'
import { fileTypeStream } from 'file-type'
import { uuidv7 } from 'uuidv7'
import type { DatabaseHandle } from '../../db/client.ts'
import { users } from '../../db/schema/users.ts'
import { withScope } from '../../db/scoped.ts'
import { Problem, Unauthorized } from '../../lib/problems.ts'
import type { Storage } from '../../lib/storage/storage.ts'
import type { IncomingFile } from '../files/attachments.ts'
import { storeUpload } from '../files/upload.ts'
import { type PublicUser, publicUser } from './accounts.ts'

export const AVATAR_MAX_BYTES = 2 * 1024 * 1024

/** The image types an avatar may be, and the extension its key carries. */
const AVATAR_TYPES: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
}
const TYPE_OF_EXTENSION = Object.fromEntries(
  Object.entries(AVATAR_TYPES).map(([type, extension]) => [extension, type]),
)

const accountGone = () => new Unauthorized('invalid_token', 'The account no longer exists.')

/** Changes the signed-in user's name (trimmed). */
export async function renameUser(
  database: DatabaseHandle,
  userId: string,
  name: string,
): Promise<PublicUser> {
  const [user] = await withScope(database, { userId }, (tx) =>
    tx
      .update(users)
      .set({ name: name.trim(), updatedAt: sql`now()` })
      .where(eq(users.id, userId))
      .returning(),
  )
  if (!user) throw accountGone()
  return publicUser(user)
}

/**
 * Stores an avatar image, not yet anyone's (useAvatar makes it the user's),
 * and answers its key. The type is read from the first bytes before anything
 * is stored: anything but the four image types is 415 image_required, and a
 * file over AVATAR_MAX_BYTES is 413, with nothing kept either way.
 */
export async function storeAvatar(
  storage: Storage,
  userId: string,
  file: IncomingFile,
): Promise<string> {
  const sniffed = await fileTypeStream(file.stream, { sampleSize: 4100 })
  const extension = AVATAR_TYPES[sniffed.fileType?.mime ?? '']
  if (!extension) {
    throw new Problem('image_required', 'An avatar must be a PNG, JPEG, GIF or WebP image.')
  }
  const key = `users/${userId}/${uuidv7()}.${extension}`
  await storeUpload(storage, key, sniffed, { maxBytes: AVATAR_MAX_BYTES, declaredType: undefined })
  return key
}

/**
 * Makes a stored avatar (storeAvatar) the user's, then deletes the one it
 * replaces; if the row cannot take it, the new file is deleted instead.
 */
export async function useAvatar(
  database: DatabaseHandle,
  storage: Storage,
  userId: string,
  key: string,
): Promise<PublicUser> {
  const swapped = await swapAvatarKey(database, userId, key).catch(async (err: unknown) => {
    await storage.delete(key).catch(() => {})
    throw err
  })
  if (swapped.replaced) await storage.delete(swapped.replaced).catch(() => {})
  return publicUser(swapped.user)
}

/** Removes the user's avatar, row first, then its file. */
export async function removeAvatar(
  database: DatabaseHandle,
  storage: Storage,
  userId: string,
): Promise<void> {
  const { replaced } = await swapAvatarKey(database, userId, null)
  if (replaced) await storage.delete(replaced).catch(() => {})
}

/** Sets avatar_key and answers the key it replaced, under a lock so two changes cannot lose one. */
async function swapAvatarKey(database: DatabaseHandle, userId: string, key: string | null) {
  return withScope(database, { userId }, async (tx) => {
    const [current] = await tx
      .select({ avatarKey: users.avatarKey })
      .from(users)
      .where(eq(users.id, userId))
      .for('update')
    if (!current) throw accountGone()
    const [user] = await tx
      .update(users)
      .set({ avatarKey: key, updatedAt: sql`now()` })
      .where(eq(users.id, userId))
      .returning()
    return { replaced: current.avatarKey, user: user as typeof users.$inferSelect }
  })
}

/** Where a user's avatar is and what it is, or null when they have none. */
export async function findAvatar(
  database: DatabaseHandle,
  userId: string,
): Promise<{ storageKey: string; contentType: string } | null> {
  const [row] = await withScope(database, {}, (tx) =>
    tx.select({ avatarKey: users.avatarKey }).from(users).where(eq(users.id, userId)),
  )
  const storageKey = row?.avatarKey
  if (!storageKey) return null
  const contentType = TYPE_OF_EXTENSION[storageKey.slice(storageKey.lastIndexOf('.') + 1)]
  return contentType ? { storageKey, contentType } : null
}
