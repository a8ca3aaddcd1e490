/** What a native socket handle's `getsockname`/`getpeername` fill in. */
export interface AddressInfo {
  address?: string;
  port?: number;
  family?: string;
}

/**
 * A native socket handle's own address or its peer's; none when it has no such address (closed,
 * not connected, not a socket).
 */
export function readAddress(
  handle: object | undefined,
  method: 'getpeername' | 'getsockname',
): AddressInfo | undefined {
  const read = (handle as Record<string, unknown> | undefined)?.[method];
  if (typeof read !== 'function') return undefined;
  const out: AddressInfo = {};
  try {
    const status = read.call(handle, out) as number;
    return status === 0 && out.address !== undefined ? out : undefined;
  } catch {
    return undefined;
  }
}
