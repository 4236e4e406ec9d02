import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Post,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { parseAppendRequest } from '../app/wal-request.schema';
import { invalidArgument } from '../errors';
import { decodeBatch } from './batch-codec';
import type { LogEntry } from './entry';
import { SegmentedWal } from './segmented-wal';
import type { SegmentInfo, WalStats } from './wal-options';

export interface AppendResponse {
  firstLsn: number;
  lastLsn: number;
  count: number;
}

/**
 * `/v1/wal`: append a batch (JSON with base64 bytes, or the WAL's binary batch form as
 * `application/octet-stream`), and read the log's figures and segments. A batch is appended atomically:
 * a bad entry anywhere refuses the whole batch and writes nothing.
 */
@Controller('v1/wal')
export class WalController {
  constructor(@Inject(SegmentedWal) private readonly wal: SegmentedWal) {}

  @Post('entries')
  @HttpCode(201)
  async append(
    @Body() body: unknown,
    @Headers('content-type') contentType?: string,
  ): Promise<AppendResponse> {
    const entries = toEntries(body, mediaType(contentType));
    if (entries.length === 0) throw invalidArgument('the batch holds no entries');
    const lsns = await this.wal.appendBatch(entries);
    return { firstLsn: lsns[0], lastLsn: lsns[lsns.length - 1], count: lsns.length };
  }

  @Get()
  stats(): WalStats & { dir: string } {
    return { dir: this.wal.dir, ...this.wal.stats() };
  }

  @Get('segments')
  segments(): { segments: SegmentInfo[] } {
    return { segments: this.wal.segments() };
  }
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

function toEntries(body: unknown, type: string): readonly LogEntry[] {
  if (type === 'application/json') return parseAppendRequest(body);
  if (type === 'application/octet-stream') {
    if (!Buffer.isBuffer(body) || body.length === 0) throw invalidArgument('the request body is empty');
    return decodeBatch(body);
  }
  throw new UnsupportedMediaTypeException('expected application/json or application/octet-stream');
}
