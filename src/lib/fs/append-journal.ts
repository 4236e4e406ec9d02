import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { TidemarkError } from '../errors';
import { syncDirectory } from './sync-directory';

/**
 * An append-only file of text lines, each durable (fdatasync) before `append` resolves — for small
 * records whose whole-file rewrite would grow with the file. A line is complete only with its newline: a
 * torn last line (a crash during an append that was never acknowledged) is cut off when the journal is
 * read. Appends must not overlap (callers serialise them).
 */
export class AppendJournal {
  private handle: fs.FileHandle | undefined;
  /** Complete lines in the file. */
  lines = 0;

  constructor(readonly file: string) {}

  /**
   * The complete lines, oldest first; cuts a torn tail off the file unless `repair` is false (a reader that
   * must change nothing: the tail may be another process's append in flight). Creates nothing when there
   * is no file.
   */
  async read(options: { repair?: boolean } = {}): Promise<string[]> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw ioError(this.file, 'read', error);
    }
    const end = text.lastIndexOf('\n') + 1;
    if (end < text.length && options.repair !== false) {
      await fs.truncate(this.file, Buffer.byteLength(text.slice(0, end)));
    }
    const lines = text.slice(0, end).split('\n');
    lines.pop();
    this.lines = lines.length;
    return lines;
  }

  async append(line: string): Promise<void> {
    if (line.includes('\n'))
      throw new TidemarkError('INVALID_ARGUMENT', 'a journal line cannot hold a newline');
    try {
      if (!this.handle) {
        await fs.mkdir(path.dirname(this.file), { recursive: true });
        this.handle = await fs.open(this.file, 'a', 0o644);
        await syncDirectory(path.dirname(this.file));
      }
      await this.handle.write(`${line}\n`);
      await this.handle.datasync();
      this.lines++;
    } catch (error) {
      // A failed append may have left a partial line: start over on a fresh handle, and let the next read cut it.
      await this.close();
      throw ioError(this.file, 'append to', error);
    }
  }

  /** Empties the journal (after its content was saved elsewhere), durably. */
  async reset(): Promise<void> {
    await this.close();
    try {
      await fs.truncate(this.file, 0);
      const handle = await fs.open(this.file, 'r+');
      await handle.sync();
      await handle.close();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(this.file, 'reset', error);
    }
    this.lines = 0;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
  }
}

function ioError(file: string, what: string, error: unknown): TidemarkError {
  const code = (error as NodeJS.ErrnoException).code;
  return new TidemarkError(
    code === 'ENOSPC' ? 'DISK_FULL' : 'IO_ERROR',
    `cannot ${what} ${file}: ${(error as Error).message}`,
    {
      cause: error,
      details: { file },
    },
  );
}
