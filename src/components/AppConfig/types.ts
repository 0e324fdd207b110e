import { Draft } from '../../settings/draft';

/** What every config section gets from the page. */
export interface SectionProps {
  draft: Draft;
  /** Applies an immutable change to the draft. */
  update: (change: (d: Draft) => Draft) => void;
  /** The translated validation message at a field path, if any. */
  issue: (path: string) => string | undefined;
}
