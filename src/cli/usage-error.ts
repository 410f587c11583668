// Bad usage (unknown flag, bad config value) ends with exit code 2, the convention of
// getopt-style tools; an operation that failed ends with 1.

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
