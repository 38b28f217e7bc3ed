import { type BelfryClient, type InboxStore, type TokenSource } from "@belfry/client";
import { type ReactNode } from "react";
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
export declare function BelfryProvider({ children, pageSize, ...props }: BelfryProviderProps): import("react").JSX.Element;
/** The provider's client and store, or null before it has mounted (and outside a provider). */
export declare function useBelfry(): Belfry | null;
/** The provider's connection props, or null outside a provider. */
export declare function useBelfryConnection(): BelfryConnection | null;
