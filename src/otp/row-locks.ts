import { sql, type SQL } from "drizzle-orm";

/**
 * A CTE body that locks the challenges with these ids, in id order. A batch updates
 * many rows, in whatever order its plan visits them: two batches sharing two rows could
 * each hold one and wait for the other, until PostgreSQL's deadlock check (a second)
 * broke the tie. Every batch that writes challenges locks them here first, in one
 * order (the issuing function too), so they queue instead; the update then finds its
 * rows already locked.
 */
export const lockedInIdOrder = (ids: SQL) => sql`select c.id from challenges c where c.id in (${ids}) order by c.id for update of c`;
