/**
 * The one error type every operation throws. The protocol layer turns it into the wire shape the SDK
 * deserializes into a named exception: restJson1 → `x-amzn-errortype` header + `{message}` body with
 * the HTTP status; awsJson1_1 → `{"__type", "Message"}` body.
 */
export class AwsError extends Error {
  override readonly name = "AwsError";
  readonly code: string;
  readonly status: number;
  readonly fields: Record<string, unknown> | undefined;

  constructor(code: string, status: number, message: string, fields?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.status = status;
    this.fields = fields;
  }
}

export const resourceNotFound = (message: string): AwsError =>
  new AwsError("ResourceNotFoundException", 404, message);

export const resourceAlreadyExists = (message: string, resourceId?: string, resourceArn?: string): AwsError =>
  new AwsError("ResourceAlreadyExistsException", 409, message, { resourceId, resourceArn });

export const invalidRequest = (message: string): AwsError =>
  new AwsError("InvalidRequestException", 400, message);

export const deleteConflict = (message: string): AwsError =>
  new AwsError("DeleteConflictException", 409, message);

export const certificateState = (message: string): AwsError =>
  new AwsError("CertificateStateException", 406, message);

export const versionConflict = (message: string): AwsError =>
  new AwsError("VersionConflictException", 409, message);

export const invalidStateTransition = (message: string): AwsError =>
  new AwsError("InvalidStateTransitionException", 409, message);
