/** A P-256 key and a CSR with subject `CN={commonName}`, for tests that mint certificates by hand. */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** The CSR PEM and the PEM of the public key it carries. */
export async function csrWithKey(commonName: string): Promise<{ csr: string; publicKeyPem: string }> {
  const keys = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
  });
  const spki = Buffer.from(await webcrypto.subtle.exportKey("spki", keys.publicKey)).toString("base64");
  const lines = spki.match(/.{1,64}/g) ?? [];
  return {
    csr: csr.toString("pem"),
    publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${lines.join("\n")}\n-----END PUBLIC KEY-----\n`,
  };
}

export async function csrFor(commonName: string): Promise<string> {
  return (await csrWithKey(commonName)).csr;
}

/** A parsed PKCS#10 request (reading only: the bridge builds its own, see `device-key.ts`). */
export const Pkcs10CertificateRequest = x509.Pkcs10CertificateRequest;
