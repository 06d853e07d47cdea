import type { Db } from '../../db/connect.ts';
import type { ListRow } from '../../db/schema.ts';

export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

export async function findList(db: Db, slug: string): Promise<ListRow> {
  const list = await db.selectFrom('lists').selectAll().where('slug', '=', slug).executeTakeFirst();
  if (!list) {
    const known = await db.selectFrom('lists').select('slug').execute();
    throw new NotFoundError(`no list "${slug}"; lists: ${known.map((l) => l.slug).join(', ') || 'none (run recap db migrate)'}`);
  }
  return list;
}
