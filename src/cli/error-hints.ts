// What the CLI adds to a service error: the command that would help. The services never name a
// command (the API answers the same errors), so the hints live here, keyed on the error's kind.
import { type AppError, NotFound, StateConflict } from '../shared/errors.ts';

export function cliHint(error: AppError): string | undefined {
  if (error instanceof NotFound && error.resource === 'campaign')
    return 'see "lastcall campaign list"; create it with "lastcall campaign create --file F.yaml"';
  if (error instanceof StateConflict && error.resource === 'campaign') {
    if (error.action === 'start' && error.state === 'paused')
      return `use "lastcall campaign resume ${error.id}"`;
    if (error.action === 'start' && error.allowed.length > 0) return 'create a campaign with a new id';
  }
  return undefined;
}

/** The message a person reads: the service's words, then the CLI's hint. */
export function cliMessage(error: AppError): string {
  const hint = cliHint(error);
  if (!hint) return error.message;
  const [first, ...rest] = error.message.split('\n');
  return [`${first} (${hint})`, ...rest].join('\n');
}
