/**
 * Guards the `cursor` of `GET /api/iot/devices` before it reaches SQL. The device store's cursor
 * is base64url JSON of `[lastId]`; `decodeCursor` rejects garbage but accepts any well-formed
 * array, and a non-UUID key would then fail inside PostgreSQL (500). A cursor this API did not
 * issue is a 400 on field `cursor`.
 */
import { DomainValidationError, isUuid } from "@granit/iot";
import { decodeCursor } from "@granit/iot-postgres";

export function assertDeviceCursor(cursor: string | undefined): void {
  if (!cursor) return;
  const key = decodeCursor(cursor);
  if (key?.length !== 1 || !isUuid(key[0])) {
    throw DomainValidationError.single(
      "cursor",
      "format",
      "is not a cursor this API returned; start again without one",
    );
  }
}
