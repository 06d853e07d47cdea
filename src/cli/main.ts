// `recap …`: parse the command line, call a module, print. Exit codes: 0 done, 1 some records or
// deliveries failed (the rest were kept or sent), 2 bad usage, configuration or input, 3 no edition
// (too few stories that week), 4 sending stopped before the end (stderr names the command that
// goes on).
import { Command, CommanderError } from 'commander';
import { BackupError } from '../../db/backup.ts';
import { SqliteOnlyError } from '../../db/connect.ts';
import { CopyRefusedError } from '../../db/copy.ts';
import { ConfigError } from '../config.ts';
import { NotFoundError } from '../audience/lists.ts';
import { ImportFileError } from '../articles/formats.ts';
import { WeekError } from '../editions/week.ts';
import { TransitionError } from '../delivery/control.ts';
import { LeaseHeldError } from '../delivery/lease.ts';
import { EditionStateError } from '../recap.ts';
import { articlesCommand } from './articles.ts';
import { dbCommand } from './db.ts';
import { demoCommand } from './demo.ts';
import { digestCommand } from './digest.ts';
import { EXIT, warn } from './output.ts';
import { segmentsCommand } from './segments.ts';
import { serveCommand } from './serve.ts';
import { dkimCommand } from './dkim.ts';
import { bouncesCommand } from './bounces.ts';
import { scheduleCommand } from './schedule.ts';
import { workerCommand } from './worker.ts';
import { editionCommand } from './edition.ts';
import { healthCommand } from './health.ts';
import { subscribersCommand } from './subscribers.ts';

const program = new Command('recap')
  .description('Recap: turns a week of stored AI news into the Weekly AI Recap and sends it')
  .showHelpAfterError()
  .exitOverride();

dbCommand(program);
articlesCommand(program);
subscribersCommand(program);
segmentsCommand(program);
digestCommand(program);
demoCommand(program);
serveCommand(program);
dkimCommand(program);
bouncesCommand(program);
scheduleCommand(program);
workerCommand(program);
editionCommand(program);
healthCommand(program);

const USAGE_ERRORS = [ConfigError, NotFoundError, ImportFileError, WeekError, TransitionError, LeaseHeldError, EditionStateError, BackupError, SqliteOnlyError, CopyRefusedError];

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (USAGE_ERRORS.some((type) => e instanceof type) || (e as NodeJS.ErrnoException).code === 'ENOENT') {
    warn(`recap: ${(e as Error).message}`);
    process.exitCode = EXIT.usage;
  } else {
    warn(`recap: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = EXIT.partial;
  }
}
