/** Keeps the most recent output of a child process, up to a byte budget, for error messages. */
export class OutputBuffer {
  readonly #maxBytes: number;
  #chunks: string[] = [];
  #bytes = 0;
  #dropped = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  append(text: string): void {
    this.#chunks.push(text);
    this.#bytes += Buffer.byteLength(text);
    while (this.#bytes > this.#maxBytes && this.#chunks.length > 1) {
      const first = this.#chunks.shift() ?? "";
      const size = Buffer.byteLength(first);
      this.#bytes -= size;
      this.#dropped += size;
    }
  }

  toString(): string {
    const text = this.#chunks.join("");
    return this.#dropped > 0 ? `[... ${this.#dropped} earlier bytes dropped ...]\n${text}` : text;
  }
}

/**
 * Calls `onLine` for every complete line of a stream's text, and for the unterminated tail so far
 * (a process may print "ready" and then wait without a newline).
 */
export function lineSplitter(onLine: (line: string) => void): (chunk: string) => void {
  let pending = "";
  return (chunk) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) onLine(line);
    if (pending !== "") onLine(pending);
  };
}
