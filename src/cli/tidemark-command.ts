import { Command, type HelpContext } from 'commander';
import { usageMessage } from './usage-errors';

/**
 * Commander's Command, but a command that needs a subcommand and was given none or one it does not have
 * (`tidemark`, `tidemark wal`, `tidemark help frob`) is a usage error told in one line — not its whole help
 * on stderr with exit 1. The commands added to it are of this class too.
 */
export class TidemarkCommand extends Command {
  override createCommand(name?: string): Command {
    return new TidemarkCommand(name);
  }

  override help(context?: HelpContext | ((text: string) => string)): never {
    if (typeof context === 'object' && context.error) {
      const names = this.commands.map((command) => command.name());
      const given = this.args.find((arg) => !names.includes(arg) && arg !== 'help');
      const what =
        given === undefined ? 'a command is missing' : usageMessage(`error: unknown command '${given}'`);
      this.error(`${what}: ${this.fullName()} takes ${names.join(', ')} (see ${this.fullName()} --help)`, {
        exitCode: 2,
        code: 'tidemark.missingCommand',
      });
    }
    return super.help(context as HelpContext | undefined);
  }

  private fullName(): string {
    const names = [this.name()];
    for (let parent = this.parent; parent; parent = parent.parent) names.unshift(parent.name());
    return names.join(' ');
  }
}
