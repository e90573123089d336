import type { Readable } from "node:stream";
import { CliError, EXIT } from "./exit-codes.ts";
import { readArgFile } from "./files.ts";

async function readStdin(stdin: (() => Readable) | undefined, flag: string): Promise<string> {
  if (!stdin) throw new CliError(EXIT.failure, `${flag} @- needs standard input`, { code: "file_unreadable" });
  const chunks: Buffer[] = [];
  for await (const chunk of stdin()) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A JSON object given inline (`'{"tags": "x"}'`), from a file (`@input.json`) or from stdin (`@-`).
 * Text that is not JSON, or JSON that is not an object, is bad input data: exit 65, exactly like
 * `runcomfy run --input` ("invalid input JSON").
 */
export async function readJsonObjectArg(raw: string, flag: string, stdin?: () => Readable): Promise<Record<string, unknown>> {
  let text = raw;
  let source = flag;
  if (raw.startsWith("@")) {
    const file = raw.slice(1);
    source = file === "-" ? `${flag} (stdin)` : `${flag} file ${file}`;
    text = file === "-" ? await readStdin(stdin, flag) : (await readArgFile(file, flag)).toString("utf8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(EXIT.dataErr, `invalid input JSON in ${source}: ${(err as Error).message}`, {
      code: "invalid_json",
      hints: raw.startsWith("@") ? [] : [`quote the JSON for your shell, e.g. ${flag} '{"tags": "lo-fi"}', or pass ${flag} @file.json`],
    });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    throw new CliError(EXIT.dataErr, `${source} must be a JSON object, got ${kind}`, { code: "invalid_json" });
  }
  return value as Record<string, unknown>;
}
