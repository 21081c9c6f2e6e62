import { describe, expect, it } from 'vitest';
import { describeError, ExitCode, HostKeyMismatchError, PiswarmError, UsageError } from '../../cli/errors.js';

describe('describeError', () => {
  it.each([
    [new PiswarmError('boom', { hint: 'do this' }), ExitCode.failed],
    [new UsageError('bad flag'), ExitCode.usage],
    [new PiswarmError('2 of 3 nodes failed', { exitCode: ExitCode.partial }), ExitCode.partial],
    [new HostKeyMismatchError('pi-02', 'SHA256:old', 'SHA256:new'), ExitCode.failed],
  ])('maps %s to its exit code', (error, code) => {
    expect(describeError(error, false).exitCode).toBe(code);
  });

  it('keeps the hint and hides the stack unless verbose', () => {
    const error = new PiswarmError('boom', { hint: 'do this' });
    expect(describeError(error, false)).toEqual({ message: 'boom', hint: 'do this', exitCode: 1, stack: undefined });
    expect(describeError(error, true).stack).toContain('PiswarmError');
  });

  it('turns an unexpected error into a short message with a hint to use --verbose', () => {
    const report = describeError(new TypeError('x is undefined'), false);
    expect(report).toEqual({
      message: 'Unexpected error: x is undefined',
      hint: 'Run again with --verbose for details, and report it if it persists.',
      exitCode: 1,
      stack: undefined,
    });
    expect(describeError(new TypeError('x'), true).stack).toContain('TypeError');
  });
});
