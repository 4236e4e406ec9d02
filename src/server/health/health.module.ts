import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { WalDirHealthIndicator } from './wal-dir.indicator';

/** Health checks (`GET /health`). Logging is wired in the app module, where the pino root is known. */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [WalDirHealthIndicator],
})
export class HealthModule {}
