import type { MessageBus } from "@granit/iot";
import type { Database } from "@granit/iot-postgres";
import { PostgresClaimCertificateExpiryStore } from "./claim-certificate-expiry-store.ts";
import { PostgresClaimCertificateStore } from "./claim-certificate-store.ts";
import { PostgresFleetCredentialStore } from "./fleet-credential-store.ts";
import { PostgresFleetRequestNonceStore } from "./fleet-request-nonce-store.ts";

/** The four stores `@granit/iot-aws-fleet-provisioning` needs, on one database and bus. */
export interface PostgresFleetProvisioningStores {
  readonly claimCertificates: PostgresClaimCertificateStore;
  readonly fleetCredentials: PostgresFleetCredentialStore;
  readonly nonces: PostgresFleetRequestNonceStore;
  readonly claimExpiry: PostgresClaimCertificateExpiryStore;
}

/** Builds the fleet-provisioning stores (the bus publishes `ClaimCertificateExpiringEvent`). */
export function postgresFleetProvisioningStores(
  database: Database,
  bus: MessageBus,
): PostgresFleetProvisioningStores {
  return {
    claimCertificates: new PostgresClaimCertificateStore(database),
    fleetCredentials: new PostgresFleetCredentialStore(database),
    nonces: new PostgresFleetRequestNonceStore(database),
    claimExpiry: new PostgresClaimCertificateExpiryStore(database, bus),
  };
}
