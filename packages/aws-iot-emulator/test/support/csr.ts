/** Certificate signing requests for fresh keys, made with WebCrypto and @peculiar/x509. */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type RsaHashedKeyGenParams = {
  name: string;
  modulusLength: number;
  publicExponent: Uint8Array;
  hash: string;
};
type EcKeyGenParams = { name: string; namedCurve: string };
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** A PEM CSR (subject `CN=device-42`) for a fresh key, EC P-256 by default, and the key's SPKI DER. */
export async function makeCsr(
  algorithm: RsaHashedKeyGenParams | EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" },
) {
  const signing = algorithm.name === "ECDSA" ? { ...algorithm, hash: "SHA-256" } : algorithm;
  const keys = (await webcrypto.subtle.generateKey(signing, true, ["sign", "verify"])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: "CN=device-42",
    keys,
    signingAlgorithm: signing,
  });
  return {
    pem: csr.toString("pem"),
    spki: Buffer.from(await webcrypto.subtle.exportKey("spki", keys.publicKey)),
  };
}
