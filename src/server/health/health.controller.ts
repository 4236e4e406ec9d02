import { Controller, Get, HttpStatus, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { WalDirHealthIndicator } from './wal-dir.indicator';

/** The slice of the HTTP response the controller touches (express's, without depending on its types). */
interface StatusResponse {
  status(code: number): unknown;
}

/**
 * `GET /health`: Terminus's usual body, 200 when every check is up, 503 otherwise. The 503 keeps Terminus's
 * body (which check failed and why) instead of becoming a problem body, as load balancers and probes expect.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly walDir: WalDirHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  async check(@Res({ passthrough: true }) res: StatusResponse): Promise<HealthCheckResult | object | string> {
    try {
      return await this.health.check([() => this.walDir.isWritable()]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      res.status(HttpStatus.SERVICE_UNAVAILABLE);
      return error.getResponse();
    }
  }
}
