import type { CliError } from "./exit-codes.ts";

/** The part of a stream the CLI writes to (process.stdout, or a string collector in tests). */
export interface TextSink {
  write(chunk: string): unknown;
  /** Terminal width, when the sink is a TTY. */
  columns?: number;
}

export interface OutputOptions {
  stdout: TextSink;
  stderr: TextSink;
  /** `--json`: stdout carries exactly the API's JSON and nothing else. */
  json: boolean;
  /** Whether stderr is a terminal (progress is drawn in place). */
  isTTY: boolean;
  verbose: boolean;
  /** Values that must never be printed (the API key): replaced by `***` in everything written. */
  secrets: readonly string[];
}

/**
 * Human vs machine output. stdout holds the result (the API's JSON under `--json`, readable text
 * otherwise); stderr holds progress, notes and errors, so `acebatch ... | jq` always works.
 */
export class Output {
  readonly json: boolean;
  readonly isTTY: boolean;
  readonly isVerbose: boolean;
  readonly stderr: TextSink;
  private readonly stdout: TextSink;
  private readonly secrets: readonly string[];

  constructor(options: OutputOptions) {
    this.stdout = options.stdout;
    this.stderr = options.stderr;
    this.json = options.json;
    this.isTTY = options.isTTY;
    this.isVerbose = options.verbose;
    // Keys shorter than 4 characters are not secrets worth mangling every other word for.
    this.secrets = options.secrets.filter((s) => s.length >= 4);
  }

  /** Print a result: the API's JSON verbatim under `--json`, else the human rendering. */
  result(apiJson: unknown, human: () => string | string[]): void {
    if (this.json) {
      if (apiJson !== undefined && apiJson !== null) this.writeOut(`${JSON.stringify(apiJson)}\n`);
      return;
    }
    const text = human();
    const lines = Array.isArray(text) ? text : [text];
    if (lines.length > 0) this.writeOut(`${lines.join("\n")}\n`);
  }

  /** Raw bytes of a result (CSV/JSONL), the same in both modes. */
  raw(text: string): void {
    this.writeOut(text);
  }

  /** A line on stdout in human mode only (e.g. a saved file's path). */
  line(text: string): void {
    if (!this.json) this.writeOut(`${text}\n`);
  }

  /** A note for a person on stderr, shown in human mode only. */
  info(text: string): void {
    if (!this.json) this.writeErr(`${text}\n`);
  }

  /** A note on stderr in both modes (what a script still needs to know under `--json`). */
  notice(text: string): void {
    this.writeErr(`${text}\n`);
  }

  verbose(text: string): void {
    if (this.isVerbose) this.writeErr(`[verbose] ${text}\n`);
  }

  /** Write to stderr without adding a newline (the progress display). */
  writeErr(text: string): void {
    this.stderr.write(this.redact(text));
  }

  /** Report an error: the API's error body (or one in its shape, `details` always there) under `--json`, readable lines otherwise. */
  error(err: CliError): void {
    if (this.json) {
      const body =
        err.body && typeof err.body === "object" && "error" in err.body
          ? err.body
          : { error: { code: err.code, message: err.message, details: err.details ?? [] } };
      this.writeErr(`${JSON.stringify(body)}\n`);
      return;
    }
    const lines = [`error: ${err.message}`];
    for (const d of err.details ?? []) lines.push(`  ${d.path}: ${d.message}`);
    for (const hint of err.hints) lines.push(`  ${hint}`);
    lines.push(`  (exit ${err.exitCode})`);
    this.writeErr(`${lines.join("\n")}\n`);
  }

  private writeOut(text: string): void {
    this.stdout.write(this.redact(text));
  }

  private redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join("***");
    return out;
  }
}

/** Dollars with enough digits for per-second prices: `$0.0140`. */
export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "-";
  return `$${value < 1 ? value.toFixed(4) : value.toFixed(2)}`;
}

/** A duration in seconds as `45s`, `3m05s`, `1h02m`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Left-aligned columns separated by two spaces. */
export function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [fmt(headers), ...rows.map(fmt)];
}
