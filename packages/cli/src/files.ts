import { randomBytes } from "node:crypto";
import { readFile, rename, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { CliError, EXIT } from "./exit-codes.ts";

/** Read a file named on the command line; a missing or unreadable file exits 1, as in `runcomfy`. */
export async function readArgFile(path: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new CliError(EXIT.failure, `cannot read ${flag} file ${path}: ${code}`, { code: "file_unreadable" });
  }
}

/** Write `path` through a temp file and a rename, so readers never see half a file. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.part`);
  try {
    await writeFile(temp, data, { flag: "wx", mode: 0o644 });
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw new CliError(EXIT.failure, `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { code: "write_failed" });
  }
}
