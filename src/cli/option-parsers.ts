// Parsers for command-line option values, shared by the commands: each refuses a bad value
// with commander's InvalidArgumentError (exit 2) naming the rule and the value.
import { InvalidArgumentError } from 'commander';

export const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError(`must be a positive whole number (got ${value})`);
  return n;
};

export const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`must be a port number from 0 to 65535 (got ${value})`);
  return n;
};

/** A number of `unit` from `min` to `max` (whole numbers only when `whole`). */
export function numberBetween(
  min: number,
  max: number,
  unit: string,
  whole = false,
): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!(whole ? Number.isInteger(n) : Number.isFinite(n)) || n < min || n > max)
      throw new InvalidArgumentError(
        `must be ${whole ? 'a whole number' : 'a number'} of ${unit} from ${min} to ${max} (got ${value})`,
      );
    return n;
  };
}
