import { TidemarkError } from '../../../lib/errors';
import { FILE_HEADER_SIZE, FORMAT_VERSION } from './log-format';

/** Refuses a file that is not `what` (wrong magic: INVALID_STATE_DATA) or of another version (UNSUPPORTED_VERSION). */
export function checkFileHeader(bytes: Buffer, magic: Buffer, file: string, what: string): void {
  if (bytes.length < FILE_HEADER_SIZE || !bytes.subarray(0, magic.length).equals(magic)) {
    throw new TidemarkError(
      'INVALID_STATE_DATA',
      `${file} is not a ${what}: it does not start with "${magic.toString('latin1')}"`,
      { details: { file, offset: 0 } },
    );
  }
  const version = bytes.readUInt16LE(magic.length);
  if (version !== FORMAT_VERSION) {
    throw new TidemarkError(
      'UNSUPPORTED_VERSION',
      `${file} is a ${what} of version ${version}; this build reads version ${FORMAT_VERSION}`,
      { details: { file, version } },
    );
  }
}
