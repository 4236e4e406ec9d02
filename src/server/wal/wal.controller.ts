import { Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { type BodyReaders, RequestBody } from '../http/request-body.decorator';
import { parseAppendRequest } from './wal-request.schema';
import { decodeBatch, type LogEntry, SegmentedWal, type SegmentInfo, type WalStats } from '../../wal';

export interface AppendResponse {
  firstLsn: number;
  lastLsn: number;
  count: number;
}

/** JSON with base64 bytes, or the WAL's binary batch form; a body is required. */
const APPEND_BODY: BodyReaders<readonly LogEntry[]> = {
  json: (body) => parseAppendRequest(body),
  binary: decodeBatch,
};

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
  async append(@RequestBody(APPEND_BODY) entries: readonly LogEntry[]): Promise<AppendResponse> {
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
