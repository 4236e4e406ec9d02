import { invalidArgument, quoteInput } from '../../../../lib/errors';

/** Where a node listens: `host:port`, the host bracketed when it is an IPv6 literal (`[::1]:7400`). */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** `host:port` parsed; INVALID_ARGUMENT when it is not one. Port 0 (any free port) only when `allowAnyPort`. */
export function parsePeerAddress(address: string, allowAnyPort = false): PeerAddress {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s/]+)):(\d{1,5})$/.exec(address);
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65535 || (port === 0 && !allowAnyPort)) {
    throw invalidArgument(`a raft peer address must be host:port, got ${quoteInput(address)}`);
  }
  return { host: match[1] ?? match[2], port };
}

/** The `host:port` form of an address (IPv6 literals bracketed). */
export function formatPeerAddress({ host, port }: PeerAddress): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
