// <BelfryProvider>: one client (one websocket) and one live inbox store for the components
// below it, made when it mounts and closed when it unmounts or its connection props change.
import {
  createBelfryClient,
  createInboxStore,
  tokenFromEndpoint,
  type BelfryClient,
  type InboxStore,
  type TokenSource,
} from "@belfry/client";
import { createContext, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";

/** How the provider reaches Belfry and signs in; <Inbox/> inherits it too. */
export interface BelfryConnection {
  /** Belfry's GraphQL endpoint, http(s), ws(s) or a path; default: this page's origin + /graphql. */
  url?: string;
  /** A function returning a user token or a promise of one (renewed before it expires). */
  getToken?: TokenSource;
  /** Your backend's token endpoint: POSTed with the page's cookies, answers {"token": "..."}. */
  tokenUrl?: string;
  /** A fixed user token (not renewed: prefer getToken or tokenUrl). */
  token?: string;
  /** "include" with no token: sign in with Belfry's session cookie (BELFRY_SESSION_COOKIE). */
  credentials?: "include" | "omit";
}

export interface BelfryProviderProps extends BelfryConnection {
  /** Notifications per page, 1-200 (default 20). */
  pageSize?: number;
  children?: ReactNode;
}

/** What the provider gives the hooks: null until it has mounted (and on the server). */
export interface Belfry {
  client: BelfryClient;
  store: InboxStore;
}

const BelfryContext = createContext<Belfry | null>(null);
/** The provider's connection, known from the first render on (for <Inbox/>). */
const ConnectionContext = createContext<BelfryConnection | null>(null);

export function BelfryProvider({ children, pageSize, ...props }: BelfryProviderProps) {
  const { url, token, tokenUrl, credentials } = props;
  // A new getToken function each render must not reconnect: the latest one is called.
  const latestGetToken = useRef(props.getToken);
  useEffect(() => {
    latestGetToken.current = props.getToken;
  });
  const hasGetToken = props.getToken !== undefined;
  const connection = useMemo<BelfryConnection>(() => {
    const getToken = hasGetToken ? () => (latestGetToken.current as TokenSource)() : undefined;
    return { url, token, tokenUrl, credentials, getToken };
  }, [url, token, tokenUrl, credentials, hasGetToken]);
  const [belfry, setBelfry] = useState<Belfry | null>(null);

  useEffect(() => {
    const endpoint = connection.tokenUrl && tokenFromEndpoint(new URL(connection.tokenUrl, location.href).toString());
    const client = createBelfryClient({ ...connection, getToken: connection.getToken ?? (endpoint || undefined) });
    const store = createInboxStore(client, { pageSize });
    // Started a task later: StrictMode's trial mount and unmount, in one go, then open no socket.
    const starting = setTimeout(() => store.start());
    setBelfry({ client, store });
    return () => {
      clearTimeout(starting);
      store.stop();
      void client.dispose();
    };
  }, [connection, pageSize]);

  return (
    <ConnectionContext.Provider value={connection}>
      <BelfryContext.Provider value={belfry}>{children}</BelfryContext.Provider>
    </ConnectionContext.Provider>
  );
}

/** The provider's client and store, or null before it has mounted (and outside a provider). */
export function useBelfry(): Belfry | null {
  return useContext(BelfryContext);
}

/** The provider's connection props, or null outside a provider. */
export function useBelfryConnection(): BelfryConnection | null {
  return useContext(ConnectionContext);
}
