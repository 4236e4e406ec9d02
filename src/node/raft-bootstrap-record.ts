import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { TidemarkError } from '../lib/errors';
import { replaceFileAtomically } from '../lib/fs/replace-file-atomically';
import type { Logger } from '../lib/logger';

/**
 * The membership a node's Raft started from, recorded in `{dataDir}/raft-bootstrap.json` at its first start.
 * Raft takes its membership from the newest config entry or snapshot, and until there is one, from the
 * bootstrap: were that read from the settings at every start, a node restarted with another endpoint list
 * (or with `join`) would disagree with its peers about who votes. So the first start's is kept, and later
 * starts use it; settings that differ from it are warned about (membership changes go through the API).
 */
export interface RaftBootstrap {
  readonly members: ReadonlyMap<string, string>;
  readonly join: boolean;
}

export const RAFT_BOOTSTRAP_FILE = 'raft-bootstrap.json';

const recordSchema = z
  .object({ version: z.literal(1), join: z.boolean(), members: z.array(z.tuple([z.string(), z.string()])) })
  .strict();

export async function raftBootstrap(
  dataDir: string,
  configured: RaftBootstrap,
  logger: Logger,
): Promise<RaftBootstrap> {
  const file = path.join(dataDir, RAFT_BOOTSTRAP_FILE);
  const recorded = existsSync(file) ? readRecord(file) : undefined;
  // An embedded node (a cluster of itself, no network) may become a cluster's first member by its settings:
  // its log was committed by itself alone, and the new members start empty.
  if (recorded === undefined || (isEmbedded(recorded) && !sameBootstrap(recorded, configured))) {
    const record = { version: 1, join: configured.join, members: [...configured.members] };
    await replaceFileAtomically(file, `${JSON.stringify(record, null, 2)}\n`, 'the raft bootstrap record');
    return configured;
  }
  if (!sameBootstrap(recorded, configured)) {
    logger.warn(
      { recorded: [...recorded.members], configured: [...configured.members], file },
      'cluster.endpoints (or join) differ from what this node first started with; Raft keeps the first ' +
        '(change the membership through POST/DELETE /v1/cluster/members)',
    );
  }
  return recorded;
}

function readRecord(file: string): RaftBootstrap {
  const parsed = recordSchema.safeParse(parseJson(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new TidemarkError('INVALID_STATE_DATA', `${file} is not a raft bootstrap record: fix or remove it`);
  }
  return { members: new Map(parsed.data.members), join: parsed.data.join };
}

function isEmbedded(bootstrap: RaftBootstrap): boolean {
  return !bootstrap.join && bootstrap.members.size === 1 && [...bootstrap.members.values()][0] === '';
}

function sameBootstrap(a: RaftBootstrap, b: RaftBootstrap): boolean {
  if (a.join !== b.join || a.members.size !== b.members.size) return false;
  for (const [id, address] of a.members) if (b.members.get(id) !== address) return false;
  return true;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
