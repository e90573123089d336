import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The admin key for `pnpm start`: ACEBATCH_ADMIN_KEY when set; otherwise one generated on first
 * start and kept (mode 0600) under DATA_DIR so it survives restarts.
 */
export async function resolveAdminKey(configured: string | undefined, dataDir: string): Promise<{ key: string; generated: boolean }> {
  if (configured) return { key: configured, generated: false };
  const file = join(dataDir, "admin-key");
  try {
    const saved = (await readFile(file, "utf8")).trim();
    if (saved.length >= 16) return { key: saved, generated: true };
  } catch {
    // first start: create one below
  }
  const key = `ak_${randomBytes(24).toString("base64url")}`;
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return { key, generated: true };
}
