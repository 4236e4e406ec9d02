import {
  formatPeerAddress,
  parsePeerAddress,
} from '../../../../../src/coordination/raft/transport/http/peer-address';
import {
  idFromHeader,
  headerId,
  signatureMatches,
  signBatch,
} from '../../../../../src/coordination/raft/transport/http/raft-http-protocol';
import { TidemarkError } from '../../../../../src/lib/errors';

const secret = Buffer.from('sixteen bytes at least');
const body = Buffer.from('a batch');

describe('raft HTTP signatures', () => {
  it('match the batch they were made for, and only it', () => {
    const signature = signBatch(secret, 'n1', 'n2', body);
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    expect(signatureMatches(secret, 'n1', 'n2', body, signature)).toBe(true);
    expect(signatureMatches(secret, 'n1', 'n2', Buffer.from('a batcH'), signature)).toBe(false);
    expect(signatureMatches(secret, 'n2', 'n1', body, signature)).toBe(false);
    expect(signatureMatches(Buffer.from('sixteen bytes at leasT'), 'n1', 'n2', body, signature)).toBe(false);
  });

  it('bind the ids apart from the body: moving bytes between them changes the signature', () => {
    expect(signBatch(secret, 'n1', 'n2x', body)).not.toBe(signBatch(secret, 'n1n', '2x', body));
    expect(signBatch(secret, 'n1', 'n2', Buffer.from('xa batch'))).not.toBe(
      signBatch(secret, 'n1', 'n2x', body),
    );
  });

  it('refuse a signature of the wrong form without comparing', () => {
    const signature = signBatch(secret, 'n1', 'n2', body);
    for (const bad of [
      '',
      signature.slice(2),
      `${signature}00`,
      signature.toUpperCase(),
      `z${signature.slice(1)}`,
    ]) {
      expect(signatureMatches(secret, 'n1', 'n2', body, bad)).toBe(false);
    }
  });

  it('carry any node id through a header', () => {
    for (const id of ['n1', 'nœud 2', 'a:b/c?d', '']) expect(idFromHeader(headerId(id))).toBe(id);
    expect(idFromHeader('%E0%A4%A')).toBeUndefined();
    expect(idFromHeader(undefined)).toBeUndefined();
  });
});

describe('raft peer addresses', () => {
  it('parse host:port and [ipv6]:port', () => {
    expect(parsePeerAddress('10.0.0.7:7400')).toEqual({ host: '10.0.0.7', port: 7400 });
    expect(parsePeerAddress('raft-1.internal:1')).toEqual({ host: 'raft-1.internal', port: 1 });
    expect(parsePeerAddress('[::1]:65535')).toEqual({ host: '::1', port: 65535 });
    expect(parsePeerAddress('127.0.0.1:0', true)).toEqual({ host: '127.0.0.1', port: 0 });
    expect(formatPeerAddress({ host: '::1', port: 80 })).toBe('[::1]:80');
  });

  it('refuse anything else with INVALID_ARGUMENT', () => {
    for (const bad of ['host', 'host:', ':80', 'host:65536', 'host:0', '::1:80', 'http://h:80', 'a b:80']) {
      expect(() => parsePeerAddress(bad)).toThrow(TidemarkError);
    }
  });
});
