/** What every Android vendor's `generate…Credential` takes. */
export interface GeneratedCredentialOptions {
  certificateId: number;
  /** Default "com.example.chatpush". */
  packageName?: string;
  /** The simulator's URL, as `endpoint.url`; absent = the vendor's real endpoint. */
  endpointUrl?: string;
}

/** A generated credential: the fields every Android vendor's has, around that vendor's own `secrets`. */
export function generatedCredential<Secrets extends object>(
  opts: GeneratedCredentialOptions,
  secrets: Secrets,
): { certificateId: number; packageName: string; endpoint?: { url: string } } & Secrets {
  return {
    certificateId: opts.certificateId,
    packageName: opts.packageName ?? "com.example.chatpush",
    ...secrets,
    ...(opts.endpointUrl !== undefined && { endpoint: { url: opts.endpointUrl } }),
  };
}
