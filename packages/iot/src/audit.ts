/**
 * Full audit of an aggregate (Granit's `FullAuditedAggregateRoot`): who created, last modified and
 * soft-deleted it, and when. Soft-deleted rows stay in the table but every read skips them.
 */
export interface AuditInfo {
  readonly createdAt: Date;
  readonly createdBy: string | null;
  readonly modifiedAt: Date | null;
  readonly modifiedBy: string | null;
  readonly deletedAt: Date | null;
  readonly deletedBy: string | null;
}

/** The moment and author of a change, passed to every mutating aggregate method. */
export interface ChangeContext {
  readonly at: Date;
  readonly by: string | null;
}

export function createdAudit(change: ChangeContext): AuditInfo {
  return {
    createdAt: change.at,
    createdBy: change.by,
    modifiedAt: null,
    modifiedBy: null,
    deletedAt: null,
    deletedBy: null,
  };
}

export function modifiedAudit(audit: AuditInfo, change: ChangeContext): AuditInfo {
  return { ...audit, modifiedAt: change.at, modifiedBy: change.by };
}

export function deletedAudit(audit: AuditInfo, change: ChangeContext): AuditInfo {
  return {
    ...audit,
    modifiedAt: change.at,
    modifiedBy: change.by,
    deletedAt: change.at,
    deletedBy: change.by,
  };
}
