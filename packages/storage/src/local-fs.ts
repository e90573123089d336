import { randomUUID } from "node:crypto";
import { copyFile, mkdir as fsMkdir, open, readdir, rename, stat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";

/** Whether an fs error means "there is no such file" (including a path through a regular file). */
export function isNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

const existingDirs = new Set<string>();

/**
 * `mkdir -p`, remembered per process: every stored output would otherwise spend several thread-pool
 * round trips re-creating directories that exist. A directory removed behind our back makes the
 * next write fail with ENOENT, which forgets the cache, so the caller's retry recreates it.
 */
export async function ensureDir(dir: string): Promise<void> {
  if (existingDirs.has(dir)) return;
  await fsMkdir(dir, { recursive: true });
  if (existingDirs.size > 10_000) existingDirs.clear();
  existingDirs.add(dir);
}

/** Forget remembered directories (after a sweep or a failure that may mean one was removed). */
export function forgetDirectories(): void {
  existingDirs.clear();
}

/** Flush a file's data to disk so that a rename right after it cannot expose an empty file after a crash. */
export async function fsyncFile(filePath: string): Promise<void> {
  const handle = await open(filePath, "r");
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** Remove a file; a missing one is fine. */
export async function unlinkIfExists(filePath: string): Promise<void> {
  try {
    await unlink(filePath);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** A unique scratch path inside `tmpDir`. */
export function scratchPath(tmpDir: string, suffix: string): string {
  return path.join(tmpDir, `${randomUUID()}${suffix}`);
}

/**
 * Write `data` to `destPath` through a scratch file in `tmpDir` (same filesystem) and a rename, so
 * readers never see a half-written file.
 */
export async function writeFileAtomic(destPath: string, data: string, tmpDir: string): Promise<void> {
  await ensureDir(tmpDir);
  await ensureDir(path.dirname(destPath));
  const scratch = scratchPath(tmpDir, ".write");
  try {
    await writeFile(scratch, data, { flush: true });
    await rename(scratch, destPath);
  } catch (error) {
    if (isNotFound(error)) forgetDirectories();
    await unlinkIfExists(scratch);
    throw error;
  }
}

/**
 * Move `srcPath` to `destPath` atomically. When the source is on another filesystem (EXDEV) it is
 * first copied into `tmpDir`, which is on the destination's filesystem, then renamed.
 */
export async function moveFileAtomic(srcPath: string, destPath: string, tmpDir: string): Promise<void> {
  await ensureDir(path.dirname(destPath));
  try {
    await rename(srcPath, destPath);
    return;
  } catch (error) {
    if (isNotFound(error)) forgetDirectories();
    if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
  }
  await ensureDir(tmpDir);
  const scratch = scratchPath(tmpDir, ".copy");
  try {
    await copyFile(srcPath, scratch);
    await fsyncFile(scratch);
    await rename(scratch, destPath);
  } catch (error) {
    await unlinkIfExists(scratch);
    throw error;
  }
  await unlinkIfExists(srcPath);
}

/**
 * Delete the files directly in `dir` last modified more than `olderThanMs` milliseconds before
 * `nowMs` (downloads abandoned by a crash); returns how many were removed. A missing `dir` is fine.
 */
export async function sweepDir(dir: string, olderThanMs: number, nowMs = Date.now()): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (isNotFound(error)) return 0;
    throw error;
  }
  let removed = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      const info = await stat(file);
      if (info.isFile() && nowMs - info.mtimeMs > olderThanMs) {
        await unlinkIfExists(file);
        removed += 1;
      }
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  return removed;
}
