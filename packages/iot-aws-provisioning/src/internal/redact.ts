/**
 * Last line of defence for the rule "no key material in a log line, an error message or an API
 * response": any PEM block (private key, CSR, certificate) in a text becomes `[redacted PEM]`.
 * The code never puts key material into texts on purpose; this guards against an AWS message or a
 * future change that would echo one.
 */
const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g;

export function redact(text: string): string {
  return text.includes("-----BEGIN") ? text.replace(PEM_BLOCK, "[redacted PEM]") : text;
}
