type Loose = Record<string | symbol, unknown>;

/**
 * The JavaScript object behind a native handle (a net.Socket, a ChildProcess, a zlib stream):
 * Node keeps it on the handle under an internal symbol.
 */
export function ownerObject(handle: object | undefined): Loose | undefined {
  if (typeof handle !== 'object' || handle === null) return undefined;
  for (const symbol of Object.getOwnPropertySymbols(handle)) {
    if (symbol.description === 'owner_symbol')
      return (handle as Loose)[symbol] as Loose | undefined;
  }
  return undefined;
}
