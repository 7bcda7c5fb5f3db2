// Problems found while parsing one file, kept to a readable few: a file of a
// million malformed lines must not become a million-line finding (nor take
// the parse's time building messages nobody reads).

export const MAX_PROBLEMS_PER_FILE = 20;

export interface ProblemList {
  push(problem: string): void;
  /** The problems kept, then one line counting the rest. */
  list(): string[];
}

export function problemList(max = MAX_PROBLEMS_PER_FILE): ProblemList {
  const kept: string[] = [];
  let dropped = 0;
  return {
    push(problem) {
      if (kept.length < max) kept.push(problem);
      else dropped++;
    },
    list: () => (dropped > 0 ? [...kept, `…and ${dropped} more`] : kept),
  };
}
