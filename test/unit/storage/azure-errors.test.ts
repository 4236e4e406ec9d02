import { RestError } from '@azure/storage-blob';
import { TidemarkError } from '../../../src/lib/errors';
import type { ListedObject } from '../../../src/storage';
import { azureError } from '../../../src/storage/azure/azure-errors';
import { Utf8ListOrder } from '../../../src/storage/azure/list-order';
import { byUtf8 } from '../../support/storage/object-store.contract';

describe('Azure error translation', () => {
  const context = { op: 'put', container: 'c', key: 't/k' };
  const rest = (statusCode: number | undefined, code: string) =>
    new RestError(`failed: ${code}`, { statusCode, code });

  it.each([
    [rest(404, 'BlobNotFound'), 'NOT_FOUND'],
    [rest(412, 'ConditionNotMet'), 'PRECONDITION_FAILED'],
    [rest(412, 'LeaseIdMissing'), 'INVALID_ARGUMENT'],
    [rest(409, 'BlobAlreadyExists'), 'PRECONDITION_FAILED'],
    [rest(404, 'ContainerNotFound'), 'CONFIG_INVALID'],
    [rest(403, 'AuthorizationFailure'), 'CONFIG_INVALID'],
    [rest(503, 'ServerBusy'), 'STORAGE_UNAVAILABLE'],
    [rest(500, 'InternalError'), 'STORAGE_UNAVAILABLE'],
    [rest(429, 'TooManyRequests'), 'STORAGE_UNAVAILABLE'],
    [rest(408, 'OperationTimedOut'), 'STORAGE_UNAVAILABLE'],
    [rest(409, 'LeaseIdMissing'), 'STORAGE_UNAVAILABLE'],
    [rest(400, 'InvalidBlockList'), 'STORAGE_UNAVAILABLE'],
    [rest(undefined, 'ECONNRESET'), 'STORAGE_UNAVAILABLE'],
    [rest(undefined, 'REQUEST_SEND_ERROR'), 'STORAGE_UNAVAILABLE'],
    [new Error('socket hang up'), 'STORAGE_UNAVAILABLE'],
    [rest(400, 'InvalidHeaderValue'), 'INVALID_ARGUMENT'],
  ])('%s → %s', (error, code) => {
    const translated = azureError(error, context);
    expect(translated).toBeInstanceOf(TidemarkError);
    expect(translated.code).toBe(code);
    expect(translated).not.toBeInstanceOf(RestError);
  });

  it('reads the error code HEAD answers carry only in a header', () => {
    const head = new RestError('', { statusCode: 404 });
    head.details = { errorCode: 'ContainerNotFound' };
    expect(azureError(head, context).code).toBe('CONFIG_INVALID');
  });
});

describe('Utf8ListOrder', () => {
  const run = (keys: string[]) => {
    const order = new Utf8ListOrder<Pick<ListedObject, 'key'>>();
    const out = keys.flatMap((key) => order.push({ key }));
    return [...out, ...order.flush()].map((item) => item.key);
  };
  const keys = ['a', 'a😀', 'a😀x', 'a\uE000', 'a\uFFFF', 'b', '😀', '\uE000', '\uFFFF', '\u{10FFFF}'];

  it('turns a UTF-16-ordered listing into UTF-8 order', () => {
    expect(run([...keys].sort())).toEqual(byUtf8(keys));
  });

  it('leaves a UTF-8-ordered listing as it is', () => {
    expect(run(byUtf8(keys))).toEqual(byUtf8(keys));
  });

  it('passes keys without surrogates straight through', () => {
    const order = new Utf8ListOrder<{ key: string }>();
    expect(order.push({ key: 'a' })).toEqual([{ key: 'a' }]);
    expect(order.push({ key: 'b/😀' })).toEqual([]);
    expect(order.push({ key: 'b/\uE000' })).toEqual([{ key: 'b/\uE000' }]);
    expect(order.push({ key: 'b/\uFFFD' })).toEqual([{ key: 'b/\uFFFD' }]);
    expect(order.push({ key: 'c' })).toEqual([{ key: 'b/😀' }, { key: 'c' }]);
  });
});
