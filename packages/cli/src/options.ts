import { InvalidArgumentError } from 'commander';

/** A commander parser of a whole number from 1 to `max` (a usage error names the option). */
export const positiveInt = (name: string, max: number) => (value: string) => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > max)
    throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}.`);
  return number;
};

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
