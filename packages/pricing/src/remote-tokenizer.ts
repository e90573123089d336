import { AbstractTokenizer, EndOfStreamError, type IFileInfo, type IReadChunkOptions } from "strtok3";
import type { RemoteFile } from "./remote-file.ts";

/**
 * A strtok3 tokenizer over a RemoteFile, starting at `offset`, so music-metadata reads only the
 * bytes it asks for (skipped regions such as cover art are never fetched when Range works) and
 * knows the real file size (MP3 CBR duration comes from it).
 */
export class RemoteTokenizer extends AbstractTokenizer {
  fileInfo: IFileInfo;
  readonly #file: RemoteFile;
  readonly #offset: number;

  constructor(file: RemoteFile, offset: number, mimeType: string) {
    super();
    this.#file = file;
    this.#offset = offset;
    this.fileInfo = file.total === null ? { mimeType } : { mimeType, size: file.total - offset };
  }

  supportsRandomAccess(): boolean {
    return this.#file.rangeable && this.fileInfo.size !== undefined;
  }

  setPosition(position: number): void {
    this.position = position;
  }

  async readBuffer(buffer: Uint8Array, options?: IReadChunkOptions): Promise<number> {
    const normalized = this.normalizeOptions(buffer, options);
    const read = await this.peekBuffer(buffer, normalized);
    this.position = normalized.position + read;
    return read;
  }

  async peekBuffer(buffer: Uint8Array, options?: IReadChunkOptions): Promise<number> {
    const { position, length, mayBeLess } = this.normalizeOptions(buffer, options);
    const bytes = await this.#file.read(this.#offset + position, length);
    if (!mayBeLess && bytes.length < length) throw new EndOfStreamError();
    buffer.set(bytes);
    return bytes.length;
  }
}
