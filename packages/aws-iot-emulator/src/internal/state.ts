/**
 * Everything the emulated account holds, in memory. Times are epoch milliseconds from the injected
 * clock. Maps keep insertion order, which the list operations rely on. The whole object is what the
 * state file persists (see persistence.ts), so it holds only plain data.
 */

export interface ThingRecord {
  name: string;
  arn: string;
  id: string;
  typeName?: string;
  billingGroupName?: string;
  attributes: Record<string, string>;
  version: number;
  createdAt: number;
}

export interface ThingGroupRecord {
  name: string;
  arn: string;
  id: string;
  description?: string;
  attributes: Record<string, string>;
  version: number;
  createdAt: number;
  things: string[];
}

export const CertificateStatus = {
  ACTIVE: "ACTIVE",
  INACTIVE: "INACTIVE",
  REVOKED: "REVOKED",
  PENDING_TRANSFER: "PENDING_TRANSFER",
  REGISTER_INACTIVE: "REGISTER_INACTIVE",
  PENDING_ACTIVATION: "PENDING_ACTIVATION",
} as const;
export type CertificateStatus = (typeof CertificateStatus)[keyof typeof CertificateStatus];

export interface CertificateRecord {
  id: string;
  arn: string;
  pem: string;
  status: CertificateStatus;
  /** Ordering key for ListCertificates paging (creation order). */
  seq: number;
  createdAt: number;
  modifiedAt: number;
  notBefore: number;
  notAfter: number;
  generationId: string;
  customerVersion: number;
}

export interface PolicyRecord {
  name: string;
  arn: string;
  document: string;
  createdAt: number;
  modifiedAt: number;
  generationId: string;
}

export interface PrincipalAttachment {
  principal: string;
  type: "EXCLUSIVE_THING" | "NON_EXCLUSIVE_THING";
  /** DetachThingPrincipal was called; the attachment disappears at this time (propagation delay). */
  detachAt?: number;
}

export interface ShadowRecord {
  thingName: string;
  shadowName: string;
  desired?: Record<string, unknown>;
  reported?: Record<string, unknown>;
  metadataDesired?: Record<string, unknown>;
  metadataReported?: Record<string, unknown>;
  version: number;
  updatedAt: number;
  /** Set when deleted: the record is a tombstone that keeps the version for 48 h. */
  deletedAt?: number;
}

export const JobExecutionStatus = {
  QUEUED: "QUEUED",
  IN_PROGRESS: "IN_PROGRESS",
  SUCCEEDED: "SUCCEEDED",
  FAILED: "FAILED",
  TIMED_OUT: "TIMED_OUT",
  REJECTED: "REJECTED",
  REMOVED: "REMOVED",
  CANCELED: "CANCELED",
} as const;
export type JobExecutionStatus = (typeof JobExecutionStatus)[keyof typeof JobExecutionStatus];

export const JobStatus = {
  IN_PROGRESS: "IN_PROGRESS",
  CANCELED: "CANCELED",
  COMPLETED: "COMPLETED",
  DELETION_IN_PROGRESS: "DELETION_IN_PROGRESS",
} as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

export interface JobExecutionRecord {
  jobId: string;
  thingName: string;
  status: JobExecutionStatus;
  statusDetails: Record<string, string>;
  queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  executionNumber: number;
  versionNumber: number;
  forceCanceled?: boolean;
  /** Absolute time the step timeout (StartNext/UpdateJobExecution stepTimeoutInMinutes) expires. */
  stepDeadline?: number;
}

export interface JobRecord {
  jobId: string;
  arn: string;
  document: string;
  description?: string;
  targets: string[];
  targetSelection: "SNAPSHOT" | "CONTINUOUS";
  status: JobStatus;
  inProgressTimeoutMinutes?: number;
  reasonCode?: string;
  comment?: string;
  forceCanceled?: boolean;
  createdAt: number;
  lastUpdatedAt: number;
  completedAt?: number;
  /** Keyed by thing name. */
  executions: Map<string, JobExecutionRecord>;
}

export interface SecretVersionRecord {
  id: string;
  secretString?: string;
  /** base64 */
  secretBinary?: string;
  stages: string[];
  createdAt: number;
}

export interface SecretRecord {
  name: string;
  arn: string;
  description?: string;
  kmsKeyId?: string;
  tags: { Key: string; Value: string }[];
  createdAt: number;
  lastChangedAt: number;
  lastAccessedAt?: number;
  /** Scheduled deletion time (DeleteSecret with a recovery window). */
  deletedDate?: number;
  versions: Map<string, SecretVersionRecord>;
}

export interface State {
  things: Map<string, ThingRecord>;
  thingGroups: Map<string, ThingGroupRecord>;
  certificates: Map<string, CertificateRecord>;
  certificateSeq: number;
  policies: Map<string, PolicyRecord>;
  /** thing name → principal → attachment */
  thingPrincipals: Map<string, Map<string, PrincipalAttachment>>;
  /** policy name → targets */
  policyTargets: Map<string, Set<string>>;
  /** `${thingName}\u0000${shadowName}` ("" = classic shadow) */
  shadows: Map<string, ShadowRecord>;
  jobs: Map<string, JobRecord>;
  /** thing name → last execution number handed out */
  executionNumbers: Map<string, number>;
  secrets: Map<string, SecretRecord>;
}

export function createState(): State {
  return {
    things: new Map(),
    thingGroups: new Map(),
    certificates: new Map(),
    certificateSeq: 0,
    policies: new Map(),
    thingPrincipals: new Map(),
    policyTargets: new Map(),
    shadows: new Map(),
    jobs: new Map(),
    executionNumbers: new Map(),
    secrets: new Map(),
  };
}
