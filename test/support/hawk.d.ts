// The part of hawk (untyped CommonJS; the library the auth service verifies requests with) the
// emulator and the task proxy use.
declare module 'hawk' {
  export interface HawkCredentials {
    id: string;
    key: string;
    algorithm: 'sha256';
  }
  export interface HawkArtifacts {
    ext?: string;
    [key: string]: unknown;
  }
  export const server: {
    authenticate(
      req: { method: string; url: string; host: string; port: number; authorization: string },
      credentialsFunc: (id: string) => Promise<HawkCredentials | null>,
      options?: { timestampSkewSec?: number },
    ): Promise<{ credentials: HawkCredentials; artifacts: HawkArtifacts }>;
  };
  export const client: {
    header(uri: string, method: string, options: { credentials: HawkCredentials; ext?: string; payload?: string; contentType?: string }): { header: string };
  };
  const hawk: { server: typeof server; client: typeof client };
  export default hawk;
}
