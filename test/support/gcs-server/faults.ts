import { GcsHttpError } from './http-errors';
import type { RequestKind } from './routes';

/** Failures a test asks the server to answer with instead of serving the next matching requests. */
export interface Fault {
  /** HTTP status to answer, e.g. 503 or 429. */
  status: number;
  /** How many requests fail (default 1). */
  count?: number;
  /** Only requests of these kinds (default: any). */
  kinds?: readonly RequestKind[];
}

const REASONS: Record<number, string> = {
  401: 'required',
  403: 'forbidden',
  429: 'rateLimitExceeded',
  500: 'internalError',
  502: 'badGateway',
  503: 'backendError',
  504: 'gatewayTimeout',
};

export class FaultQueue {
  private faults: { status: number; left: number; kinds?: readonly RequestKind[] }[] = [];

  add(fault: Fault): void {
    this.faults.push({ status: fault.status, left: fault.count ?? 1, kinds: fault.kinds });
  }

  clear(): void {
    this.faults = [];
  }

  /** The error to answer a request of `kind` with, if a fault applies to it (using one up). */
  take(kind: RequestKind): GcsHttpError | undefined {
    const fault = this.faults.find((f) => f.kinds === undefined || f.kinds.includes(kind));
    if (fault === undefined) return undefined;
    if (--fault.left === 0) this.faults.splice(this.faults.indexOf(fault), 1);
    return new GcsHttpError(
      fault.status,
      REASONS[fault.status] ?? 'injected',
      `Injected fault (HTTP ${fault.status})`,
    );
  }
}
